using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Lookout.Detection.Assets;
using Lookout.Detection.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lookout.Server.Tests;

/// <summary>
/// A catalogue model that must be downloaded first: the request starts one background download, answers 503 with
/// Retry-After and the progress, and the model answers once it is in. The real YOLOX-S cannot be downloaded here,
/// so its entry points at a loopback server sending a stand-in payload (YOLOX-Nano's bytes, pinned by their own hash).
/// </summary>
public sealed class CatalogueDownloadTests : IDisposable
{
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("lookout-download-");

    [Fact]
    public async Task A_missing_catalogue_model_downloads_once_in_the_background_answering_503_with_progress_until_it_is_in()
    {
        var payload = TestAssets.Bytes("yolox_nano.onnx");
        using var origin = new LoopbackFileServer(payload, "yolox_s.onnx", holdAfter: 1_000_000);
        var builtIn = AssetManifest.BuiltIn;
        var standIn = new AssetInfo("yolox_s.onnx", payload.Length, Convert.ToHexStringLower(SHA256.HashData(payload)), origin.Url, "Apache-2.0 (YOLOX)", "stand-in");
        var manifest = new AssetManifest(builtIn.Assets.Where(a => a.Name != "yolox_s.onnx").Append(standIn), builtIn.Models);
        var store = new AssetStore(new AssetStoreOptions { AssetDirectories = [.. TestAssets.AssetDirectories], CacheDirectory = _cache.FullName }, manifest);
        await using var server = await LookoutTestServer.StartAsync(configure: b => b.Services.AddSingleton(store));
        var dog = TestAssets.Bytes("dog.jpg");

        Assert.DoesNotContain("yolox-s", await FolderModels.CustomList(server.Client));
        var before = await Listed(server.Client, "yolox-s");
        Assert.Equal("downloadable", before.GetProperty("state").GetString());
        Assert.Equal("download 4 MB", before.GetProperty("location").GetString());
        Assert.Equal(640, before.GetProperty("input_size").GetInt32());
        Assert.Equal(40.5, before.GetProperty("coco_ap").GetDouble());
        Assert.Equal("Apache-2.0", before.GetProperty("licence").GetString());
        Assert.Equal(payload.Length, before.GetProperty("file_size").GetInt64());

        // Several requesters at once: every one is answered at once with 503, and one download starts.
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => server.Client.PostAsync("/v1/vision/custom/yolox-s", LookoutTestServer.Form("image", dog))));
        foreach (var response in first)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is set");
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.False(json.GetProperty("success").GetBoolean());
            Assert.Contains("'yolox-s' is being downloaded", json.GetProperty("error").GetString());
            Assert.Contains("MB", json.GetProperty("error").GetString());
        }
        using (var api = await server.Client.PostAsync("/api/v1/detect?model=yolox-s", LookoutTestServer.Form("image", dog)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
            Assert.NotNull(api.Headers.RetryAfter);
            var problem = JsonDocument.Parse(await api.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Model downloading", problem.GetProperty("title").GetString());
        }

        // The listing shows the progress (the loopback origin holds the body after 1 MB).
        JsonElement during = default;
        await FolderModels.Within(TimeSpan.FromSeconds(20), async () =>
        {
            during = await Listed(server.Client, "yolox-s");
            return during.GetProperty("download").GetProperty("bytes_received").GetInt64() >= 1_000_000;
        }, "the download's progress reaches 1 MB");
        Assert.Equal("downloading", during.GetProperty("state").GetString());
        Assert.True(during.GetProperty("download").GetProperty("running").GetBoolean());
        Assert.Equal(payload.Length, during.GetProperty("download").GetProperty("total_bytes").GetInt64());
        Assert.Equal(1, origin.Requests);

        origin.Release();
        HttpStatusCode status = default;
        await FolderModels.Within(TimeSpan.FromSeconds(30), async () =>
        {
            (status, _) = await FolderModels.DeepStack(server.Client, "yolox-s", dog);
            return status == HttpStatusCode.OK;
        }, "yolox-s answers once downloaded");
        Assert.Equal(1, origin.Requests);
        Assert.Contains("yolox-s", await FolderModels.CustomList(server.Client));
        var after = await Listed(server.Client, "yolox-s");
        Assert.Equal("loaded", after.GetProperty("state").GetString());
        Assert.Equal("cached", after.GetProperty("location").GetString());
        Assert.True(File.Exists(Path.Combine(_cache.FullName, "yolox_s.onnx")));
    }

    private static async Task<JsonElement> Listed(HttpClient client, string name) =>
        JsonDocument.Parse(await client.GetStringAsync("/api/v1/models")).RootElement.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == name).Clone();

    public void Dispose() => _cache.Delete(true);
}
