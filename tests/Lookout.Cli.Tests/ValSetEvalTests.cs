using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary>
/// Regression guard on the COCO val2017 dev set (48 validation images the models never trained on, official
/// annotations, crowd regions scored as COCO does): every model that runs here reproduces the figures recorded
/// in the README's val table. 48 images are a small sample: these guard the pipeline, the published figures
/// measure the models.
/// </summary>
public sealed class ValSetEvalTests
{
    private const double Tolerance = 0.002;

    // Recorded 2026-12-02 with
    //   lookout eval --model M --images ../shared/data/coco-val2017-dev/images
    //     --coco-json ../shared/data/coco-val2017-dev/instances_val2017_dev.json --json
    // (conf 0.001, NMS IoU 0.65, max-det 100), after the resize became bit-exact with cv2.resize.
    [Theory]
    [InlineData("yolox-nano", 0.3730, 0.5310, 0.1110, 0.4610)]
    [InlineData("yolo-fastest-1.1", 0.1540, 0.2910, 0.0301, 0.2479)]
    [InlineData("yolo-fastest-1.1-xl", 0.2232, 0.3739, 0.0537, 0.3273)]
    [InlineData("ultralytics/yolov8n_fp32.onnx", 0.4870, 0.6641, 0.2311, 0.5763)]
    [InlineData("ultralytics/yolov8n_dynamic_int8.onnx", 0.4857, 0.6576, 0.2133, 0.5742)]
    public async Task Eval_on_the_val2017_dev_set_reproduces_the_recorded_figures(string model, double ap, double ap50, double apSmall, double ar100)
    {
        // Ultralytics exports are not catalogue models: they are given by path, as users do.
        var modelArgument = model.EndsWith(".onnx", StringComparison.Ordinal)
            ? TestAssets.SharedPath(["models", .. model.Split('/')])
            : model;
        var run = await CliRunner.RunAsync("eval", "--model", modelArgument,
            "--images", TestAssets.SharedPath("data", "coco-val2017-dev", "images"),
            "--coco-json", TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json"), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(48, root.GetProperty("image_count").GetInt32());
        var stats = root.GetProperty("stats");
        Assert.InRange(stats.GetProperty("ap").GetDouble(), ap - Tolerance, ap + Tolerance);
        Assert.InRange(stats.GetProperty("ap50").GetDouble(), ap50 - Tolerance, ap50 + Tolerance);
        Assert.InRange(stats.GetProperty("ap_small").GetDouble(), apSmall - Tolerance, apSmall + Tolerance);
        Assert.InRange(stats.GetProperty("ar100").GetDouble(), ar100 - Tolerance, ar100 + Tolerance);
        if (model.Contains("yolov8n", StringComparison.Ordinal))
            Assert.Equal(80, root.GetProperty("per_class").GetArrayLength()); // the file's own 80 names
    }
}
