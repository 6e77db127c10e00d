using Lookout.Detection.Tests.Support;
using Lookout.Detection.Darknet;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests.Darknet;

/// <summary>The published Yolo-Fastest weights through our ONNX graph and through OpenCV DNN.</summary>
public sealed class DarknetRealModelAgreementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("yolo-fastest-1.1", "dog.jpg")]
    [InlineData("yolo-fastest-1.1", "street.jpg")]
    [InlineData("yolo-fastest-1.1-xl", "dog.jpg")]
    [InlineData("yolo-fastest-1.1-xl", "street.jpg")]
    public void Matches_OpenCV_on_sample_image(string model, string image)
    {
        string cfg = TestAssets.PathOf(model + ".cfg"), weights = TestAssets.PathOf(model + ".weights");
        var imported = DarknetImporter.Import(cfg, weights, TestAssets.PathOf("coco.names"), new DarknetImportOptions { IncludeRawHeadOutputs = true });
        Assert.Equal((320, 320, 80), (imported.InputWidth, imported.InputHeight, imported.ClassCount));
        Assert.Equal("person", imported.ClassNames![0]);

        var input = DarknetTestData.LetterboxedTensor(TestAssets.PathOf(image), imported.InputWidth, imported.InputHeight);
        int[] shape = [1, 3, imported.InputHeight, imported.InputWidth];
        var ours = OnnxRunner.Run(imported.OnnxBytes, input, shape);
        var opencv = OpenCvReference.Run(cfg, weights, input, shape);

        var config = DarknetConfigParser.ParseFile(cfg);
        var shapes = DarknetShapes.Infer(config);
        DarknetComparison.AssertRawHeadsMatch(config, ours, opencv);
        DarknetComparison.AssertDecodedHeadsMatch(config, shapes, ours["output"], opencv);

        var ourDetections = Detections.FromRows(ours["output"].Data, 85, 1, 1, classesAreScores: false);
        // NMS runs over all heads together, as it does on our single output.
        var cvRows = DarknetComparison.YoloNames(opencv).SelectMany(n => opencv[n].Data).ToArray();
        var cvDetections = Detections.FromRows(cvRows, 85, config.Width, config.Height, classesAreScores: true);
        output.WriteLine($"{model} on {image}: {string.Join("; ", ourDetections.Select(d => $"{imported.ClassNames[d.ClassId]} {d}"))}");
        Assert.NotEmpty(ourDetections);
        Detections.AssertSameObjects(ourDetections, cvDetections, $"{model} on {image}");
    }
}
