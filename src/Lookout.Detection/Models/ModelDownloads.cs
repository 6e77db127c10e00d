using System.Collections.Concurrent;
using Lookout.Detection.Assets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Detection.Models;

/// <summary>Where a catalogue model's download stands.</summary>
public sealed record ModelDownloadStatus(string Model, long BytesReceived, long TotalBytes, bool Running, string? Error)
{
    public double Percent => TotalBytes > 0 ? Math.Round(100.0 * BytesReceived / TotalBytes, 1) : 0;

    public override string ToString() => Error is not null && !Running
        ? $"the download of '{Model}' failed: {Error}"
        : $"'{Model}' is being downloaded: {BytesReceived / 1e6:0.0} of {TotalBytes / 1e6:0.0} MB ({Percent:0.#} %)";
}

/// <summary>A catalogue model is still being downloaded; the request should be retried later.</summary>
public sealed class ModelDownloadingException(ModelDownloadStatus status)
    : Exception($"Model {status}; try again in a few seconds.")
{
    public ModelDownloadStatus Status { get; } = status;
}

/// <summary>
/// Background downloads of catalogue models for a server: a request for a model whose files are missing starts
/// its download (once per file, whoever asks, so two models sharing yolov3.weights fetch it once) and returns at
/// once; callers read the progress instead of holding a request open for minutes.
/// </summary>
public sealed class ModelDownloads(AssetStore store, ILogger? logger = null)
{
    private readonly ConcurrentDictionary<string, AssetDownload> _assets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    private sealed class AssetDownload(long total)
    {
        public long Total { get; } = total;
        public long Received;
        public Task? Task;
    }

    /// <summary>Whether every file of the model is on this machine, verified.</summary>
    public bool IsPresent(ModelInfo info) => store.Locate(info).Complete;

    /// <summary>The download's progress, or null when none was ever started for this model.</summary>
    public ModelDownloadStatus? StatusOf(ModelInfo info)
    {
        var files = info.Files.Values.Distinct().ToArray();
        var downloads = files.Select(f => _assets.GetValueOrDefault(f)).ToArray();
        if (downloads.All(d => d is null) && !_failures.ContainsKey(info.Name)) return null;
        long total = 0, received = 0;
        bool running = false;
        for (int i = 0; i < files.Length; i++)
        {
            var size = store.Manifest.FindAsset(files[i])!.Size;
            total += size;
            if (downloads[i] is { } d)
            {
                received += Math.Min(Volatile.Read(ref d.Received), size);
                running |= d.Task is { IsCompleted: false };
            }
            else if (store.TryFindLocal(files[i]) is not null) received += size;
        }
        return new ModelDownloadStatus(info.Name, received, total, running, running ? null : _failures.GetValueOrDefault(info.Name));
    }

    /// <summary>Starts downloading the model's missing files unless already under way; returns the progress so far.</summary>
    public ModelDownloadStatus Start(ModelInfo info)
    {
        _failures.TryRemove(info.Name, out _);
        foreach (var file in info.Files.Values.Distinct())
        {
            if (store.TryFindLocal(file) is not null) continue;
            var size = store.Manifest.FindAsset(file)!.Size;
            // Under a lock: a dictionary factory may run twice under contention, and each run would start a download.
            lock (_assets)
            {
                if (_assets.TryGetValue(file, out var existing) && existing.Task is { IsCompleted: false }) continue;
                _assets[file] = NewDownload(info, file, size);
            }
        }
        return StatusOf(info) ?? new ModelDownloadStatus(info.Name, 0, store.Manifest.TotalSize(info), false, null);
    }

    /// <summary>Starts the download if needed and waits for every file (start-up uses this for the default model).</summary>
    public async Task WaitAsync(ModelInfo info, CancellationToken cancellationToken)
    {
        Start(info);
        var tasks = info.Files.Values.Distinct().Select(f => _assets.GetValueOrDefault(f)?.Task).OfType<Task>().ToArray();
        await Task.WhenAll(tasks).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private AssetDownload NewDownload(ModelInfo info, string file, long size)
    {
        var download = new AssetDownload(size);
        void OnProgress(DownloadProgress p)
        {
            if (p.AssetName == file) Volatile.Write(ref download.Received, p.BytesReceived);
        }
        download.Task = Task.Run(async () =>
        {
            store.DownloadProgressChanged += OnProgress;
            try
            {
                _logger.LogInformation("Downloading {Asset} ({Bytes} bytes) for model {Model}", file, size, info.Name);
                await store.ResolveAsync(file).ConfigureAwait(false);
                Volatile.Write(ref download.Received, size);
                _logger.LogInformation("Downloaded {Asset}", file);
            }
            catch (Exception ex)
            {
                var reason = ex.Message.Split('\n').FirstOrDefault(l => l.StartsWith("Download from", StringComparison.Ordinal))?.Trim() ?? ex.Message.Split('\n')[0];
                _failures[info.Name] = reason;
                _logger.LogWarning("The download of {Asset} for model {Model} failed: {Reason}", file, info.Name, reason);
                throw;
            }
            finally
            {
                store.DownloadProgressChanged -= OnProgress;
            }
        });
        return download;
    }
}
