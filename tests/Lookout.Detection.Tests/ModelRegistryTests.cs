using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

/// <summary>The registry's loading, leases and unloading, driven by explicit rescans (no watcher, no timer).</summary>
public sealed class ModelRegistryTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lookout-registry-");
    private readonly ModelCatalog _catalog = new(TestAssets.Store, new InferenceSettings { IntraOpThreads = 1 });

    private ModelRegistry Registry(int maxLoaded = 4) =>
        new(_catalog, new ModelDownloads(_catalog.Assets), new ModelRegistryOptions
        {
            Directories = [_folder.FullName], MaxLoadedModels = maxLoaded, StableFor = TimeSpan.Zero,
        });

    private void Place(string source, string name)
    {
        var temp = Path.Combine(_folder.FullName, "." + name + ".tmp");
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, Path.Combine(_folder.FullName, name), overwrite: true);
        File.SetLastWriteTimeUtc(Path.Combine(_folder.FullName, name), DateTime.UtcNow.AddSeconds(-new Random().Next(10, 1000)));
    }

    private static string Nano => TestAssets.PathOf("yolox_nano.onnx");
    private static string Yolov8n => TestAssets.SharedPath("models", "ultralytics", "yolov8n_fp32.onnx");

    [Fact]
    public async Task Concurrent_first_requests_share_one_load()
    {
        Place(Nano, "cam.onnx");
        using var registry = Registry();
        registry.Rescan();

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => registry.AcquireAsync("cam"))));

        Assert.All(leases, l => Assert.Same(leases[0].Model, l.Model));
        Assert.Equal(8, registry.List().Single(m => m.Name == "cam").ActiveRequests);
        foreach (var lease in leases) lease.Dispose();
        Assert.Equal(0, registry.List().Single(m => m.Name == "cam").ActiveRequests);
        Assert.Equal(ModelState.Loaded, registry.List().Single(m => m.Name == "cam").State);
    }

    [Fact]
    public async Task A_request_holding_the_old_model_finishes_on_it_while_new_requests_get_the_replacement()
    {
        Place(Nano, "cam.onnx");
        using var registry = Registry();
        registry.Rescan();
        using var old = await registry.AcquireAsync("cam");
        Assert.Equal(416, old.Model.InputWidth);

        Place(Yolov8n, "cam.onnx");
        registry.Rescan(); // seen once: pending until its size and time are seen again unchanged
        registry.Rescan();
        using var replacement = await registry.AcquireAsync("cam");

        Assert.NotSame(old.Model, replacement.Model);
        Assert.Equal(640, replacement.Model.InputWidth);
        // The old session still runs for the request that holds it.
        var result = new Detector(old.Model).Detect(TestAssets.Bytes("dog.jpg"));
        Assert.Contains(result.Detections, d => d.Label == "dog");
    }

    [Fact]
    public async Task The_least_recently_used_idle_model_is_unloaded_and_a_busy_one_never()
    {
        Place(Nano, "a.onnx");
        Place(Nano, "b.onnx");
        Place(Nano, "c.onnx");
        using var registry = Registry(maxLoaded: 2);
        registry.Rescan();
        ModelState State(string name) => registry.List().Single(m => m.Name == name).State;

        (await registry.AcquireAsync("a")).Dispose();
        (await registry.AcquireAsync("b")).Dispose();
        (await registry.AcquireAsync("a")).Dispose(); // a is now more recent than b
        (await registry.AcquireAsync("c")).Dispose();
        Assert.Equal(ModelState.Loaded, State("a"));
        Assert.Equal(ModelState.Available, State("b"));
        Assert.Equal(ModelState.Loaded, State("c"));
        Assert.Equal(2, registry.LoadedCount);

        // With a and c both busy, loading b goes over the limit rather than pull a model from under a request…
        var holdA = await registry.AcquireAsync("a");
        var holdC = await registry.AcquireAsync("c");
        var holdB = await registry.AcquireAsync("b");
        Assert.Equal(3, registry.LoadedCount);
        // …and comes back to it as soon as one is idle.
        holdA.Dispose();
        Assert.Equal(2, registry.LoadedCount);
        Assert.Equal(ModelState.Available, State("a"));
        holdB.Dispose();
        holdC.Dispose();
        Assert.Equal(2, registry.LoadedCount);
    }

    [Fact]
    public async Task Class_names_come_from_the_files_metadata_else_the_names_file_beside_it()
    {
        Place(Yolov8n, "ultra.onnx");
        Place(Nano, "plain.onnx");
        var custom = Enumerable.Range(0, 80).Select(i => $"thing {i}").ToArray();
        await File.WriteAllLinesAsync(Path.Combine(_folder.FullName, "ultra.names"), custom);
        await File.WriteAllLinesAsync(Path.Combine(_folder.FullName, "plain.names"), custom);
        using var registry = Registry();
        registry.Rescan();

        using (var ultra = await registry.AcquireAsync("ultra")) Assert.Equal("person", ultra.Model.Names[0]); // its metadata wins
        using (var plain = await registry.AcquireAsync("plain")) Assert.Equal("thing 0", plain.Model.Names[0]); // no metadata: the .names file
    }

    [Fact]
    public async Task A_file_still_being_written_is_not_taken_until_its_size_and_time_stay_put()
    {
        var bytes = await File.ReadAllBytesAsync(Nano);
        var path = Path.Combine(_folder.FullName, "slow.onnx");
        using var registry = new ModelRegistry(_catalog, new ModelDownloads(_catalog.Assets), new ModelRegistryOptions
        {
            Directories = [_folder.FullName], StableFor = TimeSpan.FromMilliseconds(600),
        });
        registry.Rescan();
        bool Listed() => registry.List().Any(m => m.Name == "slow");

        // A copy in progress, written straight under its final name (what write-then-rename avoids).
        await using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            for (int offset = 0; offset < bytes.Length; offset += 256 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(256 * 1024, bytes.Length - offset)));
                await stream.FlushAsync();
                registry.Rescan();
                Assert.False(Listed(), $"taken after {offset} of {bytes.Length} bytes");
                await Task.Delay(150);
            }
        }
        registry.Rescan();
        Assert.False(Listed()); // complete, but not yet seen unchanged for 600 ms
        await Task.Delay(700);
        registry.Rescan();
        Assert.True(Listed());
        using var lease = await registry.AcquireAsync("slow");
        Assert.Equal(416, lease.Model.InputWidth);
    }

    [Fact]
    public async Task Unknown_and_path_like_names_are_refused()
    {
        using var registry = Registry();
        registry.Rescan();
        await Assert.ThrowsAsync<ModelNotFoundException>(() => registry.AcquireAsync("nothing-here"));
        await Assert.ThrowsAsync<InvalidModelNameException>(() => registry.AcquireAsync("../yolox_nano"));
        await Assert.ThrowsAsync<InvalidModelNameException>(() => registry.AcquireAsync(Nano));
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _folder.Delete(true);
    }
}
