using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

public sealed class ConcurrencyTests
{
    /// <summary>
    /// Eight detections at once on eight different images each get their own image's result — the one a lone
    /// detection gives — while the model switches between its all-cores session (alone) and its one-thread
    /// session (side by side), and shares its pooled buffers.
    /// </summary>
    [Fact]
    public async Task Eight_parallel_detections_each_get_their_own_correct_result()
    {
        using var catalog = new ModelCatalog(TestAssets.Store, new InferenceSettings { IntraOpThreads = 2, ConcurrentIntraOpThreads = 1 });
        var model = await catalog.GetAsync(ModelCatalog.DefaultModelName);
        var detector = new Detector(model);
        var images = Directory.GetFiles(TestAssets.SharedPath("data", "coco128", "images"), "*.jpg").Order().Take(6)
            .Select(File.ReadAllBytes).Concat([TestAssets.Bytes("dog.jpg"), TestAssets.Bytes("street.jpg")]).ToArray();
        var alone = images.Select(i => detector.Detect(i)).ToArray();

        for (int round = 0; round < 3; round++)
        {
            using var start = new Barrier(images.Length);
            var parallel = await Task.WhenAll(images.Select((image, i) => Task.Run(() =>
            {
                start.SignalAndWait();
                return detector.Detect(image);
            })));

            for (int i = 0; i < images.Length; i++)
            {
                Assert.Equal((alone[i].ImageWidth, alone[i].ImageHeight), (parallel[i].ImageWidth, parallel[i].ImageHeight));
                Assert.Equal(alone[i].Detections.Select(d => d.Label), parallel[i].Detections.Select(d => d.Label));
                foreach (var (a, p) in alone[i].Detections.Zip(parallel[i].Detections))
                {
                    Assert.Equal(a.Score, p.Score, 4);
                    Assert.True(BoundingBox.IntersectionOverUnion(a.Box, p.Box) > 0.999f, $"image {i}: {a.Box} vs {p.Box}");
                }
            }
        }
        Assert.Equal(images.Length, alone.Select(r => $"{r.ImageWidth}x{r.ImageHeight}:{string.Join(",", r.Detections.Select(d => d.Label))}").Distinct().Count());
    }
}
