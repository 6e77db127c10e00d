using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Lookout.Detection.Assets;

/// <summary>Where an asset was found, so users can see which copy is in use.</summary>
public enum AssetSource { ExplicitPath, AssetDirectory, UserCache, Downloaded }

public sealed record ResolvedAsset(AssetInfo Info, string Path, AssetSource Source);

/// <summary>Where a catalogue model is on this machine: its first file as found (null when missing) and the bytes still to download.</summary>
public sealed record ModelLocation(ResolvedAsset? Main, long MissingBytes)
{
    public bool Complete => MissingBytes == 0;

    /// <summary>The one line `models list` and /api/v1/models show: the path, "cached", or what getting it takes.</summary>
    public string Describe(bool downloadsEnabled) => MissingBytes > 0
        ? (downloadsEnabled ? $"download {Math.Max(1, (long)Math.Round(MissingBytes / 1e6))} MB" : "missing (downloads are off)")
        : Main!.Source == AssetSource.UserCache ? "cached" : Main.Path;
}

/// <summary>Progress of a download: bytes so far and the pinned total.</summary>
public readonly record struct DownloadProgress(string AssetName, long BytesReceived, long TotalBytes);

public sealed class AssetStoreOptions
{
    /// <summary>Environment variable holding extra asset directories, separated by the platform's path separator (':' on Linux).</summary>
    public const string AssetDirsVariable = "LOOKOUT_ASSET_DIRS";

    /// <summary>Environment variable overriding the user cache directory.</summary>
    public const string CacheDirVariable = "LOOKOUT_CACHE_DIR";

    /// <summary>Directories searched before the cache, in order (configuration first, then the environment variable).</summary>
    public List<string> AssetDirectories { get; set; } = [];

    /// <summary>The user cache; null means $LOOKOUT_CACHE_DIR, else $XDG_CACHE_HOME/lookout, else ~/.cache/lookout.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Whether a missing asset may be downloaded from its pinned address.</summary>
    public bool AllowDownload { get; set; } = true;

    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Options read from the environment alone, as the CLI and server start with before their own settings.</summary>
    public static AssetStoreOptions FromEnvironment()
    {
        var options = new AssetStoreOptions();
        options.AssetDirectories.AddRange(SplitDirectories(Environment.GetEnvironmentVariable(AssetDirsVariable)));
        options.CacheDirectory = Environment.GetEnvironmentVariable(CacheDirVariable) is { Length: > 0 } c ? c : null;
        return options;
    }

    public static IEnumerable<string> SplitDirectories(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal string ResolveCacheDirectory()
    {
        if (!string.IsNullOrWhiteSpace(CacheDirectory)) return CacheDirectory;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "lookout");
    }
}

/// <summary>The asset could not be found anywhere; the message names every place looked at and how to provide it.</summary>
public sealed class AssetNotFoundException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Finds pinned external files (models, sample images). Lookup order: an explicit path → the configured
/// asset directories → the user cache → a verified download into the cache. A copy is used only when its
/// size and SHA-256 match the manifest, so a corrupt or stale file is never used silently.
/// </summary>
public sealed class AssetStore
{
    private readonly AssetStoreOptions _options;
    private readonly HttpClient? _http;
    // Hashing a 250 MB weights file costs seconds; remember verified copies by path, size and mtime.
    private readonly ConcurrentDictionary<string, (long Size, DateTime Mtime)> _verified = new();

    public AssetStore(AssetStoreOptions? options = null, AssetManifest? manifest = null, HttpClient? http = null)
    {
        _options = options ?? AssetStoreOptions.FromEnvironment();
        Manifest = manifest ?? AssetManifest.BuiltIn;
        _http = http;
    }

    public AssetManifest Manifest { get; }
    public string CacheDirectory => _options.ResolveCacheDirectory();
    public IReadOnlyList<string> AssetDirectories => _options.AssetDirectories;
    public bool AllowDownload => _options.AllowDownload;

    public event Action<DownloadProgress>? DownloadProgressChanged;

    /// <summary>Looks for an asset without downloading it; null when no verified copy exists locally.</summary>
    public ResolvedAsset? TryFindLocal(string name)
    {
        var info = Manifest.FindAsset(name) ?? throw new ArgumentException($"'{name}' is not an asset the manifest knows.", nameof(name));
        return FindLocal(info, new List<string>());
    }

    /// <summary>Where a catalogue model's files are here (each file looked up as <see cref="TryFindLocal"/> does).</summary>
    public ModelLocation Locate(ModelInfo model)
    {
        var files = model.Files.Values.Distinct().Select(f => (Info: Manifest.FindAsset(f)!, Local: TryFindLocal(f))).ToArray();
        return new ModelLocation(files[0].Local, files.Where(f => f.Local is null).Sum(f => f.Info.Size));
    }

