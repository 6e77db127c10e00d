using Lookout.Detection.Assets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Detection.Models;

/// <summary>No model has this name (neither the catalogue nor any models folder has it, or its file was removed).</summary>
public sealed class ModelNotFoundException(string message) : Exception(message);

/// <summary>The name is not a plain model name (a path, "..", a NUL…); it is refused before any lookup.</summary>
public sealed class InvalidModelNameException(string message) : Exception(message);

/// <summary>The model exists but cannot answer: its file is corrupt or not a detector, or it cannot be served under this name.</summary>
public sealed class ModelUnusableException(string model, string reason) : Exception($"Model '{model}' cannot be used: {reason}")
{
    public string Model { get; } = model;
    public string Reason { get; } = reason;
}

/// <summary>What a model is doing now, as listings and metrics show it.</summary>
public enum ModelState
{
    /// <summary>Its files are here; it loads on first use.</summary>
    Available,
    /// <summary>A catalogue model whose files would be downloaded on first use.</summary>
    Downloadable,
    /// <summary>Its files are being downloaded in the background.</summary>
    Downloading,
    /// <summary>A catalogue model whose files are missing while downloads are off.</summary>
    Missing,
    Loading,
    Loaded,
    /// <summary>Not usable; <see cref="ModelStatus.Error"/> says exactly why.</summary>
    Error,
}

public sealed class ModelRegistryOptions
{
    /// <summary>Models folders, first wins when two hold the same name.</summary>
    public List<string> Directories { get; set; } = [];

    /// <summary>Models kept loaded at once; loading one more unloads the least recently used idle one.</summary>
    public int MaxLoadedModels { get; set; } = 4;

    /// <summary>The fallback rescan period (the file watcher usually reacts sooner).</summary>
    public TimeSpan RescanInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a file's size and time must stay unchanged before it is loaded (a copy in progress is not).</summary>
    public TimeSpan StableFor { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs after models were unloaded and disposed (the server returns freed native memory to the system here).</summary>
    public Action? AfterUnload { get; set; }
}

/// <summary>One model as a listing shows it.</summary>
public sealed record ModelStatus(
    string Name,
    string Origin,
    ModelState State,
    string? Error,
    ModelInfo? Catalogue,
    FolderModel? File,
    DetectionModel? Model,
    ModelDownloadStatus? Download,
    int ActiveRequests)
{
    /// <summary>Whether a request for it could be answered now (present here, or loaded), as DeepStack's custom list means.</summary>
    public bool CanAnswer => State is ModelState.Available or ModelState.Loading or ModelState.Loaded;
}

/// <summary>
/// A request's hold on a loaded model: the model is not unloaded or disposed while any lease on it is open, even
/// when its file is replaced or removed meanwhile (the old session is disposed when its last lease ends).
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly ModelRegistry _registry;
    private readonly object _slot;
    private int _disposed;

    internal ModelLease(ModelRegistry registry, object slot, DetectionModel model)
    {
        _registry = registry;
        _slot = slot;
        Model = model;
    }

    public DetectionModel Model { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _registry.Release(_slot);
    }
}

