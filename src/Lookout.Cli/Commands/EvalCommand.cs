using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lookout.Cli.Infrastructure;
using Lookout.Detection;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class EvalSettings : ModelSettings
{
    /// <summary>
    /// NMS IoU for evaluation. 0.65 is what YOLOX's own COCO evaluation uses (nmsthre 0.65 in its exp defaults);
    /// Ultralytics val uses 0.7. We evaluate a YOLOX model by default, so we follow YOLOX. Serving keeps 0.45.
    /// </summary>
    public const float DefaultEvalIou = 0.65f;

    /// <summary>Evaluation's low score threshold (as YOLOX and Ultralytics val use): AP needs the whole precision–recall curve.</summary>
    public const float DefaultEvalConfidence = 0.001f;

    public const int DefaultEvalMaxDetections = 100;

    [CommandOption("--images <DIR>")]
    [Description("Folder of the evaluation images (not searched recursively).")]
    public string? Images { get; init; }

    [CommandOption("--labels <DIR>")]
    [Description("Folder of YOLO txt labels (<stem>.txt: 'class cx cy w h', normalised). An image without a label file has no objects. Class ids are the model's.")]
    public string? Labels { get; init; }

    [CommandOption("--coco-json <FILE>")]
    [Description("COCO instances JSON (e.g. instances_val2017.json); the model's classes 0..79 are mapped to COCO category ids.")]
    public string? CocoJson { get; init; }

    [CommandOption("--conf <SCORE>")]
    [Description("Minimum score kept for evaluation (low on purpose: AP integrates over the whole precision–recall curve).")]
    [DefaultValue(DefaultEvalConfidence)]
    public float Confidence { get; init; } = DefaultEvalConfidence;

    [CommandOption("--iou <IOU>")]
    [Description("NMS IoU threshold for evaluation; 0.65 as in YOLOX's own COCO evaluation (Ultralytics val uses 0.7).")]
    [DefaultValue(DefaultEvalIou)]
    public float Iou { get; init; } = DefaultEvalIou;

    [CommandOption("--max-det <N>")]
    [Description("Detections kept per image (COCO counts at most 100).")]
    [DefaultValue(DefaultEvalMaxDetections)]
    public int MaxDetections { get; init; } = DefaultEvalMaxDetections;

    [CommandOption("--per-class")]
    [Description("Show every class in the per-class table (default: the 10 classes with most ground-truth objects).")]
    public bool PerClass { get; init; }

    [CommandOption("--json")]
    [Description("Write every figure as JSON (to stdout, or --output).")]
    public bool Json { get; init; }

    [CommandOption("-o|--output <FILE>")]
    [Description("Write the --json report to this file instead of stdout.")]
    public string? OutputFile { get; init; }

    [CommandOption("--save-detections <FILE>")]
    [Description("Write the detections as a COCO results JSON ([[{image_id, category_id, bbox, score}]]). Category ids are those evaluated: COCO ids with --coco-json, the model's class ids with --labels.")]
    public string? SaveDetections { get; init; }

    public bool JsonOnStdout => Json && OutputFile is null;

    public override ValidationResult Validate()
    {
        if (Images is null) return ValidationResult.Error("--images is required.");
        if ((Labels is null) == (CocoJson is null)) return ValidationResult.Error("Give exactly one of --labels DIR (YOLO txt) and --coco-json FILE.");
        if (!Directory.Exists(Images)) return ValidationResult.Error($"Image folder not found: {Images}");
        if (Labels is not null && !Directory.Exists(Labels)) return ValidationResult.Error($"Label folder not found: {Labels}");
        if (CocoJson is not null && !File.Exists(CocoJson)) return ValidationResult.Error($"COCO JSON file not found: {CocoJson}");
        if (Confidence is < 0 or > 1 || float.IsNaN(Confidence)) return ValidationResult.Error("--conf must be between 0 and 1.");
        if (Iou is <= 0 or > 1 || float.IsNaN(Iou)) return ValidationResult.Error("--iou must be greater than 0 and at most 1.");
        if (MaxDetections < 1) return ValidationResult.Error("--max-det must be at least 1.");
        if (OutputFile is not null && !Json) return ValidationResult.Error("--output needs --json.");
        return base.Validate();
    }
}

