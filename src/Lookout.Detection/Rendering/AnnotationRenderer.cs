using SkiaSharp;

namespace Lookout.Detection.Rendering;

public sealed record AnnotationOptions
{
    public int JpegQuality { get; init; } = 80;

    /// <summary>A TTF/OTF to draw tags with; null finds a bold sans on the system.</summary>
    public string? FontPath { get; init; }
}

/// <summary>
/// Draws detections in the original project's style: a 2-pixel outline in the class colour (thicker on large
/// images), a filled tag "dog 86%" in bold sans above the box (inside when the box touches the top), and a black
/// band with "Couldn't find any objects…" when nothing was found. Encodes JPEG.
/// </summary>
public sealed class AnnotationRenderer : IDisposable
{
    public const string NothingFoundText = "Couldn't find any objects that I was trained to detect :-(";

    // matplotlib's tab10, the palette the original drew with.
    private static readonly SKColor[] Tab10 =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    private readonly SKTypeface _typeface;

    public AnnotationRenderer(AnnotationOptions? options = null)
    {
        Options = options ?? new AnnotationOptions();
        if (Options.JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), "JPEG quality must be 1–100.");
        _typeface = FontLocator.Load(Options.FontPath);
    }

    public AnnotationOptions Options { get; }
    public string FontFamily => _typeface.FamilyName;

    /// <summary>The colour of a class: tab10 by class id, so neighbouring classes differ.</summary>
    public static SKColor ClassColor(int classId) => Tab10[((classId % Tab10.Length) + Tab10.Length) % Tab10.Length];

    /// <summary>The palette (matplotlib's tab10), for other pictures that should look like Lookout's.</summary>
    public static IReadOnlyList<SKColor> Palette => Tab10;

    /// <summary>How much lines and text grow on an image of this size: 1 up to 900 px, proportional above.</summary>
    internal static float ScaleFor(int width, int height) => Math.Max(1f, Math.Max(width, height) / 900f);

    /// <summary>Draws onto <paramref name="image"/> (upright, full resolution, owned by the caller) and encodes it.</summary>
    public byte[] RenderJpeg(SKBitmap image, DetectionResult result)
    {
        Draw(image, result);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, Options.JpegQuality)
            ?? throw new InvalidOperationException("Skia could not encode the annotated image.");
        return encoded.ToArray();
    }

    public void Draw(SKBitmap image, DetectionResult result)
    {
        using var canvas = new SKCanvas(image);
        // Line and text grow with the image so tags stay legible on a 12 MP photo and modest on a thumbnail.
        float scale = ScaleFor(image.Width, image.Height);
        float sx = (float)image.Width / result.ImageWidth, sy = (float)image.Height / result.ImageHeight;
        if (result.Detections.Count == 0)
        {
            DrawNothingFound(canvas, image.Width, image.Height, scale);
            return;
        }

        using var font = new SKFont(_typeface, 14 * scale) { Edging = SKFontEdging.Antialias };
        float stroke = MathF.Round(2 * scale);
        using var outline = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = false };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill };
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };

        // Lowest scores first, so the strongest detections' tags end up on top.
        foreach (var d in result.Detections.Reverse())
        {
            var color = ClassColor(d.ClassId);
            var rect = new SKRect(d.Box.X1 * sx, d.Box.Y1 * sy, d.Box.X2 * sx, d.Box.Y2 * sy);
            outline.Color = color;
            canvas.DrawRect(rect, outline);

            DrawTag(canvas, font, fill, text, rect, $"{d.Label} {MathF.Round(d.Score * 100):0}%", color, stroke, scale, image.Width);
        }
    }

    /// <summary>A filled tag with the label above the box (inside when the box touches the top edge).</summary>
    internal static void DrawTag(SKCanvas canvas, SKFont font, SKPaint fill, SKPaint text, SKRect box, string label, SKColor color,
        float stroke, float scale, int imageWidth)
    {
        var metrics = font.Metrics;
        float pad = 3 * scale;
        float tagW = font.MeasureText(label) + 2 * pad;
        float tagH = metrics.Descent - metrics.Ascent + pad;
        float left = Math.Clamp(box.Left - stroke / 2, 0, Math.Max(0, imageWidth - tagW));
        float top = box.Top - tagH;
        if (top < 0) top = Math.Max(0, box.Top); // the box touches the top edge: put the tag inside
        fill.Color = color;
        canvas.DrawRect(new SKRect(left, top, left + tagW, top + tagH), fill);
        canvas.DrawText(label, left + pad, top + pad / 2 - metrics.Ascent, SKTextAlign.Left, font, text);
    }

    private void DrawNothingFound(SKCanvas canvas, int width, int height, float scale)
    {
        float size = 20 * scale;
        using var font = new SKFont(_typeface, size) { Edging = SKFontEdging.Antialias };
        // Shrink to fit narrow images rather than cut the sentence off.
        float textWidth = font.MeasureText(NothingFoundText);
        if (textWidth > width * 0.95f) font.Size = size * width * 0.95f / textWidth;
        var m = font.Metrics;
        float bandH = (m.Descent - m.Ascent) * 2;
        float top = (height - bandH) / 2;
        using var band = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Fill };
        canvas.DrawRect(new SKRect(0, top, width, top + bandH), band);
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        canvas.DrawText(NothingFoundText, width / 2f, top + bandH / 2 - (m.Ascent + m.Descent) / 2, SKTextAlign.Center, font, text);
    }

    public void Dispose() => _typeface.Dispose();
}
