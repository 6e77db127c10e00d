using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Lookout.Detection.Imaging;
using SkiaSharp;

namespace Lookout.Detection.Tests.Support;

/// <summary>One hostile input: a name for the report, the bytes, and whether a successful decode is acceptable.</summary>
/// <param name="MayDecode">True where the damage can leave a still-decodable file (a bit flip in a GIF's pixels,
/// a cut after the last scanline): then 200 / success is a correct answer, only a fault is not.</param>
public sealed record HostileFile(string Name, byte[] Bytes, bool MayDecode = false);

/// <summary>
/// Hostile and broken image files, all generated from the real samples at test time (nothing binary is committed):
/// small seeds in every accepted format, truncations, seeded bit flips, decompression bombs, malformed EXIF and
/// non-image files with image names. Shared by the engine tests, the HTTP tests and the fuzzer.
/// </summary>
public static class HostileCorpus
{
    private static readonly Lazy<IReadOnlyDictionary<ImageFormat, byte[]>> LazySeeds = new(() => MakeSeeds(96, 72));
    private static readonly Lazy<IReadOnlyDictionary<ImageFormat, byte[]>> LazyMediumSeeds = new(() => MakeSeeds(320, 240));

    /// <summary>Tiny (96×72) encodings of dog.jpg in every format: fast to decode, so the fuzzer gets many iterations.</summary>
    public static IReadOnlyDictionary<ImageFormat, byte[]> Seeds => LazySeeds.Value;

    /// <summary>320×240 encodings: enough entropy-coded data that cut points land in the middle of the pixels.</summary>
    public static IReadOnlyDictionary<ImageFormat, byte[]> MediumSeeds => LazyMediumSeeds.Value;

    public static string Extension(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => ".jpg",
        ImageFormat.Png => ".png",
        ImageFormat.WebP => ".webp",
        ImageFormat.Gif => ".gif",
        ImageFormat.Bmp => ".bmp",
        _ => ".bin",
    };

