using System.Net;
using System.Security.Cryptography;
using Lookout.Detection.Assets;
using Lookout.Detection.Tests.Support;

namespace Lookout.Detection.Tests;

/// <summary>The asset store's lookup order, verification and download, against a real HTTP server on loopback.</summary>
public sealed class AssetStoreTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("lookout-assets-");
    private readonly byte[] _names = File.ReadAllBytes(TestAssets.PathOf("coco.names"));

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root.FullName, name)).FullName;

    private AssetManifest ManifestFor(string url, byte[]? pinned = null)
    {
        var bytes = pinned ?? _names;
        return new AssetManifest([new AssetInfo("labels.txt", bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), url, "-", "test labels")], []);
    }

    [Fact]
    public async Task A_verified_copy_in_an_asset_directory_is_used_first()
    {
        var dir = Dir("assets");
        await File.WriteAllBytesAsync(Path.Combine(dir, "labels.txt"), _names);
        var store = new AssetStore(new AssetStoreOptions { AssetDirectories = [dir], CacheDirectory = Dir("cache"), AllowDownload = false },
            ManifestFor("http://127.0.0.1:9/never"));

        var found = await store.ResolveAsync("labels.txt");

        Assert.Equal(AssetSource.AssetDirectory, found.Source);
        Assert.Equal(Path.Combine(dir, "labels.txt"), found.Path);
    }

    [Fact]
    public async Task A_missing_asset_names_the_file_every_place_looked_and_how_to_provide_it()
    {
        var dir = Dir("assets");
        await File.WriteAllBytesAsync(Path.Combine(dir, "labels.txt"), _names[..10]); // wrong size: not used
        var cache = Dir("cache");
        var store = new AssetStore(new AssetStoreOptions { AssetDirectories = [dir], CacheDirectory = cache, AllowDownload = false },
            ManifestFor("https://example.invalid/labels.txt"));

        var error = await Assert.ThrowsAsync<AssetNotFoundException>(() => store.ResolveAsync("labels.txt"));

        Assert.Contains("'labels.txt'", error.Message);
        Assert.Contains($"{Path.Combine(dir, "labels.txt")} (wrong size: 10 bytes", error.Message);
        Assert.Contains($"{Path.Combine(cache, "labels.txt")} (not there)", error.Message);
        Assert.Contains("Downloads are turned off", error.Message);
        Assert.Contains("https://example.invalid/labels.txt", error.Message);
        Assert.Contains("LOOKOUT_ASSET_DIRS", error.Message);
    }

    [Fact]
    public async Task A_download_is_verified_reported_and_moved_into_the_cache_whole()
    {
        using var server = new LoopbackFileServer(_names);
        var cache = Dir("cache");
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = cache }, ManifestFor(server.Url));
        var progress = new List<DownloadProgress>();
        store.DownloadProgressChanged += progress.Add;

        var got = await store.ResolveAsync("labels.txt");

        Assert.Equal(AssetSource.Downloaded, got.Source);
        Assert.Equal(_names, await File.ReadAllBytesAsync(got.Path));
        Assert.Equal(_names.Length, progress[^1].BytesReceived);
        Assert.Equal(["labels.txt"], Directory.GetFiles(cache).Select(Path.GetFileName));  // no .partial left
        Assert.Equal(AssetSource.UserCache, (await store.ResolveAsync("labels.txt")).Source);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_corrupt_cached_copy_is_detected_and_replaced_never_used()
    {
        using var server = new LoopbackFileServer(_names);
        var cache = Dir("cache");
        var corrupt = (byte[])_names.Clone();
        corrupt[5] ^= 0xFF; // same size, different bytes
        await File.WriteAllBytesAsync(Path.Combine(cache, "labels.txt"), corrupt);
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = cache }, ManifestFor(server.Url));

        var got = await store.ResolveAsync("labels.txt");

        Assert.Equal(AssetSource.Downloaded, got.Source);
        Assert.Equal(_names, await File.ReadAllBytesAsync(got.Path));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Bytes_that_do_not_match_the_pin_are_refused_and_not_kept()
    {
        var other = "not the pinned file at all\n"u8.ToArray();
        using var server = new LoopbackFileServer(other.Concat(new byte[_names.Length - other.Length]).ToArray());
        var cache = Dir("cache");
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = cache }, ManifestFor(server.Url));

        var error = await Assert.ThrowsAsync<AssetNotFoundException>(() => store.ResolveAsync("labels.txt"));

        Assert.Contains("SHA-256", error.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task A_server_error_is_reported_with_the_address()
    {
        using var server = new LoopbackFileServer(null);
        var store = new AssetStore(new AssetStoreOptions { CacheDirectory = Dir("cache") }, ManifestFor(server.Url));

        var error = await Assert.ThrowsAsync<AssetNotFoundException>(() => store.ResolveAsync("labels.txt"));

        Assert.Contains(server.Url, error.Message);
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public void The_built_in_manifest_pins_every_model_file()
    {
        var manifest = AssetManifest.BuiltIn;
        Assert.All(manifest.Models, m => Assert.All(m.Files.Values, f => Assert.NotNull(manifest.FindAsset(f))));
        Assert.All(manifest.Assets, a =>
        {
            Assert.Matches("^[0-9a-f]{64}$", a.Sha256);
            Assert.StartsWith("https://", a.Url);
            Assert.True(a.Size > 0);
        });
        Assert.Equal(3713911, manifest.FindAsset("yolox_nano.onnx")!.Size);
    }

    public void Dispose() => _root.Delete(true);
}
