using System.Buffers.Binary;
using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

public sealed class BadInputTests
{
    private readonly ImageDecoder _decoder = new();

    private ImageErrorKind KindOf(byte[] bytes) => Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes)).Kind;

    [Fact]
    public void Zero_bytes_are_empty() => Assert.Equal(ImageErrorKind.Empty, KindOf([]));

    [Fact]
    public void Random_bytes_are_not_an_image()
    {
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        random[0] = 0x00; // Skia would take a leading 0x00 0x00 as WBMP; Lookout must not.
        random[1] = 0x00;
        Assert.Equal(ImageErrorKind.UnsupportedFormat, KindOf(random));
    }

    [Fact]
    public void Text_file_named_jpg_is_not_an_image() =>
        Assert.Equal(ImageErrorKind.UnsupportedFormat, KindOf("This is not a photo, just text saved as photo.jpg\n"u8.ToArray()));

    [Fact]
    public void Truncated_jpeg_is_reported_as_truncated()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        Assert.Equal(ImageErrorKind.Truncated, KindOf(dog[..(dog.Length * 6 / 10)]));
    }

    [Fact]
    public void Jpeg_cut_inside_its_header_is_truncated_or_corrupt()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        Assert.Contains(KindOf(dog[..40]), new[] { ImageErrorKind.Truncated, ImageErrorKind.Corrupt });
    }

    [Fact]
    public void Png_header_claiming_100000_by_100000_is_refused_before_decoding()
    {
        var bomb = PngHeaderOnly(100_000, 100_000);
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bomb));

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(ImageErrorKind.TooManyPixels, error.Kind);
        Assert.Contains("100000×100000", error.Message);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated while refusing a bomb");
    }

    [Fact]
    public void Too_many_bytes_are_refused()
    {
        var small = new ImageDecoder(new DecodeLimits { MaxBytes = 1000 });
        var error = Assert.Throws<ImageDecodeException>(() => small.Decode(TestAssets.Bytes("dog.jpg")));
        Assert.Equal(ImageErrorKind.TooManyBytes, error.Kind);
    }

    [Fact]
    public void Gif_with_only_a_header_is_refused()
    {
        // "GIF89a", a 10×10 logical screen, no global colour table, then the trailer: no image at all.
        byte[] gif = [.. "GIF89a"u8, 10, 0, 10, 0, 0, 0, 0, 0x3B];
        Assert.Contains(KindOf(gif), new[] { ImageErrorKind.Corrupt, ImageErrorKind.Truncated });
    }

    [Fact]
    public void Truncated_gif_is_refused()
    {
        var gif = ExternalTools.ConvertImage(TestAssets.Bytes("dog.jpg"), ".gif");
        Assert.Contains(KindOf(gif[..(gif.Length / 3)]), new[] { ImageErrorKind.Truncated, ImageErrorKind.Corrupt });
    }

    [Fact]
    public void Bit_flipped_png_is_refused_not_crashed()
    {
        using var photo = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var png = ImageFactory.Encode(photo, SkiaSharp.SKEncodedImageFormat.Png);
        for (int i = 200; i < png.Length; i += 997) png[i] ^= 0x5A;
        Assert.Contains(KindOf(png), new[] { ImageErrorKind.Corrupt, ImageErrorKind.Truncated });
    }

    /// <summary>A PNG signature and a valid IHDR chunk declaring the given size, and nothing else.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type RGB
        byte[] typeAndData = [.. "IHDR"u8, .. ihdr];
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, 13);
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. length, .. typeAndData, .. crc];
    }

    // PNG's CRC-32 (the zlib polynomial), so the header is valid and only its declared size is hostile.
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
