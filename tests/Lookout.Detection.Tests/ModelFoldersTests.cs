using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

/// <summary>What a models folder offers: names from files, Darknet pairs, and what is never taken (hidden files, links out, paths).</summary>
public sealed class ModelFoldersTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("lookout-folders-");

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root.FullName, name)).FullName;

    [Fact]
    public void Onnx_files_and_darknet_pairs_become_models_named_after_the_file()
    {
        var dir = Dir("models");
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(dir, "Front-Door.onnx"));
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1.cfg"), Path.Combine(dir, "garage.cfg"));
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1.weights"), Path.Combine(dir, "garage.weights"));
        File.Copy(TestAssets.PathOf("coco.names"), Path.Combine(dir, "garage.names"));
        File.WriteAllText(Path.Combine(dir, "lonely.cfg"), "[net]\n");
        File.WriteAllText(Path.Combine(dir, ".upload.onnx.tmp"), "half written");
        File.WriteAllText(Path.Combine(dir, ".hidden.onnx"), "hidden");
        File.WriteAllText(Path.Combine(dir, "readme.txt"), "not a model");

        var models = ModelFolders.Scan([dir]).ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);

        Assert.Equal(["Front-Door", "garage", "lonely"], models.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.True(models.ContainsKey("front-door")); // matched case-insensitively
        Assert.Equal("onnx", models["Front-Door"].Kind);
        Assert.Null(models["Front-Door"].Problem);
        var garage = models["garage"];
        Assert.Equal("darknet", garage.Kind);
        Assert.Equal(Path.Combine(dir, "garage.weights"), garage.WeightsPath);
        Assert.Equal(Path.Combine(dir, "garage.names"), garage.NamesPath);
        Assert.Equal(new FileInfo(garage.Path).Length + new FileInfo(garage.WeightsPath!).Length + new FileInfo(garage.NamesPath!).Length, garage.Size);
        Assert.Contains("no 'lonely.weights'", models["lonely"].Problem);
    }

    [Fact]
    public void A_catalogue_name_is_listed_with_the_reason_and_the_first_folder_wins_a_duplicate()
    {
        var first = Dir("a");
        var second = Dir("b");
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(first, "yolox-nano.onnx"));
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(first, "cam.onnx"));
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(second, "CAM.onnx"));
        var log = new List<string>();

        var models = ModelFolders.Scan([first, second], n => n.Equals("yolox-nano", StringComparison.OrdinalIgnoreCase), log.Add);

        Assert.Contains("catalogue model", models.Single(m => m.Name == "yolox-nano").Problem);
        Assert.Equal(Path.Combine(first, "cam.onnx"), models.Single(m => m.Name.Equals("cam", StringComparison.OrdinalIgnoreCase)).Path);
        Assert.Contains(log, l => l.Contains("CAM.onnx") && l.Contains("already"));
    }

    [Fact]
    public void A_link_leading_out_of_the_folder_is_ignored_and_a_link_inside_it_is_followed()
    {
        var dir = Dir("models");
        var outside = Dir("outside");
        var secret = Path.Combine(outside, "secret.onnx");
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), secret);
        File.CreateSymbolicLink(Path.Combine(dir, "escape.onnx"), secret);
        File.CreateSymbolicLink(Path.Combine(dir, "relative.onnx"), Path.Combine("..", "outside", "secret.onnx"));
        File.Copy(TestAssets.PathOf("yolox_nano.onnx"), Path.Combine(dir, "real.onnx"));
        File.CreateSymbolicLink(Path.Combine(dir, "alias.onnx"), "real.onnx");
        var log = new List<string>();

        var names = ModelFolders.Scan([dir], log: log.Add).Select(m => m.Name).Order().ToArray();

        Assert.Equal(["alias", "real"], names);
        Assert.Contains(log, l => l.Contains("escape.onnx") && l.Contains("outside"));
        Assert.Contains(log, l => l.Contains("relative.onnx"));
    }

    [Fact]
    public void A_folder_that_does_not_exist_yet_has_no_models()
    {
        Assert.Empty(ModelFolders.Scan([Path.Combine(_root.FullName, "later")]));
    }

    [Theory]
    [InlineData("cam1", true)]
    [InlineData("Front Door", true)]
    [InlineData("yolox-nano", true)]
    [InlineData("../etc/passwd", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("a\0b", false)]
    [InlineData("", false)]
    [InlineData(" padded ", false)]
    public void Only_plain_names_name_a_model(string name, bool plain) => Assert.Equal(plain, ModelFolders.IsPlainName(name));

    public void Dispose() => _root.Delete(true);
}
