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
        Detector = new Detector(Model);
        Renderer = new AnnotationRenderer();
    }

    public ModelCatalog Catalog { get; }
    public DetectionModel Model { get; }
    public Detector Detector { get; }
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
