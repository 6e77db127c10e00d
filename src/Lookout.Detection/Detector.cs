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
/// The one pipeline every entry point uses: bytes → decode (limits, EXIF, the input rule's JPEG scale) → letterbox
/// into a pooled tensor with the rule's filter → ONNX Runtime → model head → class-wise NMS → boxes in original
/// pixels. The model's input never depends on what is drawn afterwards: a photo, model and options give one answer
/// on every route. Thread-safe.
/// </summary>
public sealed class Detector(DetectionModel model, ImageDecoder? decoder = null, ModelInputRule? inputRule = null)
{
    public DetectionModel Model { get; } = model;
    public ImageDecoder Decoder { get; } = decoder ?? new ImageDecoder();

    /// <summary>How encoded photos become this detector's model input (decode scale and resize filter).</summary>
    public ModelInputRule InputRule { get; } = inputRule ?? ModelInputRule.For(model.Family);

    /// <summary>Detects objects in encoded image bytes, decoded as the input rule says.</summary>
    public DetectionResult Detect(ReadOnlySpan<byte> encoded, DetectionOptions? options = null, CancellationToken cancellationToken = default) =>
        Detect(encoded, options, orientationIfUntagged: null, cancellationToken);

    /// <inheritdoc cref="Detect(ReadOnlySpan{byte}, DetectionOptions?, CancellationToken)"/>
    /// <param name="orientationIfUntagged">See <see cref="DecodeForModel"/>.</param>
    public DetectionResult Detect(ReadOnlySpan<byte> encoded, DetectionOptions? options, int? orientationIfUntagged, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        using var image = DecodeForRequest(encoded, options, orientationIfUntagged);
        return Detect(image, options, Stopwatch.GetElapsedTime(start).TotalMilliseconds, cancellationToken);
    }

    /// <summary>
    /// Detects exactly as <see cref="Detect(ReadOnlySpan{byte}, DetectionOptions?, CancellationToken)"/> does, then draws
    /// the annotated JPEG at the upload's full size: when the model's decode was reduced, the photo is decoded again at
    /// full size for drawing only.
    /// </summary>
    public AnnotatedDetection DetectAndAnnotate(ReadOnlySpan<byte> encoded, AnnotationRenderer renderer, DetectionOptions? options = null,
        CancellationToken cancellationToken = default) =>
        DetectAndAnnotate(encoded, renderer, options, orientationIfUntagged: null, cancellationToken);

    /// <inheritdoc cref="DetectAndAnnotate(ReadOnlySpan{byte}, AnnotationRenderer, DetectionOptions?, CancellationToken)"/>
    public AnnotatedDetection DetectAndAnnotate(ReadOnlySpan<byte> encoded, AnnotationRenderer renderer, DetectionOptions? options,
        int? orientationIfUntagged, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var image = DecodeForRequest(encoded, options, orientationIfUntagged);
        try
        {
            var result = Detect(image, options, Stopwatch.GetElapsedTime(start).TotalMilliseconds, cancellationToken);
            var renderStart = Stopwatch.GetTimestamp();
            if (image.IsReducedScale)
            {
                image.Dispose();
                image = DecodeFull(encoded, orientationIfUntagged);
            }
            cancellationToken.ThrowIfCancellationRequested();
            byte[] jpeg;
            using (Model.EnterBusy()) jpeg = renderer.RenderJpeg(image.Pixels, result);
            return new AnnotatedDetection(result, jpeg, Stopwatch.GetElapsedTime(renderStart).TotalMilliseconds);
        }
        finally
        {
            image.Dispose();
        }
    }

    /// <summary>
    /// Decodes for this model as <see cref="InputRule"/> says: a JPEG at the smallest allowed DCT scale whose longest
    /// side still covers the model input, anything else at full size. <paramref name="orientationIfUntagged"/>
    /// (EXIF 1–8) turns a file that carries no orientation of its own, for clients that send sideways pixels and the
    /// orientation apart; a file's own EXIF always wins, so a photo is never turned twice.
    /// </summary>
    public DecodedImage DecodeForModel(ReadOnlySpan<byte> encoded, int? orientationIfUntagged = null) =>
        Decode(encoded, Math.Max(Model.InputWidth, Model.InputHeight), InputRule.JpegScale, orientationIfUntagged);

    /// <summary>Decodes at full size (for drawing, and for tiles cut at native resolution).</summary>
    public DecodedImage DecodeFull(ReadOnlySpan<byte> encoded, int? orientationIfUntagged = null) =>
        Decode(encoded, null, JpegScaleSteps.None, orientationIfUntagged);

    /// <summary>Full size when <paramref name="forDrawing"/>, else <see cref="DecodeForModel"/>.</summary>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, bool forDrawing, int? orientationIfUntagged = null) =>
        forDrawing ? DecodeFull(encoded, orientationIfUntagged) : DecodeForModel(encoded, orientationIfUntagged);

    private DecodedImage Decode(ReadOnlySpan<byte> encoded, int? minLongestSide, JpegScaleSteps steps, int? orientationIfUntagged)
    {
        using var busy = Model.EnterBusy();
        var image = Decoder.Decode(encoded, minLongestSide, steps);
        if (orientationIfUntagged is not (> 1 and <= 8) || image.ExifOrientation != 1) return image;
        using (image) return image.Reorient(orientationIfUntagged.Value);
    }

