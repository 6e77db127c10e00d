using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lookout.Cli.Evaluation;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Cli.Tests;

/// <summary>One <c>lookout eval --report</c> of YOLOX-Nano on the COCO val2017 dev set, shared by the tests that read it.</summary>
public sealed class ValidationReportFixture : IAsyncLifetime
{
    public string Directory { get; } = TestAssets.TestOutputDirectory("cli-eval-report");
    public CliRun Run { get; private set; } = null!;

    public static string Images => TestAssets.SharedPath("data", "coco-val2017-dev", "images");
    public static string Instances => TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json");

    public async Task InitializeAsync()
    {
        foreach (var entry in new DirectoryInfo(Directory).EnumerateFileSystemInfos())
            if (entry is DirectoryInfo d) d.Delete(recursive: true); else entry.Delete();
        Run = await CliRunner.RunAsync("eval", "--model", "yolox-nano", "--images", Images, "--coco-json", Instances, "--report", Directory);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class EvalReportTests(ValidationReportFixture report) : IClassFixture<ValidationReportFixture>
{
    private static readonly Regex BestF1Line = new(@"best F1 (\d\.\d\d) at score ≥ (\d\.\d\d) \(precision \d\.\d\d, recall \d\.\d\d, all objects\)");

    [Fact]
    public void Report_of_a_validation_run_holds_decodable_charts_of_sensible_size()
    {
        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        foreach (var (name, minW, maxW, minH, maxH) in new[]
        {
            ("pr_curve.png", 800, 1400, 500, 900), ("f1_curve.png", 800, 1400, 500, 900),
            // 43 classes present + background: cells of ~20 px plus labels.
            ("confusion_matrix.png", 900, 2000, 900, 2000),
        })
        {
            var path = Path.Combine(report.Directory, name);
            Assert.True(File.Exists(path), $"{name} missing: {report.Run}");
            Assert.InRange(new FileInfo(path).Length, 10_000, 300_000);
            using var bitmap = SKBitmap.Decode(path);
            Assert.NotNull(bitmap);
            Assert.InRange(bitmap.Width, minW, maxW);
            Assert.InRange(bitmap.Height, minH, maxH);
            // The title band carries text: dark pixels on white (a missing font draws nothing).
            Assert.True(DarkPixels(bitmap, 0, 0, bitmap.Width, 36) > 200, $"{name}: no title text drawn");
        }
        var examples = System.IO.Directory.GetFiles(Path.Combine(report.Directory, "examples"), "*.jpg");
        Assert.Equal(6, examples.Length);
        foreach (var example in examples)
        {
            using var bitmap = SKBitmap.Decode(example);
            Assert.NotNull(bitmap);
            Assert.InRange(bitmap.Width, 300, 1024);
        }
    }

    [Fact]
    public void Index_html_is_self_contained_and_references_only_files_in_the_report_folder()
    {
        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        var html = File.ReadAllText(Path.Combine(report.Directory, "index.html"));
        var references = Regex.Matches(html, "(?:src|href)\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("pr_curve.png", references);
        Assert.Contains("f1_curve.png", references);
        Assert.Contains("confusion_matrix.png", references);
        Assert.Contains("per_class.csv", references);
        Assert.Contains(references, r => r.StartsWith("examples/", StringComparison.Ordinal));
        var root = Path.GetFullPath(report.Directory) + Path.DirectorySeparatorChar;
        foreach (var reference in references.Where(r => !r.StartsWith('#')))
        {
            Assert.DoesNotContain(":", reference); // no scheme (http:, file:, data:), no drive
            Assert.False(reference.StartsWith('/') || reference.StartsWith('\\'), $"absolute reference {reference}");
            var full = Path.GetFullPath(Path.Combine(report.Directory, Uri.UnescapeDataString(reference)));
            Assert.True(full.StartsWith(root, StringComparison.Ordinal), $"{reference} leaves the report folder");
            Assert.True(File.Exists(full), $"{reference} does not exist in the report folder");
        }
        foreach (var external in new[] { "<script", "@import", "url(", "<link", "//" })
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        // The page states how it was made.
        Assert.Contains("lookout eval", html);
        Assert.Contains("yolox-nano", html);
        Assert.Contains("instances_val2017_dev.json", html);
        Assert.Contains("NMS at IoU 0.65", html);
        Assert.Matches(@"confusion matrix and examples at score ≥ 0\.\d\d \(best F1\)", html);
    }

    [Fact]
    public void Report_json_parses_and_agrees_with_the_metric()
    {
        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report.Directory, "metrics.json")));
        using var curves = JsonDocument.Parse(File.ReadAllText(Path.Combine(report.Directory, "curves.json")));
        using var matrix = JsonDocument.Parse(File.ReadAllText(Path.Combine(report.Directory, "confusion_matrix.json")));
        double ap50 = metrics.RootElement.GetProperty("stats").GetProperty("ap50").GetDouble();
        Assert.InRange(ap50, 0.3, 0.8); // a real run, not a degenerate one

        // Area under the all-class PR curve (trapezoidal rule over recall) agrees with AP50 within 0.01;
        // the 101-point mean is AP50 itself (values are written to 5 decimals).
        var all = curves.RootElement.GetProperty("all_classes");
        var precision = all.GetProperty("precision").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var recall = curves.RootElement.GetProperty("recall_thresholds").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(101, precision.Length);
        double area = 0;
        for (int i = 1; i < 101; i++) area += (recall[i] - recall[i - 1]) * (precision[i] + precision[i - 1]) / 2;
        Assert.InRange(area, ap50 - 0.01, ap50 + 0.01);
        Assert.InRange(precision.Average(), ap50 - 1e-4, ap50 + 1e-4);

        // The best F1 of the JSON is the one printed, and the matrix is at its threshold.
        var best = metrics.RootElement.GetProperty("best_f1");
        var printed = BestF1Line.Match(report.Run.Console);
        Assert.True(printed.Success, report.Run.Console);
        Assert.Equal(best.GetProperty("f1").GetDouble().ToString("0.00", CultureInfo.InvariantCulture), printed.Groups[1].Value);
        Assert.Equal(best.GetProperty("score_threshold").GetDouble(), matrix.RootElement.GetProperty("score_threshold").GetDouble());

        // Every non-crowd object of the set is in exactly one cell of the matrix's class rows.
        var labels = matrix.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("background", labels[^1]);
        Assert.Equal("person", labels[0]); // most frequent first
        var counts = matrix.RootElement.GetProperty("counts").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        Assert.Equal(labels.Count, counts.Length);
        Assert.Equal(357, counts[..^1].Sum(r => r.Sum())); // 362 annotations, 5 crowd regions
        Assert.Equal(0, counts[^1][^1]);

        var csv = File.ReadAllLines(Path.Combine(report.Directory, "per_class.csv"));
        Assert.StartsWith("category_id,name,ground_truth_count,detection_count,ap,ap50,ap75,ar100", csv[0]);
        Assert.Equal(81, csv.Length); // header + the 80 COCO categories
        Assert.StartsWith("1,person,121,", csv[1]);
    }

    [Fact]
    public void Chart_font_has_every_glyph_the_report_draws_and_ScottPlot_uses_it()
    {
        var (regular, bold) = ReportCharts.FontFiles;
        foreach (var file in new[] { regular, bold })
        {
            using var typeface = SKTypeface.FromFile(file);
            using var font = new SKFont(typeface, 12);
            foreach (var text in Lookout.Detection.Evaluation.CocoCategories.Names.Append("Precision–recall at IoU 0.50 · best F1 0.52 at score ≥ 0.19 (background = missed object) ×"))
                Assert.True(font.ContainsGlyphs(text), $"{file} lacks a glyph of '{text}'");
        }
        using var used = ScottPlot.Fonts.GetTypeface(ReportCharts.FontFamily, bold: false, italic: false);
        using var expected = SKTypeface.FromFile(regular);
        Assert.Equal(expected.FamilyName, used.FamilyName);
    }

    private static int DarkPixels(SKBitmap bitmap, int x0, int y0, int width, int height)
    {
        int dark = 0;
        for (int y = y0; y < Math.Min(bitmap.Height, y0 + height); y++)
            for (int x = x0; x < Math.Min(bitmap.Width, x0 + width); x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 300) dark++;
            }
        return dark;
    }
}
