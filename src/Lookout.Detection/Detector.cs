using System.Diagnostics;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Postprocessing;
using Lookout.Detection.Rendering;

namespace Lookout.Detection;

/// <summary>A detection plus the annotated JPEG drawn from it.</summary>
public sealed record AnnotatedDetection(DetectionResult Result, byte[] AnnotatedJpeg, double RenderMs);

/// <summary>
/// The one pipeline every entry point uses: bytes → decode (limits, EXIF, scaled decode) → letterbox into a
/// pooled tensor → ONNX Runtime → model head → class-wise NMS → boxes in original pixels. Thread-safe.
/// </summary>
public sealed class Detector(DetectionModel model, ImageDecoder? decoder = null)
{
    public DetectionModel Model { get; } = model;
    public ImageDecoder Decoder { get; } = decoder ?? new ImageDecoder();

    /// <summary>Detects objects in encoded image bytes. Large JPEGs are decoded at a reduced scale.</summary>
    public DetectionResult Detect(ReadOnlySpan<byte> encoded, DetectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        using var image = Decode(encoded, forDrawing: false);
        return Detect(image, options, Stopwatch.GetElapsedTime(start).TotalMilliseconds, cancellationToken);
    }

    /// <summary>Detects and draws the annotated JPEG at the upload's full size (decoded once, at full resolution).</summary>
    public AnnotatedDetection DetectAndAnnotate(ReadOnlySpan<byte> encoded, AnnotationRenderer renderer, DetectionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        using var image = Decode(encoded, forDrawing: true);
        return DetectAndAnnotate(image, renderer, options, Stopwatch.GetElapsedTime(start).TotalMilliseconds, cancellationToken);
    }

    /// <summary>
    /// Decodes for this model: at full size when the picture will be drawn on and returned, else at the reduced
    /// JPEG scale that still covers the model input. <paramref name="orientationIfUntagged"/> (EXIF 1–8) turns a
    /// file that carries no orientation of its own, for clients that send sideways pixels and the orientation
    /// apart; a file's own EXIF always wins, so a photo is never turned twice.
    /// </summary>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, bool forDrawing, int? orientationIfUntagged = null)
    {
        using var busy = Model.EnterBusy();
        var image = Decoder.Decode(encoded, forDrawing ? null : Math.Max(Model.InputWidth, Model.InputHeight));
        if (orientationIfUntagged is not (> 1 and <= 8) || image.ExifOrientation != 1) return image;
        using (image) return image.Reorient(orientationIfUntagged.Value);
    }

    /// <summary>Detects in a full-resolution decoded image and draws on it (the image is changed).</summary>
    public AnnotatedDetection DetectAndAnnotate(DecodedImage image, AnnotationRenderer renderer, DetectionOptions? options = null,
        double decodeMs = 0, CancellationToken cancellationToken = default)
    {
        var result = Detect(image, options, decodeMs, cancellationToken);
        var renderStart = Stopwatch.GetTimestamp();
        byte[] jpeg;
        using (Model.EnterBusy()) jpeg = renderer.RenderJpeg(image.Pixels, result);
        return new AnnotatedDetection(result, jpeg, Stopwatch.GetElapsedTime(renderStart).TotalMilliseconds);
    }

    /// <summary>Detects objects in an already decoded image.</summary>
    public DetectionResult Detect(DecodedImage image, DetectionOptions? options = null, double decodeMs = 0, CancellationToken cancellationToken = default)
    {
        options ??= DetectionOptions.Default;
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        using var busy = Model.EnterBusy();
        var buffers = Model.RentBuffers();
        try
        {
            var t0 = Stopwatch.GetTimestamp();
            var letterbox = TensorWriter.Write(image.Pixels, Model.InputWidth, Model.InputHeight, Model.Preprocess, buffers.Input);
            var t1 = Stopwatch.GetTimestamp();
            Model.Run(buffers, cancellationToken);
            var t2 = Stopwatch.GetTimestamp();

            var candidates = new List<Candidate>();
            Model.Head.Decode(buffers.Output, options.Confidence, options.Classes, candidates);
            var kept = Model.Head.NeedsNms
                ? NonMaxSuppression.Apply(candidates, options.Iou, options.MaxDetections)
                : candidates.OrderByDescending(c => c.Score).Take(options.MaxDetections).ToList();
            var detections = kept.Select(c => ToOriginal(c, letterbox, image)).ToArray();
            var t3 = Stopwatch.GetTimestamp();

            return new DetectionResult(Model.Name, image.OriginalWidth, image.OriginalHeight, detections,
                new StageTimings(decodeMs, Ms(t0, t1), Ms(t1, t2), Ms(t2, t3)));
        }
        finally
        {
            Model.ReturnBuffers(buffers);
        }
    }

    private Detection ToOriginal(Candidate c, Letterbox letterbox, DecodedImage image)
    {
        var (x1, y1) = letterbox.ToSource(c.Box.X1, c.Box.Y1);
        var (x2, y2) = letterbox.ToSource(c.Box.X2, c.Box.Y2);
        float sx = image.ScaleToOriginalX, sy = image.ScaleToOriginalY;
        var box = new BoundingBox(
            Math.Clamp(x1 * sx, 0, image.OriginalWidth), Math.Clamp(y1 * sy, 0, image.OriginalHeight),
            Math.Clamp(x2 * sx, 0, image.OriginalWidth), Math.Clamp(y2 * sy, 0, image.OriginalHeight));
        return new Detection(c.ClassId, Model.Names[c.ClassId], c.Score, box);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
