using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

public sealed class ModelsAndGlobalTests
{
    [Fact]
    public async Task Models_list_json_shows_yolox_nano_found_in_the_asset_dir()
    {
        var run = await CliRunner.RunAsync("models", "list", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var nano = doc.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "yolox-nano");
        Assert.Equal("yolox", nano.GetProperty("family").GetString());
        var onnx = nano.GetProperty("files").EnumerateArray().Single();
        Assert.True(onnx.GetProperty("found").GetBoolean());
        Assert.Equal("asset dir", onnx.GetProperty("source").GetString());
        Assert.Equal(Path.GetFullPath(TestAssets.PathOf("yolox_nano.onnx")), onnx.GetProperty("path").GetString());
        // yolov3.weights is never in ../shared: reported missing with its address
        var v3 = doc.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "yolov3-416");
        Assert.Contains(v3.GetProperty("files").EnumerateArray(), f => !f.GetProperty("found").GetBoolean() && f.GetProperty("url").GetString()!.StartsWith("https://"));
    }

    [Fact]
    public async Task Models_list_table_and_fetch_of_a_present_model()
    {
        var list = await CliRunner.RunAsync("models", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("yolox-nano", list.Console);
        Assert.Contains("missing (downloads are off", list.Console);

        var fetch = await CliRunner.RunAsync("models", "fetch", "yolox-nano");
        Assert.True(fetch.ExitCode == 0, fetch.ToString());
        Assert.Contains("yolox_nano.onnx", fetch.Console);
        Assert.Contains("(asset dir)", fetch.Console);
    }

    [Fact]
    public async Task Version_help_and_usage_errors()
    {
        var version = await CliRunner.RunRawAsync("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"\d+\.\d+\.\d+", version.Console);

        var help = await CliRunner.RunRawAsync("detect", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var option in new[] { "--model", "--conf", "--iou", "--classes", "--max-det", "--out", "--json", "--jsonl", "--csv", "--output", "--asset-dir", "--offline" })
            Assert.Contains(option, help.Console);

        // Every command's help renders (descriptions are Spectre markup: a stray ']' would crash it).
        foreach (var command in new[] { new[] { "--help" }, ["eval", "--help"], ["models", "--help"], ["models", "list", "--help"], ["models", "fetch", "--help"] })
        {
            var run = await CliRunner.RunRawAsync(command);
            Assert.True(run.ExitCode == 0, $"{string.Join(' ', command)}: {run}");
        }

        var unknown = await CliRunner.RunRawAsync("detect", "x.jpg", "--frobnicate");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("error:", unknown.Console);
    }
}
