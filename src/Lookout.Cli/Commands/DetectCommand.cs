using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lookout.Cli.Infrastructure;
using Lookout.Cli.Video;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Output;
using Lookout.Detection.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class DetectSettings : DetectionSettings
{
    [CommandArgument(0, "<PATHS>")]
    [Description("Image and video files, folders (searched recursively for .jpg .jpeg .png .webp .bmp .gif and .mp4 .mkv .webm .avi .mov …) or globs such as '*.jpg' or 'photos/**/*.png' (quote them to stop the shell expanding them). Videos are read through ffmpeg.")]
    public string[] Paths { get; init; } = [];

    [CommandOption("--conf <SCORE>")]
    [Description("Minimum score (0..1) of a reported object.")]
    [DefaultValue(DetectionOptions.DefaultConfidence)]
    public float Confidence { get; init; } = DetectionOptions.DefaultConfidence;

    [CommandOption("--iou <IOU>")]
    [Description("IoU above which non-maximum suppression drops the weaker of two boxes of one class, in (0, 1]].")]
    [DefaultValue(DetectionOptions.DefaultIou)]
    public float Iou { get; init; } = DetectionOptions.DefaultIou;

    [CommandOption("--classes <LIST>")]
    [Description("Report only these classes: comma-separated names or ids, e.g. 'dog,car' or '16,2'.")]
    public string? Classes { get; init; }

    [CommandOption("--max-det <N>")]
    [Description("At most this many objects per image.")]
    [DefaultValue(DetectionOptions.DefaultMaxDetections)]
    public int MaxDetections { get; init; } = DetectionOptions.DefaultMaxDetections;

    [CommandOption("--out <DIR>")]
    [Description("Write annotated JPEGs into this folder as <stem>.jpg (same stems get -2, -3…); for a video, <stem>.mp4 (H.264, the source's frame rate and size, no audio) and <stem>.jsonl. Created if needed.")]
    public string? OutDirectory { get; init; }

    [CommandOption("--json")]
    [Description("Write all results as one JSON array (to stdout, or --output).")]
    public bool Json { get; init; }

    [CommandOption("--jsonl")]
    [Description("Write one JSON line per image as it is processed (to stdout, or --output); a video gives one line per processed frame, with \"frame\" (0-based index in the video) and \"time\" (seconds).")]
    public bool JsonLines { get; init; }

    [CommandOption("--vid-stride <N>")]
    [Description("Videos: detect in every Nth frame only (1: every frame). An annotated video still has every frame, showing the last boxes found.")]
    [DefaultValue(1)]
    public int VideoStride { get; init; } = 1;

    [CommandOption("--csv")]
    [Description("Write CSV rows file,class,confidence,bx,by,bw,bh,x1,y1,x2,y2 (bx..bh: centre and size as fractions of the image; x1..y2: pixels); a video frame's file is <video>#frame=N.")]
    public bool Csv { get; init; }

    [CommandOption("-o|--output <FILE>")]
    [Description("Write the --json/--jsonl/--csv output to this file instead of stdout.")]
    public string? OutputFile { get; init; }

    public bool HasMachineOutput => Json || JsonLines || Csv;
    public bool MachineOutputOnStdout => HasMachineOutput && OutputFile is null;

    public override ValidationResult Validate()
    {
        if (Paths.Length == 0) return ValidationResult.Error("Give at least one image file, folder or glob.");
        if (Confidence is < 0 or > 1 || float.IsNaN(Confidence)) return ValidationResult.Error("--conf must be between 0 and 1.");
        if (Iou is <= 0 or > 1 || float.IsNaN(Iou)) return ValidationResult.Error("--iou must be greater than 0 and at most 1.");
        if (MaxDetections < 1) return ValidationResult.Error("--max-det must be at least 1.");
        if (VideoStride < 1) return ValidationResult.Error("--vid-stride must be at least 1.");
        if ((Json ? 1 : 0) + (JsonLines ? 1 : 0) + (Csv ? 1 : 0) > 1) return ValidationResult.Error("Choose one of --json, --jsonl and --csv.");
        if (OutputFile is not null && !HasMachineOutput) return ValidationResult.Error("--output needs --json, --jsonl or --csv.");
        return base.Validate();
    }
}