    /// <summary>
    /// The decode a request gets: full size when it will be tiled (tiles are cut at native resolution), else
    /// <see cref="DecodeForModel"/>. Decided from the header, so an <c>auto</c> request for a photo that needs no
    /// tiles decodes, and answers, exactly as <c>off</c> does.
    /// </summary>
    public DecodedImage DecodeForRequest(ReadOnlySpan<byte> encoded, DetectionOptions? options, int? orientationIfUntagged = null) =>
        WillTile(encoded, options) ? DecodeFull(encoded, orientationIfUntagged) : DecodeForModel(encoded, orientationIfUntagged);

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

    /// <summary>
    /// Detects objects in an already decoded image: one pass over the whole image, plus one per tile when the
    /// options ask for tiling and the image calls for it, merged class-wise.
    /// </summary>
    public DetectionResult Detect(DecodedImage image, DetectionOptions? options = null, double decodeMs = 0, CancellationToken cancellationToken = default) =>
        Run(image, region: null, options, decodeMs, cancellationToken);

    /// <summary>
    /// The passes of one request through one set of pooled buffers: the whole image and its tiles
    /// (<paramref name="region"/> null), or a single pass over a region in decoded pixels.
    /// </summary>
    private DetectionResult Run(DecodedImage image, SKRectI? region, DetectionOptions? options, double decodeMs, CancellationToken cancellationToken)
    {
        options ??= DetectionOptions.Default;
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        using var busy = Model.EnterBusy();
        var buffers = Model.RentBuffers();
        try
        {
            var times = new PassTimes();
            var whole = RunPass(image.Pixels, region ?? new SKRectI(0, 0, image.Width, image.Height), options, buffers, ref times, cancellationToken);
            bool tiling = region is null && options.Tile.Mode != TileMode.Off;
            var tiles = tiling ? PlanTiles(image.Width, image.Height, options) : [];
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
                    foreach (var c in RunPass(image.Pixels, new SKRectI(tile.X, tile.Y, tile.Right, tile.Bottom), options, buffers, ref times, cancellationToken))
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
                    Passes = tiling ? 1 + tiles.Count : null,
                });
        }
        finally
        {
            Model.ReturnBuffers(buffers);
        }
    }

    /// <summary>
    /// One pass over a part of the image, given in original (upright, full-size) pixels — a tile for sliced
    /// inference. The region is letterboxed into the model input with the rule's filter; boxes come back in original
    /// pixels, clamped to the image (not to the region).
    /// </summary>
    public DetectionResult DetectRegion(DecodedImage image, SKRectI regionInOriginalPixels, DetectionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var r = regionInOriginalPixels;
        if (r.Left < 0 || r.Top < 0 || r.Right > image.OriginalWidth || r.Bottom > image.OriginalHeight || r.Width < 1 || r.Height < 1)
            throw new ArgumentOutOfRangeException(nameof(regionInOriginalPixels), r,
                $"The region must lie inside the {image.OriginalWidth}×{image.OriginalHeight} image.");
        float sx = image.ScaleToOriginalX, sy = image.ScaleToOriginalY;
        int left = Math.Clamp((int)MathF.Floor(r.Left / sx), 0, image.Width - 1);
        int top = Math.Clamp((int)MathF.Floor(r.Top / sy), 0, image.Height - 1);
        int right = Math.Clamp((int)MathF.Ceiling(r.Right / sx), left + 1, image.Width);
        int bottom = Math.Clamp((int)MathF.Ceiling(r.Bottom / sy), top + 1, image.Height);
        return Run(image, new SKRectI(left, top, right, bottom), options, 0, cancellationToken);
    }

    private struct PassTimes
    {
        public double Preprocess, Inference, Postprocess;
    }

    /// <summary>
    /// One model pass over a region of the decoded image (the whole image, a tile, or a caller's region): letterbox
    /// the region into the tensor with the input rule's filter (no pixel copy), run, decode the head, class-wise NMS.
    /// Boxes come back in decoded-image pixels. Every pass of every request goes through here, so how the model input
    /// is made is decided in one place.
    /// </summary>
    private List<Candidate> RunPass(SKBitmap pixels, SKRectI region, DetectionOptions options, InferenceBuffers buffers,
        ref PassTimes times, CancellationToken cancellationToken)
    {
        var t0 = Stopwatch.GetTimestamp();
        var letterbox = TensorWriter.Write(pixels, region, Model.InputWidth, Model.InputHeight, Model.Preprocess,
            InputRule.Filter, buffers.Input);
        var t1 = Stopwatch.GetTimestamp();
        Model.Run(buffers, cancellationToken);
        var t2 = Stopwatch.GetTimestamp();

        var candidates = new List<Candidate>();
        Model.Head.Decode(buffers.Output, options.Confidence, options.Classes, candidates);
        var kept = Model.Head.NeedsNms
            ? NonMaxSuppression.Apply(candidates, options.Iou, options.MaxDetections)
            : candidates.OrderByDescending(c => c.Score).Take(options.MaxDetections).ToList();
        for (int i = 0; i < kept.Count; i++)
        {
            var c = kept[i];
            var (x1, y1) = letterbox.ToSource(c.Box.X1, c.Box.Y1);
            var (x2, y2) = letterbox.ToSource(c.Box.X2, c.Box.Y2);
            kept[i] = c with { Box = new BoundingBox(x1 + region.Left, y1 + region.Top, x2 + region.Left, y2 + region.Top) };
        }
        var t3 = Stopwatch.GetTimestamp();
        times.Preprocess += Ms(t0, t1);
        times.Inference += Ms(t1, t2);
        times.Postprocess += Ms(t2, t3);
        return kept;
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
