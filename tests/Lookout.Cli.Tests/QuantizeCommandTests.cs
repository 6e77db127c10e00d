using System.Diagnostics;
using Google.Protobuf;
using Lookout.Detection;
using Lookout.Detection.Models;
using Lookout.Detection.Quantization;
using Lookout.Detection.Tests.Support;
using Onnx;
using Xunit.Abstractions;

namespace Lookout.Cli.Tests;

/// <summary>
/// The CI run of <c>lookout models quantize</c>: YOLOv8n calibrated on 32 coco128 images and gated on the val2017 dev
/// set, once for every test of this class.
/// </summary>
public sealed class QuantizedYolov8nFixture : IAsyncLifetime
{
    public string Source => TestAssets.SharedPath("models", "ultralytics", "yolov8n_fp32.onnx");
    public string Output { get; } = Path.Combine(TestAssets.TestOutputDirectory("quantize"), "yolov8n-int8.onnx");
    public CliRun Run { get; private set; } = null!;
    public TimeSpan Elapsed { get; private set; }

    public async Task InitializeAsync()
    {
        File.Delete(Output);
        var watch = Stopwatch.StartNew();
        Run = await CliRunner.RunAsync("models", "quantize", "--model", Source,
            "--calibration", TestAssets.SharedPath("data", "coco128", "images"), "--images", "32", "--out", Output,
            "--val-images", TestAssets.SharedPath("data", "coco-val2017-dev", "images"),
            "--val-coco-json", TestAssets.SharedPath("data", "coco-val2017-dev", "instances_val2017_dev.json"),
            "--speed-rounds", "3");
        Elapsed = watch.Elapsed;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class QuantizeCommandTests(QuantizedYolov8nFixture fixture, ITestOutputHelper output) : IClassFixture<QuantizedYolov8nFixture>
{
    private static string Dog => TestAssets.SharedPath("images", "dog.jpg");

    [Fact]
    public void Yolov8n_passes_the_ap_gate_on_the_val_set_and_is_written()
    {
        output.WriteLine($"quantize took {fixture.Elapsed.TotalSeconds:0} s\n{fixture.Run}");
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        Assert.True(File.Exists(fixture.Output), fixture.Run.ToString());
        Assert.Contains("ONNX Runtime CPU graph after optimisation: QLinearConv", fixture.Run.Console);
        Assert.Contains("AP on 48 images", fixture.Run.Console);
        Assert.Contains("within --max-ap-drop 0.01", fixture.Run.Console);
        Assert.Contains("Bare Run, medians of 3 interleaved rounds", fixture.Run.Console);
    }

    [Fact]
    public void With_labels_the_sensitivity_step_aims_at_the_ap_gate_and_stops_at_the_first_try_that_passes()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        // Every try is measured as the gate measures it (AP on the val set), not by agreement on the calibration images.
        var tries = fixture.Run.Console.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("every layer int8:", StringComparison.Ordinal) || l.Contains(" layer(s) float: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(tries);
        Assert.All(tries, t => Assert.Contains(": AP on 48 images", t));
        // Only the last try passes, and the file keeps exactly its float layers: no layer is given back that AP did not need.
        Assert.All(tries[..^1], t => Assert.Contains("more than --max-ap-drop", t));
        Assert.Contains("within --max-ap-drop", tries[^1]);
        int floatLayers = QuantizationFacts.ReadFile(fixture.Output)!.FloatLayers.Count;
        Assert.Equal(tries.Count == 1 ? 0 : 1 << (tries.Count - 2), floatLayers);
        // With the default percentile ranges YOLOv8n passes at once (AP drop 0.0078 on this set): every layer int8.
        Assert.Single(tries);
        Assert.Equal(0, floatLayers);
    }

    [Fact]
    public void The_optimised_cpu_graph_holds_qlinearconv_and_the_counts_are_printed()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        var counts = ModelQuantizer.OptimizedOpCounts(File.ReadAllBytes(fixture.Output));
        // 64 convolutions: the head's 6 last ones and the DFL stay float, the other 57 must fuse.
        Assert.True(counts.GetValueOrDefault("QLinearConv") >= 50, string.Join(", ", counts));
        Assert.Contains($"QLinearConv {counts["QLinearConv"]}", fixture.Run.Console);
    }

    [Fact]
    public async Task The_written_model_loads_by_path_and_finds_the_same_objects_on_dog_jpg()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        using var floatModel = DetectionModel.Load("float", null, fixture.Source);
        using var int8Model = DetectionModel.Load("int8", null, fixture.Output);
        Assert.Equal(floatModel.Family, int8Model.Family);
        Assert.Equal(floatModel.Names, int8Model.Names);
        Assert.Null(floatModel.Quantization);
        Assert.Equal("yolov8n_fp32.onnx", int8Model.Quantization?.Source);
        var bytes = await File.ReadAllBytesAsync(Dog);
        // The objects are what either model is sure of (score ≥ 0.5); a partner may score lower (0.1), so a box near
        // a threshold does not decide the test, but it must be the same class and nearly the same box.
        var wide = new DetectionOptions { Confidence = 0.1f };
        var reference = new Detector(floatModel).Detect(bytes, wide);
        var candidate = new Detector(int8Model).Detect(bytes, wide);
        string Describe(DetectionResult r) => string.Join("; ", r.Detections.Select(d => $"{d.Label} {d.Score:0.00}"));
        Assert.True(reference.Detections.Count(d => d.Score >= 0.5f) >= 3, $"float: {Describe(reference)}");
        foreach (var (from, to, what) in new[] { (reference, candidate, "float"), (candidate, reference, "int8") })
        foreach (var d in from.Detections.Where(d => d.Score >= 0.5f))
        {
            // One object may carry two labels when the model itself hesitates between classes: on dog.jpg the float
            // model calls the same box car 0.61 and truck 0.51, the int8 one car 0.76 only. Such a second label
            // is matched by a partner of the class the same model scored higher on that box (IoU ≥ 0.9): the object
            // is the same, found in the same place; a box of its own must still be found with its own class.
            var classes = from.Detections
                .Where(o => o.Score > d.Score && BoundingBox.IntersectionOverUnion(o.Box, d.Box) >= 0.9f)
                .Select(o => o.ClassId).Append(d.ClassId).ToHashSet();
            var best = to.Detections.Where(c => classes.Contains(c.ClassId))
                .Select(c => BoundingBox.IntersectionOverUnion(d.Box, c.Box)).DefaultIfEmpty(0).Max();
            Assert.True(best >= 0.9, $"{what} {d.Label} {d.Score:0.00}: best partner IoU {best:0.000}\nfloat: {Describe(reference)}\nint8: {Describe(candidate)}");
        }
    }

