using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Output;
using Lookout.Detection.Rendering;
using SkiaSharp;
using Spectre.Console;

namespace Lookout.Cli.Video;

/// <summary>Where one video's results go, besides the command's own --json/--jsonl/--csv output.</summary>
public sealed record VideoOutputs(string? AnnotatedVideo, string? JsonLines);

/// <summary>What happened to one video.</summary>
public sealed class VideoSummary
{
    public required VideoInfo Info { get; init; }
    public int Stride { get; init; }
    public long FramesRead { get; set; }
    public long FramesProcessed { get; set; }
    public long FramesWritten { get; set; }
    public long Detections { get; set; }
    public Dictionary<string, (int Count, float MaxScore)> Labels { get; } = [];
    public StageTimings TimingSums { get; set; } = new(0, 0, 0, 0);
    public double RenderMsSum { get; set; }
    public TimeSpan Wall { get; set; }
    /// <summary>Why the video could not be read to its end (truncated, damaged, an output that failed); null when it was.</summary>
    public string? Problem { get; set; }
    public bool Cancelled { get; set; }
    public VideoOutputs Outputs { get; init; } = new(null, null);

    public double FramesPerSecond => Wall.TotalSeconds > 0 ? FramesProcessed / Wall.TotalSeconds : 0;
}

/// <summary>
/// Runs every processed frame of a video through the same <see cref="Detector"/> as a photo: ffmpeg decodes into one
/// reused bitmap, wrapped once as a <see cref="DecodedImage"/>. With an annotated output every source frame is
/// written (so the video keeps the source's frame count, rate and size); frames skipped by the stride show the
/// boxes of the last processed frame.
/// </summary>
public sealed class VideoDetection(Ffmpeg ffmpeg, Detector detector, DetectionOptions options, DecodeLimits limits)
{
    /// <param name="onFrame">Receives each processed frame's result and its JSON object (with frame and time) for the command's own output.</param>
    public VideoSummary Run(string file, int stride, VideoOutputs outputs, AnnotationRenderer? renderer,
        Action<DetectionResult, DetectionResultDto> onFrame, ProgressContext? progress, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var info = VideoProbe.ProbeAsync(ffmpeg, file, cancellationToken).GetAwaiter().GetResult();
        long pixels = (long)info.Width * info.Height;
        if (pixels > limits.MaxPixels)
            throw new VideoException($"its frames are {info.Width}×{info.Height} ({pixels / 1e6:0.#} MP); the limit is {limits.MaxPixels / 1e6:0.#} MP");

        var summary = new VideoSummary { Info = info, Stride = stride, Outputs = outputs };
        bool drawing = outputs.AnnotatedVideo is not null;
        if (drawing && renderer is null) throw new ArgumentNullException(nameof(renderer), "An annotated video needs a renderer.");
        // Without an output video the skipped frames are never needed: ffmpeg drops them before converting them.
        int sourceStride = drawing ? 1 : stride;

        var frame = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var image = DecodedImage.FromPixels(frame);
        using var reader = VideoFrameReader.Start(ffmpeg, file, info, sourceStride);
        using var writer = drawing ? VideoWriter.Start(ffmpeg, outputs.AnnotatedVideo!, info.Width, info.Height, info.FrameRate) : null;
        // Flushed line by line: the file can be followed while the video runs, and holds every processed frame if stopped.
        using var jsonl = outputs.JsonLines is null ? null : new StreamWriter(outputs.JsonLines, append: false, new UTF8Encoding(false)) { AutoFlush = true };

        var bar = VideoProgress.Start(progress, file, info, stride);
        DetectionResult? last = null;
        var sums = new StageTimings(0, 0, 0, 0);
        try
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested) { summary.Cancelled = true; break; }
                var readStart = Stopwatch.GetTimestamp();
                if (!reader.TryRead(frame)) break;
                double readMs = Stopwatch.GetElapsedTime(readStart).TotalMilliseconds;
                summary.FramesRead = reader.FramesRead;
                long index = reader.SourceIndexOfLastFrame;

