using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

public sealed class ImportDarknetTests
{
    [Fact]
    public async Task Imported_onnx_file_gives_the_same_detections_as_the_catalogue_model()
    {
        var dir = Directory.CreateTempSubdirectory("lookout-import-");
        try
        {
            var onnx = Path.Combine(dir.FullName, "yolo-fastest.onnx");
            var import = await CliRunner.RunAsync("models", "import-darknet", "--cfg", TestAssets.PathOf("yolo-fastest-1.1.cfg"),
                "--weights", TestAssets.PathOf("yolo-fastest-1.1.weights"), "--names", TestAssets.PathOf("coco.names"), "--out", onnx);
            Assert.True(import.ExitCode == 0, import.ToString());
            Assert.True(File.Exists(onnx));

            var fromFile = await CliRunner.RunAsync("detect", TestAssets.PathOf("dog.jpg"), "--model", onnx, "--json");
            var fromCatalogue = await CliRunner.RunAsync("detect", TestAssets.PathOf("dog.jpg"), "--model", "yolo-fastest-1.1", "--json");

            Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
            Assert.Equal(Detections(fromCatalogue.Stdout), Detections(fromFile.Stdout));
            Assert.Contains("\"dog\"", Detections(fromFile.Stdout));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public async Task Mismatched_cfg_and_weights_are_refused_with_the_counts()
    {
        var out_ = Path.Combine(Path.GetTempPath(), $"lookout-bad-{Guid.NewGuid():N}.onnx");
        var run = await CliRunner.RunAsync("models", "import-darknet", "--cfg", TestAssets.PathOf("yolo-fastest-1.1.cfg"),
            "--weights", TestAssets.PathOf("yolo-fastest-1.1-xl.weights"), "--out", out_);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("needs", run.Console);
        Assert.False(File.Exists(out_));
    }

    private static string Detections(string json) =>
        JsonDocument.Parse(json).RootElement[0].GetProperty("detections").GetRawText();
}
