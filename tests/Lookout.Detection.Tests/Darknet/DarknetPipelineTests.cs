using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests.Darknet;

/// <summary>Darknet models run through the same pipeline as any other, by catalogue name or by cfg path.</summary>
public sealed class DarknetPipelineTests
{
    [Theory]
    [InlineData("yolo-fastest-1.1")]
    [InlineData("yolo-fastest-1.1-xl")]
    public async Task Catalogue_darknet_model_finds_the_dog_bicycle_and_car(string name)
    {
        using var catalog = new ModelCatalog(TestAssets.Store, new InferenceSettings { IntraOpThreads = 1 });
        var model = await catalog.GetAsync(name);

        var result = new Detector(model).Detect(TestAssets.Bytes("dog.jpg"));

        Assert.Equal("darknet", model.Family);
        Assert.Equal((320, 320), (model.InputWidth, model.InputHeight));
        // Yolo-Fastest is a far weaker model than YOLOX: the objects must be found in roughly the right place
        // (exact agreement with OpenCV is what DarknetRealModelAgreementTests checks).
        foreach (var (label, _, box) in DogReference.Objects.Where(o => o.Label != "truck"))
            Assert.Contains(result.Detections, d => d.Label == label && BoundingBox.IntersectionOverUnion(d.Box, box) > 0.4f);
    }

    [Fact]
    public async Task Cfg_path_with_weights_beside_it_loads_as_a_model()
    {
        var dir = Directory.CreateTempSubdirectory("lookout-darknet-");
        try
        {
            File.Copy(TestAssets.PathOf("yolo-fastest-1.1.cfg"), Path.Combine(dir.FullName, "mine.cfg"));
            File.Copy(TestAssets.PathOf("yolo-fastest-1.1.weights"), Path.Combine(dir.FullName, "mine.weights"));
            File.Copy(TestAssets.PathOf("coco.names"), Path.Combine(dir.FullName, "mine.names"));
            using var catalog = new ModelCatalog(TestAssets.Store);

            var model = await catalog.GetAsync(Path.Combine(dir.FullName, "mine.cfg"));

            Assert.Equal("mine", model.Name);
            Assert.Equal("dog", model.Names[16]);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