                if (index % stride == 0)
                {
                    DetectionResult result;
                    try
                    {
                        // "decode" of a video frame: the wait for ffmpeg to decode it and pipe it over.
                        result = detector.Detect(image, options, readMs, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        summary.Cancelled = true;
                        break;
                    }
                    last = result;
                    summary.FramesProcessed++;
                    summary.Detections += result.Detections.Count;
                    foreach (var d in result.Detections)
                        summary.Labels[d.Label] = summary.Labels.TryGetValue(d.Label, out var l) ? (l.Count + 1, Math.Max(l.MaxScore, d.Score)) : (1, d.Score);
                    var t = result.Timings;
                    sums = new StageTimings(sums.DecodeMs + t.DecodeMs, sums.PreprocessMs + t.PreprocessMs, sums.InferenceMs + t.InferenceMs, sums.PostprocessMs + t.PostprocessMs);

                    var dto = ResultJson.ToDto(result, file) with { Frame = index, Time = Math.Round(index / Math.Max(info.FramesPerSecond, 1e-9), 3) };
                    jsonl?.WriteLine(ResultJson.Serialize(dto));
                    onFrame(result, dto);
                }

                if (writer is not null)
                {
                    var renderStart = Stopwatch.GetTimestamp();
                    renderer!.Draw(frame, last!);
                    summary.RenderMsSum += Stopwatch.GetElapsedTime(renderStart).TotalMilliseconds;
                    writer.Write(frame);
                    summary.FramesWritten = writer.FramesWritten;
                }
                bar?.Update(index + 1, summary.FramesProcessed, wall.Elapsed);
            }

            if (summary.Cancelled) reader.Stop();
            else
            {
                var end = reader.Finish();
                if (end.Problem is not null)
                {
                    var detail = end.Errors.Count > 0 ? $": {VideoProbe.Clean(end.Errors[^1], file)}" : "";
                    summary.Problem = $"damaged or truncated video: {end.Problem}{detail}; the frames read were processed";
                }
            }
        }
        catch (VideoException ex)
        {
            reader.Stop();
            summary.Problem = ex.Message;
        }
        finally
        {
            summary.TimingSums = sums;
            jsonl?.Flush();
            try
            {
                writer?.Complete();
            }
            catch (VideoException ex)
            {
                summary.Problem ??= ex.Message;
            }
            summary.Wall = wall.Elapsed;
            bar?.Finish(summary);
        }
        return summary;
    }
}

/// <summary>A video's own progress bar: frames done, frames per second, and Spectre's time-left column.</summary>
internal sealed class VideoProgress
{
    private readonly ProgressTask _task;
    private readonly string _name;
    private readonly long? _total;

    private VideoProgress(ProgressTask task, string name, long? total)
    {
        _task = task;
        _name = name;
        _total = total;
    }

    public static VideoProgress? Start(ProgressContext? context, string file, VideoInfo info, int stride)
    {
        if (context is null) return null;
        var total = info.ExpectedFrames;
        var name = Path.GetFileName(file);
        var task = context.AddTask(Markup.Escape(name), maxValue: total ?? 1);
        if (total is null) task.IsIndeterminate = true;
        return new VideoProgress(task, name, total);
    }

    public void Update(long sourceFramesDone, long processed, TimeSpan elapsed)
    {
        if (_total is not null) _task.Value = Math.Min(sourceFramesDone, _total.Value);
        double fps = elapsed.TotalSeconds > 0 ? processed / elapsed.TotalSeconds : 0;
        var of = _total is null ? "" : $"/{_total}";
        _task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{_name} frame {sourceFramesDone}{of} · {fps:0.0} fps"));
    }

    public void Finish(VideoSummary summary)
    {
        if (_total is not null && summary.Problem is null && !summary.Cancelled) _task.Value = _task.MaxValue;
        _task.IsIndeterminate = false;
        _task.StopTask();
    }
}
