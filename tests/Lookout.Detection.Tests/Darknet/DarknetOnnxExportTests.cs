using Lookout.Detection.Tests.Support;
using Lookout.Detection.Darknet;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Detection.Tests.Darknet;

public sealed class DarknetOnnxExportTests
{
    [Fact]
    public void Exported_bytes_reload_from_a_file_and_give_identical_outputs()
    {
        var model = DarknetImporter.Import(TestAssets.PathOf("yolo-fastest-1.1.cfg"), TestAssets.PathOf("yolo-fastest-1.1.weights"));
        using var temp = new TempDirectory();
        var path = temp.File("yolo-fastest-1.1.onnx");
        File.WriteAllBytes(path, model.OnnxBytes);
        var input = DarknetTestData.LetterboxedTensor(TestAssets.PathOf("dog.jpg"), 320, 320);
        int[] shape = [1, 3, 320, 320];

        var inMemory = OnnxRunner.Run(model.OnnxBytes, input, shape);
        using var fromFile = new InferenceSession(path);
        var reloaded = OnnxRunner.Run(fromFile, input, shape);

        Assert.Equal(["images"], fromFile.InputNames);
        Assert.Equal(["output"], fromFile.OutputNames);
        Assert.Equal([1, 3, 320, 320], fromFile.InputMetadata["images"].Dimensions);
        Assert.Equal([1, 3 * (10 * 10 + 20 * 20), 85], fromFile.OutputMetadata["output"].Dimensions);
        Assert.Equal(inMemory["output"].Shape, reloaded["output"].Shape);
        Assert.Equal(inMemory["output"].Data, reloaded["output"].Data);
    }

    [Fact]
    public void Class_names_go_into_the_model_metadata()
    {
        var model = DarknetImporter.Import(TestAssets.PathOf("yolo-fastest-1.1.cfg"), TestAssets.PathOf("yolo-fastest-1.1.weights"), TestAssets.PathOf("coco.names"));
        using var session = new InferenceSession(model.OnnxBytes);

        var names = session.ModelMetadata.CustomMetadataMap["names"];
        Assert.StartsWith("{0: 'person', 1: 'bicycle'", names);
        Assert.Equal(80, model.ClassNames!.Count);
    }
}
