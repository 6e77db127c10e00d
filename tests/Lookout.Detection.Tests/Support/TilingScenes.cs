using SkiaSharp;

namespace Lookout.Detection.Tests.Support;

/// <summary>
/// Synthetic photos for the sliced-inference tests: real objects cut from the shared photos (dog.jpg, whose objects
/// ../shared/ASSETS.md lists with their boxes) and pasted onto a plain canvas, so where each object is, is known.
/// </summary>
public static class TilingScenes
{
    /// <summary>A pasted object: its label and where it now lies on the canvas.</summary>
    public sealed record Pasted(string Label, BoundingBox Box);

    // dog.jpg's dog and car, a little wider than the reference boxes so the model sees their outline.
    private static readonly SKRectI DogCut = new(125, 198, 334, 551);
    private static readonly SKRectI CarCut = new(460, 72, 698, 177);

    /// <summary>
    /// A <paramref name="width"/>×<paramref name="height"/> grey canvas with small objects far apart: shrunk into the
    /// model in one pass they are a dozen pixels high, while a tile holds them at full size.
    /// </summary>
    public static (byte[] Jpeg, IReadOnlyList<Pasted> Objects) SmallObjectsFarApart(int width = 2800, int height = 1800)
    {
        using var dog = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var objects = new List<Pasted>();
        using var canvas = NewCanvas(width, height, out var surface);
        // Centres chosen inside tiles, away from where any grid of 2..8 tiles per side puts a border.
        (SKRectI Cut, string Label, float X, float Y, float Scale)[] placed =
        [
            (DogCut, "dog", 0.16f, 0.24f, 0.50f),
            (CarCut, "car", 0.52f, 0.78f, 0.60f),
            (DogCut, "dog", 0.86f, 0.30f, 0.50f),
        ];
        foreach (var (cut, label, fx, fy, scale) in placed)
        {
            float w = cut.Width * scale, h = cut.Height * scale;
            var dest = SKRect.Create(fx * width - w / 2, fy * height - h / 2, w, h);
            Paste(canvas, dog, cut, dest);
            objects.Add(new Pasted(label, Inset(dest, cut, label)));
        }
        return (Encode(surface), objects);
    }

    /// <summary>
    /// One dog, large enough for the whole-image pass, centred on <paramref name="borderX"/> — the border between the
    /// columns of a 1x2 or 2x2 grid — so each of those tiles holds only a piece of it.
    /// </summary>
    public static (byte[] Jpeg, Pasted Dog) DogOnTileBorder(int width, int height, float borderX, float scale)
    {
        using var dog = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        using var canvas = NewCanvas(width, height, out var surface);
        float w = DogCut.Width * scale, h = DogCut.Height * scale;
        var dest = SKRect.Create(borderX - w / 2, height * 0.5f - h / 2, w, h);
        Paste(canvas, dog, DogCut, dest);
        return (Encode(surface), new Pasted("dog", Inset(dest, DogCut, "dog")));
    }

    private static SKCanvas NewCanvas(int width, int height, out SKBitmap surface)
    {
        surface = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = new SKCanvas(surface);
        canvas.Clear(new SKColor(126, 128, 124));
        return canvas;
    }

    private static void Paste(SKCanvas canvas, SKBitmap source, SKRectI cut, SKRect dest)
    {
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, cut, dest, new SKSamplingOptions(SKCubicResampler.Mitchell));
        canvas.Flush();
    }

    /// <summary>The reference box of the object inside the pasted cut, in canvas pixels.</summary>
    private static BoundingBox Inset(SKRect dest, SKRectI cut, string label)
    {
        var reference = label == "dog" ? new SKRect(133, 206, 326, 543) : new SKRect(466, 78, 692, 171);
        float sx = dest.Width / cut.Width, sy = dest.Height / cut.Height;
        return new BoundingBox(dest.Left + (reference.Left - cut.Left) * sx, dest.Top + (reference.Top - cut.Top) * sy,
            dest.Left + (reference.Right - cut.Left) * sx, dest.Top + (reference.Bottom - cut.Top) * sy);
    }

    private static byte[] Encode(SKBitmap surface)
    {
        try
        {
            return ImageFactory.Encode(surface, SKEncodedImageFormat.Jpeg, 92);
        }
        finally
        {
            surface.Dispose();
        }
    }
}
