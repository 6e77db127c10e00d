using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lookout.Cli.Evaluation;
using Lookout.Cli.Infrastructure;
using Lookout.Detection;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class EvalSettings : DetectionSettings
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

    [CommandOption("--tile-merge <HOW>")]
    [Description("How the passes' boxes are combined when tiling: nms (class-wise IoU NMS, the default) or greedy-ios (SAHI's greedy merging by intersection over the smaller box); for comparing them.")]
    [DefaultValue("nms")]
    public string TileMerge { get; init; } = "nms";

    /// <summary>--tile-merge read: null when it names no merge (Validate refuses that).</summary>
    internal Lookout.Detection.Tiling.TileMerge? ParsedTileMerge => TileMerge.Trim().ToLowerInvariant() switch
    {
        "nms" => Lookout.Detection.Tiling.TileMerge.Nms,
        "greedy-ios" or "greedy" or "gnmm" => Lookout.Detection.Tiling.TileMerge.GreedyIos,
        _ => null,
    };

    internal Lookout.Detection.Tiling.TileMerge TileMergeValue => ParsedTileMerge ?? Lookout.Detection.Tiling.TileMerge.Nms;

    [CommandOption("--input-rule <RULES>")]
    [Description("How photos become the model input (JPEG decode scale + resize filter), for comparing them: one or more of " +
        "full-bilinear, full-area, dct-halving-bilinear, dct-halving-area, dct-eighths-bilinear, dct-eighths-area, comma-separated " +
        "(several are evaluated taking turns image by image, like several models). Default: the rule every route uses for the model's family.")]
    public string? InputRule { get; init; }

    /// <summary>The rules asked for; one null (each model's own rule, <see cref="ModelInputRule.For"/>) when none was.</summary>
    internal IReadOnlyList<ModelInputRule?> InputRules =>
        InputRule is null
            ? [null]
            : InputRule.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => (ModelInputRule?)ModelInputRule.Parse(n)).ToList();

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

    [CommandOption("--report <DIR>")]
    [Description("Also write a report folder: precision-recall and F1 curves, confusion matrix, per-class CSV, example images and index.html (opens from disk). With several --model, a comparison too.")]
    public string? Report { get; init; }

    [CommandOption("--report-threshold <SCORE>")]
    [Description("Score threshold of the report's confusion matrix and example images (default: the threshold with the best F1).")]
    public float? ReportThreshold { get; init; }

    [CommandOption("--examples <N>")]
    [Description("Example images in the report: those with most mistakes, drawn with true positives, false positives and misses.")]
    [DefaultValue(DefaultExamples)]
    public int Examples { get; init; } = DefaultExamples;

    public const int DefaultExamples = 6;

    /// <summary>eval compares several models: <c>--model A --model B</c>.</summary>
    protected override bool AcceptsSeveralModels => true;

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
        if (ParsedTileMerge is null)
            return ValidationResult.Error($"--tile-merge must be nms or greedy-ios; got '{TileMerge}'.");
        try { if (InputRules.Count == 0) return ValidationResult.Error("--input-rule names no rule."); }
        catch (ArgumentException ex) { return ValidationResult.Error("--input-rule: " + ex.Message.Split(" (Parameter")[0]); }
        if (ReportThreshold is { } t && (t is < 0 or > 1 || float.IsNaN(t))) return ValidationResult.Error("--report-threshold must be between 0 and 1.");
        if (ReportThreshold is not null && Report is null) return ValidationResult.Error("--report-threshold needs --report DIR.");
        if (Examples is < 0 or > 100) return ValidationResult.Error("--examples must be between 0 and 100.");
        if (SaveDetections is not null && Models.Length > 1) return ValidationResult.Error("--save-detections writes one model's detections: give one --model.");
        return base.Validate();
    }
}

