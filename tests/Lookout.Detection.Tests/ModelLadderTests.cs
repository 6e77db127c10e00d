using System.Security.Cryptography;
using Lookout.Detection.Assets;
using Lookout.Detection.Models;
using Lookout.Detection.Postprocessing;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

/// <summary>
/// The YOLOX ladder in the catalogue (facts from ../shared/ASSETS.md), the 640 head those files need, and the
/// background download a server starts for them, against a loopback server with a stand-in payload: the real
/// files cannot be downloaded here.
/// </summary>
public sealed class ModelLadderTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("lookout-ladder-");

    [Theory]
    [InlineData("yolox-nano", "yolox_nano.onnx", 416, 25.8, 3713911L, "d39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a")]
    [InlineData("yolox-tiny", "yolox_tiny.onnx", 416, 32.8, 20219662L, "427cc366d34e27ff7a03e2899b5e3671425c262ea2291f88bb942bc1cc70b0f7")]
    [InlineData("yolox-s", "yolox_s.onnx", 640, 40.5, 35858002L, "c5c2d13e59ae883e6af3b45daea64af4833a4951c92d116ec270d9ddbe998063")]
    [InlineData("yolox-m", "yolox_m.onnx", 640, 46.9, 101259744L, "21ff6cfdeb53b013bac2249599e55f00bff3cfdfdab37ed7a4620818c1d15b3f")]
    public void The_yolox_ladder_is_in_the_catalogue_with_its_published_facts(string name, string file, int input, double ap, long size, string sha256)
    {
        var manifest = AssetManifest.BuiltIn;
        var model = manifest.FindModel(name)!;
        Assert.Equal("yolox", model.Family);
        Assert.Equal(input, model.InputSize);
        Assert.Equal(ap, model.CocoAp);
        Assert.Equal("Apache-2.0", manifest.LicenceOf(model));
        Assert.Equal(file, model.Files["onnx"]);
        var asset = manifest.FindAsset(file)!;
        Assert.Equal(size, asset.Size);
        Assert.Equal(sha256, asset.Sha256);
        Assert.Equal(size, manifest.TotalSize(model));
        if (name != "yolox-nano")
            Assert.Equal($"https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/{file}", asset.Url);
    }

    [Fact]
    public void Yolov3_pairs_count_their_shared_weights_once_and_the_default_stays_yolox_nano()
    {
        var manifest = AssetManifest.BuiltIn;
        var v3 = manifest.FindModel("yolov3-608")!;
        Assert.Equal(8342 + 248007048 + 625, manifest.TotalSize(v3));
        Assert.Equal(33.0, v3.CocoAp);
        Assert.Equal("yolox-nano", ModelCatalog.DefaultModelName);
    }

    [Fact]
    public void A_yolox_head_at_640_decodes_hand_made_rows_on_all_three_strides()
    {
        // 640: 80² + 40² + 20² = 8400 rows of 85 (tx, ty, tw, th, obj, 80 classes).
        var head = Assert.IsType<YoloxHead>(OutputLayout.Recognise([1, 8400, 85], 640, 640, "yolox"));
        Assert.Equal(8400, head.AnchorCount);
        Assert.Equal(80, head.ClassCount);
        var output = new float[8400 * 85];
        void Row(int index, float tx, float ty, float tw, float th, float obj, int cls, float clsScore)
        {
            var r = output.AsSpan(index * 85, 85);
            r[0] = tx; r[1] = ty; r[2] = tw; r[3] = th; r[4] = obj; r[5 + cls] = clsScore;
        }
        // Stride 8, cell (x 10, y 20): row 20·80 + 10.
        Row(20 * 80 + 10, 0.5f, 0.5f, MathF.Log(4), MathF.Log(2), 0.9f, 0, 0.8f);
        // Stride 16, cell (x 39, y 0): after the 6400 stride-8 rows.
        Row(6400 + 39, 0f, 0.25f, 0f, 0f, 0.7f, 16, 1.0f);
        // Stride 32, cell (x 3, y 19), the last row of the grid's bottom line region: after 6400 + 1600 rows.
        Row(8000 + 19 * 20 + 3, 0.5f, 0.5f, MathF.Log(10), MathF.Log(5), 0.95f, 79, 0.9f);
        // Below the threshold once multiplied (0.5 × 0.5 = 0.25 < 0.3): dropped.
        Row(100, 0f, 0f, 0f, 0f, 0.5f, 2, 0.5f);

        var sink = new List<Candidate>();
        head.Decode(output, 0.3f, null, sink);

        Assert.Equal(3, sink.Count);
        var a = sink.Single(c => c.ClassId == 0);
        Assert.Equal(0.72f, a.Score, 5);
        AssertBox(a.Box, (10.5f * 8) - 16, (20.5f * 8) - 8, (10.5f * 8) + 16, (20.5f * 8) + 8);
        var b = sink.Single(c => c.ClassId == 16);
        Assert.Equal(0.7f, b.Score, 5);
        AssertBox(b.Box, 39 * 16 - 8, 0.25f * 16 - 8, 39 * 16 + 8, 0.25f * 16 + 8);
        var c = sink.Single(c => c.ClassId == 79);
        Assert.Equal(0.855f, c.Score, 5);
        AssertBox(c.Box, 3.5f * 32 - 160, 19.5f * 32 - 80, 3.5f * 32 + 160, 19.5f * 32 + 80);
    }

    [Fact]
    public void A_yolox_file_with_the_416_grid_is_refused_at_640_with_the_expected_shape()
    {
        var error = Assert.Throws<UnsupportedModelException>(() => OutputLayout.Recognise([1, 3549, 85], 640, 640, "yolox"));
        Assert.Contains("[1,8400,5+C]", error.Message);
        Assert.Contains("[1,3549,85]", error.Message);
    }

    private static void AssertBox(BoundingBox box, float x1, float y1, float x2, float y2)
    {
        Assert.Equal(x1, box.X1, 3);
        Assert.Equal(y1, box.Y1, 3);
        Assert.Equal(x2, box.X2, 3);
        Assert.Equal(y2, box.Y2, 3);
    }

    [Fact]
    public async Task A_missing_model_downloads_once_in_the_background_for_every_caller_with_progress()
    {
        // Stand-in payload: the real YOLOX-Nano bytes served under the name of a ladder file (its real bytes are not here).
        var payload = TestAssets.Bytes("yolox_nano.onnx");
        using var server = new LoopbackFileServer(payload, "yolox_s.onnx", holdAfter: 1_000_000);
        var manifest = StandIn(server.Url, payload);
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = Path.Combine(_root.FullName, "cache") }, manifest);
        var downloads = new ModelDownloads(store);
        var info = manifest.FindModel("yolox-s")!;

        Assert.False(downloads.IsPresent(info));
        Assert.Null(downloads.StatusOf(info));
        var starts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => downloads.Start(info))));
        Assert.All(starts, s => Assert.Equal(payload.Length, s.TotalBytes));

        // Held after 1 MB: the progress shows it, and still only one request reached the server.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        ModelDownloadStatus? status;
        while ((status = downloads.StatusOf(info))!.BytesReceived < 1_000_000 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(status.Running);
        Assert.InRange(status.BytesReceived, 1_000_000, payload.Length - 1);
        Assert.Contains("MB", status.ToString());
        downloads.Start(info);
        Assert.Equal(1, server.Requests);

        server.Release();
        await downloads.WaitAsync(info, CancellationToken.None);
        Assert.True(downloads.IsPresent(info));
        status = downloads.StatusOf(info)!;
        Assert.False(status.Running);
        Assert.Equal(payload.Length, status.BytesReceived);
        Assert.Equal(100, status.Percent);
        Assert.Equal(1, server.Requests);

        // What was downloaded is a model the catalogue loads.
        using var catalog = new ModelCatalog(store, new InferenceSettings { IntraOpThreads = 1 });
        using var model = await catalog.OpenAsync(info);
        Assert.Equal(416, model.InputWidth);
    }

    [Fact]
    public async Task A_failed_download_is_reported_and_the_next_start_tries_again()
    {
        var payload = TestAssets.Bytes("coco.names");
        using var server = new LoopbackFileServer(null, "yolox_s.onnx");
        var manifest = StandIn(server.Url, payload);
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = Path.Combine(_root.FullName, "cache") }, manifest);
        var downloads = new ModelDownloads(store);
        var info = manifest.FindModel("yolox-s")!;

        await Assert.ThrowsAnyAsync<Exception>(() => downloads.WaitAsync(info, CancellationToken.None));
        var failed = downloads.StatusOf(info)!;
        Assert.False(failed.Running);
        Assert.Contains("404", failed.Error);
        Assert.Contains("failed", failed.ToString());

        await Assert.ThrowsAnyAsync<Exception>(() => downloads.WaitAsync(info, CancellationToken.None));
        Assert.Equal(2, server.Requests);
    }

    private static AssetManifest StandIn(string url, byte[] payload) => new(
        [new AssetInfo("yolox_s.onnx", payload.Length, Convert.ToHexStringLower(SHA256.HashData(payload)), url, "Apache-2.0 (YOLOX)", "stand-in")],
        [new ModelInfo("yolox-s", "yolox", new Dictionary<string, string> { ["onnx"] = "yolox_s.onnx" }, "stand-in", 640, 40.5, "Apache-2.0")]);

    public void Dispose() => _root.Delete(true);
}
