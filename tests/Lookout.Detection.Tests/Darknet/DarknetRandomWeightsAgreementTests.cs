using Lookout.Detection.Tests.Support;
using System.Diagnostics;
using Lookout.Detection.Darknet;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests.Darknet;

/// <summary>Architectures whose real weights are not available here, run with generated weights of
/// the right size through our graph and through OpenCV DNN.</summary>
public sealed class DarknetRandomWeightsAgreementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("yolov3_416x416.cfg")]
    [InlineData("yolov3_608x608.cfg")]
    [InlineData("yolov3-tiny")]
    [InlineData("yolov4-tiny")]
    [InlineData("activations")]
    public void Matches_OpenCV_with_generated_weights(string cfgName)
    {
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory();
        string cfg = cfgName switch
        {
            "yolov3-tiny" => Write(temp, cfgName, DarknetTestConfigs.YoloV3Tiny),
            "yolov4-tiny" => Write(temp, cfgName, DarknetTestConfigs.YoloV4Tiny),
            "activations" => Write(temp, cfgName, DarknetTestConfigs.Activations),
            _ => TestAssets.PathOf(cfgName),
        };
        var config = DarknetConfigParser.ParseFile(cfg);
        var shapes = DarknetShapes.Infer(config);
        string weights = temp.File("random.weights");
        DarknetTestData.WriteRandomWeights(weights, config, seed: 1234);

        var imported = DarknetImporter.Import(cfg, weights, options: new DarknetImportOptions { IncludeRawHeadOutputs = true });
        int[] shape = [1, 3, config.Height, config.Width];
        var input = DarknetTestData.RandomTensor(3 * config.Height * config.Width, seed: 42);
        var ours = OnnxRunner.Run(imported.OnnxBytes, input, shape);
        var opencv = OpenCvReference.Run(cfg, weights, input, shape);

        foreach (var (name, blob) in ours.Where(p => p.Key.EndsWith("_raw", StringComparison.Ordinal)))
        {
            output.WriteLine($"{name} [{string.Join("x", blob.Shape)}] range {blob.Data.Min():G4}..{blob.Data.Max():G4}");
        }

        DarknetComparison.AssertRawHeadsMatch(config, ours, opencv);
        DarknetComparison.AssertDecodedHeadsMatch(config, shapes, ours["output"], opencv);
        output.WriteLine($"{cfgName}: {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static string Write(TempDirectory temp, string name, string text)
    {
        var path = temp.File(name + ".cfg");
        File.WriteAllText(path, text);
        return path;
    }
}
