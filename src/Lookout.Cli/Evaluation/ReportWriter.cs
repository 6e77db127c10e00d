using System.Globalization;
using System.Text;
using System.Text.Json;
using Lookout.Cli.Commands;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Rendering;

namespace Lookout.Cli.Evaluation;

/// <summary>The facts of the run that the report states: how it was made and on what.</summary>
internal sealed record ReportRun(
    string CommandLine,
    string Version,
    DateTimeOffset Finished,
    EvalData Data,
    EvalThresholds Thresholds,
    double? ScoreThreshold,
    int Examples);

/// <summary>What was written for one model, as the page refers to it (paths relative to the report folder).</summary>
internal sealed record ModelReport(
    ModelResult Result,
    string Folder,
    double ScoreThreshold,
    string ScoreThresholdSource,
    ConfusionMatrix Confusion,
    ThresholdSweepPoint AtThreshold,
    IReadOnlyList<ExampleImage> Examples)
{
    public string File(string name) => Folder + name;
}

/// <summary>Precision, recall and F1 of all objects at the report's threshold.</summary>
internal sealed record ThresholdSweepPoint(double Precision, double Recall, double F1, int TruePositives, int FalsePositives, int Missed);

internal sealed record ExampleImage(string File, string ImageId, int TruePositives, int FalsePositives, int Missed);

/// <summary>
/// Writes <c>lookout eval --report DIR</c>: per model pr_curve.png, f1_curve.png, curves.json, confusion_matrix.png and
/// .json, per_class.csv, metrics.json and examples/*.jpg (in DIR itself for one model, in DIR/&lt;model&gt;/ for
/// several, with comparison.json and comparison_pr_curve.png beside), and index.html, a page that needs nothing but
/// the files in DIR.
/// </summary>
internal static class ReportWriter
{
    public const string Index = "index.html";

    /// <summary>Creates the folder (and checks it can be written) before any model runs, so a bad path costs nothing.</summary>
    /// <exception cref="UsageException">The folder cannot be created or written.</exception>
    public static string Prepare(string directory)
    {
        try
        {
            var full = Path.GetFullPath(directory);
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".lookout-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"Cannot create the report folder '{directory}': {ex.Message}");
        }
        // The fonts of the charts and of the examples: without them the report cannot be drawn, which is better
        // found out now than after the models have run (FontNotFoundException says what to install).
        _ = ReportCharts.FontFiles;
        FontLocator.Load().Dispose();
        return Path.GetFullPath(directory);
    }

    /// <returns>The path of index.html.</returns>
    public static async Task<string> WriteAsync(string directory, ReportRun run, IReadOnlyList<ModelResult> results,
        EvalComparisonReport? comparison, CancellationToken cancellationToken)
    {
        var folders = FolderNames(results);
        var reports = new List<ModelReport>();
        using var renderer = new OutcomeRenderer();
        for (int m = 0; m < results.Count; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reports.Add(await WriteModelAsync(directory, folders[m], run, results[m], renderer, cancellationToken));
        }
        if (comparison is not null)
        {
            ReportCharts.ComparisonPrecisionRecall(Path.Combine(directory, "comparison_pr_curve.png"), results);
            await File.WriteAllTextAsync(Path.Combine(directory, "comparison.json"),
                JsonSerializer.Serialize(comparison, ReportJsonContext.Default.EvalComparisonReport) + "\n", cancellationToken);
        }
        var index = Path.Combine(directory, Index);
        await File.WriteAllTextAsync(index, ReportHtml.Build(run, reports, comparison), cancellationToken);
        return index;
    }

    /// <summary>"" for one model; a folder per model (from its name, unique) for several.</summary>
    internal static IReadOnlyList<string> FolderNames(IReadOnlyList<ModelResult> results)
    {
        if (results.Count == 1) return [""];
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        foreach (var r in results)
        {
            var stem = Slug(r.Name);
            var name = stem;
            for (int i = 2; !used.Add(name); i++) name = $"{stem}-{i}";
            names.Add(name + "/");
        }
        return names;
    }

