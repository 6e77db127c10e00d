using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Lookout.Soak;
using Xunit.Abstractions;

namespace Lookout.Server.Tests;

/// <summary>A temporary models folder, the real server over loopback, and real model files copied in and out.</summary>
public sealed class ModelsFolderFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("lookout-models-").FullName;

    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

internal static class FolderModels
{
    public static string Nano => TestAssets.PathOf("yolox_nano.onnx");

    /// <summary>The float Ultralytics YOLOv8n of ../shared (tests only: AGPL-3.0 weights).</summary>
    public static string Yolov8n => TestAssets.SharedPath("models", "ultralytics", "yolov8n_fp32.onnx");

    /// <summary>Write-then-rename, as the docs tell operators: the folder never shows a half-written file under its real name.</summary>
    public static void Place(string source, string folder, string fileName)
    {
        var temp = Path.Combine(folder, "." + fileName + "." + Guid.NewGuid().ToString("N") + ".tmp");
        File.Copy(source, temp);
        File.Move(temp, Path.Combine(folder, fileName), overwrite: true);
    }

    public static Task<LookoutTestServer> StartAsync(string folder, int? maxLoaded = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lookout:ModelDirectories:0"] = folder,
            // One thread for both sessions: answers are then bit-identical from request to request.
            ["Lookout:ConcurrentIntraOpThreads"] = "1",
        };
        if (maxLoaded is { } max) settings["Lookout:MaxLoadedModels"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return LookoutTestServer.StartAsync(settings);
    }

    public static async Task<(HttpStatusCode Status, JsonElement Json)> DeepStack(HttpClient client, string model, byte[] image)
    {
        using var response = await client.PostAsync("/v1/vision/custom/" + model, LookoutTestServer.Form("image", image));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public static async Task<string[]> CustomList(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync("/v1/vision/custom/list")).RootElement.GetProperty("models")
            .EnumerateArray().Select(m => m.GetString()!).ToArray();

    public static async Task<JsonElement> Listed(HttpClient client, string name) =>
        JsonDocument.Parse(await client.GetStringAsync("/api/v1/models")).RootElement.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == name && m.GetProperty("origin").GetString() == "folder").Clone();

    /// <summary>Polls until <paramref name="condition"/> holds; returns how long it took, or fails after <paramref name="limit"/>.</summary>
    public static async Task<TimeSpan> Within(TimeSpan limit, Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            if (await condition()) return watch.Elapsed;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"Not within {limit.TotalSeconds} s: {what}");
    }

    public sealed record Prediction(string Label, double Confidence, int X1, int Y1, int X2, int Y2);

    public static Prediction[] Predictions(JsonElement json) => json.GetProperty("predictions").EnumerateArray()
        .Select(p => new Prediction(p.GetProperty("label").GetString()!, p.GetProperty("confidence").GetDouble(),
            p.GetProperty("x_min").GetInt32(), p.GetProperty("y_min").GetInt32(), p.GetProperty("x_max").GetInt32(), p.GetProperty("y_max").GetInt32()))
        .ToArray();

    /// <summary>Same objects in the same order, scores within 0.005 and boxes within 1 px: the answer of that model.</summary>
    public static bool Same(Prediction[] a, Prediction[] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.Label == p.Second.Label && Math.Abs(p.First.Confidence - p.Second.Confidence) <= 0.005
            && Math.Abs(p.First.X1 - p.Second.X1) <= 1 && Math.Abs(p.First.Y1 - p.Second.Y1) <= 1
            && Math.Abs(p.First.X2 - p.Second.X2) <= 1 && Math.Abs(p.First.Y2 - p.Second.Y2) <= 1);

    public static string Show(Prediction[] p) => string.Join("; ", p.Select(x => $"{x.Label} {x.Confidence:0.000} ({x.X1},{x.Y1},{x.X2},{x.Y2})"));
}

