using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests.Ultralytics;

/// <summary>The two real Ultralytics YOLOv8n exports in ../shared/models/ultralytics, loaded by path as a user would.</summary>
public sealed class UltralyticsModelsFixture : IDisposable
{
    public static readonly string[] Files = ["yolov8n_fp32.onnx", "yolov8n_dynamic_int8.onnx"];

    private readonly ModelCatalog _catalog = new(TestAssets.Store, new InferenceSettings { IntraOpThreads = 1 });
    private readonly Dictionary<string, (DetectionModel Model, InferenceSession Bare)> _models = new();

    public static string PathOf(string file) => TestAssets.SharedPath("models", "ultralytics", file);

    public (DetectionModel Model, InferenceSession Bare) Get(string file)
    {
        lock (_models)
        {
            if (_models.TryGetValue(file, out var loaded)) return loaded;
            var path = PathOf(file);
            // The reference's own session: default options, nothing shared with Lookout's pooled buffers.
            loaded = (_catalog.GetAsync(path).GetAwaiter().GetResult(), new InferenceSession(path));
            _models[file] = loaded;
            return loaded;
        }
    }

    public void Dispose()
    {
        foreach (var (_, bare) in _models.Values) bare.Dispose();
        _catalog.Dispose();
    }
}

/// <summary>
/// Lookout's pipeline on the real Ultralytics exports against an independent Ultralytics letterbox and decoding
/// (OpenCV + numpy, see ultralytics_reference.py): the same objects, IoU ≥ 0.9, scores within 0.02.
/// </summary>
public sealed class UltralyticsAgreementTests(UltralyticsModelsFixture models, ITestOutputHelper output)
    : IClassFixture<UltralyticsModelsFixture>
{
    private const float Confidence = DetectionOptions.DefaultConfidence;
    private const float Iou = DetectionOptions.DefaultIou;
    private const float MinIoU = 0.9f;
    private const float ScoreTolerance = 0.02f;

    [Theory]
    [InlineData("yolov8n_fp32.onnx")]
    [InlineData("yolov8n_dynamic_int8.onnx")]
    public void Input_size_layout_and_class_names_come_from_the_file(string file)
    {
        var (model, bare) = models.Get(file);
        var metadata = bare.ModelMetadata.CustomMetadataMap;
        Assert.Equal("Ultralytics", metadata["author"]);
        Assert.Equal("[640, 640]", metadata["imgsz"]);
        Assert.Equal((640, 640), (model.InputWidth, model.InputHeight));

        Assert.Equal("ultralytics", model.Family);
        Assert.Equal(PreprocessSpec.Ultralytics, model.Preprocess);
        var head = Assert.IsType<ChannelMajorHead>(model.Head);
        Assert.Equal("yolov8 [1,84,8400]", head.Layout);

        // The 80 names are the file's own "names" dict, in its order.
        Assert.Equal(80, model.Names.Count);
        for (int i = 0; i < model.Names.Count; i++)
            Assert.Contains($"{i}: '{model.Names[i]}'", metadata["names"], StringComparison.Ordinal);
        Assert.Equal(["person", "bicycle", "car"], model.Names.Take(3));
        Assert.Equal("toothbrush", model.Names[79]);
    }

    public static TheoryData<string, string> EveryModelAndImage()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in UltralyticsModelsFixture.Files)
            foreach (var image in SharedImages) data.Add(file, image);
        return data;
    }

    private static readonly string[] SharedImages = ["dog.jpg", "street.jpg", "crosswalk.jpg", "wedding.jpg", "NGC1499.jpg"];

    /// <summary>
    /// Both exports on every shared JPEG, each side with its own JPEG decoder (libjpeg-turbo in Skia, OpenCV's
    /// libjpeg: the same pixels on these files) and Lookout decoding at full size, as it does for an annotated
    /// answer (the seed route, annotate=true, lookout detect --out): the letterbox tensor is bit-exact with
    /// Ultralytics', so boxes and scores agree to rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryModelAndImage))]
    public void Detections_agree_with_the_reference(string file, string image)
    {
        var (model, bare) = models.Get(file);
        var imagePath = TestAssets.PathOf(image);
        var detector = new Detector(model);
        using var decoded = detector.Decode(File.ReadAllBytes(imagePath), forDrawing: true);
        var ours = detector.Detect(decoded, Options).Detections;
        var reference = UltralyticsReference.Detect(bare, imagePath, model.InputWidth, model.InputHeight, Confidence, Iou);
        Compare(model, $"{file} on {image} (full-size decode)", ours, reference, MinIoU, ScoreTolerance);
        if (image == "dog.jpg") AssertDogScene(ours);
    }

    /// <summary>
    /// Lookout's default path, as every route without a drawn answer runs it. Photos up to twice the input decode
    /// at full size and must agree as above; a larger JPEG is decoded at a reduced DCT scale first (street.jpg
    /// 2380×1580 and wedding.jpg 1280×720 at 1/2), which Ultralytics does not do: those pixels differ before the
    /// letterbox, so the same objects are required with a looser bound (measured on street.jpg: IoU ≥ 0.89, |Δscore| up to
    /// 0.08 for the float file and 0.15 for the INT8 one, whose activation quantisation amplifies the change).
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryModelAndImage))]
    public void Default_path_agrees_with_the_reference(string file, string image)
    {
        var (model, bare) = models.Get(file);
        var imagePath = TestAssets.PathOf(image);
        var bytes = File.ReadAllBytes(imagePath);
        var detector = new Detector(model);
        using var decoded = detector.Decode(bytes, forDrawing: false);
        bool reduced = decoded.Pixels.Width != decoded.OriginalWidth;
        var ours = detector.Detect(bytes, Options).Detections;
        var reference = UltralyticsReference.Detect(bare, imagePath, model.InputWidth, model.InputHeight, Confidence, Iou);
        Compare(model, $"{file} on {image} (default path, decoded at {decoded.Pixels.Width}×{decoded.Pixels.Height})", ours, reference,
            reduced ? ReducedDecodeMinIoU : MinIoU, reduced ? ReducedDecodeScoreTolerance : ScoreTolerance);
    }

    private const float ReducedDecodeMinIoU = 0.85f;
    private const float ReducedDecodeScoreTolerance = 0.2f;

    private static readonly DetectionOptions Options = new() { Confidence = Confidence, Iou = Iou };

    private void Compare(DetectionModel model, string what, IReadOnlyList<Detection> ours, IReadOnlyList<ReferenceDetection> reference,
        float minIoU, float scoreTolerance)
    {
        output.WriteLine(what);
        output.WriteLine($"  Lookout:   {string.Join("; ", ours.Select(d => $"{d.Label} {d.Score:F3} ({d.Box.X1:F1},{d.Box.Y1:F1},{d.Box.X2:F1},{d.Box.Y2:F1})"))}");
        output.WriteLine($"  reference: {string.Join("; ", reference.Select(d => $"{model.Names[d.ClassId]} {d}"))}");
        var (pairs, worstIoU, worstScore) = AssertSameObjects(ours.Select(d => new ReferenceDetection(d.ClassId, d.Score, d.Box)).ToList(),
            reference.ToList(), minIoU, scoreTolerance);
        output.WriteLine($"  {pairs} pairs (IoU ≥ {minIoU}, |Δscore| ≤ {scoreTolerance}); lowest IoU {worstIoU:F3}, largest |Δscore| {worstScore:F3}");
    }

    /// <summary>What ASSETS.md records for dog.jpg: the scene's main objects.</summary>
    private static void AssertDogScene(IReadOnlyList<Detection> ours)
    {
        Assert.Contains(ours, d => d.Label == "dog" && d.Score > 0.8f);
        Assert.Contains(ours, d => d.Label == "bicycle" && d.Score > 0.7f);
        Assert.Contains(ours, d => d.Label == "car");
    }

    /// <summary>
    /// Every detection of either side finds a partner of the same class with IoU ≥ minIoU and a score within the tolerance. A
    /// detection whose score is within the tolerance of the threshold may lack one: its partner may have scored
    /// just under the threshold. Returns the pairs, their lowest IoU and largest score difference.
    /// </summary>
    private static (int Pairs, float WorstIoU, float WorstScore) AssertSameObjects(List<ReferenceDetection> ours, List<ReferenceDetection> reference,
        float minIoU, float scoreTolerance)
    {
        float worstIoU = 1, worstScore = 0;
        string Describe() => $"\n Lookout:   {string.Join("; ", ours)}\n reference: {string.Join("; ", reference)}";
        var unmatched = new List<ReferenceDetection>(reference);
        int pairs = 0;
        foreach (var d in ours.OrderByDescending(d => d.Score))
        {
            var candidates = unmatched.Where(r => r.ClassId == d.ClassId && BoundingBox.IntersectionOverUnion(r.Box, d.Box) >= minIoU
                && Math.Abs(r.Score - d.Score) <= scoreTolerance).ToList();
            if (candidates.Count == 0)
            {
                Assert.True(d.Score < Confidence + scoreTolerance, $"no reference detection matches Lookout's {d}.{Describe()}");
                continue;
            }
            var best = candidates.MaxBy(r => BoundingBox.IntersectionOverUnion(r.Box, d.Box));
            unmatched.Remove(best);
            pairs++;
            worstIoU = Math.Min(worstIoU, BoundingBox.IntersectionOverUnion(best.Box, d.Box));
            worstScore = Math.Max(worstScore, Math.Abs(best.Score - d.Score));
        }
        foreach (var r in unmatched)
            Assert.True(r.Score < Confidence + scoreTolerance, $"Lookout has no detection matching the reference's {r}.{Describe()}");
        return (pairs, worstIoU, worstScore);
    }
}