/// <summary>
/// The models a server can run: the catalogue's, and every model in the models folders, watched while the service
/// runs. Models load lazily (concurrent first requests share one load), at most
/// <see cref="ModelRegistryOptions.MaxLoadedModels"/> stay loaded (the least recently used idle one is unloaded),
/// a replaced file is swapped atomically under leases, and a file that is not a usable model is listed with its
/// reason while every other model keeps working. Catalogue names win over folder files of the same name.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly ModelCatalog _catalog;
    private readonly ModelDownloads _downloads;
    private readonly ModelRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly object _scanLock = new();
    private readonly Dictionary<string, Entry> _catalogue = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Entry> _folder = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (FolderModel Seen, DateTime Since)> _pending = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _scanSignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _reportedProblems = new(StringComparer.Ordinal);
    private Task? _scanLoop;
    private long _clock;
    private bool _firstScan = true;

    private sealed class Entry(string name)
    {
        public string Name { get; } = name;
        public ModelInfo? Catalogue { get; init; }
        public FolderModel? File { get; set; }
        public int Version { get; set; }
        public Task<Slot?>? Loading { get; set; }
        public Slot? Loaded { get; set; }
        public string? Error { get; set; }
        public long LastUsed { get; set; }
    }

    private sealed class Slot(Entry entry, DetectionModel model)
    {
        public Entry Entry { get; } = entry;
        public DetectionModel Model { get; } = model;
        public int Leases { get; set; }
        public bool Retired { get; set; }
    }

    public ModelRegistry(ModelCatalog catalog, ModelDownloads downloads, ModelRegistryOptions? options = null, ILogger? logger = null)
    {
        _catalog = catalog;
        _downloads = downloads;
        _options = options ?? new ModelRegistryOptions();
        _logger = logger ?? NullLogger.Instance;
        if (_options.MaxLoadedModels < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxLoadedModels must be at least 1.");
        foreach (var info in catalog.Known) _catalogue[info.Name] = new Entry(info.Name) { Catalogue = info };
    }

    public IReadOnlyList<string> Directories => _options.Directories;
    public int MaxLoadedModels => _options.MaxLoadedModels;
    public ModelCatalog Catalog => _catalog;
    public ModelDownloads Downloads => _downloads;

    /// <summary>Models loaded now (replaced ones still finishing requests are not counted).</summary>
    public int LoadedCount
    {
        get { lock (_lock) return AllEntries().Count(e => e.Loaded is not null); }
    }

    /// <summary>Scans the folders once, then watches them (file watcher plus a periodic rescan) until disposed.</summary>
    public void Start()
    {
        Rescan();
        _scanLoop = Task.Run(ScanLoopAsync);
    }

    /// <summary>
    /// Gets a lease on a loaded model, loading it if needed. Throws <see cref="InvalidModelNameException"/> (not a
    /// plain name), <see cref="ModelNotFoundException"/>, <see cref="ModelUnusableException"/>,
    /// <see cref="ModelDownloadingException"/> (a catalogue model whose download was started or is under way), or the
    /// asset store's <see cref="AssetNotFoundException"/> when its files are missing and downloads are off.
    /// </summary>
    public async Task<ModelLease> AcquireAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!ModelFolders.IsPlainName(name))
            throw new InvalidModelNameException($"Unknown model '{Printable(name)}': a model is named (see /api/v1/models), never given as a path.");

        for (int attempt = 0; attempt < 5; attempt++)
        {
            Task<Slot?> loading;
            ModelInfo? toDownload = null;
            lock (_lock)
            {
                var entry = Find(name) ?? throw new ModelNotFoundException(NotFoundMessage(name));
                if (entry.Loaded is { } slot)
                {
                    slot.Leases++;
                    entry.LastUsed = ++_clock;
                    return new ModelLease(this, slot, slot.Model);
                }
                if (entry.File is { Problem: { } problem }) throw new ModelUnusableException(entry.Name, problem);
                if (entry.File is not null && entry.Error is { } error) throw new ModelUnusableException(entry.Name, error);
                if (entry.Loading is { } running) loading = running;
                else if (entry.Catalogue is { } info && _catalog.Assets.AllowDownload) { toDownload = info; loading = null!; }
                else loading = entry.Loading = StartLoad(entry);
            }

            if (toDownload is not null)
            {
                // Checked outside the lock: the first check of a large present file hashes it.
                if (!_downloads.IsPresent(toDownload)) throw new ModelDownloadingException(_downloads.Start(toDownload));
                lock (_lock)
                {
                    var entry = Find(name) ?? throw new ModelNotFoundException(NotFoundMessage(name));
                    if (entry.Loaded is not null) continue;
                    loading = entry.Loading ??= StartLoad(entry);
                }
            }

            if (await loading.WaitAsync(cancellationToken).ConfigureAwait(false) is null) continue; // replaced while loading: take the new one
        }
        throw new ModelUnusableException(name, "its file kept changing while it was being loaded; try again.");
    }

    /// <summary>Every model, catalogue first (in manifest order), then the folders' (by name).</summary>
    public IReadOnlyList<ModelStatus> List()
    {
        List<(Entry Entry, Slot? Loaded, bool Loading, string? Error, FolderModel? File, int Leases)> view;
        lock (_lock)
        {
            view = AllEntries().Select(e => (e, e.Loaded, e.Loading is { IsCompleted: false }, e.Error, e.File,
                e.Loaded?.Leases ?? 0)).ToList();
        }
        return view.Select(v =>
        {
            var e = v.Entry;
            if (e.Catalogue is { } info)
            {
                var download = _downloads.StatusOf(info);
                ModelState state;
                if (v.Loaded is not null) state = ModelState.Loaded;
                else if (download is { Running: true }) state = ModelState.Downloading;
                else if (v.Loading) state = ModelState.Loading;
                else if (_downloads.IsPresent(info)) state = v.Error is null ? ModelState.Available : ModelState.Error;
                else state = _catalog.Assets.AllowDownload ? ModelState.Downloadable : ModelState.Missing;
                var error = state is ModelState.Error ? v.Error : state is ModelState.Downloadable or ModelState.Missing ? download?.Error : null;
                return new ModelStatus(e.Name, "catalogue", state, error, info, null, v.Loaded?.Model, download, v.Leases);
            }
            var file = v.File!;
            var folderState = file.Problem is not null || v.Error is not null ? ModelState.Error
                : v.Loaded is not null ? ModelState.Loaded
                : v.Loading ? ModelState.Loading
                : ModelState.Available;
            return new ModelStatus(e.Name, "folder", folderState, file.Problem ?? v.Error, null, file, v.Loaded?.Model, null, v.Leases);
        }).ToList();
    }

    /// <summary>
    /// The folder models that cannot answer, with their reasons, from what the registry already knows: unlike
    /// <see cref="List"/> it touches no file, so a readiness probe every few seconds costs no disk work.
    /// </summary>
    public IReadOnlyList<(string Name, string Reason)> UnusableFolderModels()
    {
        lock (_lock)
        {
            return _folder.Values.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase)
                .Where(e => e.File?.Problem is not null || e.Error is not null)
                .Select(e => (e.Name, (e.File?.Problem ?? e.Error)!)).ToList();
        }
    }

    /// <summary>Reads the folders now and applies what changed (the watcher and the timer call this; tests may too).</summary>
    public void Rescan()
    {
        lock (_scanLock) RescanLocked();
    }

    private void RescanLocked()
    {
        var scanned = ModelFolders.Scan(_options.Directories, n => _catalogue.ContainsKey(n), LogProblemOnce);
        var now = DateTime.UtcNow;
        var dispose = new List<DetectionModel>();
        var reload = new List<Entry>();
        bool first = _firstScan;
        _firstScan = false;
        lock (_lock)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in scanned)
            {
                seen.Add(model.Name);
                _folder.TryGetValue(model.Name, out var entry);
                if (entry?.File is { } current && current.Fingerprint == model.Fingerprint && current.Path == model.Path && current.Problem == model.Problem)
                {
                    _pending.Remove(model.Name);
                    continue;
                }
                // A new or changed file is taken only once its size and time have stayed put for StableFor: a file
                // still being copied in changes between scans and is left alone. At start-up, files already quiet
                // for that long are taken at once.
                bool quiet = now - model.LastWriteUtc >= _options.StableFor;
                if (!(first && quiet))
                {
                    if (!_pending.TryGetValue(model.Name, out var pending) || pending.Seen.Fingerprint != model.Fingerprint || pending.Seen.Path != model.Path)
                    {
                        _pending[model.Name] = (model, now);
                        continue;
                    }
                    if (now - pending.Since < _options.StableFor) continue;
                }
                _pending.Remove(model.Name);

                if (entry is null)
                {
                    _folder[model.Name] = new Entry(model.Name) { File = model };
                    if (model.Problem is null) _logger.LogInformation("Models folder: added model {Model} from {Path}", model.Name, model.Path);
                    else _logger.LogWarning("Models folder: {Path} is listed as model {Model} in state error: {Problem}", model.Path, model.Name, model.Problem);
                    continue;
                }
                bool wasLoaded = entry.Loaded is not null;
                Retire(entry, dispose);
                entry.Version++;
                entry.File = model;
                entry.Error = null;
                entry.Loading = null;
                _logger.LogInformation("Models folder: model {Model} was replaced ({Path}); requests already running finish on the old one", model.Name, model.Path);
                if (wasLoaded && model.Problem is null) reload.Add(entry);
            }
            foreach (var name in _folder.Keys.Where(n => !seen.Contains(n)).ToList())
            {
                var entry = _folder[name];
                Retire(entry, dispose);
                entry.Version++;
                entry.Loading = null;
                _folder.Remove(name);
                _logger.LogInformation("Models folder: model {Model} was removed", name);
            }
            foreach (var name in _pending.Keys.Where(n => !seen.Contains(n)).ToList()) _pending.Remove(name);
            // A replaced model that was in use is loaded again at once, so its next request does not wait for the load.
            foreach (var entry in reload) entry.Loading ??= StartLoad(entry);
        }
        DisposeAll(dispose);
        EnsureWatchers();
    }

    private void LogProblemOnce(string message)
    {
        lock (_reportedProblems)
            if (!_reportedProblems.Add(message)) return;
        _logger.LogWarning("{Message}", message);
    }

    /// <summary>Takes the entry's loaded model out of service; it is disposed now if idle, else when its last lease ends.</summary>
    private static void Retire(Entry entry, List<DetectionModel> dispose)
    {
        if (entry.Loaded is not { } slot) return;
        entry.Loaded = null;
        slot.Retired = true;
        if (slot.Leases == 0) dispose.Add(slot.Model);
    }

    private Task<Slot?> StartLoad(Entry entry)
    {
        int version = entry.Version;
        var file = entry.File;
        return Task.Run<Slot?>(async () =>
        {
            DetectionModel model;
            try
            {
                model = entry.Catalogue is { } info
                    ? await _catalog.OpenAsync(info).ConfigureAwait(false)
                    : _catalog.OpenFile(entry.Name, file!.Path, file.WeightsPath, file.NamesPath);
            }
            catch (Exception ex)
            {
                var reason = ex.Message.Trim();
                lock (_lock)
                {
                    if (entry.Version == version)
                    {
                        entry.Loading = null;
                        entry.Error = reason;
                    }
                }
                if (file is null) throw; // catalogue: the asset store's own error says what is missing and where it looked
                _logger.LogWarning("Models folder: model {Model} ({Path}) cannot be used: {Reason}", entry.Name, file.Path, reason);
                throw new ModelUnusableException(entry.Name, reason);
            }

            var dispose = new List<DetectionModel>();
            Slot? slot = null;
            lock (_lock)
            {
                bool current = entry.Version == version && (entry.Catalogue is not null || _folder.GetValueOrDefault(entry.Name) == entry);
                if (!current) dispose.Add(model);
                else
                {
                    slot = new Slot(entry, model);
                    entry.Loaded = slot;
                    entry.Loading = null;
                    entry.Error = null;
                    entry.LastUsed = ++_clock;
                    EvictOverLimit(slot, dispose);
                }
            }
            DisposeAll(dispose);
            return slot;
        });
    }

    /// <summary>Unloads least recently used idle models until at most MaxLoadedModels are loaded (a busy one is never unloaded).</summary>
    private void EvictOverLimit(Slot? keep, List<DetectionModel> dispose)
    {
        var loaded = AllEntries().Where(e => e.Loaded is not null).Select(e => e.Loaded!).ToList();
        while (loaded.Count > _options.MaxLoadedModels)
        {
            var victim = loaded.Where(s => s != keep && s.Leases == 0).MinBy(s => s.Entry.LastUsed);
            if (victim is null) return; // every other model is busy: unload once one is idle again
            loaded.Remove(victim);
            victim.Entry.Loaded = null;
            victim.Retired = true;
            dispose.Add(victim.Model);
            _logger.LogInformation("Unloaded model {Model} (least recently used; at most {Max} stay loaded)", victim.Entry.Name, _options.MaxLoadedModels);
        }
    }

    internal void Release(object token)
    {
        var slot = (Slot)token;
        var dispose = new List<DetectionModel>();
        lock (_lock)
        {
            slot.Leases--;
            if (slot.Retired)
            {
                if (slot.Leases == 0) dispose.Add(slot.Model);
            }
            else EvictOverLimit(null, dispose);
        }
        DisposeAll(dispose);
    }

    private void DisposeAll(List<DetectionModel> models)
    {
        if (models.Count == 0) return;
        foreach (var m in models) m.Dispose();
        _options.AfterUnload?.Invoke();
    }

    private Entry? Find(string name) => _catalogue.GetValueOrDefault(name) ?? _folder.GetValueOrDefault(name);

    private IEnumerable<Entry> AllEntries() => _catalogue.Values.Concat(_folder.Values.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase));

    private string NotFoundMessage(string name) =>
        $"Unknown model '{name}'. Known models: {string.Join(", ", AllEntries().Select(e => e.Name))}.";

    /// <summary>A client's model name as it may go into a message or log: control characters as '?', at most 128 characters.</summary>
    public static string Printable(string? name) =>
        new((name ?? "").Select(c => char.IsControl(c) ? '?' : c).Take(128).ToArray());

    private async Task ScanLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _scanSignal.WaitAsync(_options.RescanInterval, _stop.Token).ConfigureAwait(false);
                // Let a burst of watcher events (a file being written) settle into one scan.
                await Task.Delay(100, _stop.Token).ConfigureAwait(false);
                while (_scanSignal.CurrentCount > 0) _scanSignal.Wait(0);
                Rescan();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Models folder rescan failed; retrying");
            }
        }
    }

    private void EnsureWatchers()
    {
        if (_scanLoop is null) return;
        foreach (var directory in _options.Directories)
        {
            if (_watchers.ContainsKey(directory) || !Directory.Exists(directory)) continue;
            try
            {
                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                FileSystemEventHandler changed = (_, _) => Signal();
                watcher.Created += changed;
                watcher.Changed += changed;
                watcher.Deleted += changed;
                watcher.Renamed += (_, _) => Signal();
                watcher.Error += (_, _) => Signal();
                watcher.EnableRaisingEvents = true;
                _watchers[directory] = watcher;
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // inotify limits or permissions: the periodic rescan still sees every change.
                _logger.LogWarning("Models folder {Directory} cannot be watched ({Reason}); changes are seen by the periodic rescan", directory, ex.Message);
                _watchers[directory] = null!;
            }
        }
    }

    private void Signal()
    {
        if (_scanSignal.CurrentCount == 0) _scanSignal.Release();
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _scanLoop?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        foreach (var watcher in _watchers.Values) watcher?.Dispose();
        _watchers.Clear();
        lock (_lock)
        {
            foreach (var entry in AllEntries())
                if (entry.Loaded is { } slot) { slot.Model.Dispose(); entry.Loaded = null; }
        }
    }
}