public sealed class ModelsFolderTests(ModelsFolderFixture folders, ITestOutputHelper output) : IClassFixture<ModelsFolderFixture>
{
    private static readonly TimeSpan FiveSeconds = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_model_copied_in_is_listed_and_answers_within_5_s()
    {
        var folder = folders.NewFolder("added");
        await using var server = await FolderModels.StartAsync(folder);
        Assert.DoesNotContain("porch", await FolderModels.CustomList(server.Client));
        var (before, _) = await FolderModels.DeepStack(server.Client, "porch", TestAssets.Bytes("dog.jpg"));
        Assert.Equal(HttpStatusCode.NotFound, before);

        var copied = Stopwatch.StartNew();
        FolderModels.Place(FolderModels.Nano, folder, "porch.onnx");
        HttpStatusCode status = default;
        JsonElement json = default;
        await FolderModels.Within(FiveSeconds, async () =>
        {
            (status, json) = await FolderModels.DeepStack(server.Client, "porch", TestAssets.Bytes("dog.jpg"));
            return status == HttpStatusCode.OK;
        }, "porch.onnx answers");
        output.WriteLine($"copied in → answered in {copied.ElapsedMilliseconds} ms");

        Assert.Contains("dog", FolderModels.Predictions(json).Select(p => p.Label));
        Assert.Contains("porch", await FolderModels.CustomList(server.Client));
        var listed = await FolderModels.Listed(server.Client, "porch");
        Assert.Equal("loaded", listed.GetProperty("state").GetString());
        Assert.Equal("yolox", listed.GetProperty("family").GetString());
        Assert.Equal(416, listed.GetProperty("input_width").GetInt32());
        Assert.Equal(Path.Combine(folder, "porch.onnx"), listed.GetProperty("path").GetString());
        // Names match case-insensitively, on every route.
        Assert.Equal(HttpStatusCode.OK, (await FolderModels.DeepStack(server.Client, "PORCH", TestAssets.Bytes("dog.jpg"))).Status);
        using var api = await server.Client.PostAsync("/api/v1/detect?model=Porch", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task A_model_replaced_under_8_clients_gives_no_errors_and_each_answer_wholly_old_or_new()
    {
        var folder = folders.NewFolder("replaced");
        FolderModels.Place(FolderModels.Nano, folder, "cam.onnx");
        FolderModels.Place(FolderModels.Nano, folder, "ref-old.onnx");
        FolderModels.Place(FolderModels.Yolov8n, folder, "ref-new.onnx");
        await using var server = await FolderModels.StartAsync(folder);
        var dog = TestAssets.Bytes("dog.jpg");
        await FolderModels.Within(FiveSeconds, async () => (await FolderModels.CustomList(server.Client)).Contains("ref-new"), "the folder's models are listed");
        var old = FolderModels.Predictions((await FolderModels.DeepStack(server.Client, "ref-old", dog)).Json);
        var @new = FolderModels.Predictions((await FolderModels.DeepStack(server.Client, "ref-new", dog)).Json);
        Assert.False(FolderModels.Same(old, @new), "the two models must answer differently for the test to tell them apart");

        var answers = new System.Collections.Concurrent.ConcurrentBag<(HttpStatusCode Status, string Body, FolderModels.Prediction[]? Predictions, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.PostAsync("/v1/vision/custom/cam", LookoutTestServer.Form("image", dog));
                var body = await response.Content.ReadAsStringAsync();
                answers.Add((response.StatusCode, body, response.IsSuccessStatusCode ? FolderModels.Predictions(JsonDocument.Parse(body).RootElement) : null, clock.Elapsed));
            }
        })).ToArray();

        await Task.Delay(1500);
        FolderModels.Place(FolderModels.Yolov8n, folder, "cam.onnx");
        var replacedAt = clock.Elapsed;
        await FolderModels.Within(TimeSpan.FromSeconds(20), () => Task.FromResult(answers.Count(a => a.Predictions is { } p && FolderModels.Same(p, @new)) >= 16),
            "answers from the new model");
        var firstNew = answers.Where(a => a.Predictions is { } p && FolderModels.Same(p, @new)).Min(a => a.At);
        output.WriteLine($"replaced → first answer from the new model {(firstNew - replacedAt).TotalMilliseconds:0} ms later");
        stop.Cancel();
        await Task.WhenAll(clients);

