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
        ImageFormat.Bmp => Bmp(data),
        ImageFormat.WebP => WebP(data),
        ImageFormat.Jpeg => Jpeg(data),
        _ => null,
    };

    private static (long, long)? Bmp(ReadOnlySpan<byte> d)
    {
        if (d.Length < 18) return null;
        // The DIB header's own size says which layout follows. OS/2 1.x's BITMAPCOREHEADER (12 bytes) keeps 16-bit
        // dimensions; every later header 32-bit ones. Any other size is not a bitmap header at all (text that
        // merely starts with "BM"): leave it to the codec, which calls it corrupt, instead of reading a size from it.
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        if (headerSize == 12)
            return d.Length >= 22 ? (BinaryPrimitives.ReadUInt16LittleEndian(d[18..]), BinaryPrimitives.ReadUInt16LittleEndian(d[20..])) : null;
        if (headerSize is not (16 or 40 or 52 or 56 or 64 or 108 or 124) || d.Length < 26) return null;
        return (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(d[18..])), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(d[22..])));
    }

    private static (long, long)? WebP(ReadOnlySpan<byte> d)
    {
        if (d.Length < 30) return null;
        var chunk = d[12..16];
        if (chunk.SequenceEqual("VP8X"u8))
            return (1 + (d[24] | d[25] << 8 | d[26] << 16), 1 + (d[27] | d[28] << 8 | d[29] << 16));
        // Lossy and lossless bitstreams carry a signature before their size; without it the bytes are not a size.
        if (chunk.SequenceEqual("VP8 "u8) && d[23] == 0x9D && d[24] == 0x01 && d[25] == 0x2A)
            return (BinaryPrimitives.ReadUInt16LittleEndian(d[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(d[28..]) & 0x3FFF);
        if (chunk.SequenceEqual("VP8L"u8) && d.Length >= 25 && d[20] == 0x2F)
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