    internal static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        var slug = sb.ToString().Trim('-', '.');
        return slug.Length == 0 ? "model" : slug;
    }

    private static async Task<ModelReport> WriteModelAsync(string directory, string folder, ReportRun run, ModelResult r,
        OutcomeRenderer renderer, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(directory, folder);
        Directory.CreateDirectory(dir);
        var curves = r.Curves;

        // The matrix and the examples: the user's threshold, else the best-F1 one, else (nothing matched) 0.5.
        var (threshold, source) = run.ScoreThreshold is { } chosen ? (chosen, "--report-threshold")
            : curves.Best is { } best ? (best.ScoreThreshold, "best F1")
            : (0.5, "0.50: no detection matched an object, so there is no best F1");
        var outcomes = OutcomesAtThreshold.Compute(r.Dataset.Images, r.Dataset.GroundTruths, r.Detections, r.Evaluation.Matches, threshold);
        var cm = ConfusionMatrix.Compute(outcomes, r.Dataset.GroundTruths, r.Detections, r.Dataset.Categories);
        int j = EvaluationCurves.HighestPassedThreshold(threshold);
        var all = curves.AllObjects;
        var point = new ThresholdSweepPoint(double.IsNaN(all.Precision[j]) ? 0 : all.Precision[j], all.Recall[j], all.F1[j],
            all.TruePositives[j], all.FalsePositives[j], all.GroundTruthCount - all.TruePositives[j]);

        ReportCharts.PrecisionRecall(Path.Combine(dir, "pr_curve.png"), r.Name, curves);
        ReportCharts.F1(Path.Combine(dir, "f1_curve.png"), r.Name, curves);
        string note = source == "best F1" ? $"score ≥ {threshold:0.00} (best F1)" : $"score ≥ {threshold:0.00}";
        ReportCharts.Confusion(Path.Combine(dir, "confusion_matrix.png"), r.Name, cm, note);

        var compact = new ReportJsonContext(new JsonSerializerOptions(ReportJsonContext.Default.Options) { WriteIndented = false });
        await File.WriteAllTextAsync(Path.Combine(dir, "curves.json"), JsonSerializer.Serialize(CurvesFile(r), compact.CurvesJson) + "\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "confusion_matrix.json"),
            JsonSerializer.Serialize(ConfusionFile(r.Name, cm, source), compact.ConfusionJson) + "\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "per_class.csv"), PerClassCsv(r, j), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "metrics.json"),
            JsonSerializer.Serialize(r.Report, CliJsonContext.Default.EvalReport) + "\n", cancellationToken);

        var examples = await WriteExamplesAsync(dir, folder, run, r, outcomes, renderer, cancellationToken);
        return new ModelReport(r, folder, threshold, source, cm, point, examples);
    }

    private static double? R(double v) => double.IsNaN(v) ? null : Math.Round(v, 5);

    private static SweepJson Sweep(ThresholdSweep s) => new(s.GroundTruthCount,
        s.Precision.Select(R).ToArray(), s.Recall.Select(R).ToArray(), s.F1.Select(v => Math.Round(v, 5)).ToArray(),
        s.TruePositives, s.FalsePositives);

    private static CurvesJson CurvesFile(ModelResult r)
    {
        var c = r.Curves;
        return new CurvesJson(r.Name, CocoMatches.IouThreshold,
            "Precision-recall at IoU 0.50: 'precision' lists pycocotools' 101-point interpolated precision at each of " +
            "'recall_thresholds' (its mean is AP50); all_classes is the mean over classes with objects. Threshold sweeps " +
            "list precision, recall and F1 of the detections scored >= each of 'score_thresholds'; all_objects pools every class.",
            EvaluationCurves.RecallThresholds, EvaluationCurves.ScoreThresholds,
            new AllClassesJson(Math.Round(c.AP50, 6), c.AllClassesPrecision.Select(v => Math.Round(v, 5)).ToArray()),
            Sweep(c.AllObjects), r.Report.BestF1,
            c.Classes.Where(k => k.GroundTruthCount > 0 || k.DetectionCount > 0)
                .OrderByDescending(k => k.GroundTruthCount).ThenBy(k => k.CategoryId)
                .Select(k => new ClassCurvesJson(k.CategoryId, k.Name, k.GroundTruthCount, k.DetectionCount, Math.Round(k.AP50, 6),
                    Math.Round(k.PrecisionRecall.MaxRecall, 6), k.PrecisionRecall.InterpolatedPrecision.Select(v => Math.Round(v, 5)).ToArray(),
                    Sweep(k.Sweep)))
                .ToList());
    }

    private static ConfusionJson ConfusionFile(string model, ConfusionMatrix cm, string source)
    {
        int n = cm.Background + 1;
        var counts = new List<int[]>();
        var normalized = new List<double[]>();
        for (int row = 0; row < n; row++)
        {
            counts.Add(Enumerable.Range(0, n).Select(col => cm.Counts[row, col]).ToArray());
            normalized.Add(Enumerable.Range(0, n).Select(col => Math.Round(cm.Normalized(row, col), 5)).ToArray());
        }
        return new ConfusionJson(model, cm.IouThreshold, cm.ScoreThreshold, source,
            "counts[true][predicted]; the last row and column are background: the background column counts missed objects, " +
            "the background row false alarms (duplicates included). Detections on crowd regions count in neither (ignored_detections). " +
            "normalized divides each row by its total.",
            cm.Labels, [.. cm.Classes.Select(c => (int?)c.Id), null], counts, normalized, cm.IgnoredDetections);
    }

    private static string PerClassCsv(ModelResult r, int thresholdIndex)
    {
        static string N(double v) => v < 0 || double.IsNaN(v) ? "" : v.ToString("0.0000", CultureInfo.InvariantCulture);
        static string Q(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        var sweeps = r.Curves.Classes.ToDictionary(c => c.CategoryId, c => c.Sweep);
        var sb = new StringBuilder("category_id,name,ground_truth_count,detection_count,ap,ap50,ap75,ar100,precision_at_threshold,recall_at_threshold,f1_at_threshold\n");
        foreach (var c in r.Report.PerClass.OrderByDescending(c => c.GroundTruthCount).ThenBy(c => c.CategoryId))
        {
            var s = sweeps[c.CategoryId];
            sb.Append(CultureInfo.InvariantCulture,
                $"{c.CategoryId},{Q(c.Name)},{c.GroundTruthCount},{c.DetectionCount},{N(c.Ap)},{N(c.Ap50)},{N(c.Ap75)},{N(c.Ar100)},");
            sb.Append(CultureInfo.InvariantCulture,
                $"{N(s.Precision[thresholdIndex])},{N(s.Recall[thresholdIndex])},{(c.GroundTruthCount > 0 ? N(s.F1[thresholdIndex]) : "")}\n");
        }
        return sb.ToString();
    }

    /// <summary>The images with most mistakes at the threshold (ties: most objects found), drawn with their verdicts.</summary>
    private static async Task<IReadOnlyList<ExampleImage>> WriteExamplesAsync(string dir, string folder, ReportRun run, ModelResult r,
        OutcomesAtThreshold outcomes, OutcomeRenderer renderer, CancellationToken cancellationToken)
    {
        if (run.Examples == 0) return [];
        var files = run.Data.Work.ToDictionary(w => w.ImageId, w => w.Path, StringComparer.Ordinal);
        var chosen = outcomes.Images
            .Select((o, i) => (o, i))
            .Where(x => x.o.Mistakes + x.o.TruePositives.Count > 0)
            .OrderByDescending(x => x.o.Mistakes).ThenByDescending(x => x.o.TruePositives.Count).ThenBy(x => x.i)
            .Take(run.Examples)
            .Select(x => x.o)
            .ToList();
        if (chosen.Count == 0) return [];
        Directory.CreateDirectory(Path.Combine(dir, "examples"));

        var gts = r.Dataset.GroundTruths;
        var dts = r.Detections;
        string Det(int n) => $"{r.CategoryName(dts[n].CategoryId)} {Math.Round(dts[n].Score * 100):0}%";
        OutcomeBox Box(BoxXyxy b, string label, OutcomeStyle style) => new((float)b.X1, (float)b.Y1, (float)b.X2, (float)b.Y2, label, style);

        var written = new List<ExampleImage>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var o in chosen)
        {
            var boxes = new List<OutcomeBox>();
            boxes.AddRange(o.TruePositives.Select(n => Box(dts[n].Box, Det(n), OutcomeStyle.TruePositive)));
            boxes.AddRange(o.Confusions.Select(c => Box(dts[c.Detection].Box, Det(c.Detection), OutcomeStyle.FalsePositive)));
            boxes.AddRange(o.FalseAlarms.Select(n => Box(dts[n].Box, Det(n), OutcomeStyle.FalsePositive)));
            boxes.AddRange(o.Confusions.Select(c => Box(gts[c.GroundTruth].Box, r.CategoryName(gts[c.GroundTruth].CategoryId), OutcomeStyle.Missed)));
            boxes.AddRange(o.Missed.Select(g => Box(gts[g].Box, r.CategoryName(gts[g].CategoryId), OutcomeStyle.Missed)));
            int fp = o.Confusions.Count + o.FalseAlarms.Count, missed = o.Confusions.Count + o.Missed.Count;

            var bytes = await File.ReadAllBytesAsync(files[o.ImageId], cancellationToken);
            using var image = r.Detector.Decode(bytes, forDrawing: true);
            var caption = string.Create(CultureInfo.InvariantCulture, $"score ≥ {outcomes.ScoreThreshold:0.00} · {o.TruePositives.Count} TP · {fp} FP · {missed} missed");
            var jpeg = renderer.RenderJpeg(image.Pixels, image.OriginalWidth, image.OriginalHeight, boxes, caption);

            var name = Slug(o.ImageId);
            for (int i = 2; !used.Add(name); i++) name = $"{Slug(o.ImageId)}-{i}";
            await File.WriteAllBytesAsync(Path.Combine(dir, "examples", name + ".jpg"), jpeg, cancellationToken);
            written.Add(new ExampleImage($"{folder}examples/{name}.jpg", o.ImageId, o.TruePositives.Count, fp, missed));
        }
        return written;
    }
}
