using System.Diagnostics;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Postprocessing;
using Lookout.Detection.Rendering;
using Lookout.Detection.Tiling;
using SkiaSharp;

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
        using var image = Decode(encoded, forDrawing: false, options: options);
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
    /// Decodes for this model: at full size when the picture will be drawn on and returned, or when the request will
    /// be tiled (tiles are cut at native resolution); else at the reduced JPEG scale that still covers the model
    /// input. <paramref name="orientationIfUntagged"/> (EXIF 1–8) turns a file that carries no orientation of its
    /// own, for clients that send sideways pixels and the orientation apart; a file's own EXIF always wins, so a
    /// photo is never turned twice.
    /// </summary>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, bool forDrawing, int? orientationIfUntagged = null, DetectionOptions? options = null)
    {
        using var busy = Model.EnterBusy();
        bool full = forDrawing || WillTile(encoded, options);
        var image = Decoder.Decode(encoded, full ? null : Math.Max(Model.InputWidth, Model.InputHeight));
        if (orientationIfUntagged is not (> 1 and <= 8) || image.ExifOrientation != 1) return image;
        using (image) return image.Reorient(orientationIfUntagged.Value);
    }

    // Decided from the header, so an `auto` request for a photo that needs no tiles decodes exactly as `off` does.
    private bool WillTile(ReadOnlySpan<byte> encoded, DetectionOptions? options)
    {
        if (options is null || options.Tile.Mode == TileMode.Off) return false;
        if (options.Tile.Mode == TileMode.Grid) return true;
        var (_, width, height, _) = Decoder.ReadHeader(encoded);
        return PlanTiles(width, height, options).Count > 0;
    }

    /// <summary>The tiles a request runs on an image of this size (decoded pixels); empty for one pass.</summary>
    public IReadOnlyList<TileRect> PlanTiles(int width, int height, DetectionOptions options) =>
        TilePlanner.Plan(width, height, Model.InputWidth, Model.InputHeight, options.Tile, options.TileOverlap, options.MaxTiles);

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

    /// <summary>
    /// Detects objects in an already decoded image: one pass over the whole image, plus one per tile when the
    /// options ask for tiling and the image calls for it, merged class-wise.
    /// </summary>
    public DetectionResult Detect(DecodedImage image, DetectionOptions? options = null, double decodeMs = 0, CancellationToken cancellationToken = default)
    {
        options ??= DetectionOptions.Default;
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        using var busy = Model.EnterBusy();
        var buffers = Model.RentBuffers();
        try
        {
            var times = new PassTimes();
            var whole = RunPass(image.Pixels, null, options, buffers, ref times, cancellationToken);
            var tiles = options.Tile.Mode == TileMode.Off ? [] : PlanTiles(image.Width, image.Height, options);
            List<Candidate> kept;
            if (tiles.Count == 0)
            {
                kept = whole;
            }
            else
            {
                // Model inputs are batch 1 here (YOLOX-Nano's graph is fixed at 1×3×416×416), so tiles run one after
                // another through the same pooled buffers; the deadline and cancellation are checked between passes
                // and inside each run.
                var pooled = new List<Candidate>(whole);
                foreach (var tile in tiles)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    foreach (var c in RunPass(image.Pixels, tile, options, buffers, ref times, cancellationToken))
                        if (TileMerging.KeepTileBox(c.Box, tile, image.Width, image.Height)) pooled.Add(c);
                }
                var mergeStart = Stopwatch.GetTimestamp();
                kept = TileMerging.Merge(pooled, options.TileMerge, options.Iou, options.MaxDetections);
                times.Postprocess += Stopwatch.GetElapsedTime(mergeStart).TotalMilliseconds;
            }
            var finish = Stopwatch.GetTimestamp();
            var detections = kept.Select(c => ToOriginal(c, image)).ToArray();
            times.Postprocess += Stopwatch.GetElapsedTime(finish).TotalMilliseconds;

            return new DetectionResult(Model.Name, image.OriginalWidth, image.OriginalHeight, detections,
                new StageTimings(decodeMs, times.Preprocess, times.Inference, times.Postprocess)
                {
                    Passes = options.Tile.Mode == TileMode.Off ? null : 1 + tiles.Count,
                });
        }
        finally
        {
            Model.ReturnBuffers(buffers);
        }
    }

    private struct PassTimes
    {
        public double Preprocess, Inference, Postprocess;
    }

    /// <summary>
    /// One model pass over the whole decoded image (<paramref name="tile"/> null) or one tile of it: letterbox into
    /// the tensor, run, decode the head, class-wise NMS. Boxes come back in decoded-image pixels. Every pass of a
    /// request, tiled or not, goes through here, so how the model input is made is decided in one place.
    /// </summary>
    private List<Candidate> RunPass(SKBitmap pixels, TileRect? tile, DetectionOptions options, InferenceBuffers buffers,
        ref PassTimes times, CancellationToken cancellationToken)
    {
        var t0 = Stopwatch.GetTimestamp();
        // A tile shares the decoded pixels (no copy): the subset's pixel address and row stride point into the image.
        using var region = tile is { } r ? Subset(pixels, r) : null;
        var letterbox = TensorWriter.Write(region ?? pixels, Model.InputWidth, Model.InputHeight, Model.Preprocess, buffers.Input);
        var t1 = Stopwatch.GetTimestamp();
        Model.Run(buffers, cancellationToken);
        var t2 = Stopwatch.GetTimestamp();

        var candidates = new List<Candidate>();
        Model.Head.Decode(buffers.Output, options.Confidence, options.Classes, candidates);
        var kept = Model.Head.NeedsNms
            ? NonMaxSuppression.Apply(candidates, options.Iou, options.MaxDetections)
            : candidates.OrderByDescending(c => c.Score).Take(options.MaxDetections).ToList();
        float dx = tile?.X ?? 0, dy = tile?.Y ?? 0;
        for (int i = 0; i < kept.Count; i++)
        {
            var c = kept[i];
            var (x1, y1) = letterbox.ToSource(c.Box.X1, c.Box.Y1);
            var (x2, y2) = letterbox.ToSource(c.Box.X2, c.Box.Y2);
            kept[i] = c with { Box = tile is null ? new BoundingBox(x1, y1, x2, y2) : new BoundingBox(x1 + dx, y1 + dy, x2 + dx, y2 + dy) };
        }
        var t3 = Stopwatch.GetTimestamp();
        times.Preprocess += Ms(t0, t1);
        times.Inference += Ms(t1, t2);
        times.Postprocess += Ms(t2, t3);
        return kept;
    }

    private static SKBitmap Subset(SKBitmap pixels, TileRect tile)
    {
        var subset = new SKBitmap();
        if (!pixels.ExtractSubset(subset, new SKRectI(tile.X, tile.Y, tile.Right, tile.Bottom)))
        {
            subset.Dispose();
            throw new InvalidOperationException($"Tile {tile} lies outside the {pixels.Width}×{pixels.Height} image.");
        }
        return subset;
    }

    private Detection ToOriginal(Candidate c, DecodedImage image)
    {
        var (x1, y1, x2, y2) = (c.Box.X1, c.Box.Y1, c.Box.X2, c.Box.Y2);
        float sx = image.ScaleToOriginalX, sy = image.ScaleToOriginalY;
        var box = new BoundingBox(
            Math.Clamp(x1 * sx, 0, image.OriginalWidth), Math.Clamp(y1 * sy, 0, image.OriginalHeight),
            Math.Clamp(x2 * sx, 0, image.OriginalWidth), Math.Clamp(y2 * sy, 0, image.OriginalHeight));
        return new Detection(c.ClassId, Model.Names[c.ClassId], c.Score, box);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