/// <summary><c>lookout eval</c>: COCO metrics of a model on a labelled image folder.</summary>
public sealed class EvalCommand(CliEnvironment env) : AsyncCommand<EvalSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, EvalSettings settings, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        bool progress = env.CanShowProgress(settings.JsonOnStdout, settings.NoProgress);
        using var catalog = new ModelCatalog(settings.CreateAssetStore(), new InferenceSettings { IntraOpThreads = settings.Threads });
        var model = await ModelLoading.LoadAsync(env, catalog, settings.Model, progress, cancellationToken);
        var detector = new Detector(model);
        var options = new DetectionOptions { Confidence = settings.Confidence, Iou = settings.Iou, MaxDetections = settings.MaxDetections };

        bool coco = settings.CocoJson is not null;
        EvaluationDataset? cocoDataset = null;
        List<(string ImageId, string Path)> work;
        if (coco)
        {
            if (model.Names.Count != CocoCategories.Count)
                throw new UsageException($"--coco-json maps the model's classes 0..79 to COCO ids, but {model.Name} has {model.Names.Count} classes.");
            try { cocoDataset = CocoJson.LoadInstances(settings.CocoJson!); }
            catch (InvalidDataException ex) { throw new UsageException(ex.Message); }
            work = cocoDataset.Images.Select(i => (i.ImageId, Path.Combine(settings.Images!,
                i.FileName ?? throw new UsageException($"{settings.CocoJson}: image {i.ImageId} has no file_name.")))).ToList();
        }
        else
        {
            // The same files, in the same order, as YoloLabels.Load enumerates.
            work = Directory.EnumerateFiles(settings.Images!)
                .Where(f => YoloLabels.ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
                .Select(f => (Path.GetFileNameWithoutExtension(f), f)).ToList();
        }
        if (work.Count == 0) throw new UsageException($"No images found in {settings.Images}.");

        var detections = new List<ScoredDetection>();
        var sizes = new Dictionary<string, (int Width, int Height)>(StringComparer.Ordinal);
        var failures = new List<string>();
        var detectTime = Stopwatch.StartNew();
        await ProgressRunner.RunAsync(env.Error, progress, "Evaluating", work.Count, async step =>
        {
            foreach (var (imageId, path) in work)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                    var result = detector.Detect(bytes, options, cancellationToken);
                    sizes[path] = (result.ImageWidth, result.ImageHeight);
                    foreach (var d in result.Detections)
                        detections.Add(new ScoredDetection(imageId, coco ? CocoCategories.ToCocoId(d.ClassId) : d.ClassId,
                            new BoxXyxy(d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2), d.Score));
                }
                catch (Exception ex) when (ex is ImageDecodeException or IOException or UnauthorizedAccessException)
                {
                    failures.Add($"{path}: {ex.Message}");
                }
                step(Path.GetFileName(path));
            }
        });
        detectTime.Stop();
        if (failures.Count > 0)
        {
            foreach (var f in failures) env.WriteError(f);
            env.WriteError($"{failures.Count} of {work.Count} images could not be read; an evaluation needs every image, so no figures are reported.");
            return ExitCodes.SomeInputsFailed;
        }

        EvaluationDataset dataset;
        if (coco)
        {
            dataset = cocoDataset!;
            int mismatched = dataset.Images.Count(i => sizes[Path.Combine(settings.Images!, i.FileName!)] != (i.Width, i.Height));
            if (mismatched > 0)
                env.WriteWarning($"{mismatched} images decode to a size other than the JSON's width/height (EXIF rotation or a different copy); their boxes may not line up.");
        }
        else
        {
            try
            {
                dataset = YoloLabels.Load(settings.Images!, settings.Labels!, f => sizes[f], model.Names.Count, classNames: model.Names);
            }
            catch (Exception ex) when (ex is YoloLabelFormatException or InvalidDataException)
            {
                throw new UsageException(ex.Message);
            }
        }

        var metrics = CocoEvaluator.Evaluate(dataset.Images, dataset.GroundTruths, detections,
            new CocoEvaluationSettings { CategoryIds = dataset.CategoryIds });
        total.Stop();

        if (settings.SaveDetections is not null)
        {
            var map = coco ? null : CocoImageIdMap.Create(dataset.Images.Select(i => i.ImageId));
            CocoJson.WriteResults(settings.SaveDetections, detections, map);
        }

        var names = dataset.Categories.GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.First().Name);
        var report = new EvalReport(
            model.Name, settings.Images!, settings.Labels, settings.CocoJson,
            new EvalThresholds(settings.Confidence, settings.Iou, settings.MaxDetections),
            dataset.Images.Count, dataset.GroundTruths.Count, detections.Count,
            Math.Round(total.Elapsed.TotalSeconds, 3), Math.Round(detectTime.Elapsed.TotalMilliseconds / work.Count, 2),
            new EvalStats(metrics.AP, metrics.AP50, metrics.AP75, metrics.APSmall, metrics.APMedium, metrics.APLarge,
                metrics.AR1, metrics.AR10, metrics.AR100, metrics.ARSmall, metrics.ARMedium, metrics.ARLarge),
            metrics.PerCategory.Select(c => new EvalClass(c.CategoryId, names.GetValueOrDefault(c.CategoryId, c.CategoryId.ToString(CultureInfo.InvariantCulture)),
                c.AP, c.AP50, c.AP75, c.AR100, c.GroundTruthCount, c.DetectionCount)).ToList());

        if (settings.Json)
        {
            var json = JsonSerializer.Serialize(report, CliJsonContext.Default.EvalReport);
            if (settings.OutputFile is null) env.Out.WriteLine(json);
            else await File.WriteAllTextAsync(settings.OutputFile, json + Environment.NewLine, cancellationToken);
        }
        WriteTables(env.Human(settings.JsonOnStdout), report, settings.PerClass);
        return ExitCodes.Success;
    }

    private static void WriteTables(IAnsiConsole console, EvalReport r, bool allClasses)
    {
        static string F(double v) => v < 0 ? "—" : v.ToString("0.000", CultureInfo.InvariantCulture);
        var s = r.Stats;
        var stats = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{r.Model} on {r.Images} ({r.ImageCount} images, {r.GroundTruthCount} objects)"))
            .AddColumn("Metric").AddColumn("IoU").AddColumn("Area").AddColumn("maxDets").AddColumn(new TableColumn("Value").RightAligned());
        (string, string, string, string, double)[] rows =
        [
            ("AP", "0.50:0.95", "all", "100", s.Ap), ("AP", "0.50", "all", "100", s.Ap50), ("AP", "0.75", "all", "100", s.Ap75),
            ("AP", "0.50:0.95", "small", "100", s.ApSmall), ("AP", "0.50:0.95", "medium", "100", s.ApMedium), ("AP", "0.50:0.95", "large", "100", s.ApLarge),
            ("AR", "0.50:0.95", "all", "1", s.Ar1), ("AR", "0.50:0.95", "all", "10", s.Ar10), ("AR", "0.50:0.95", "all", "100", s.Ar100),
            ("AR", "0.50:0.95", "small", "100", s.ArSmall), ("AR", "0.50:0.95", "medium", "100", s.ArMedium), ("AR", "0.50:0.95", "large", "100", s.ArLarge),
        ];
        foreach (var (m, iou, area, md, v) in rows) stats.AddRow(m, iou, area, md, F(v));
        console.Write(stats);

        var classes = r.PerClass.Where(c => c.GroundTruthCount > 0)
            .OrderByDescending(c => c.GroundTruthCount).ThenBy(c => c.CategoryId).ToList();
        var shown = allClasses ? classes : classes.Take(10).ToList();
        var perClass = new Table().Border(TableBorder.Rounded)
            .Title(allClasses ? "Per class (area all, maxDets 100)" : $"Per class: the {shown.Count} with most objects of {classes.Count} present (--per-class for all)")
            .AddColumn("Class").AddColumn(new TableColumn("Id").RightAligned()).AddColumn(new TableColumn("Objects").RightAligned())
            .AddColumn(new TableColumn("Detections").RightAligned()).AddColumn(new TableColumn("AP50").RightAligned()).AddColumn(new TableColumn("AP").RightAligned());
        foreach (var c in shown)
            perClass.AddRow(Markup.Escape(c.Name), c.CategoryId.ToString(CultureInfo.InvariantCulture), c.GroundTruthCount.ToString(CultureInfo.InvariantCulture),
                c.DetectionCount.ToString(CultureInfo.InvariantCulture), F(c.Ap50), F(c.Ap));
        console.Write(perClass);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"conf {r.Thresholds.Confidence} · NMS IoU {r.Thresholds.Iou} · max-det {r.Thresholds.MaxDetections} · {r.Seconds:0.0} s total · {r.MsPerImage:0.0} ms per image")));
    }
}

public sealed record EvalReport(
    string Model, string Images, string? Labels, string? CocoJson, EvalThresholds Thresholds,
    int ImageCount, int GroundTruthCount, int DetectionCount, double Seconds, double MsPerImage,
    EvalStats Stats, IReadOnlyList<EvalClass> PerClass);

public sealed record EvalThresholds(float Confidence, float Iou, int MaxDetections);

/// <summary>The 12 COCO statistics, pycocotools' order; -1 where undefined.</summary>
public sealed record EvalStats(
    double Ap, double Ap50, double Ap75, double ApSmall, double ApMedium, double ApLarge,
    double Ar1, double Ar10, double Ar100, double ArSmall, double ArMedium, double ArLarge);

public sealed record EvalClass(int CategoryId, string Name, double Ap, double Ap50, double Ap75, double Ar100, int GroundTruthCount, int DetectionCount);
