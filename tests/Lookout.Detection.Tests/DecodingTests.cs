using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Detection.Tests;

[Collection(ModelCollection.Name)]
public sealed class ExifOrientationTests(ModelFixture fixture)
{
    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Photo_stored_with_orientation_N_is_detected_upright(int orientation)
    {
        using var upright = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var tagged = ImageFactory.JpegWithOrientation(upright, orientation);

        var result = fixture.Detector.Detect(tagged);

        Assert.Equal((768, 576), (result.ImageWidth, result.ImageHeight));
        // Re-encoding costs a little; the objects and boxes must still be the reference ones.
        DogReference.AssertMatches(result, scoreTolerance: 0.05f, minIou: 0.95f);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Decoder_turns_each_orientation_upright_pixel_for_pixel(int orientation)
    {
        // A 4×2 image with a distinct colour per pixel, stored losslessly as PNG is not an option (no EXIF in
        // Skia's PNG path), so a large-block JPEG is used: each block is one flat colour, robust to compression.
        using var upright = new SKBitmap(new SKImageInfo(64, 32, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(upright))
        {
            canvas.Clear(SKColors.Black);
            using var paint = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, 16, 16, paint);            // top-left red
            paint.Color = SKColors.Lime;
            canvas.DrawRect(48, 16, 16, 16, paint);          // bottom-right green
        }
        var tagged = ImageFactory.JpegWithOrientation(upright, orientation);

        using var decoded = new ImageDecoder().Decode(tagged);

        Assert.Equal((64, 32), (decoded.Width, decoded.Height));
        Assert.Equal(orientation, decoded.ExifOrientation);
        var tl = decoded.Pixels.GetPixel(8, 8);
        var br = decoded.Pixels.GetPixel(56, 24);
        var other = decoded.Pixels.GetPixel(56, 8);
        Assert.True(tl.Red > 200 && tl.Green < 60, $"top-left is {tl}");
        Assert.True(br.Green > 200 && br.Red < 60, $"bottom-right is {br}");
        Assert.True(other.Red < 60 && other.Green < 60, $"top-right is {other}");
    }
}

[Collection(ModelCollection.Name)]
public sealed class FormatTests(ModelFixture fixture)
{
    [Fact]
    public void Png_with_alpha_is_composited_on_white_and_detected()
    {
        using var photo = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        // Make the left quarter fully transparent and the rest half transparent: the decoder must blend on white.
        using var rgba = new SKBitmap(new SKImageInfo(photo.Width, photo.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < photo.Height; y++)
            for (int x = 0; x < photo.Width; x++)
            {
                var c = photo.GetPixel(x, y);
                rgba.SetPixel(x, y, c.WithAlpha(x < 40 ? (byte)0 : (byte)255));
            }
        var png = ImageFactory.Encode(rgba, SKEncodedImageFormat.Png);

        using var decoded = new ImageDecoder().Decode(png);
        var corner = decoded.Pixels.GetPixel(5, 5);
        Assert.Equal(SKColors.White, corner);
        var result = fixture.Detector.Detect(png);
        Assert.Contains(result.Detections, d => d.Label == "dog" && d.Score > 0.7f);
    }

    [Fact]
    public void Grayscale_jpeg_is_detected()
    {
        var gray = ExternalTools.ConvertImage(TestAssets.Bytes("dog.jpg"), ".jpg", "-colorspace", "Gray", "-type", "Grayscale");
        Assert.Equal(1, JpegComponents(gray));

        var result = fixture.Detector.Detect(gray);

        Assert.Contains(result.Detections, d => d.Label == "dog" && d.Score > 0.5f);
    }

    [Fact]
    public void Cmyk_jpeg_is_detected()
    {
        var cmyk = ExternalTools.ConvertImage(TestAssets.Bytes("dog.jpg"), ".jpg", "-colorspace", "CMYK");
        Assert.Equal(4, JpegComponents(cmyk));

        var result = fixture.Detector.Detect(cmyk);

        Assert.Contains(result.Detections, d => d.Label == "dog" && d.Score > 0.5f);
    }

    [Fact]
    public void Progressive_jpeg_matches_the_reference()
    {
        var progressive = ExternalTools.ConvertImage(TestAssets.Bytes("dog.jpg"), ".jpg", "-interlace", "Plane", "-quality", "95");
        Assert.True(HasMarker(progressive, 0xC2), "ImageMagick did not write a progressive (SOF2) JPEG");

        DogReference.AssertMatches(fixture.Detector.Detect(progressive), scoreTolerance: 0.05f, minIou: 0.95f);
    }

    [Fact]
    public void WebP_matches_the_reference()
    {
        using var photo = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var webp = ImageFactory.Encode(photo, SKEncodedImageFormat.Webp, 95);
        Assert.Equal(ImageFormat.WebP, ImageFormatSniffer.Sniff(webp));

        DogReference.AssertMatches(fixture.Detector.Detect(webp), scoreTolerance: 0.05f, minIou: 0.95f);
    }

    [Fact]
    public void Bmp_matches_the_reference()
    {
        var bmp = ExternalTools.ConvertImage(TestAssets.Bytes("dog.jpg"), ".bmp");
        Assert.Equal(ImageFormat.Bmp, ImageFormatSniffer.Sniff(bmp));

        DogReference.AssertMatches(fixture.Detector.Detect(bmp));
    }

    [Fact]
    public void Animated_gif_uses_its_first_frame()
    {
        var dir = Directory.CreateTempSubdirectory("lookout-gif-");
        try
        {
            var dog = Path.Combine(dir.FullName, "dog.jpg");
            File.WriteAllBytes(dog, TestAssets.Bytes("dog.jpg"));
            var gif = Path.Combine(dir.FullName, "anim.gif");
            // Frame 1 the dog photo, frame 2 a flat grey image of the same size.
            ExternalTools.Run(ExternalTools.Convert, dog, "(", "-size", "768x576", "xc:gray", ")", "-loop", "0", gif);
            var bytes = File.ReadAllBytes(gif);
            Assert.Equal(ImageFormat.Gif, ImageFormatSniffer.Sniff(bytes));

            var result = fixture.Detector.Detect(bytes);

            Assert.Contains(result.Detections, d => d.Label == "dog");
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static int JpegComponents(byte[] jpeg)
    {
        for (int i = 2; i + 9 < jpeg.Length;)
        {
            if (jpeg[i] != 0xFF) return -1;
            byte marker = jpeg[i + 1];
            int length = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (marker is 0xC0 or 0xC1 or 0xC2) return jpeg[i + 9];
            i += 2 + length;
        }
        return -1;
    }

    private static bool HasMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 3 < jpeg.Length;)
        {
            if (jpeg[i] != 0xFF) return false;
            if (jpeg[i + 1] == marker) return true;
            i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
        }
        return false;
    }
}