    /// <summary>Finds the asset, downloading it if allowed; throws <see cref="AssetNotFoundException"/> otherwise.</summary>
    public async Task<ResolvedAsset> ResolveAsync(string name, string? explicitPath = null, CancellationToken cancellationToken = default)
    {
        var info = Manifest.FindAsset(name) ?? throw new AssetNotFoundException(
            $"'{name}' is not an asset Lookout knows. Known assets: {string.Join(", ", Manifest.Assets.Select(a => a.Name))}.");

        var looked = new List<string>();
        if (explicitPath is not null)
        {
            if (IsVerified(info, explicitPath, looked)) return new ResolvedAsset(info, Path.GetFullPath(explicitPath), AssetSource.ExplicitPath);
        }

        if (FindLocal(info, looked) is { } local) return local;

        string? downloadError = null;
        if (_options.AllowDownload)
        {
            try
            {
                var path = await DownloadAsync(info, cancellationToken).ConfigureAwait(false);
                return new ResolvedAsset(info, path, AssetSource.Downloaded);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                downloadError = ex.Message;
            }
        }

        throw new AssetNotFoundException(DescribeMissing(info, looked, downloadError));
    }

    /// <summary>Synchronous convenience for start-up code.</summary>
    public ResolvedAsset Resolve(string name, string? explicitPath = null) =>
        ResolveAsync(name, explicitPath).GetAwaiter().GetResult();

    private ResolvedAsset? FindLocal(AssetInfo info, List<string> looked)
    {
        foreach (var dir in _options.AssetDirectories)
        {
            var candidate = Path.Combine(dir, info.Name);
            if (IsVerified(info, candidate, looked)) return new ResolvedAsset(info, Path.GetFullPath(candidate), AssetSource.AssetDirectory);
        }

        var cached = Path.Combine(CacheDirectory, info.Name);
        if (IsVerified(info, cached, looked)) return new ResolvedAsset(info, cached, AssetSource.UserCache);
        if (File.Exists(cached))
        {
            // A cached copy that fails its check is ours to replace: delete it so the download writes a good one.
            TryDelete(cached);
            looked[^1] += " (deleted: it failed its check and will be downloaded again)";
        }
        return null;
    }

    private bool IsVerified(AssetInfo info, string path, List<string> looked)
    {
        if (!File.Exists(path))
        {
            looked.Add($"{path} (not there)");
            return false;
        }
        var file = new FileInfo(path);
        if (file.Length != info.Size)
        {
            looked.Add($"{path} (wrong size: {file.Length} bytes, expected {info.Size})");
            return false;
        }
        var key = file.FullName;
        if (_verified.TryGetValue(key, out var seen) && seen.Size == file.Length && seen.Mtime == file.LastWriteTimeUtc) return true;

        var actual = ComputeSha256(path);
        if (!string.Equals(actual, info.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            looked.Add($"{path} (wrong SHA-256: {actual}, expected {info.Sha256})");
            return false;
        }
        _verified[key] = (file.Length, file.LastWriteTimeUtc);
        return true;
    }

    private async Task<string> DownloadAsync(AssetInfo info, CancellationToken cancellationToken)
    {
        var cacheDir = CacheDirectory;
        Directory.CreateDirectory(cacheDir);
        var target = Path.Combine(cacheDir, info.Name);
        // A unique partial name lets two processes download at once; the rename makes the file appear whole or not at all.
        var partial = Path.Combine(cacheDir, $".{info.Name}.{Guid.NewGuid():N}.partial");
        var http = _http ?? SharedHttp.Value;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.DownloadTimeout);
            using var response = await http.GetAsync(info.Url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await using (var source = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false))
            await using (var sink = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                long received = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                {
                    received += read;
                    if (received > info.Size)
                        throw new InvalidDataException($"{info.Url} sent more than the pinned {info.Size} bytes.");
                    sha.AppendData(buffer, 0, read);
                    await sink.WriteAsync(buffer.AsMemory(0, read), timeout.Token).ConfigureAwait(false);
                    DownloadProgressChanged?.Invoke(new DownloadProgress(info.Name, received, info.Size));
                }
                if (received != info.Size)
                    throw new InvalidDataException($"{info.Url} sent {received} bytes; the pinned size is {info.Size}.");
                var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (actual != info.Sha256)
                    throw new InvalidDataException($"{info.Url} sent bytes with SHA-256 {actual}; the pinned value is {info.Sha256}.");
            }
            File.Move(partial, target, overwrite: true);
            return target;
        }
        finally
        {
            TryDelete(partial);
        }
    }

    private string DescribeMissing(AssetInfo info, List<string> looked, string? downloadError)
    {
        var lines = new List<string>
        {
            $"Asset '{info.Name}' ({info.Description}; {info.Size} bytes, SHA-256 {info.Sha256}) was not found.",
            "Looked at:",
        };
        lines.AddRange(looked.Select((l, i) => $"  {i + 1}. {l}"));
        if (_options.AssetDirectories.Count == 0)
            lines.Add($"  (no asset directories configured: set {AssetStoreOptions.AssetDirsVariable} or the AssetDirectories setting)");
        lines.Add(_options.AllowDownload
            ? $"Download from {info.Url} failed: {downloadError}"
            : "Downloads are turned off.");
        lines.Add($"To provide it: download {info.Url} into {CacheDirectory}, or put it in a folder named by {AssetStoreOptions.AssetDirsVariable}.");
        return string.Join(Environment.NewLine, lines);
    }

    internal static string ComputeSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient { Timeout = Timeout.InfiniteTimeSpan });
}
