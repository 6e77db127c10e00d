using System.Net;
using System.Text.Json;
using Lookout.Detection;
using Lookout.Detection.Models;
using Lookout.Detection.Quantization;
using Lookout.Detection.Tests.Support;

namespace Lookout.Server.Tests;

/// <summary>An int8 file made by the quantiser (YOLOv8n, every layer but the head int8), once for the class.</summary>
public sealed class Int8FileFixture : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("lookout-int8-models-").FullName;
    public string File { get; }
    public string SourceSha256 { get; }

    public Int8FileFixture()
    {
        var source = System.IO.File.ReadAllBytes(FolderModels.Yolov8n);
        using var floatModel = DetectionModel.Load("yolov8n", "ultralytics", source);
        // Two photos are a poor calibration but a real one; nothing here gates accuracy (the CLI tests do), only how
        // the server lists and serves the file.
        var quantizer = new ModelQuantizer(source, floatModel, new QuantizationOptions { Sensitivity = false });
        var calibration = quantizer.Calibrate([TestAssets.PathOf("dog.jpg"), TestAssets.PathOf("street.jpg")], 2);
        var graph = quantizer.Quantize(calibration);
        SourceSha256 = quantizer.SourceSha256;
        var bytes = quantizer.Finish(graph, new QuantizationFacts("yolov8n_fp32.onnx", quantizer.SourceSha256, calibration.Images.Count,
            "minmax", [], "not gated (server test)"));
        File = Path.Combine(Folder, "made.onnx");
        System.IO.File.WriteAllBytes(File, bytes);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}

public sealed class Int8ModelsFolderTests(Int8FileFixture int8, ModelsFolderFixture folders) : IClassFixture<Int8FileFixture>, IClassFixture<ModelsFolderFixture>
{
    [Fact]
    public async Task A_quantized_file_copied_in_is_listed_as_int8_with_its_source_and_answers_the_custom_route()
    {
        var folder = folders.NewFolder("int8");
        await using var server = await FolderModels.StartAsync(folder);
        FolderModels.Place(int8.File, folder, "porch-int8.onnx");
        await FolderModels.Within(TimeSpan.FromSeconds(10), async () => (await FolderModels.CustomList(server.Client)).Contains("porch-int8"),
            "porch-int8.onnx is listed");

        // Listed before anything loads it: the facts come from the file's metadata alone.
        var listed = await FolderModels.Listed(server.Client, "porch-int8");
        Assert.False(listed.GetProperty("loaded").GetBoolean(), listed.ToString());
        AssertInt8(listed);

        var (status, json) = await FolderModels.DeepStack(server.Client, "porch-int8", TestAssets.Bytes("dog.jpg"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("dog", FolderModels.Predictions(json).Select(p => p.Label));

        // Loaded, the same facts (now the model's own).
        listed = await FolderModels.Listed(server.Client, "porch-int8");
        Assert.True(listed.GetProperty("loaded").GetBoolean(), listed.ToString());
        AssertInt8(listed);

        // A float model in the same folder has no precision and no quantization facts.
        FolderModels.Place(FolderModels.Nano, folder, "nano.onnx");
        await FolderModels.Within(TimeSpan.FromSeconds(10), async () => (await FolderModels.CustomList(server.Client)).Contains("nano"), "nano.onnx is listed");
        var nano = await FolderModels.Listed(server.Client, "nano");
        Assert.False(nano.TryGetProperty("precision", out _), nano.ToString());
        Assert.False(nano.TryGetProperty("quantization", out _), nano.ToString());

        // This CPU's VNNI decides whether the list warns.
        var root = JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/models")).RootElement;
        Assert.Equal(CpuFeatures.HasVnni() == false, root.TryGetProperty("int8_warning", out _));
    }

    private void AssertInt8(JsonElement listed)
    {
        Assert.Equal("int8", listed.GetProperty("precision").GetString());
        var q = listed.GetProperty("quantization");
        Assert.Equal("yolov8n_fp32.onnx", q.GetProperty("source").GetString());
        Assert.Equal(int8.SourceSha256, q.GetProperty("source_sha256").GetString());
        Assert.Equal(2, q.GetProperty("calibration_images").GetInt32());
    }
}
