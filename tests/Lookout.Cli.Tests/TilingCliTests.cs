using System.Text.Json;
using Lookout.Detection;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary><c>lookout detect --tile</c> and <c>lookout eval --tile</c>.</summary>
public sealed class TilingCliTests
{
    private static string Dog => TestAssets.SharedPath("images", "dog.jpg");

    private static int Found(DetectionResultDto result, TilingScenes.Pasted o) =>
        result.Detections.Count(d => d.Label == o.Label && BoundingBox.IntersectionOverUnion(
            new BoundingBox((float)d.Box.X1, (float)d.Box.Y1, (float)d.Box.X2, (float)d.Box.Y2), o.Box) > 0.5f);

    [Fact]
    public async Task Detect_tile_auto_finds_the_small_objects_one_pass_misses_with_and_without_out()
    {
        var dir = TestAssets.TestOutputDirectory("cli-tiling");
        var (jpeg, objects) = TilingScenes.SmallObjectsFarApart();
        var scene = Path.Combine(dir, "scene.jpg");
        await File.WriteAllBytesAsync(scene, jpeg);

        var off = await CliRunner.RunAsync("detect", scene, "--json");
        var auto = await CliRunner.RunAsync("detect", scene, "--json", "--tile", "auto");
        var drawn = await CliRunner.RunAsync("detect", scene, "--json", "--tile", "auto", "--out", Path.Combine(dir, "out"));
        foreach (var run in new[] { off, auto, drawn }) Assert.True(run.ExitCode == 0, run.ToString());

        var offResult = Assert.Single(ResultJson.DeserializeArray(off.Stdout)!);
        var autoResult = Assert.Single(ResultJson.DeserializeArray(auto.Stdout)!);
        var drawnResult = Assert.Single(ResultJson.DeserializeArray(drawn.Stdout)!);
        Assert.All(objects, o => Assert.Equal(0, Found(offResult, o)));
        Assert.All(objects, o => Assert.Equal(1, Found(autoResult, o)));
        Assert.Equal(JsonSerializer.Serialize(autoResult.Detections), JsonSerializer.Serialize(drawnResult.Detections));
        Assert.True(autoResult.Timings.Passes > 2, auto.Stdout);
    }

    [Theory]
    [InlineData("--tile", "0x3", "--tile a tile grid needs 1 to 16 rows and columns and at least 2 tiles; got '0x3'.")]
    [InlineData("--tile", "banana", "--tile must be 'off', 'auto' or rows x columns such as '2x2'; got 'banana'.")]
    [InlineData("--tile-overlap", "1.5", "--tile-overlap must be from 0 to 0.75; got 1.5.")]
    [InlineData("--tile", "8x8", "--tile: tile grid 8x8 is 64 tiles; at most 16 are allowed per request. Raise --max-tiles to allow it.")]
    public async Task Bad_tile_values_exit_1_with_a_clear_message(string option, string value, string message)
    {
        var detect = await CliRunner.RunAsync("detect", Dog, option, value);
        Assert.True(detect.ExitCode == 1, detect.ToString());
        Assert.Contains(message, detect.Console);

        var eval = await CliRunner.RunAsync("eval", "--images", TestAssets.SharedPath("data", "coco-val2017-dev", "images"),
            "--coco-json", TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json"), option, value);
        Assert.True(eval.ExitCode == 1, eval.ToString());
        Assert.Contains(message, eval.Console);
    }

    [Fact]
    public async Task Eval_tile_auto_changes_nothing_on_val2017_photos_and_a_2x2_grid_finds_more_small_objects()
    {
        async Task<JsonElement> Eval(params string[] extra)
        {
            var run = await CliRunner.RunAsync(["eval", "--images", TestAssets.SharedPath("data", "coco-val2017-dev", "images"),
                "--coco-json", TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json"), "--json", .. extra]);
            Assert.True(run.ExitCode == 0, run.ToString());
            return JsonDocument.Parse(run.Stdout[..(run.Stdout.LastIndexOf('}') + 1)]).RootElement.GetProperty("stats");
        }
        var off = await Eval("--tile", "off");
        var auto = await Eval("--tile", "auto");
        var grid = await Eval("--tile", "2x2");
        // COCO photos are 640 pixels long, under twice YOLOX-Nano's 416: auto runs the one pass, so the figures are the same.
        Assert.Equal(off.GetProperty("ap").GetDouble(), auto.GetProperty("ap").GetDouble());
        Assert.Equal(off.GetProperty("ap_small").GetDouble(), auto.GetProperty("ap_small").GetDouble());
        Assert.True(grid.GetProperty("ap_small").GetDouble() > off.GetProperty("ap_small").GetDouble() + 0.03,
            $"2x2 AP_small {grid.GetProperty("ap_small")}, off {off.GetProperty("ap_small")}");
        Assert.True(grid.GetProperty("ap").GetDouble() > off.GetProperty("ap").GetDouble(),
            $"2x2 AP {grid.GetProperty("ap")}, off {off.GetProperty("ap")}");
    }
}
