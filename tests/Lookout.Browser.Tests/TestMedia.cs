using SkiaSharp;

namespace Lookout.Browser.Tests;

/// <summary>Files the browser tests generate: a Y4M fake-camera video; JPEG marker checks.</summary>
public static class TestMedia
{
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
