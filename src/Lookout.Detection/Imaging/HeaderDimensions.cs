using System.Buffers.Binary;

namespace Lookout.Detection.Imaging;

/// <summary>
/// Reads the declared width and height straight from a header, without Skia. A decompression bomb is often a
/// header alone (no pixel data), which Skia reports only as "incomplete"; reading the size here lets Lookout
/// say "too many pixels" for it, and refuse it before any codec work.
/// </summary>
internal static class HeaderDimensions
{
    public static (long Width, long Height)? TryRead(ReadOnlySpan<byte> data, ImageFormat format) => format switch
    {
        ImageFormat.Png when data.Length >= 24 => (BinaryPrimitives.ReadUInt32BigEndian(data[16..]), BinaryPrimitives.ReadUInt32BigEndian(data[20..])),
        ImageFormat.Gif when data.Length >= 10 => (BinaryPrimitives.ReadUInt16LittleEndian(data[6..]), BinaryPrimitives.ReadUInt16LittleEndian(data[8..])),
        ImageFormat.Bmp when data.Length >= 26 => (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..])), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..]))),
        ImageFormat.WebP => WebP(data),
        ImageFormat.Jpeg => Jpeg(data),
        _ => null,
    };

    private static (long, long)? WebP(ReadOnlySpan<byte> d)
    {
        if (d.Length < 30) return null;
        var chunk = d[12..16];
        if (chunk.SequenceEqual("VP8X"u8))
            return (1 + (d[24] | d[25] << 8 | d[26] << 16), 1 + (d[27] | d[28] << 8 | d[29] << 16));
        if (chunk.SequenceEqual("VP8 "u8))
            return (BinaryPrimitives.ReadUInt16LittleEndian(d[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(d[28..]) & 0x3FFF);
        if (chunk.SequenceEqual("VP8L"u8) && d.Length >= 25)
        {
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(d[21..]);
            return (1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF));
        }
        return null;
    }

    private static (long, long)? Jpeg(ReadOnlySpan<byte> d)
    {
        // Walk the marker segments to the first SOFn; stop at the scan data.
        int i = 2;
        while (i + 9 < d.Length)
        {
            if (d[i] != 0xFF) return null;
            byte marker = d[i + 1];
            if (marker == 0xFF) { i++; continue; }
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; }
            if (marker == 0xDA) return null;
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 2)..]);
            bool isSof = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (isSof) return (BinaryPrimitives.ReadUInt16BigEndian(d[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(d[(i + 5)..]));
            i += 2 + length;
        }
        return null;
    }
}