    [Fact]
    public void The_file_keeps_its_metadata_and_records_how_it_was_made()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixture.Output));
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.StartsWith("{0: 'person'", meta["names"]);
        Assert.Equal("[640, 640]", meta["imgsz"]);
        var facts = QuantizationFacts.ReadFile(fixture.Output);
        Assert.NotNull(facts);
        Assert.Equal("yolov8n_fp32.onnx", facts.Source);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(fixture.Source))), facts.SourceSha256);
        Assert.Equal(32, facts.CalibrationImages);
        Assert.Equal("percentile 99.99", facts.Method);
        Assert.StartsWith("passed: AP on 48 images", facts.Gate);
    }

    [Fact]
    public async Task Models_list_shows_the_file_as_int8_with_its_source()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        var run = await CliRunner.RunAsync("models", "list", "--asset-dir", Path.GetDirectoryName(fixture.Output)!);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("int8 models", run.Console);
        var line = Assert.Single(run.Console.Split('\n'), l => l.Contains("yolov8n-int8"));
        Assert.Contains("yolov8n_fp32.onnx", line);
        Assert.Contains("int8", line);
    }

    [Fact]
    public async Task Quantising_an_int8_file_again_is_refused()
    {
        Assert.True(fixture.Run.ExitCode == 0, fixture.Run.ToString());
        var run = await CliRunner.RunAsync("models", "quantize", "--model", fixture.Output, "--calibration", TestAssets.SharedPath("images"),
            "--out", Path.Combine(TestAssets.TestOutputDirectory("quantize"), "twice.onnx"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("already quantised", run.Console);
    }
}

/// <summary>Refusals: a gate the model cannot meet, and bad input, each with a clear message and exit code.</summary>
public sealed class QuantizeRefusalTests(ITestOutputHelper output)
{
    private static string OutDir => TestAssets.TestOutputDirectory("quantize-refusals");
    private static string YoloxNano => TestAssets.SharedPath("models", "yolox_nano.onnx");
    private static string ValImages => TestAssets.SharedPath("data", "coco-val2017-dev", "images");

    [Fact]
    public async Task Yolox_nano_with_every_layer_int8_fails_the_agreement_gate_and_is_not_written()
    {
        var target = Path.Combine(OutDir, "yolox-nano-all-int8.onnx");
        File.Delete(target);
        var watch = Stopwatch.StartNew();
        var run = await CliRunner.RunAsync("models", "quantize", "--model", YoloxNano, "--calibration", TestAssets.SharedPath("data", "coco128", "images"),
            "--images", "16", "--no-sensitivity", "--out", target, "--val-images", ValImages, "--speed-rounds", "0");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0} s\n{run}");
        Assert.True(run.ExitCode == 4, run.ToString());
        Assert.False(File.Exists(target));
        Assert.Contains("fails the gate and was not written", run.Console);
        Assert.Contains("float detections kept", run.Console); // the figures are printed
    }

    [Fact]
    public async Task A_calibration_folder_without_images_is_a_usage_error()
    {
        var empty = Path.Combine(OutDir, "no-images");
        Directory.CreateDirectory(empty);
        await File.WriteAllTextAsync(Path.Combine(empty, "notes.txt"), "not an image");
        var run = await CliRunner.RunAsync("models", "quantize", "--model", YoloxNano, "--calibration", empty, "--out", Path.Combine(OutDir, "x.onnx"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"No images in the calibration folder {empty}", run.Console);
    }

    [Fact]
    public async Task An_output_folder_that_does_not_exist_is_a_usage_error()
    {
        var target = Path.Combine(OutDir, "missing-folder", "x.onnx");
        var run = await CliRunner.RunAsync("models", "quantize", "--model", YoloxNano, "--calibration", ValImages, "--out", target);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("The folder of --out does not exist", run.Console);
    }

    [Fact]
    public async Task A_model_that_is_not_a_detector_is_refused()
    {
        // A one-convolution graph with a [1,2,8,8] output: a valid ONNX model, but no detection head.
        var path = Path.Combine(OutDir, "not-a-detector.onnx");
        await File.WriteAllBytesAsync(path, TinyConvModel().ToByteArray());
        var run = await CliRunner.RunAsync("models", "quantize", "--model", path, "--calibration", ValImages, "--out", Path.Combine(OutDir, "y.onnx"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("output [1,2,8,8]", run.Console);
        Assert.DoesNotContain("Exception", run.Console);
    }

    [Fact]
    public async Task Unreadable_images_among_good_ones_are_skipped_and_counted()
    {
        var folder = Path.Combine(OutDir, "mixed");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.EnumerateFiles(folder)) File.Delete(f);
        File.Copy(TestAssets.SharedPath("images", "dog.jpg"), Path.Combine(folder, "a-dog.jpg"));
        File.Copy(TestAssets.SharedPath("images", "street.jpg"), Path.Combine(folder, "c-street.jpg"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "b-broken.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
        var target = Path.Combine(OutDir, "mixed.onnx");
        var run = await CliRunner.RunAsync("models", "quantize", "--model", YoloxNano, "--calibration", folder, "--images", "2",
            "--no-sensitivity", "--force", "--out", target, "--speed-rounds", "0");
        output.WriteLine(run.ToString());
        Assert.Contains("skipped " + Path.Combine(folder, "b-broken.jpg"), run.Console);
        Assert.Contains("Calibrated on 2 images (1 unreadable skipped)", run.Console);
        Assert.True(run.ExitCode is 0 or 4, run.ToString());
        Assert.True(File.Exists(target), run.ToString()); // --force writes it whatever the gate says
    }

    private static ModelProto TinyConvModel()
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(ValueInfo("images", 1, 3, 8, 8));
        graph.Output.Add(ValueInfo("output", 1, 2, 8, 8));
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        weight.Dims.AddRange([2, 3, 1, 1]);
        weight.FloatData.AddRange(Enumerable.Repeat(0.5f, 6));
        graph.Initializer.Add(weight);
        var node = new NodeProto { OpType = "Conv", Name = "conv" };
        node.Input.AddRange(["images", "w"]);
        node.Output.Add("output");
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }
}
