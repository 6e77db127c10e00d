using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary><c>--model-dir</c> on the CLI: the folder's models are listed with their state and run by name.</summary>
public sealed class ModelsFolderCliTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lookout-cli-models-");

    [Fact]
    public async Task Models_list_shows_catalogue_and_folder_models_with_facts_and_state()
    {
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(_folder.FullName, "porch.onnx"));
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1.cfg"), Path.Combine(_folder.FullName, "lonely.cfg"));
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(_folder.FullName, "yolox-s.onnx"));

        var run = await CliRunner.RunAsync("models", "list", "--json", "--model-dir", _folder.FullName);

        Assert.True(run.ExitCode == 0, run.ToString());
        var models = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("models").EnumerateArray().ToArray();
        var s = models.Single(m => m.GetProperty("name").GetString() == "yolox-s" && m.GetProperty("origin").GetString() == "catalogue");
        Assert.Equal(640, s.GetProperty("input_size").GetInt32());
        Assert.Equal(40.5, s.GetProperty("coco_ap").GetDouble());
        Assert.Equal("Apache-2.0", s.GetProperty("licence").GetString());
        Assert.Equal(35858002, s.GetProperty("file_size").GetInt64());
        Assert.Equal("missing", s.GetProperty("state").GetString()); // the tests run --offline
        Assert.Equal("missing (downloads are off)", s.GetProperty("location").GetString());
        var nano = models.Single(m => m.GetProperty("name").GetString() == "yolox-nano");
        Assert.Equal("available", nano.GetProperty("state").GetString());
        Assert.Equal(Path.GetFullPath(TestAssets.PathOf("yolox_nano.onnx")), nano.GetProperty("location").GetString());
        var porch = models.Single(m => m.GetProperty("name").GetString() == "porch");
        Assert.Equal("folder", porch.GetProperty("origin").GetString());
        Assert.Equal("available", porch.GetProperty("state").GetString());
        Assert.Equal(Path.Combine(_folder.FullName, "porch.onnx"), porch.GetProperty("location").GetString());
        var lonely = models.Single(m => m.GetProperty("name").GetString() == "lonely");
        Assert.Equal("error", lonely.GetProperty("state").GetString());
        Assert.Contains("lonely.weights", lonely.GetProperty("error").GetString());
        var clash = models.Single(m => m.GetProperty("name").GetString() == "yolox-s" && m.GetProperty("origin").GetString() == "folder");
        Assert.Contains("catalogue", clash.GetProperty("error").GetString());

        var table = await CliRunner.RunAsync("models", "list", "--model-dir", _folder.FullName);
        Assert.True(table.ExitCode == 0, table.ToString());
        foreach (var text in new[] { "yolox-m", "46.9", "101.3 MB", "Apache-2.0", "porch", "(folder)", "Models folders: " + _folder.FullName })
            Assert.Contains(text, table.Console);
    }

    [Fact]
    public async Task Detect_runs_a_folder_model_by_name()
    {
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(_folder.FullName, "Porch.onnx"));

        var run = await CliRunner.RunAsync("detect", TestAssets.PathOf("dog.jpg"), "--model", "porch", "--model-dir", _folder.FullName, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("\"dog\"", run.Stdout);

        var unknown = await CliRunner.RunAsync("detect", TestAssets.PathOf("dog.jpg"), "--model", "garage", "--model-dir", _folder.FullName);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains(_folder.FullName, unknown.Console);
    }

    public void Dispose() => _folder.Delete(true);
}
