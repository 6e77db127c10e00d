using SkiaSharp;

namespace Lookout.Browser.Tests;

/// <summary>Files the tests generate: a sideways phone photo with EXIF Orientation 6, a Y4M fake-camera video.</summary>
public static class TestMedia
{
    /// <summary>
    /// The photo's pixels rotated 90° counter-clockwise (as a phone held sideways stores them), encoded as
    /// JPEG, with an APP1 Exif segment saying Orientation = 6 ("rotate 90° clockwise to display").
    /// </summary>
    public static byte[] SidewaysJpegWithExifOrientation6(string sourceJpeg)
    {
        using var src = SKBitmap.Decode(sourceJpeg) ?? throw new InvalidOperationException($"Could not decode {sourceJpeg}");
        using var rotated = new SKBitmap(src.Height, src.Width, SKColorType.Rgba8888, SKAlphaType.Premul);
        using (var canvas = new SKCanvas(rotated))
        {
            // Counter-clockwise: source (x, y) lands at (y, W-1-x).
            canvas.Translate(0, src.Width);
            canvas.RotateDegrees(-90);
            canvas.DrawBitmap(src, 0, 0);
        }
        using var image = SKImage.FromBitmap(rotated);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 92);
        return InsertExifOrientation(data.ToArray(), 6);
    }

    /// <summary>Insert an APP1 Exif segment holding only IFD0 with one Orientation (0x0112) entry.</summary>
    public static byte[] InsertExifOrientation(byte[] jpeg, ushort orientation)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("Not a JPEG (no SOI).");
        var tiff = new List<byte>();
        tiff.AddRange("MM"u8.ToArray());            // big-endian TIFF
        tiff.AddRange([0x00, 0x2A]);                 // magic 42
        tiff.AddRange([0x00, 0x00, 0x00, 0x08]);     // IFD0 right after the 8-byte header
        tiff.AddRange([0x00, 0x01]);                 // one entry
        tiff.AddRange([0x01, 0x12]);                 // tag: Orientation
        tiff.AddRange([0x00, 0x03]);                 // type: SHORT
        tiff.AddRange([0x00, 0x00, 0x00, 0x01]);     // count 1
        tiff.AddRange([(byte)(orientation >> 8), (byte)orientation, 0x00, 0x00]); // value, left-justified
        tiff.AddRange([0x00, 0x00, 0x00, 0x00]);     // no next IFD

        var payload = new List<byte>();
        payload.AddRange("Exif\0\0"u8.ToArray());
        payload.AddRange(tiff);
        var length = payload.Count + 2;              // the length field counts itself
        var segment = new List<byte> { 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        segment.AddRange(payload);

        // After SOI and a JFIF APP0 if there is one (APP0 must stay first for JFIF readers).
        var insertAt = 2;
        if (jpeg[2] == 0xFF && jpeg[3] == 0xE0) insertAt = 4 + ((jpeg[4] << 8) | jpeg[5]);
        var result = new byte[jpeg.Length + segment.Count];
        Buffer.BlockCopy(jpeg, 0, result, 0, insertAt);
        segment.CopyTo(result, insertAt);
        Buffer.BlockCopy(jpeg, insertAt, result, insertAt + segment.Count, jpeg.Length - insertAt);
        return result;
    }

    /// <summary>
    /// A YUV4MPEG2 file for Chromium's --use-file-for-fake-video-capture: the image scaled to
    /// width×height, repeated for a few frames, as I420 (4:2:0, JPEG/full-range BT.601).
    /// </summary>
    public static void WriteY4m(string sourceImage, string outputPath, int width = 640, int height = 480, int frames = 5)
    {
        if (width % 2 != 0 || height % 2 != 0) throw new ArgumentException("Y4M 4:2:0 needs even sizes.");
        using var src = SKBitmap.Decode(sourceImage) ?? throw new InvalidOperationException($"Could not decode {sourceImage}");
        using var scaled = src.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul),
                                      new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                           ?? throw new InvalidOperationException("Could not scale the image.");

        var y = new byte[width * height];
        var u = new byte[width * height / 4];
        var v = new byte[width * height / 4];
        var pixels = scaled.Pixels;
        for (var row = 0; row < height; row++)
        for (var col = 0; col < width; col++)
        {
            var p = pixels[row * width + col];
            y[row * width + col] = Clamp(0.299 * p.Red + 0.587 * p.Green + 0.114 * p.Blue);
        }
        for (var row = 0; row < height / 2; row++)
        for (var col = 0; col < width / 2; col++)
        {
            double r = 0, g = 0, b = 0;
            for (var dy = 0; dy < 2; dy++)
            for (var dx = 0; dx < 2; dx++)
            {
                var p = pixels[(row * 2 + dy) * width + col * 2 + dx];
                r += p.Red; g += p.Green; b += p.Blue;
            }
            r /= 4; g /= 4; b /= 4;
            u[row * (width / 2) + col] = Clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
            v[row * (width / 2) + col] = Clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
        }

        using var fs = File.Create(outputPath);
        fs.Write(System.Text.Encoding.ASCII.GetBytes($"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n"));
        for (var f = 0; f < frames; f++)
        {
            fs.Write("FRAME\n"u8);
            fs.Write(y);
            fs.Write(u);
            fs.Write(v);
        }
    }

    private static byte Clamp(double value) => (byte)Math.Clamp((int)Math.Round(value), 0, 255);

    /// <summary>True when the bytes start with SOI (FF D8) and end with EOI (FF D9).</summary>
    public static bool HasJpegMarkers(byte[] bytes) =>
        bytes.Length > 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[^2] == 0xFF && bytes[^1] == 0xD9;
}