    private static IReadOnlyDictionary<ImageFormat, byte[]> MakeSeeds(int width, int height)
    {
        using var photo = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        using var small = photo.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear));
        var jpeg = ImageFactory.Encode(small, SKEncodedImageFormat.Jpeg, 85);
        return new Dictionary<ImageFormat, byte[]>
        {
            [ImageFormat.Jpeg] = jpeg,
            [ImageFormat.Png] = ImageFactory.Encode(small, SKEncodedImageFormat.Png),
            [ImageFormat.WebP] = ImageFactory.Encode(small, SKEncodedImageFormat.Webp, 80),
            // Skia encodes neither GIF nor BMP: ImageMagick makes them, an independent encoder.
            [ImageFormat.Gif] = ExternalTools.ConvertImage(jpeg, ".gif"),
            [ImageFormat.Bmp] = ExternalTools.ConvertImage(jpeg, ".bmp"),
        };
    }

    /// <summary><paramref name="count"/> cut points spread over the file (always inside it, never the whole file).</summary>
    public static IEnumerable<HostileFile> Truncations(ImageFormat format, byte[] file, int count)
    {
        var cuts = new SortedSet<int> { 1, 2, 3, 8, 16, 30 };
        for (int k = 1; k <= count - cuts.Count + 6; k++) cuts.Add((int)((long)file.Length * k / (count - 4)));
        foreach (var cut in cuts.Where(c => c > 0 && c < file.Length).Take(count))
            // Near the end the pixels may all be there (only the trailer or EOI missing): decoding may then succeed.
            yield return new HostileFile($"{format}-truncated-{cut}of{file.Length}", file[..cut], MayDecode: cut > file.Length * 9 / 10);
    }

    /// <summary>Seeded bit flips past the signature (the signature intact, so the format's codec gets the damage).</summary>
    public static IEnumerable<HostileFile> BitFlips(ImageFormat format, byte[] file, int variants, int seed)
    {
        var rng = new Random(seed);
        for (int v = 0; v < variants; v++)
        {
            var copy = (byte[])file.Clone();
            int flips = 1 + rng.Next(v % 2 == 0 ? 4 : 64);
            for (int f = 0; f < flips; f++) copy[16 + rng.Next(copy.Length - 16)] ^= (byte)(1 << rng.Next(8));
            // Most formats have no checksum: a flip in the pixel data still decodes (to slightly wrong pixels).
            yield return new HostileFile($"{format}-bitflip-seed{seed}-v{v}-{flips}bits", copy, MayDecode: true);
        }
    }

    /// <summary>Headers that declare far more pixels than the limit, followed by almost nothing.</summary>
    public static IEnumerable<HostileFile> Bombs()
    {
        yield return new("png-ihdr-100000x100000", PngBomb(100_000, 100_000, withData: false));
        yield return new("png-ihdr-65535x65535-tiny-idat", PngBomb(65_535, 65_535, withData: true));
        yield return new("png-ihdr-2147483647x1", PngBomb(int.MaxValue, 1, withData: true));
        yield return new("gif-screen-65535x65535", GifBomb(65_535, 65_535, 65_535, 65_535));
        yield return new("gif-small-screen-huge-frame", GifBomb(16, 16, 65_535, 65_535));
        yield return new("bmp-100000x100000", BmpBomb(100_000, 100_000));
        yield return new("bmp-100000x-100000-topdown", BmpBomb(100_000, -100_000));
        yield return new("bmp-int-min-height", BmpBomb(64, int.MinValue));
        yield return new("webp-vp8x-16777216x16777216", WebPVp8xBomb(1 << 24, 1 << 24));
        yield return new("webp-vp8x-65536x65536", WebPVp8xBomb(65_536, 65_536));
        yield return new("jpeg-sof-65500x65500", JpegWithSofSize(Seeds[ImageFormat.Jpeg], 65_500, 65_500));
        yield return new("jpeg-sof-65535x65535-header-only", JpegWithSofSize(Seeds[ImageFormat.Jpeg], 65_535, 65_535)[..JpegScanStart(Seeds[ImageFormat.Jpeg])]);
        yield return new("jpeg-sof-0x0", JpegWithSofSize(Seeds[ImageFormat.Jpeg], 0, 0));
    }

    /// <summary>JPEGs whose EXIF APP1 is hostile: loops, offsets past the end, absurd counts, a full 64 KB segment.</summary>
    public static IEnumerable<HostileFile> HostileExif()
    {
        var jpeg = Seeds[ImageFormat.Jpeg];
        // IFD0 at 8 whose next-IFD link points back to itself, and an Exif-IFD pointer (0x8769) to itself too.
        yield return new("exif-ifd-loop", WithApp1(jpeg, Tiff(ifd0: 8, entries: [(0x0112, 3, 1, 6u), (0x8769, 4, 1, 8u)], next: 8)), MayDecode: true);
        yield return new("exif-ifd0-offset-past-end", WithApp1(jpeg, Tiff(ifd0: 0xFFFFFFF0, entries: [], next: 0)), MayDecode: true);
        yield return new("exif-entry-value-offset-past-end", WithApp1(jpeg, Tiff(ifd0: 8, entries: [(0x010F, 2, 0x7FFFFFFF, 0xFFFFFF00u), (0x0112, 3, 1, 3u)], next: 0xFFFFFF00)), MayDecode: true);
        yield return new("exif-huge-entry-count", WithApp1(jpeg, HugeEntryCount()), MayDecode: true);
        yield return new("exif-orientation-out-of-range", WithApp1(jpeg, Tiff(ifd0: 8, entries: [(0x0112, 3, 1, 0xFFFFu)], next: 0)), MayDecode: true);
        yield return new("exif-64kb-app1", WithApp1(jpeg, BigTiff()), MayDecode: true);
        yield return new("exif-app1-length-past-end", [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, .. "Exif\0\0MM\0*\0\0\0\x08"u8]);
        // libjpeg skips a segment whose length is below 2 and reads on: the photo after it still decodes.
        yield return new("exif-app1-length-1", [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, .. jpeg.AsSpan(2)], MayDecode: true);
        yield return new("exif-many-app1-segments", ManyApp1(jpeg, 200), MayDecode: true);
    }

    /// <summary>Files that are not images at all, as a careless or malicious client might name them photo.jpg.</summary>
    public static IEnumerable<HostileFile> NonImages()
    {
        yield return new("pdf", "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"u8.ToArray());
        yield return new("zip", Zip());
        yield return new("html", "<!DOCTYPE html><html><head><title>x</title></head><body><img src=x onerror=alert(1)></body></html>"u8.ToArray());
        yield return new("elf", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[56]]);
        yield return new("svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"100000\"/>"u8.ToArray());
        yield return new("utf16-text", Encoding.Unicode.GetBytes("\uFEFFjust text"));
        // Signatures alone: each sniffs as an accepted format, so the codec itself must refuse the rest.
        yield return new("bmp-magic-then-text", "BM this is not a bitmap at all, only text"u8.ToArray());
        yield return new("riff-webp-garbage", [.. "RIFF"u8, 0xFF, 0xFF, 0xFF, 0x7F, .. "WEBP"u8, .. "VP8 garbage garbage garbage"u8]);
        yield return new("gif-magic-only", "GIF89a"u8.ToArray());
        yield return new("png-signature-only", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        yield return new("jpeg-soi-only", [0xFF, 0xD8, 0xFF]);
        yield return new("jpeg-soi-eoi", [0xFF, 0xD8, 0xFF, 0xD9]);
    }

    // ---- builders ----------------------------------------------------------------------------------------------

    /// <summary>A PNG with a valid IHDR of the given size, optionally a tiny valid IDAT, and IEND.</summary>
    public static byte[] PngBomb(int width, int height, bool withData)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        var png = new List<byte>([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        png.AddRange(PngChunk("IHDR", ihdr));
        if (withData)
        {
            using var ms = new MemoryStream();
            using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[4096]);
            png.AddRange(PngChunk("IDAT", ms.ToArray()));
            png.AddRange(PngChunk("IEND", []));
        }
        return [.. png];
    }

    public static byte[] PngChunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>GIF89a with the given logical screen, a 2-colour table, one image descriptor of the given frame size and a few LZW bytes.</summary>
    public static byte[] GifBomb(int screenW, int screenH, int frameW, int frameH)
    {
        var gif = new List<byte>("GIF89a"u8.ToArray());
        gif.AddRange([(byte)screenW, (byte)(screenW >> 8), (byte)screenH, (byte)(screenH >> 8), 0x80, 0, 0]);
        gif.AddRange([0, 0, 0, 255, 255, 255]);                               // global colour table, 2 entries
        gif.AddRange([0x2C, 0, 0, 0, 0, (byte)frameW, (byte)(frameW >> 8), (byte)frameH, (byte)(frameH >> 8), 0]);
        gif.AddRange([2, 4, 0x84, 0x8F, 0xA9, 0x0B, 0]);                     // min code size 2, one 4-byte sub-block
        gif.Add(0x3B);
        return [.. gif];
    }

    /// <summary>A BITMAPINFOHEADER BMP declaring the given size with 24 bits per pixel and 16 bytes of pixels.</summary>
    public static byte[] BmpBomb(int width, int height)
    {
        var bmp = new byte[14 + 40 + 16];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        return bmp;
    }

    /// <summary>RIFF/WEBP with a VP8X chunk declaring the canvas size (1..2^24 each way) and then a tiny VP8L chunk.</summary>
    public static byte[] WebPVp8xBomb(int width, int height)
    {
        var vp8x = new byte[10];
        int w = width - 1, h = height - 1;
        vp8x[4] = (byte)w; vp8x[5] = (byte)(w >> 8); vp8x[6] = (byte)(w >> 16);
        vp8x[7] = (byte)h; vp8x[8] = (byte)(h >> 8); vp8x[9] = (byte)(h >> 16);
        byte[] vp8l = [0x2F, 0, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0];
        var body = new List<byte>("WEBP"u8.ToArray());
        body.AddRange("VP8X"u8.ToArray());
        body.AddRange(BitConverter.GetBytes(vp8x.Length));
        body.AddRange(vp8x);
        body.AddRange("VP8L"u8.ToArray());
        body.AddRange(BitConverter.GetBytes(vp8l.Length));
        body.AddRange(vp8l);
        if (vp8l.Length % 2 == 1) body.Add(0);
        return [.. "RIFF"u8, .. BitConverter.GetBytes(body.Count), .. body];
    }

    /// <summary>The JPEG with its SOFn's declared height and width replaced.</summary>
    public static byte[] JpegWithSofSize(byte[] jpeg, int width, int height)
    {
        var copy = (byte[])jpeg.Clone();
        int sof = FindJpegMarker(copy, m => m is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), (ushort)width);
        return copy;
    }

    /// <summary>Offset of the SOS marker: everything before it is header.</summary>
    public static int JpegScanStart(byte[] jpeg) => FindJpegMarker(jpeg, m => m == 0xDA);

    private static int FindJpegMarker(byte[] jpeg, Func<byte, bool> match)
    {
        int i = 2;
        while (i + 4 < jpeg.Length)
        {
            if (jpeg[i] != 0xFF) throw new InvalidOperationException($"Not a marker at {i}.");
            if (match(jpeg[i + 1])) return i;
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
        }
        throw new InvalidOperationException("Marker not found.");
    }

    /// <summary>Inserts an APP1 "Exif\0\0" segment holding <paramref name="tiff"/> right after SOI.</summary>
    public static byte[] WithApp1(byte[] jpeg, byte[] tiff)
    {
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        if (payload.Length + 2 > 0xFFFF) throw new ArgumentException("APP1 over 64 KB.");
        int length = payload.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg.AsSpan(2)];
    }

    /// <summary>A big-endian TIFF header and one IFD with the given (tag, type, count, value/offset) entries.</summary>
    public static byte[] Tiff(uint ifd0, (ushort Tag, ushort Type, uint Count, uint Value)[] entries, uint next)
    {
        var t = new List<byte>("MM"u8.ToArray()) { 0x00, 0x2A };
        t.AddRange(Be32(ifd0));
        t.AddRange([(byte)(entries.Length >> 8), (byte)entries.Length]);
        foreach (var (tag, type, count, value) in entries)
        {
            t.AddRange([(byte)(tag >> 8), (byte)tag, (byte)(type >> 8), (byte)type]);
            t.AddRange(Be32(count));
            // A SHORT value sits in the first two bytes of the value field.
            t.AddRange(type == 3 && count == 1 ? [(byte)(value >> 8), (byte)value, 0, 0] : Be32(value));
        }
        t.AddRange(Be32(next));
        return [.. t];
    }

    private static byte[] HugeEntryCount()
    {
        var t = Tiff(8, [(0x0112, 3, 1, 6u)], 0);
        t[8] = 0xFF; t[9] = 0xFF;   // 65535 entries declared, one present
        return t;
    }

    private static byte[] BigTiff()
    {
        // As close to the 65,533-byte APP1 limit as it goes: 5,400 entries of ASCII strings pointing into padding.
        const int count = 5_400;
        var entries = Enumerable.Range(0, count).Select(i => ((ushort)(0x9000 + i % 4096), (ushort)2, 32u, (uint)(10 + count * 12 + 4))).ToArray();
        entries[0] = (0x0112, 3, 1, 1u);
        var t = Tiff(8, entries, 0).ToList();
        while (t.Count < 0xFFFF - 2 - 6) t.Add((byte)'A');
        return [.. t];
    }

    private static byte[] ManyApp1(byte[] jpeg, int count)
    {
        var result = jpeg;
        for (int i = 0; i < count; i++) result = WithApp1(result, Tiff(8, [(0x0112, 3, 1, (uint)(1 + i % 8))], 0));
        return result;
    }

    private static byte[] Zip()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("photo.jpg").Open();
            entry.Write(Seeds[ImageFormat.Jpeg]);
        }
        return ms.ToArray();
    }

    private static byte[] Be32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
}
