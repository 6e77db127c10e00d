using SkiaSharp;

namespace Lookout.Detection.Rendering;

/// <summary>How an evaluation judged a box.</summary>
public enum OutcomeStyle
{
    /// <summary>A detection that found an object of its class: solid green.</summary>
    TruePositive,
    /// <summary>A detection that found nothing, or named an object wrongly: dashed red.</summary>
    FalsePositive,
    /// <summary>A ground-truth object no detection found: dotted blue.</summary>
    Missed,
}

/// <summary>A box to draw, in the pixel space given to <see cref="OutcomeRenderer.RenderJpeg"/>.</summary>
public readonly record struct OutcomeBox(float X1, float Y1, float X2, float Y2, string Label, OutcomeStyle Style);

/// <summary>
/// Draws an evaluation's verdicts on a photo — true positives, false positives and missed objects in three styles that
/// differ in line pattern as well as colour (so they read in grey and to colour-blind eyes) — with a legend band under
/// the photo. Uses <see cref="AnnotationRenderer"/>'s font, palette and tags, so it looks like Lookout's other pictures.
/// </summary>
public sealed class OutcomeRenderer : IDisposable
{
    private readonly SKTypeface _typeface;

    /// <param name="options">Font and JPEG quality, as for <see cref="AnnotationRenderer"/>.</param>
    /// <param name="maxLongestSide">Larger photos are scaled down to this longest side first (a report stays light).</param>
    public OutcomeRenderer(AnnotationOptions? options = null, int maxLongestSide = 1024)
    {
        Options = options ?? new AnnotationOptions();
        if (Options.JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), "JPEG quality must be 1–100.");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLongestSide, 64);
        MaxLongestSide = maxLongestSide;
        _typeface = FontLocator.Load(Options.FontPath);
    }

    public AnnotationOptions Options { get; }
    public int MaxLongestSide { get; }

    public static SKColor ColorOf(OutcomeStyle style) => style switch
    {
        OutcomeStyle.TruePositive => AnnotationRenderer.Palette[2], // tab10 green
        OutcomeStyle.FalsePositive => AnnotationRenderer.Palette[3], // tab10 red
        _ => AnnotationRenderer.Palette[0], // tab10 blue
    };

    /// <summary>What the legend calls a style.</summary>
    public static string Describe(OutcomeStyle style) => style switch
    {
        OutcomeStyle.TruePositive => "true positive",
        OutcomeStyle.FalsePositive => "false positive",
        _ => "missed",
    };

    /// <summary>Draws <paramref name="boxes"/> (given in a <paramref name="boxWidth"/>×<paramref name="boxHeight"/>
    /// pixel space, e.g. the original image's) on a copy of <paramref name="image"/>, adds the legend band with an
    /// optional <paramref name="caption"/>, and encodes a JPEG.</summary>
    public byte[] RenderJpeg(SKBitmap image, int boxWidth, int boxHeight, IReadOnlyList<OutcomeBox> boxes, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(boxes);
        float shrink = Math.Min(1f, (float)MaxLongestSide / Math.Max(image.Width, image.Height));
        int w = Math.Max(1, (int)MathF.Round(image.Width * shrink)), h = Math.Max(1, (int)MathF.Round(image.Height * shrink));
        float scale = AnnotationRenderer.ScaleFor(w, h);

        // Smaller tags than AnnotationRenderer's: an evaluation image carries misses and false positives as well.
        using var font = new SKFont(_typeface, 12 * scale) { Edging = SKFontEdging.Antialias };
        using var legendFont = new SKFont(_typeface, 13 * scale) { Edging = SKFontEdging.Antialias };
        var lm = legendFont.Metrics;
        float lineH = (lm.Descent - lm.Ascent) * 1.6f;
        float pad = 8 * scale;
        float sample = 26 * scale;
        float legendW = pad + Enum.GetValues<OutcomeStyle>().Sum(s => sample + 6 * scale + legendFont.MeasureText(Describe(s)) + 16 * scale);
        bool captionOwnLine = caption is not null && legendW + legendFont.MeasureText(caption) + pad > w;
        float bandH = lineH * (captionOwnLine ? 2 : 1) + pad / 2;

        using var output = new SKBitmap(new SKImageInfo(w, h + (int)MathF.Ceiling(bandH), SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(output);
        canvas.Clear(SKColors.White);
        using (var photo = SKImage.FromBitmap(image))
            canvas.DrawImage(photo, new SKRect(0, 0, w, h), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));

        float sx = (float)w / boxWidth, sy = (float)h / boxHeight;
        using var fill = new SKPaint { Style = SKPaintStyle.Fill };
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        // Misses on top: they are what a reader looks for first.
        foreach (var style in new[] { OutcomeStyle.TruePositive, OutcomeStyle.FalsePositive, OutcomeStyle.Missed })
        {
            using var line = LinePaint(style, scale);
            using var dashes = line.PathEffect;
            foreach (var b in boxes.Where(b => b.Style == style))
            {
                var rect = new SKRect(b.X1 * sx, b.Y1 * sy, b.X2 * sx, b.Y2 * sy);
                canvas.DrawRect(rect, line);
                AnnotationRenderer.DrawTag(canvas, font, fill, text, rect, b.Label, ColorOf(style), line.StrokeWidth, scale, w);
            }
        }

        // Legend band: a sample of each style and its name, then the caption.
        using var ink = new SKPaint { Color = new SKColor(0x22, 0x22, 0x22), IsAntialias = true };
        float x = pad, baseline = h + pad / 4 + lineH / 2 - (lm.Ascent + lm.Descent) / 2;
        foreach (var style in Enum.GetValues<OutcomeStyle>())
        {
            using var line = LinePaint(style, scale);
            using var dashes = line.PathEffect;
            float top = baseline + lm.Ascent * 0.8f, bottom = baseline + lm.Descent * 0.4f;
            canvas.DrawRect(new SKRect(x, top, x + sample, bottom), line);
            x += sample + 6 * scale;
            canvas.DrawText(Describe(style), x, baseline, SKTextAlign.Left, legendFont, ink);
            x += legendFont.MeasureText(Describe(style)) + 16 * scale;
        }
        if (caption is not null)
        {
            using var grey = new SKPaint { Color = new SKColor(0x55, 0x55, 0x55), IsAntialias = true };
            if (captionOwnLine) canvas.DrawText(caption, pad, baseline + lineH, SKTextAlign.Left, legendFont, grey);
            else canvas.DrawText(caption, w - pad, baseline, SKTextAlign.Right, legendFont, grey);
        }

        using var encoded = output.Encode(SKEncodedImageFormat.Jpeg, Options.JpegQuality)
            ?? throw new InvalidOperationException("Skia could not encode the example image.");
        return encoded.ToArray();
    }

    /// <summary>The line of a style; the caller disposes the paint and its <see cref="SKPaint.PathEffect"/>.</summary>
    private static SKPaint LinePaint(OutcomeStyle style, float scale)
    {
        float stroke = MathF.Round(2 * scale);
        var paint = new SKPaint { Style = SKPaintStyle.Stroke, Color = ColorOf(style), StrokeWidth = stroke, IsAntialias = true };
        switch (style)
        {
            case OutcomeStyle.FalsePositive:
                paint.PathEffect = SKPathEffect.CreateDash([7 * scale, 4 * scale], 0);
                break;
            case OutcomeStyle.Missed:
                paint.StrokeWidth = stroke + 1;
                paint.StrokeCap = SKStrokeCap.Round;
                paint.PathEffect = SKPathEffect.CreateDash([0.1f, 5 * scale], 0);
                break;
        }
        return paint;
    }

    public void Dispose() => _typeface.Dispose();
}
