using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

public sealed class EvalCommandTests
{
    // Recorded from `lookout eval --model yolox-nano --images ../shared/data/coco128/images
    // --labels ../shared/data/coco128/labels --json` (conf 0.001, NMS IoU 0.65, max-det 100).
    // coco128 images are COCO train2017 images, in the model's training data: a regression guard, not an accuracy claim.
    // Re-recorded 2026-11-26 when preprocessing moved to a fused cv2.resize-exact bilinear (AP50 0.4975 → 0.5000);
    // re-recorded 2026-12-02 when the input rule became full decode + area filter, chosen by AP on val2017
    // (docs/large-photos.md; AP 0.3320 → 0.3303, AP50 0.5000 → 0.5042).
    private const double ExpectedAp = 0.3303;
    private const double ExpectedAp50 = 0.5042;
    private const double ExpectedAp75 = 0.3151;
    private const double ExpectedAr100 = 0.4693;
    private const double Tolerance = 0.002;

    [Fact]
    public async Task Eval_yolox_nano_on_coco128_reproduces_the_recorded_figures()
    {
        var dets = Path.Combine(TestAssets.TestOutputDirectory("cli-eval"), "detections.json");
        var run = await CliRunner.RunAsync("eval", "--model", "yolox-nano",
            "--images", TestAssets.SharedPath("data", "coco128", "images"),
            "--labels", TestAssets.SharedPath("data", "coco128", "labels"),
            "--json", "--save-detections", dets);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var root = doc.RootElement;
        Assert.Equal(128, root.GetProperty("image_count").GetInt32());
        Assert.Equal(929, root.GetProperty("ground_truth_count").GetInt32());
        Assert.Equal(0.65, root.GetProperty("thresholds").GetProperty("iou").GetDouble(), 3);
        var stats = root.GetProperty("stats");
        Assert.InRange(stats.GetProperty("ap").GetDouble(), ExpectedAp - Tolerance, ExpectedAp + Tolerance);
        Assert.InRange(stats.GetProperty("ap50").GetDouble(), ExpectedAp50 - Tolerance, ExpectedAp50 + Tolerance);
        Assert.InRange(stats.GetProperty("ap75").GetDouble(), ExpectedAp75 - Tolerance, ExpectedAp75 + Tolerance);
        Assert.InRange(stats.GetProperty("ar100").GetDouble(), ExpectedAr100 - Tolerance, ExpectedAr100 + Tolerance);
        Assert.Equal(80, root.GetProperty("per_class").GetArrayLength());

        using var saved = JsonDocument.Parse(File.ReadAllText(dets));
        Assert.Equal(root.GetProperty("detection_count").GetInt32(), saved.RootElement.GetArrayLength());
        Assert.Contains("AP50", run.Console); // the readable tables still go to the console
        // The recommended threshold ends the plain output, and is in the JSON.
        var best = root.GetProperty("best_f1");
        Assert.Matches(@"best F1 \d\.\d\d at score ≥ \d\.\d\d \(precision \d\.\d\d, recall \d\.\d\d, all objects\)\s*$", run.Console);
        Assert.InRange(best.GetProperty("f1").GetDouble(), 0.3, 0.9);
        Assert.InRange(best.GetProperty("score_threshold").GetDouble(), 0.01, 0.99);
    }