/// <summary><c>lookout detect</c>: runs the detector over files, folders and globs.</summary>
public sealed class DetectCommand(CliEnvironment env) : AsyncCommand<DetectSettings>
{
    // Local files may be larger than what the server accepts from the network.
    private static readonly DecodeLimits CliLimits = new() { MaxBytes = 256L * 1024 * 1024, MaxPixels = 150_000_000 };

    private sealed record Processed(string File, DetectionResult? Result, double RenderMs, string? Error, VideoSummary? Video = null);

    public override async Task<int> ExecuteAsync(CommandContext context, DetectSettings settings, CancellationToken cancellationToken)
    {
        var inputs = InputFiles.Expand(settings.Paths);
        bool progress = env.CanShowProgress(settings.MachineOutputOnStdout, settings.NoProgress);

        // Before any model is loaded: without ffmpeg no video can be read, and saying so once beats failing per file.
        Ffmpeg? ffmpeg = null;
        if (inputs.FirstOrDefault(i => i.IsVideo) is { } firstVideo)
        {
            try
            {
                ffmpeg = Ffmpeg.Locate(firstVideo.Path);
            }
            catch (FfmpegMissingException ex)
            {
                env.WriteError(ex.Message);
                return ExitCodes.Failure;
            }
        }

        // Ctrl-C stops between frames and images: what was written is kept and an output video is closed properly.
        // A second Ctrl-C ends the process at once. SIGTERM (timeout, systemd, docker stop) stops the same way.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            if (stop.IsCancellationRequested) return;
            ctx.Cancel = true;
            stop.Cancel();
        });
        try
        {
            return await RunAsync(settings, inputs, ffmpeg, progress, stop.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    private async Task<int> RunAsync(DetectSettings settings, IReadOnlyList<InputFile> inputs, Ffmpeg? ffmpeg, bool progress, CancellationToken stop)
    {
        // With videos, ffmpeg decodes the next frame while the model runs: idle ORT workers that spin would take the
        // cores it needs (measured: scripts/video-fps.sh, docs/architecture.md).
        bool videos = inputs.Any(i => i.IsVideo);
        using var catalog = new ModelCatalog(settings.CreateAssetStore(),
            new InferenceSettings { IntraOpThreads = settings.Threads, AllowSpinning = !videos });
        var model = await ModelLoading.LoadAsync(env, catalog, settings.Model, progress, stop, settings.AllModelDirectories());
        var options = new DetectionOptions
        {
            Confidence = settings.Confidence,
            Iou = settings.Iou,
            MaxDetections = settings.MaxDetections,
            Classes = settings.Classes is null ? null : ClassFilter.Parse(settings.Classes, model),
        };
        options = TileArguments.Apply(options, settings.Tile, settings.TileOverlap, settings.MaxTiles);
        var detector = new Detector(model, new ImageDecoder(CliLimits));
        using var renderer = settings.OutDirectory is null ? null : new AnnotationRenderer();
        if (settings.OutDirectory is not null) Directory.CreateDirectory(settings.OutDirectory);
        var outNames = InputFiles.OutputNames(inputs.Select(i => i.Path));

        await using var machine = OpenMachineOutput(settings);
        if (settings.Csv) ResultCsv.WriteHeader(machine!);
        var jsonResults = new List<DetectionResultDto>();

        var processed = new List<Processed>();
        var deferredErrors = new List<string>();
        void Report(string line)
        {
            if (progress) deferredErrors.Add(line); else env.WriteError(line);
        }
        void Fail(string file, string reason)
        {
            processed.Add(new Processed(file, null, 0, reason));
            Report($"{file}: {reason}");
        }

        bool cancelled = false;
        var wall = Stopwatch.StartNew();
        await ProgressRunner.RunAsync(env.Error, progress, "Detecting", inputs.Count, async (step, progressContext) =>
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                if (stop.IsCancellationRequested) { cancelled = true; break; }
                var input = inputs[i];
                try
                {
                    if (input.Problem is not null)
                    {
                        Fail(input.Path, input.Problem);
                        continue;
                    }
                    if (input.IsVideo)
                    {
                        var video = DetectVideo(input.Path, outNames[i], ffmpeg!, detector, options, renderer, settings, machine, jsonResults,
                            progressContext, stop, out var error);
                        processed.Add(new Processed(input.Path, null, 0, error, video));
                        if (error is not null) Report($"{input.Path}: {error}");
                        if (video?.Cancelled == true) { cancelled = true; break; }
                        continue;
                    }
                    byte[] bytes;
                    try
                    {
                        bytes = await File.ReadAllBytesAsync(input.Path, stop);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        Fail(input.Path, $"cannot be read: {ex.Message}");
                        continue;
                    }

                    DetectionResult result;
                    double renderMs = 0;
                    try
                    {
                        if (renderer is not null)
                        {
                            var annotated = detector.DetectAndAnnotate(bytes, renderer, options, stop);
                            result = annotated.Result;
                            renderMs = annotated.RenderMs;
                            await File.WriteAllBytesAsync(Path.Combine(settings.OutDirectory!, outNames[i]), annotated.AnnotatedJpeg, stop);
                        }
                        else result = detector.Detect(bytes, options, stop);
                    }
                    catch (ImageDecodeException ex)
                    {
                        Fail(input.Path, $"{ex.Message} ({Describe(ex.Kind)})");
                        continue;
                    }
                    catch (IOException ex)
                    {
                        Fail(input.Path, $"the annotated image could not be written: {ex.Message}");
                        continue;
                    }

                    processed.Add(new Processed(input.Path, result, renderMs, null));
                    if (settings.JsonLines) await machine!.WriteLineAsync(ResultJson.Serialize(result, input.Path));
                    else if (settings.Json) jsonResults.Add(ResultJson.ToDto(result, input.Path));
                    else if (settings.Csv) ResultCsv.WriteRows(machine!, input.Path, result);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }
                finally
                {
                    step(Path.GetFileName(input.Path));
                }
            }
        });
        wall.Stop();

        if (settings.Json)
        {
            using var buffer = new MemoryStream();
            ResultJson.WriteArray(buffer, jsonResults);
            await machine!.WriteLineAsync(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        if (machine is not null) await machine.FlushAsync(CancellationToken.None);

        foreach (var line in deferredErrors) env.WriteError(line);
        WriteSummary(env.Human(settings.MachineOutputOnStdout), processed, wall.Elapsed, settings);

        if (cancelled)
        {
            env.WriteWarning($"stopped by Ctrl-C (or SIGTERM) after {processed.Count} of {inputs.Count} input{(inputs.Count == 1 ? "" : "s")}; everything written so far is kept (videos closed properly).");
            return ExitCodes.Interrupted;
        }
        int failed = processed.Count(p => p.Error is not null);
        return failed > 0 ? ExitCodes.SomeInputsFailed : ExitCodes.Success;
    }

    /// <summary>
    /// One video through the detector (<see cref="VideoDetection"/>): JSONL and CSV rows as frames go, the
    /// annotated &lt;stem&gt;.mp4 and &lt;stem&gt;.jsonl with --out. <paramref name="error"/> is set for a file that is
    /// no video, a damaged or truncated one (after the frames that could be read), or an output that failed.
    /// </summary>
    private static VideoSummary? DetectVideo(string file, string outName, Ffmpeg ffmpeg, Detector detector, DetectionOptions options,
        AnnotationRenderer? renderer, DetectSettings settings, TextWriter? machine, List<DetectionResultDto> jsonResults,
        Spectre.Console.ProgressContext? progressContext, CancellationToken stop, out string? error)
    {
        error = null;
        var outputs = settings.OutDirectory is null
            ? new VideoOutputs(null, null)
            : new VideoOutputs(Path.Combine(settings.OutDirectory, Path.ChangeExtension(outName, ".mp4")),
                Path.Combine(settings.OutDirectory, Path.ChangeExtension(outName, ".jsonl")));
        if (outputs.AnnotatedVideo is not null && Path.GetFullPath(outputs.AnnotatedVideo) == Path.GetFullPath(file))
        {
            // ffmpeg would truncate the very file the other ffmpeg is reading.
            error = $"the annotated video would overwrite the input ({outputs.AnnotatedVideo}); choose another --out folder";
            return null;
        }
        string csvFile = "";
        void OnFrame(DetectionResult result, DetectionResultDto dto)
        {
            if (settings.JsonLines) machine!.WriteLine(ResultJson.Serialize(dto));
            else if (settings.Json) jsonResults.Add(dto);
            else if (settings.Csv)
            {
                csvFile = string.Create(CultureInfo.InvariantCulture, $"{file}#frame={dto.Frame}");
                ResultCsv.WriteRows(machine!, csvFile, result);
            }
        }
        try
        {
            var summary = new VideoDetection(ffmpeg, detector, options, CliLimits)
                .Run(file, settings.VideoStride, outputs, renderer, OnFrame, progressContext, stop);
            error = summary.Problem;
            return summary;
        }
        catch (VideoException ex)
        {
            error = ex.Message;
            return null;
        }
        catch (IOException ex)
        {
            error = $"an output could not be written: {ex.Message}";
            return null;
        }
    }

    private TextWriter? OpenMachineOutput(DetectSettings settings)
    {
        if (!settings.HasMachineOutput) return null;
        if (settings.OutputFile is null) return new NonClosingWriter(env.Out);
        var dir = Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile));
        if (dir is not null) Directory.CreateDirectory(dir);
        return new StreamWriter(settings.OutputFile, append: false, new UTF8Encoding(false));
    }

    private static string Describe(ImageErrorKind kind) => kind switch
    {
        ImageErrorKind.Empty => "empty file",
        ImageErrorKind.UnsupportedFormat => "not a supported image",
        ImageErrorKind.Corrupt => "corrupt image",
        ImageErrorKind.Truncated => "truncated image",
        ImageErrorKind.TooManyBytes => "file too large",
        ImageErrorKind.TooManyPixels => "too many pixels",
        _ => kind.ToString(),
    };

    private static void WriteSummary(IAnsiConsole console, List<Processed> processed, TimeSpan wall, DetectSettings settings)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]lookout detect[/]")
            .AddColumn("Image").AddColumn(new TableColumn("Size").RightAligned()).AddColumn(new TableColumn("Objects").RightAligned())
            .AddColumn("Top labels").AddColumn(new TableColumn("ms").RightAligned());
        table.Caption("[dim]ms: decode + preprocess + inference + postprocess (+ render) per image; total: wall time[/]");
        foreach (var p in processed)
        {
            if (p.Video is { } v)
            {
                var state = p.Error is not null ? " [red](damaged)[/]" : v.Cancelled ? " [yellow](stopped)[/]" : "";
                table.AddRow(new Markup(Markup.Escape($"{p.File} ({v.FramesProcessed} frames)") + state), new Text($"{v.Info.Width}×{v.Info.Height}"),
                    new Text(v.Detections.ToString(CultureInfo.InvariantCulture)), new Text(TopLabels(v.Labels)),
                    new Text(v.FramesProcessed == 0 ? "" : ((v.TimingSums.TotalMs + v.RenderMsSum) / v.FramesProcessed).ToString("0.0", CultureInfo.InvariantCulture)));
                continue;
            }
            if (p.Result is not { } r)
            {
                table.AddRow(Markup.Escape(p.File), "", "[red]failed[/]", Markup.Escape(Shorten(p.Error!, 60)), "");
                continue;
            }
            table.AddRow(Markup.Escape(p.File), $"{r.ImageWidth}×{r.ImageHeight}", r.Detections.Count.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(TopLabels(r)), (r.Timings.TotalMs + p.RenderMs).ToString("0.0", CultureInfo.InvariantCulture));
        }
        var ok = processed.Where(p => p.Result is not null).ToList();
        int videosOk = processed.Count(p => p.Video is not null && p.Error is null);
        int failed = processed.Count(p => p.Error is not null);
        table.ShowFooters();
        table.Columns[0].Footer = new Markup("[bold]Total[/]");
        table.Columns[1].Footer = new Markup($"{ok.Count + videosOk} ok" + (failed > 0 ? $", [red]{failed} failed[/]" : ""));
        table.Columns[2].Footer = new Text((ok.Sum(p => p.Result!.Detections.Count) + processed.Sum(p => p.Video?.Detections ?? 0)).ToString(CultureInfo.InvariantCulture));
        table.Columns[3].Footer = new Text(TopLabels(ok.SelectMany(p => p.Result!.Detections)));
        table.Columns[4].Footer = new Text(wall.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
        console.Write(table);

        if (ok.Count > 0)
        {
            double Avg(Func<Processed, double> f) => ok.Average(f);
            var stages = $"decode {Avg(p => p.Result!.Timings.DecodeMs):0.0} · preprocess {Avg(p => p.Result!.Timings.PreprocessMs):0.0} · " +
                         $"inference {Avg(p => p.Result!.Timings.InferenceMs):0.0} · postprocess {Avg(p => p.Result!.Timings.PostprocessMs):0.0}" +
                         (settings.OutDirectory is not null ? $" · render {Avg(p => p.RenderMs):0.0}" : "");
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Average ms per image: {stages}  (model {ok[0].Result!.Model})")));
        }
        if (settings.OutDirectory is not null && ok.Count > 0)
            console.MarkupLine(Markup.Escape($"Annotated images written to {Path.GetFullPath(settings.OutDirectory)}"));
        foreach (var p in processed)
            if (p.Video is { } v) console.MarkupLine(Markup.Escape(DescribeVideo(p.File, v)));
    }

    /// <summary>One line per video: frames, speed, the per-frame stages and where its outputs went.</summary>
    private static string DescribeVideo(string file, VideoSummary v)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{file}: {v.Info.Codec} {v.Info.Width}×{v.Info.Height} at {v.Info.FramesPerSecond:0.##} fps; {v.FramesRead} frames read, {v.FramesProcessed} processed (--vid-stride {v.Stride}) in {v.Wall.TotalSeconds:0.0} s: {v.FramesPerSecond:0.0} frames/s"));
        if (v.FramesProcessed > 0)
        {
            double n = v.FramesProcessed;
            var t = v.TimingSums;
            line.Append(string.Create(CultureInfo.InvariantCulture,
                $"; ms per frame: read {t.DecodeMs / n:0.0} · preprocess {t.PreprocessMs / n:0.0} · inference {t.InferenceMs / n:0.0} · postprocess {t.PostprocessMs / n:0.0}"));
            if (v.Outputs.AnnotatedVideo is not null && v.FramesWritten > 0)
                line.Append(string.Create(CultureInfo.InvariantCulture, $" · render {v.RenderMsSum / v.FramesWritten:0.0} (per written frame)"));
        }
        if (v.Outputs.AnnotatedVideo is not null)
            line.Append($". Annotated video ({v.FramesWritten} frames) {Path.GetFullPath(v.Outputs.AnnotatedVideo)}, JSONL {Path.GetFullPath(v.Outputs.JsonLines!)}");
        return line.ToString();
    }

    private static string TopLabels(Dictionary<string, (int Count, float MaxScore)> labels) =>
        string.Join(", ", labels.OrderByDescending(kv => kv.Value.Count).ThenByDescending(kv => kv.Value.MaxScore).Take(4)
            .Select(kv => kv.Value.Count > 1 ? $"{kv.Key} ×{kv.Value.Count}" : kv.Key));

    private static string TopLabels(DetectionResult r) => TopLabels(r.Detections);

    private static string TopLabels(IEnumerable<Lookout.Detection.Detection> detections) =>
        string.Join(", ", detections.GroupBy(d => d.Label)
            .OrderByDescending(g => g.Count()).ThenByDescending(g => g.Max(d => d.Score)).Take(4)
            .Select(g => g.Count() > 1 ? $"{g.Key} ×{g.Count()}" : g.Key));

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>Lets the command dispose its writer without closing stdout.</summary>
    private sealed class NonClosingWriter(TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;
        public override void Write(char value) => inner.Write(value);
        public override void Write(string? value) => inner.Write(value);
        public override void WriteLine(string? value) => inner.WriteLine(value);
        public override Task WriteLineAsync(string? value) => inner.WriteLineAsync(value);
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        protected override void Dispose(bool disposing) => inner.Flush();
        public override ValueTask DisposeAsync() { inner.Flush(); return ValueTask.CompletedTask; }
    }
}
