using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary><c>lookout eval --model A --model B</c>, and what eval says about bad input.</summary>
public sealed class EvalComparisonTests
{
    private static string Images => ValidationReportFixture.Images;
    private static string Instances => ValidationReportFixture.Instances;

    private static string EmptyDirectory(string name)
    {
        var dir = TestAssets.TestOutputDirectory(name);
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            if (entry is DirectoryInfo d) d.Delete(recursive: true); else entry.Delete();
        return dir;
    }

    [Fact]
    public async Task Two_models_compared_give_one_table_with_both_rows_and_one_report()
    {
        var dir = EmptyDirectory("cli-eval-compare");
        var run = await CliRunner.RunAsync("eval", "--model", "yolox-nano", "--model", "yolo-fastest-1.1",
            "--images", Images, "--coco-json", Instances, "--json", "--report", dir, "--examples", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var table = doc.RootElement.GetProperty("table").EnumerateArray().ToList();
        Assert.Equal(["yolox-nano", "yolo-fastest-1.1"], table.Select(r => r.GetProperty("model").GetString()));
        foreach (var row in table)
        {
            foreach (var field in new[] { "ap", "ap50", "ap_small", "ar100" })
                Assert.InRange(row.GetProperty(field).GetDouble(), 0, 1);
            Assert.True(row.GetProperty("ms_per_image").GetDouble() > 0);
        }
        // YOLOX-Nano is the stronger model on these validation images (AP50 ~0.52 against ~0.29).
        Assert.True(table[0].GetProperty("ap50").GetDouble() > table[1].GetProperty("ap50").GetDouble());
        var differences = doc.RootElement.GetProperty("largest_class_differences").EnumerateArray().ToList();
        Assert.NotEmpty(differences);
        Assert.All(differences, d => Assert.Equal(2, d.GetProperty("ap50").GetArrayLength()));
        var spreads = differences.Select(d => d.GetProperty("spread").GetDouble()).ToList();
        Assert.Equal(spreads.OrderByDescending(s => s), spreads);
        Assert.Equal(2, doc.RootElement.GetProperty("models").GetArrayLength());

        // One table on the console, with both rows, and both recommended thresholds.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(run.Console, "Comparison \\(same images"));
        Assert.Contains("│ yolox-nano ", run.Console);
        Assert.Contains("│ yolo-fastest-1.1 ", run.Console);
        Assert.Contains("yolox-nano: best F1", run.Console);
        Assert.Contains("yolo-fastest-1.1: best F1", run.Console);

        // One report: the comparison at the top, each model in its own folder.
        foreach (var file in new[] { "index.html", "comparison.json", "comparison_pr_curve.png",
                     "yolox-nano/pr_curve.png", "yolox-nano/confusion_matrix.json", "yolo-fastest-1.1/f1_curve.png", "yolo-fastest-1.1/per_class.csv" })
            Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} missing");
        var html = File.ReadAllText(Path.Combine(dir, "index.html"));
        Assert.Contains("src=\"comparison_pr_curve.png\"", html);
        Assert.Contains("src=\"yolo-fastest-1.1/confusion_matrix.png\"", html);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "yolox-nano", "examples")).Length);
    }

    [Fact]
    public async Task A_list_with_one_unknown_model_runs_none_and_says_which()
    {
        var dir = EmptyDirectory("cli-eval-unknown-model");
        var run = await CliRunner.RunAsync("eval", "--model", "yolox-nano", "--model", "no-such-model",
            "--images", Images, "--coco-json", Instances, "--json", "--report", dir);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("No model named 'no-such-model'", run.Console);
        Assert.Contains("Known models:", run.Console);
        Assert.Equal("", run.Stdout); // no figures for the other model
        Assert.False(File.Exists(Path.Combine(dir, "index.html")));
    }

    [Fact]
    public async Task A_report_folder_that_cannot_be_created_is_refused_before_anything_runs()
    {
        var file = Path.Combine(TestAssets.TestOutputDirectory("cli-eval-bad-report"), "a-file");
        File.WriteAllText(file, "not a folder");
        var run = await CliRunner.RunAsync("eval", "--images", Images, "--coco-json", Instances, "--report", Path.Combine(file, "report"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"Cannot create the report folder '{Path.Combine(file, "report")}'", run.Console);
        Assert.DoesNotContain("AP50", run.Console); // refused before any evaluation
    }

    [Fact]
    public async Task Coco_data_without_annotations_gets_a_clear_message()
    {
        var dir = TestAssets.TestOutputDirectory("cli-eval-no-annotations");
        // The dev set's images and categories, but no annotations at all.
        using var source = JsonDocument.Parse(File.ReadAllText(Instances));
        var json = Path.Combine(dir, "no-annotations.json");
        using (var stream = File.Create(json))
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WritePropertyName("images");
            source.RootElement.GetProperty("images").WriteTo(w);
            w.WritePropertyName("categories");
            source.RootElement.GetProperty("categories").WriteTo(w);
            w.WriteStartArray("annotations");
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var run = await CliRunner.RunAsync("eval", "--images", Images, "--coco-json", json);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("has no annotations: its 48 images have no ground-truth objects", run.Console);
    }

    [Fact]
    public async Task Yolo_labels_without_a_single_object_get_a_clear_message()
    {
        var labels = EmptyDirectory("cli-eval-empty-labels");
        foreach (var image in Directory.EnumerateFiles(Images, "*.jpg"))
            File.WriteAllText(Path.Combine(labels, Path.GetFileNameWithoutExtension(image) + ".txt"), "\n");
        var run = await CliRunner.RunAsync("eval", "--images", Images, "--labels", labels);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"No label in {labels} describes an object: none of the 48 images", run.Console);
    }

    [Theory]
    [InlineData("--report-threshold needs --report DIR.", "--report-threshold", "0.3")]
    [InlineData("--report-threshold must be between 0 and 1.", "--report-threshold", "1.5", "--report", "x")]
    [InlineData("--examples must be between 0 and 100.", "--examples", "-1")]
    [InlineData("--save-detections writes one model's detections: give one --model.", "--model", "a", "--model", "b", "--save-detections", "d.json")]
    public async Task Eval_report_options_are_validated(string message, params string[] options)
    {
        var run = await CliRunner.RunAsync(["eval", "--images", Images, "--coco-json", Instances, .. options]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Console);
    }

    [Fact]
    public async Task Detect_takes_one_model()
    {
        var run = await CliRunner.RunAsync("detect", TestAssets.SharedPath("images", "dog.jpg"), "--model", "yolox-nano", "--model", "yolo-fastest-1.1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Give one --model (only 'lookout eval' compares several).", run.Console);
    }
}