/// <summary>
/// <c>lookout eval</c>: COCO metrics of one or more models on a labelled image folder, the recommended score threshold,
/// and with <c>--report</c> a folder of curves, confusion matrix and examples. Every model is loaded before any runs:
/// an unknown model, a missing file or a model the labels cannot score stops the command at once with exit code 1,
/// and nothing is evaluated — a comparison without one of its models is not the comparison asked for.
/// </summary>
public sealed class EvalCommand(CliEnvironment env) : AsyncCommand<EvalSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, EvalSettings settings, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        bool progress = env.CanShowProgress(settings.JsonOnStdout, settings.NoProgress);
        var reportDirectory = settings.Report is null ? null : ReportWriter.Prepare(settings.Report);
        var data = EvalData.Load(settings);
        using var catalog = new ModelCatalog(settings.CreateAssetStore(), new InferenceSettings { IntraOpThreads = settings.Threads });
        var options = TileArguments.Apply(
            new DetectionOptions { Confidence = settings.Confidence, Iou = settings.Iou, MaxDetections = settings.MaxDetections },
            settings.Tile, settings.TileOverlap, settings.MaxTiles, settings.TileMergeValue);

        var detectors = new List<Detector>();
        foreach (var name in settings.Models.DefaultIfEmpty(ModelSettings.DefaultModel))
        {
            var model = await ModelLoading.LoadAsync(env, catalog, name, progress, cancellationToken, settings.AllModelDirectories());
            data.CheckModel(model);
            foreach (var rule in settings.InputRules) detectors.Add(new Detector(model, inputRule: rule));
        }

        var results = await EvalRunner.RunAsync(env, settings, data, detectors, options, progress, total, cancellationToken);
        if (results is null) return ExitCodes.SomeInputsFailed;
        var comparison = results.Count > 1 ? EvalComparison.Create(results) : null;
        total.Stop();

        if (settings.Json)
        {
            var json = comparison is null
                ? JsonSerializer.Serialize(results[0].Report, CliJsonContext.Default.EvalReport)
                : JsonSerializer.Serialize(comparison, ReportJsonContext.Default.EvalComparisonReport);
            if (settings.OutputFile is null) env.Out.WriteLine(json);
            else await File.WriteAllTextAsync(settings.OutputFile, json + Environment.NewLine, cancellationToken);
        }
        var console = env.Human(settings.JsonOnStdout);
        if (comparison is null) WriteTables(console, results[0].Report, settings.PerClass);
        else WriteComparison(console, comparison);
        foreach (var r in results) console.MarkupLine(Markup.Escape(RecommendedThreshold(r.Report, several: results.Count > 1)));

        if (reportDirectory is not null)
        {
            var run = new ReportRun(CommandLine(context), Program.Version, DateTimeOffset.UtcNow, data,
                new EvalThresholds(settings.Confidence, settings.Iou, settings.MaxDetections), settings.ReportThreshold, settings.Examples);
            var index = await ReportWriter.WriteAsync(reportDirectory, run, results, comparison, cancellationToken);
            console.MarkupLine(Markup.Escape($"Report: {index}"));
        }
        return ExitCodes.Success;
    }

    /// <summary>"best F1 0.61 at score ≥ 0.34 (precision 0.70, recall 0.55)": the min_confidence a camera user should set.</summary>
    internal static string RecommendedThreshold(EvalReport r, bool several) =>
        (several ? r.Model + ": " : "") + (r.BestF1 is { } b
            ? string.Create(CultureInfo.InvariantCulture,
                $"best F1 {b.F1:0.00} at score ≥ {b.ScoreThreshold:0.00} (precision {b.Precision:0.00}, recall {b.Recall:0.00}, all objects)")
            : "no detection matched an object, so there is no recommended score threshold");

    private static string CommandLine(CommandContext context)
    {
        static string Quote(string a) => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        return string.Join(' ', new[] { "lookout", context.Name }.Concat(context.Arguments.SkipWhile(a => a == context.Name).Select(Quote)));
    }

    private static void WriteComparison(IAnsiConsole console, EvalComparisonReport c)
    {
        static string F(double v) => v < 0 ? "—" : v.ToString("0.000", CultureInfo.InvariantCulture);
        var table = new Table().Border(TableBorder.Rounded).Title("Comparison (same images, models taking turns image by image)")
            .AddColumn("Model");
        foreach (var h in new[] { "AP", "AP50", "AP75", "AP small", "AR100", "best F1", "at score ≥", "ms/image" }) table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var r in c.Table)
            table.AddRow(Markup.Escape(r.Model), F(r.Ap), F(r.Ap50), F(r.Ap75), F(r.ApSmall), F(r.Ar100),
                r.BestF1 is { } f ? f.ToString("0.00", CultureInfo.InvariantCulture) : "—",
                r.BestF1Threshold is { } t ? t.ToString("0.00", CultureInfo.InvariantCulture) : "—",
                r.MsPerImage.ToString("0.0", CultureInfo.InvariantCulture));
        console.Write(table);
        if (c.LargestClassDifferences.Count == 0) return;
        var diff = new Table().Border(TableBorder.Rounded)
            .Title($"Classes where the models differ most (AP50; classes with ≥ {c.ClassDifferenceMinimumObjects} objects)")
            .AddColumn("Class").AddColumn(new TableColumn("Objects").RightAligned());
        foreach (var r in c.Table) diff.AddColumn(new TableColumn(Markup.Escape(r.Model)).RightAligned());
        diff.AddColumn(new TableColumn("Spread").RightAligned());
        foreach (var d in c.LargestClassDifferences)
            diff.AddRow([Markup.Escape(d.Name), d.GroundTruthCount.ToString(CultureInfo.InvariantCulture), .. d.Ap50.Select(F), F(d.Spread)]);
        console.Write(diff);
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
    EvalStats Stats, IReadOnlyList<EvalClass> PerClass, EvalBestF1? BestF1)
{
    /// <summary>How photos became the model input (<see cref="ModelInputRule"/>).</summary>
    public string? InputRule { get; init; }

    /// <summary>Decoding and making the model input (resize into the letterbox), ms per image: what the input rule costs.</summary>
    public double DecodeMsPerImage { get; init; }
    public double PreprocessMsPerImage { get; init; }
}

/// <summary>The score threshold with the best F1 over all objects (IoU 0.50), and its precision and recall.</summary>
public sealed record EvalBestF1(double ScoreThreshold, double F1, double Precision, double Recall);

public sealed record EvalThresholds(float Confidence, float Iou, int MaxDetections);

/// <summary>The 12 COCO statistics, pycocotools' order; -1 where undefined.</summary>
public sealed record EvalStats(
    double Ap, double Ap50, double Ap75, double ApSmall, double ApMedium, double ApLarge,
    double Ar1, double Ar10, double Ar100, double ArSmall, double ArMedium, double ArLarge);

public sealed record EvalClass(int CategoryId, string Name, double Ap, double Ap50, double Ap75, double Ar100, int GroundTruthCount, int DetectionCount);
