using System.Globalization;
using System.Net;
using System.Text;
using Lookout.Detection.Rendering;

namespace Lookout.Cli.Evaluation;

/// <summary>
/// index.html of a report: one page, its style inline, no script, no font or image from anywhere but the report
/// folder (relative paths only), so it opens from disk, offline, and can be zipped or served as it is.
/// </summary>
internal static class ReportHtml
{
    private static string H(string? text) => WebUtility.HtmlEncode(text ?? "");
    private static string F(double v, string format = "0.000") => v < 0 || double.IsNaN(v) ? "—" : v.ToString(format, CultureInfo.InvariantCulture);
    private static string I(int v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private const string Style = """
        :root { color-scheme: light; --ink: #222; --muted: #666; --line: #ddd; --accent: #1f77b4; }
        * { box-sizing: border-box; }
        body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); margin: 0; background: #fafafa; }
        main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 36px 0 10px; padding-top: 10px; border-top: 2px solid var(--line); }
        h3 { font-size: 17px; margin: 24px 0 8px; } p.sub { color: var(--muted); margin: 0 0 18px; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
        th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
        td.n, th.n { text-align: right; } thead th { border-bottom: 2px solid #bbb; }
        table.facts th { color: var(--muted); font-weight: 600; white-space: nowrap; }
        code { font: 13px/1.4 "DejaVu Sans Mono", ui-monospace, monospace; background: #f3f3f3; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 14px; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
        .card b { display: block; font-size: 22px; } .card span { color: var(--muted); font-size: 13px; }
        .card.best { border-color: #d62728; } .card.best b { color: #d62728; }
        figure { margin: 12px 0 20px; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
        figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 900px; }
        .examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 14px; }
        .examples figure { margin: 0; } .legend span { margin-right: 16px; white-space: nowrap; }
        .swatch { display: inline-block; width: 26px; height: 12px; vertical-align: middle; margin-right: 5px; border-width: 2px; }
        .files a { margin-right: 14px; } nav a { margin-right: 14px; }
        """;

    public static string Build(ReportRun run, IReadOnlyList<ModelReport> models, EvalComparisonReport? comparison)
    {
        var sb = new StringBuilder();
        string title = models.Count == 1
            ? $"{models[0].Result.Name} on {DataName(run)}"
            : $"{string.Join(" vs ", models.Select(m => m.Result.Name))} on {DataName(run)}";
        sb.Append($"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append($"<title>Lookout evaluation: {H(title)}</title>\n<style>\n{Style}\n</style>\n</head>\n<body>\n<main>\n");
        sb.Append($"<h1>Evaluation: {H(title)}</h1>\n");
        var first = models[0].Result.Report;
        sb.Append($"<p class=\"sub\">{I(first.ImageCount)} images, {I(first.GroundTruthCount)} ground-truth objects · COCO metrics as pycocotools computes them · made {H(run.Finished.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))} by Lookout {H(run.Version)}</p>\n");
        if (models.Count > 1)
        {
            sb.Append("<nav>Jump to: <a href=\"#comparison\">comparison</a>");
            foreach (var m in models) sb.Append($"<a href=\"#{Anchor(m)}\">{H(m.Result.Name)}</a>");
            sb.Append("</nav>\n");
        }

        RunFacts(sb, run, models);
        if (comparison is not null) Comparison(sb, comparison, models);
        foreach (var m in models) Model(sb, m, models.Count > 1);
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>"coco-val2017-dev/images": the image folder and its parent, which usually names the data set.</summary>
    private static string DataName(ReportRun run)
    {
        var dir = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(run.Data.ImagesDirectory)));
        return dir.Parent is { Parent: not null } parent ? $"{parent.Name}/{dir.Name}" : dir.FullName;
    }

    private static string Anchor(ModelReport m) => "model-" + ReportWriter.Slug(m.Result.Name);

    private static void RunFacts(StringBuilder sb, ReportRun run, IReadOnlyList<ModelReport> models)
    {
        var t = run.Thresholds;
        var r = models[0].Result.Report;
        sb.Append("<h2 id=\"run\">How this was made</h2>\n<table class=\"facts\">\n");
        sb.Append($"<tr><th>Command</th><td><code>{H(run.CommandLine)}</code></td></tr>\n");
        foreach (var m in models)
        {
            var model = m.Result.Detector.Model;
            sb.Append($"<tr><th>Model</th><td><b>{H(model.Name)}</b> · {H(model.Family)} · input {model.InputWidth}×{model.InputHeight} · {model.Names.Count} classes · {H(model.ExecutionProvider)}</td></tr>\n");
        }
        sb.Append($"<tr><th>Images</th><td><code>{H(run.Data.ImagesDirectory)}</code> · {I(r.ImageCount)} images</td></tr>\n");
        sb.Append(run.Data.CocoJsonPath is { } json
            ? $"<tr><th>Ground truth</th><td>COCO instances file <code>{H(json)}</code> · {I(r.GroundTruthCount)} annotations ({I(models[0].Result.Dataset.GroundTruths.Count(g => g.IsCrowd))} crowd regions, which neither reward nor punish a detection)</td></tr>\n"
            : $"<tr><th>Ground truth</th><td>YOLO labels <code>{H(run.Data.LabelsDirectory)}</code> · {I(r.GroundTruthCount)} objects</td></tr>\n");
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"<tr><th>Detection</th><td>scores ≥ {t.Confidence} kept (AP needs the whole precision–recall curve) · class-wise NMS at IoU {t.Iou} · at most {t.MaxDetections} per image</td></tr>\n"));
        sb.Append("<tr><th>Matching</th><td>pycocotools' COCOeval (bbox): greedy by score, each object matched once, crowd regions absorb the detections on them. " +
            "The curves, the confusion matrix and the examples use its matches at IoU 0.50.</td></tr>\n");
        foreach (var m in models)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"<tr><th>Threshold{(models.Count > 1 ? $" ({H(m.Result.Name)})" : "")}</th><td>confusion matrix and examples at score ≥ {m.ScoreThreshold:0.00} ({H(m.ScoreThresholdSource)})</td></tr>\n"));
        sb.Append("</table>\n");
    }

    private static void Comparison(StringBuilder sb, EvalComparisonReport c, IReadOnlyList<ModelReport> models)
    {
        sb.Append("<h2 id=\"comparison\">Comparison</h2>\n<p>The same images, the same thresholds; the models took turns image by image, so their times are measured under the same conditions.</p>\n");
        sb.Append("<table>\n<thead><tr><th>Model</th><th class=\"n\">AP</th><th class=\"n\">AP50</th><th class=\"n\">AP75</th><th class=\"n\">AP small</th><th class=\"n\">AR100</th><th class=\"n\">best F1</th><th class=\"n\">at score ≥</th><th class=\"n\">ms / image</th></tr></thead>\n<tbody>\n");
        foreach (var row in c.Table)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"<tr><td>{H(row.Model)}</td><td class=\"n\">{F(row.Ap)}</td><td class=\"n\">{F(row.Ap50)}</td><td class=\"n\">{F(row.Ap75)}</td><td class=\"n\">{F(row.ApSmall)}</td><td class=\"n\">{F(row.Ar100)}</td><td class=\"n\">{(row.BestF1 is { } f ? F(f, "0.00") : "—")}</td><td class=\"n\">{(row.BestF1Threshold is { } th ? F(th, "0.00") : "—")}</td><td class=\"n\">{row.MsPerImage:0.0}</td></tr>\n"));
        sb.Append("</tbody>\n</table>\n");
        sb.Append("<figure><a href=\"comparison_pr_curve.png\"><img src=\"comparison_pr_curve.png\" alt=\"Precision-recall curves of the models, all classes\"></a>" +
            "<figcaption>Mean interpolated precision over the classes at each recall (IoU 0.50); the mean of each curve's 101 points is the model's AP50.</figcaption></figure>\n");
        if (c.LargestClassDifferences.Count > 0)
        {
            sb.Append($"<h3>Classes where the models differ most</h3>\n<p>AP50 per class, largest spread first, among classes with at least {c.ClassDifferenceMinimumObjects} objects.</p>\n");
            sb.Append("<table>\n<thead><tr><th>Class</th><th class=\"n\">objects</th>");
            foreach (var m in models) sb.Append($"<th class=\"n\">{H(m.Result.Name)}</th>");
            sb.Append("<th class=\"n\">spread</th></tr></thead>\n<tbody>\n");
            foreach (var d in c.LargestClassDifferences)
            {
                sb.Append($"<tr><td>{H(d.Name)}</td><td class=\"n\">{I(d.GroundTruthCount)}</td>");
                foreach (var v in d.Ap50) sb.Append($"<td class=\"n\">{F(v)}</td>");
                sb.Append($"<td class=\"n\">{F(d.Spread)}</td></tr>\n");
            }
            sb.Append("</tbody>\n</table>\n");
        }
        sb.Append("<p class=\"files\">Data: <a href=\"comparison.json\">comparison.json</a></p>\n");
    }

    private static void Model(StringBuilder sb, ModelReport m, bool several)
    {
        var r = m.Result.Report;
        var s = r.Stats;
        sb.Append($"<h2 id=\"{Anchor(m)}\">{(several ? H(m.Result.Name) : "Results")}</h2>\n<div class=\"cards\">\n");
        void Card(string value, string label, string css = "") => sb.Append($"<div class=\"card{css}\"><b>{value}</b><span>{H(label)}</span></div>\n");
        Card(F(s.Ap), "AP 0.50:0.95");
        Card(F(s.Ap50), "AP50");
        Card(F(s.Ap75), "AP75");
        Card(F(s.Ar100), "AR100");
        if (r.BestF1 is { } best) Card($"{F(best.F1, "0.00")} <small>at ≥ {F(best.ScoreThreshold, "0.00")}</small>", "best F1: set min_confidence here", " best");
        Card(r.MsPerImage.ToString("0.0", CultureInfo.InvariantCulture), "ms per image");
        sb.Append("</div>\n");
        if (r.BestF1 is { } b)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"<p><b>Recommended threshold:</b> best F1 {b.F1:0.00} at score ≥ {b.ScoreThreshold:0.00} — precision {b.Precision:0.00}, recall {b.Recall:0.00} over all objects of these images.</p>\n"));
        var p = m.AtThreshold;
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"<p>At score ≥ {m.ScoreThreshold:0.00}: {I(p.TruePositives)} of {I(p.TruePositives + p.Missed)} objects found, {I(p.FalsePositives)} false positives (precision {p.Precision:0.00}, recall {p.Recall:0.00}, F1 {p.F1:0.00}).</p>\n"));

        Figure(sb, m.File("pr_curve.png"), "Precision-recall curves",
            "Precision against recall at IoU 0.50. Each class's curve is pycocotools' 101-point interpolated precision (the best precision at that recall or beyond); its mean is the class's AP50. " +
            $"The thick line is the mean over all classes with objects, whose mean is the AP50 above; thin lines are the {ReportCharts.ClassesPlotted} classes with most objects (count in brackets), drawn up to the recall they reach.");
        Figure(sb, m.File("f1_curve.png"), "F1 against the score threshold",
            "Precision, recall and F1 of every object pooled, counting only detections scored at least the threshold: what one min_confidence setting gives. The marked threshold is the lowest with the highest F1.");
        Figure(sb, m.File("confusion_matrix.png"), "Confusion matrix",
            string.Create(CultureInfo.InvariantCulture,
                $"At IoU 0.50 and score ≥ {m.ScoreThreshold:0.00}. Rows are the true class, columns the predicted class; numbers are counts, colour the share of the row. " +
                $"The background column counts missed objects, the background row false alarms (duplicates included). Only classes present are shown, most frequent first; {I(m.Confusion.IgnoredDetections)} detections on crowd regions are left out."));

        if (m.Examples.Count > 0)
        {
            sb.Append("<h3>Examples</h3>\n<p class=\"legend\">The images with most mistakes at this threshold: ");
            foreach (var style in Enum.GetValues<OutcomeStyle>())
            {
                var c = OutcomeRenderer.ColorOf(style);
                string border = style switch { OutcomeStyle.TruePositive => "solid", OutcomeStyle.FalsePositive => "dashed", _ => "dotted" };
                sb.Append($"<span><i class=\"swatch\" style=\"border-style:{border};border-color:#{c.Red:x2}{c.Green:x2}{c.Blue:x2}\"></i>{H(OutcomeRenderer.Describe(style))}</span>");
            }
            sb.Append("(a detection naming an object wrongly is a false positive on a missed object).</p>\n<div class=\"examples\">\n");
            foreach (var e in m.Examples)
                sb.Append($"<figure><a href=\"{H(e.File)}\"><img src=\"{H(e.File)}\" alt=\"{H(e.ImageId)}\" loading=\"lazy\"></a><figcaption>{H(e.ImageId)}: {e.TruePositives} TP, {e.FalsePositives} FP, {e.Missed} missed</figcaption></figure>\n");
            sb.Append("</div>\n");
        }

        sb.Append("<h3>COCO figures</h3>\n<table>\n<thead><tr><th>Metric</th><th>IoU</th><th>Area</th><th class=\"n\">maxDets</th><th class=\"n\">Value</th></tr></thead>\n<tbody>\n");
        (string, string, string, string, double)[] rows =
        [
            ("AP", "0.50:0.95", "all", "100", s.Ap), ("AP", "0.50", "all", "100", s.Ap50), ("AP", "0.75", "all", "100", s.Ap75),
            ("AP", "0.50:0.95", "small", "100", s.ApSmall), ("AP", "0.50:0.95", "medium", "100", s.ApMedium), ("AP", "0.50:0.95", "large", "100", s.ApLarge),
            ("AR", "0.50:0.95", "all", "1", s.Ar1), ("AR", "0.50:0.95", "all", "10", s.Ar10), ("AR", "0.50:0.95", "all", "100", s.Ar100),
            ("AR", "0.50:0.95", "small", "100", s.ArSmall), ("AR", "0.50:0.95", "medium", "100", s.ArMedium), ("AR", "0.50:0.95", "large", "100", s.ArLarge),
        ];
        foreach (var (metric, iou, area, md, v) in rows)
            sb.Append($"<tr><td>{metric}</td><td>{iou}</td><td>{area}</td><td class=\"n\">{md}</td><td class=\"n\">{F(v)}</td></tr>\n");
        sb.Append("</tbody>\n</table>\n");

        var sweeps = m.Result.Curves.Classes.ToDictionary(c => c.CategoryId, c => c.Sweep);
        int j = Lookout.Detection.Evaluation.EvaluationCurves.HighestPassedThreshold(m.ScoreThreshold);
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"<h3>Per class</h3>\n<p>Classes with objects, most first (every class is in per_class.csv). P, R and F1 at score ≥ {m.ScoreThreshold:0.00}.</p>\n"));
        sb.Append("<table>\n<thead><tr><th>Class</th><th class=\"n\">objects</th><th class=\"n\">detections</th><th class=\"n\">AP</th><th class=\"n\">AP50</th><th class=\"n\">AR100</th><th class=\"n\">P</th><th class=\"n\">R</th><th class=\"n\">F1</th></tr></thead>\n<tbody>\n");
        foreach (var c in r.PerClass.Where(c => c.GroundTruthCount > 0).OrderByDescending(c => c.GroundTruthCount).ThenBy(c => c.CategoryId))
        {
            var sw = sweeps[c.CategoryId];
            sb.Append($"<tr><td>{H(c.Name)}</td><td class=\"n\">{I(c.GroundTruthCount)}</td><td class=\"n\">{I(c.DetectionCount)}</td><td class=\"n\">{F(c.Ap)}</td><td class=\"n\">{F(c.Ap50)}</td><td class=\"n\">{F(c.Ar100)}</td>" +
                $"<td class=\"n\">{F(sw.Precision[j], "0.00")}</td><td class=\"n\">{F(sw.Recall[j], "0.00")}</td><td class=\"n\">{F(sw.F1[j], "0.00")}</td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        sb.Append("<p class=\"files\">Data: ");
        foreach (var f in new[] { "curves.json", "confusion_matrix.json", "per_class.csv", "metrics.json" })
            sb.Append($"<a href=\"{H(m.File(f))}\">{H(f)}</a>");
        sb.Append("</p>\n");
    }

    private static void Figure(StringBuilder sb, string file, string alt, string caption) =>
        sb.Append($"<figure><a href=\"{H(file)}\"><img src=\"{H(file)}\" alt=\"{H(alt)}\"></a><figcaption>{H(caption)}</figcaption></figure>\n");
}
