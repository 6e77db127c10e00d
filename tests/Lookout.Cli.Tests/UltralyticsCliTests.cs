using System.Text.Json;
using Lookout.Detection.Imaging;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary>
/// The real Ultralytics YOLOv8n exports through `lookout detect` by path: the file's own names and input size,
/// the scene ASSETS.md records for dog.jpg, and an annotated JPEG. (Agreement with an independent Ultralytics
/// implementation is in Lookout.Detection.Tests/Ultralytics; `lookout eval` with them is in ValSetEvalTests.)
/// </summary>
public sealed class UltralyticsCliTests
{
    [Theory]
    [InlineData("yolov8n_fp32.onnx")]
    [InlineData("yolov8n_dynamic_int8.onnx")]
    public async Task Detect_by_path_finds_the_dog_scene_and_draws_it(string file)
    {
        var model = TestAssets.SharedPath("models", "ultralytics", file);
        var outDir = TestAssets.TestOutputDirectory("cli-ultralytics-" + Path.GetFileNameWithoutExtension(file));
        foreach (var old in Directory.EnumerateFiles(outDir)) File.Delete(old);

        var run = await CliRunner.RunAsync("detect", TestAssets.SharedPath("images", "dog.jpg"), "--model", model, "--json", "--out", outDir);

        Assert.True(run.ExitCode == 0, run.ToString());
        var result = Assert.Single(ResultJson.DeserializeArray(run.Stdout)!);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), result.Model);
        Assert.Contains(result.Detections, d => d.Label == "dog" && d.ClassId == 16 && d.Score > 0.8);
        Assert.Contains(result.Detections, d => d.Label == "bicycle" && d.Score > 0.7);
        Assert.Contains(result.Detections, d => d.Label == "car");
        var drawn = Path.Combine(outDir, "dog.jpg");
        Assert.True(File.Exists(drawn), run.ToString());
        Assert.Equal((ImageFormat.Jpeg, 768, 576), new ImageDecoder().ReadHeader(File.ReadAllBytes(drawn)) is var (f, w, h, _) ? (f, w, h) : default);
    }

    [Fact]
    public async Task A_folder_copy_runs_by_name_in_detect_and_eval_with_the_same_figures_as_by_path()
    {
        var folder = Directory.CreateTempSubdirectory("lookout-cli-ultralytics-");
        try
        {
            File.Copy(TestAssets.SharedPath("models", "ultralytics", "yolov8n_fp32.onnx"), Path.Combine(folder.FullName, "porch-v8.onnx"));

            var detect = await CliRunner.RunAsync("detect", TestAssets.SharedPath("images", "dog.jpg"), "--model", "porch-v8",
                "--model-dir", folder.FullName, "--json");
            Assert.True(detect.ExitCode == 0, detect.ToString());
            var result = Assert.Single(ResultJson.DeserializeArray(detect.Stdout)!);
            Assert.Equal("porch-v8", result.Model);
            Assert.Contains(result.Detections, d => d.Label == "dog" && d.Score > 0.8);

            var eval = await CliRunner.RunAsync("eval", "--model", "porch-v8", "--model-dir", folder.FullName,
                "--images", TestAssets.SharedPath("data", "coco-val2017-dev", "images"),
                "--coco-json", TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json"), "--json");
            Assert.True(eval.ExitCode == 0, eval.ToString());
            var stats = JsonDocument.Parse(eval.Stdout).RootElement.GetProperty("stats");
            // ValSetEvalTests' figure for the same file given by path.
            Assert.InRange(stats.GetProperty("ap").GetDouble(), 0.4870 - 0.002, 0.4870 + 0.002);
        }
        finally
        {
            folder.Delete(true);
        }
    }
}
