using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Rendering;

namespace Lookout.Detection.Tests.Support;

/// <summary>The real YOLOX-Nano, loaded once for all tests that need it.</summary>
public sealed class ModelFixture : IDisposable
{
    public ModelFixture()
    {
        Catalog = new ModelCatalog(TestAssets.Store, new InferenceSettings { IntraOpThreads = 1 });
        Model = Catalog.GetAsync(ModelCatalog.DefaultModelName).GetAwaiter().GetResult();
        Detector = new Detector(Model, inputRule: ModelInputRule.FullBilinear);
        DefaultDetector = new Detector(Model);
        Renderer = new AnnotationRenderer();
    }

    public ModelCatalog Catalog { get; }
    public DetectionModel Model { get; }

    /// <summary>
    /// The pipeline with the reference pipelines' preprocessing (full decode + cv2 INTER_LINEAR resize), which the
    /// reference figures (<see cref="DogReference"/>, ../shared/ASSETS.md) were made with: these tests check decoding,
    /// orientation, letterboxing and postprocessing against them, not the choice of resize filter.
    /// </summary>
    public Detector Detector { get; }

    /// <summary>The pipeline as every route runs it (<see cref="ModelInputRule.For"/>: full decode + area filter for YOLOX).</summary>
    public Detector DefaultDetector { get; }
    public AnnotationRenderer Renderer { get; }

    public void Dispose()
    {
        Renderer.Dispose();
        Catalog.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ModelCollection : ICollectionFixture<ModelFixture>
{
    public const string Name = "real model";
}