    [Theory]
    // Recorded (2026-11-26) with this command; the Darknet path must keep reproducing them. Re-recorded 2026-12-02
    // with the Darknet family's input rule (halving DCT decode, cv2-exact bilinear; docs/large-photos.md).
    [InlineData("yolo-fastest-1.1", 0.1439, 0.2811, 0.1188, 0.2326)]
    [InlineData("yolo-fastest-1.1-xl", 0.2122, 0.3946, 0.2188, 0.3210)]
    public async Task Eval_darknet_models_on_coco128_reproduce_the_recorded_figures(string model, double ap, double ap50, double ap75, double ar100)
    {
        var run = await CliRunner.RunAsync("eval", "--model", model,
            "--images", TestAssets.SharedPath("data", "coco128", "images"),
            "--labels", TestAssets.SharedPath("data", "coco128", "labels"), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var stats = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("stats");
        Assert.InRange(stats.GetProperty("ap").GetDouble(), ap - Tolerance, ap + Tolerance);
        Assert.InRange(stats.GetProperty("ap50").GetDouble(), ap50 - Tolerance, ap50 + Tolerance);
        Assert.InRange(stats.GetProperty("ap75").GetDouble(), ap75 - Tolerance, ap75 + Tolerance);
        Assert.InRange(stats.GetProperty("ar100").GetDouble(), ar100 - Tolerance, ar100 + Tolerance);
    }

    [Fact]
    public async Task Eval_with_coco_json_maps_classes_to_coco_ids_and_gives_the_same_figures()
    {
        // The coco128 labels rewritten as a COCO instances file with COCO category ids (1..90 with gaps).
        var images = TestAssets.SharedPath("data", "coco128", "images");
        var decoder = new Lookout.Detection.Imaging.ImageDecoder();
        var dataset = Lookout.Detection.Evaluation.YoloLabels.Load(images, TestAssets.SharedPath("data", "coco128", "labels"),
            f => { var h = decoder.ReadHeader(File.ReadAllBytes(f)); return (h.Width, h.Height); },
            classToCategoryId: Lookout.Detection.Evaluation.CocoCategories.ToCocoId);
        var instances = Path.Combine(TestAssets.TestOutputDirectory("cli-eval"), "coco128-instances.json");
        Lookout.Detection.Evaluation.CocoJson.WriteInstances(instances, dataset);

        var run = await CliRunner.RunAsync("eval", "--images", images, "--coco-json", instances, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var stats = doc.RootElement.GetProperty("stats");
        Assert.InRange(stats.GetProperty("ap").GetDouble(), ExpectedAp - Tolerance, ExpectedAp + Tolerance);
        Assert.InRange(stats.GetProperty("ap50").GetDouble(), ExpectedAp50 - Tolerance, ExpectedAp50 + Tolerance);
        var dog = doc.RootElement.GetProperty("per_class").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "dog");
        Assert.Equal(18, dog.GetProperty("category_id").GetInt32()); // COCO id of class 16
    }

    [Fact]
    public async Task Eval_needs_exactly_one_label_source()
    {
        var run = await CliRunner.RunAsync("eval", "--images", TestAssets.SharedPath("data", "coco128", "images"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("exactly one of --labels", run.Console);
    }

    [Fact]
    public async Task Eval_compares_input_rules_image_by_image_and_reports_their_decode_and_resize_times()
    {
        // Eight val2017 images, enlarged nowhere: enough to see both rules run and be told apart.
        var images = TestAssets.TestOutputDirectory("cli-eval-input-rules");
        foreach (var old in Directory.EnumerateFiles(images)) File.Delete(old);
        foreach (var file in Directory.EnumerateFiles(TestAssets.SharedPath("data", "coco-val2017-dev", "images")).Order(StringComparer.Ordinal).Take(8))
            File.Copy(file, Path.Combine(images, Path.GetFileName(file)));

        var run = await CliRunner.RunAsync("eval", "--images", images,
            "--labels", TestAssets.SharedPath("data", "coco-val2017-dev", "labels"),
            "--input-rule", "full-bilinear, dct-eighths-area", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var models = doc.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(["full-bilinear", "dct-eighths-area"], models.Select(m => m.GetProperty("input_rule").GetString()));
        Assert.Equal(["yolox-nano (full-bilinear)", "yolox-nano (dct-eighths-area)"], models.Select(m => m.GetProperty("model").GetString()));
        foreach (var m in models)
        {
            Assert.True(m.GetProperty("decode_ms_per_image").GetDouble() > 0, m.ToString());
            Assert.True(m.GetProperty("preprocess_ms_per_image").GetDouble() > 0, m.ToString());
            Assert.InRange(m.GetProperty("stats").GetProperty("ap").GetDouble(), 0.05, 1);
        }
    }

    [Fact]
    public async Task Eval_refuses_an_unknown_input_rule_naming_the_known_ones()
    {
        var run = await CliRunner.RunAsync("eval", "--images", TestAssets.SharedPath("data", "coco128", "images"),
            "--labels", TestAssets.SharedPath("data", "coco128", "labels"), "--input-rule", "full-area,lanczos");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Unknown input rule 'lanczos'", run.Console);
        Assert.Contains("dct-halving-bilinear", run.Console);
    }
}