        var failed = answers.Where(a => a.Status != HttpStatusCode.OK).ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} of {answers.Count} failed, e.g. {failed.FirstOrDefault().Status} {failed.FirstOrDefault().Body}");
        int fromOld = answers.Count(a => FolderModels.Same(a.Predictions!, old));
        int fromNew = answers.Count(a => FolderModels.Same(a.Predictions!, @new));
        output.WriteLine($"{answers.Count} answers: {fromOld} from the old model, {fromNew} from the new one");
        var mixed = answers.FirstOrDefault(a => !FolderModels.Same(a.Predictions!, old) && !FolderModels.Same(a.Predictions!, @new));
        Assert.True(fromOld + fromNew == answers.Count, $"an answer from neither model: {FolderModels.Show(mixed.Predictions ?? [])}; old {FolderModels.Show(old)}; new {FolderModels.Show(@new)}");
        Assert.True(fromOld > 0 && fromNew > 0, $"old {fromOld}, new {fromNew}");
        var listed = await FolderModels.Listed(server.Client, "cam");
        Assert.Equal(0, listed.GetProperty("active_requests").GetInt32());
        Assert.Equal("ultralytics", listed.GetProperty("family").GetString());
    }

    [Fact]
    public async Task A_model_removed_answers_404_in_each_routes_shape_within_5_s()
    {
        var folder = folders.NewFolder("removed");
        FolderModels.Place(FolderModels.Nano, folder, "gone.onnx");
        await using var server = await FolderModels.StartAsync(folder);
        var dog = TestAssets.Bytes("dog.jpg");
        Assert.Equal(HttpStatusCode.OK, (await FolderModels.DeepStack(server.Client, "gone", dog)).Status);

        File.Delete(Path.Combine(folder, "gone.onnx"));
        JsonElement json = default;
        var took = await FolderModels.Within(FiveSeconds, async () =>
        {
            HttpStatusCode status;
            (status, json) = await FolderModels.DeepStack(server.Client, "gone", dog);
            return status == HttpStatusCode.NotFound;
        }, "gone answers 404");
        output.WriteLine($"removed → 404 in {took.TotalMilliseconds:0} ms");

        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal("Custom model 'gone' not found", json.GetProperty("error").GetString());
        using var api = await server.Client.PostAsync("/api/v1/detect?model=gone", LookoutTestServer.Form("image", dog));
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
        Assert.Contains("gone", JsonDocument.Parse(await api.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("gone", await FolderModels.CustomList(server.Client));
    }

    [Fact]
    public async Task Unusable_files_are_listed_with_their_reason_answer_a_json_error_and_leave_the_others_working()
    {
        var folder = folders.NewFolder("corrupt");
        var nano = await File.ReadAllBytesAsync(FolderModels.Nano);
        await File.WriteAllBytesAsync(Path.Combine(folder, "truncated.onnx"), nano[..(nano.Length / 3)]);
        await File.WriteAllTextAsync(Path.Combine(folder, "notonnx.onnx"), "this is a text file, not a model\n");
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1.cfg"), Path.Combine(folder, "misfit.cfg"));
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1-xl.weights"), Path.Combine(folder, "misfit.weights"));
        File.Copy(TestAssets.PathOf("yolo-fastest-1.1.cfg"), Path.Combine(folder, "noweights.cfg"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "twoinputs.onnx"), TinyOnnx.TwoInputs());
        await File.WriteAllBytesAsync(Path.Combine(folder, "classifier.onnx"), TinyOnnx.NotADetector());
        File.Copy(FolderModels.Nano, Path.Combine(folder, "yolox-nano.onnx"));
        File.Copy(FolderModels.Nano, Path.Combine(folder, "fine.onnx"));
        // Old enough to be taken at start-up without waiting for the stability check.
        foreach (var f in Directory.GetFiles(folder)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        await using var server = await FolderModels.StartAsync(folder);
        var dog = TestAssets.Bytes("dog.jpg");

        foreach (var (name, reason) in new[] { ("truncated", "truncated.onnx"), ("notonnx", "notonnx.onnx"), ("misfit", "weights"), ("noweights", "no 'noweights.weights'"),
                     ("twoinputs", "has 2 inputs"), ("classifier", "not a detector layout") })
        {
            var (status, json) = await FolderModels.DeepStack(server.Client, name, dog);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.False(json.GetProperty("success").GetBoolean());
            var error = json.GetProperty("error").GetString()!;
            Assert.Contains($"Model '{name}' cannot be used", error);
            var listed = await FolderModels.Listed(server.Client, name);
            Assert.Equal("error", listed.GetProperty("state").GetString());
            var listedReason = listed.GetProperty("error").GetString()!;
            Assert.Contains(listedReason, error);
            output.WriteLine($"{name}: {listedReason}");
            if (name != "truncated" && name != "notonnx") Assert.Contains(reason, listedReason);
            using var api = await server.Client.PostAsync("/api/v1/detect?model=" + name, LookoutTestServer.Form("image", dog));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
            Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
        }
        Assert.DoesNotContain("truncated", await FolderModels.CustomList(server.Client));

        // The catalogue keeps its name: the folder file is listed as refused, the route answers from the catalogue.
        var clash = await FolderModels.Listed(server.Client, "yolox-nano");
        Assert.Equal("error", clash.GetProperty("state").GetString());
        Assert.Contains("catalogue", clash.GetProperty("error").GetString());

        // Everything else keeps working.
        Assert.Equal(HttpStatusCode.OK, (await FolderModels.DeepStack(server.Client, "fine", dog)).Status);
        Assert.Equal(HttpStatusCode.OK, (await FolderModels.DeepStack(server.Client, "yolox-nano", dog)).Status);
        using var detection = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog));
        Assert.Equal(HttpStatusCode.OK, detection.StatusCode);
        using var ready = await server.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("healthy", checks["default-model"]);
        Assert.Equal("degraded", checks["models"]);
    }

    [Fact]
    public async Task Names_that_are_paths_are_refused_and_a_link_out_of_the_folder_is_never_served()
    {
        var folder = folders.NewFolder("traversal");
        var outside = folders.NewFolder("outside");
        File.Copy(FolderModels.Nano, Path.Combine(outside, "secret.onnx"));
        File.CreateSymbolicLink(Path.Combine(folder, "escape.onnx"), Path.Combine(outside, "secret.onnx"));
        FolderModels.Place(FolderModels.Nano, folder, "inside.onnx");
        await using var server = await FolderModels.StartAsync(folder);
        var dog = TestAssets.Bytes("dog.jpg");
        await FolderModels.Within(FiveSeconds, async () => (await FolderModels.CustomList(server.Client)).Contains("inside"), "inside is listed");

        Assert.Equal(HttpStatusCode.NotFound, (await FolderModels.DeepStack(server.Client, "escape", dog)).Status);
        Assert.DoesNotContain("escape", await FolderModels.CustomList(server.Client));
        var all = await server.Client.GetStringAsync("/api/v1/models");
        Assert.DoesNotContain("escape", all);
        Assert.DoesNotContain("secret", all);

        foreach (var name in new[] { "..%2F..%2Fetc%2Fpasswd", "..", "%2E%2E", "a%5Cb", "..%5Cinside", "inside%00", "%2Fetc%2Fpasswd", "secret" })
        {
            var (status, json) = await FolderModels.DeepStack(server.Client, name, dog);
            Assert.True(status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{name}: {status}");
            if (json.ValueKind == JsonValueKind.Object) Assert.False(json.GetProperty("success").GetBoolean());
        }
        foreach (var (query, expected) in new[]
        {
            ("../../etc/passwd", HttpStatusCode.BadRequest), ("..%2Finside", HttpStatusCode.BadRequest), ("a%5Cb", HttpStatusCode.BadRequest),
            ("inside%00", HttpStatusCode.BadRequest), ("/etc/passwd", HttpStatusCode.BadRequest), (Path.Combine(outside, "secret.onnx"), HttpStatusCode.BadRequest),
            ("secret", HttpStatusCode.NotFound), ("escape", HttpStatusCode.NotFound),
        })
        {
            using var response = await server.Client.PostAsync("/api/v1/detect?model=" + query, LookoutTestServer.Form("image", dog));
            Assert.True(response.StatusCode == expected, $"model={query}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }
        Assert.Equal(HttpStatusCode.OK, (await FolderModels.DeepStack(server.Client, "inside", dog)).Status);
    }
}

/// <summary>Process-wide memory figures: alone, after the parallel tests.</summary>
[Collection(IsolatedCollection.Name)]
public sealed class ModelEvictionTests(ModelsFolderFixture folders, ITestOutputHelper output) : IClassFixture<ModelsFolderFixture>
{
    [Fact]
    public async Task With_MaxLoadedModels_1_two_models_alternate_correctly_and_20_load_evict_cycles_keep_memory_flat()
    {
        var folder = folders.NewFolder("evict");
        FolderModels.Place(FolderModels.Nano, folder, "alpha.onnx");
        FolderModels.Place(FolderModels.Yolov8n, folder, "beta.onnx");
        foreach (var f in Directory.GetFiles(folder)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        await using var server = await FolderModels.StartAsync(folder, maxLoaded: 1);
        var dog = TestAssets.Bytes("dog.jpg");

        async Task<FolderModels.Prediction[]> Use(string name)
        {
            var (status, json) = await FolderModels.DeepStack(server.Client, name, dog);
            Assert.True(status == HttpStatusCode.OK, $"{name}: {status} {json}");
            return FolderModels.Predictions(json);
        }
        var alpha = await Use("alpha");
        var beta = await Use("beta");
        Assert.Contains("dog", alpha.Select(p => p.Label));
        Assert.Contains("truck", beta.Select(p => p.Label)); // YOLOv8n also finds the truck at DeepStack's 0.40
        Assert.False(FolderModels.Same(alpha, beta));

        long Rss()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return SoakRunner.RssOf(Environment.ProcessId);
        }
        var rss = new List<long>();
        var watch = Stopwatch.StartNew();
        for (int cycle = 1; cycle <= 20; cycle++)
        {
            Assert.True(FolderModels.Same(await Use("alpha"), alpha), $"cycle {cycle}: alpha answered differently");
            Assert.True(FolderModels.Same(await Use("beta"), beta), $"cycle {cycle}: beta answered differently");
            var models = JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/models")).RootElement;
            Assert.Equal(1, models.GetProperty("loaded_count").GetInt32());
            rss.Add(Rss());
        }
        var perCycle = watch.Elapsed.TotalMilliseconds / 20;
        // The first cycles settle allocator pools; a leaked session (tens of MB each) would show as steady growth after.
        long settled = rss[2], last = rss[^1];
        output.WriteLine("RSS per cycle (MiB): " + string.Join(", ", rss.Select(r => r / 1048576)));
        output.WriteLine($"RSS after cycle 1 {rss[0] / 1048576.0:0} MiB, 3 {settled / 1048576.0:0} MiB, 10 {rss[9] / 1048576.0:0} MiB, 20 {last / 1048576.0:0} MiB " +
                         $"(growth 3→20: {(last - settled) / 1048576.0:0.0} MiB); {perCycle:0} ms per cycle (two loads, two evictions, two detections)");
        Assert.True(last - settled < 48L * 1048576, $"resident memory grew {(last - settled) / 1048576.0:0.0} MiB over 17 load/evict cycles: {string.Join(", ", rss.Select(r => r / 1048576))} MiB");

        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("lookout_models_loaded 1", metrics);
        Assert.Contains("lookout_model_state{model=\"beta\",origin=\"folder\",state=\"loaded\"} 1", metrics);
        Assert.Contains("lookout_model_state{model=\"alpha\",origin=\"folder\",state=\"available\"} 1", metrics);
    }
}
