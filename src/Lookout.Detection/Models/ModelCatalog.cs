using System.Collections.Concurrent;
using Lookout.Detection.Assets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Detection.Models;

/// <summary>
/// Loads models by catalogue name (through the asset store) or by file path, once each, and keeps them for the
/// life of the process: one session per model, shared by every caller.
/// </summary>
public sealed class ModelCatalog(AssetStore assets, InferenceSettings? settings = null, ILoggerFactory? loggerFactory = null) : IDisposable
{
    public const string DefaultModelName = "yolox-nano";

    private readonly ConcurrentDictionary<string, Lazy<Task<DetectionModel>>> _loaded = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Lookout.Models");

    public AssetStore Assets { get; } = assets;
    public InferenceSettings Settings { get; } = settings ?? new InferenceSettings();

    /// <summary>The models the manifest knows.</summary>
    public IReadOnlyCollection<ModelInfo> Known => Assets.Manifest.Models;

    /// <summary>Models loaded so far (completed loads only).</summary>
    public IEnumerable<DetectionModel> Loaded =>
        _loaded.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result);

    /// <summary>Whether <paramref name="nameOrPath"/> names a catalogue model or an existing model file.</summary>
    public bool IsKnown(string nameOrPath) =>
        Assets.Manifest.FindModel(nameOrPath) is not null || File.Exists(nameOrPath);

    /// <summary>Gets a loaded model, loading it on first use. Concurrent first calls share one load.</summary>
    public Task<DetectionModel> GetAsync(string? nameOrPath = null, CancellationToken cancellationToken = default)
    {
        var key = string.IsNullOrWhiteSpace(nameOrPath) ? DefaultModelName : nameOrPath.Trim();
        var lazy = _loaded.GetOrAdd(key, k => new Lazy<Task<DetectionModel>>(() => Task.Run(() => LoadAsync(k, CancellationToken.None))));
        var task = lazy.Value;
        // A failed load is not cached: the next request tries again (the file may have been provided since).
        if (task.IsFaulted) _loaded.TryRemove(new KeyValuePair<string, Lazy<Task<DetectionModel>>>(key, lazy));
        return task.WaitAsync(cancellationToken);
    }

    private async Task<DetectionModel> LoadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            if (Assets.Manifest.FindModel(key) is { } info) return await LoadCatalogueModelAsync(info, cancellationToken).ConfigureAwait(false);
            if (File.Exists(key)) return LoadFile(key);
            throw new UnsupportedModelException(
                $"No model named '{key}'. Known models: {string.Join(", ", Known.Select(m => m.Name))}; or give the path of an .onnx file.");
        }
        catch
        {
            _loaded.TryRemove(key, out _);
            throw;
        }
    }

    /// <summary>
    /// Opens a new, uncached instance of a catalogue model (the caller owns and disposes it), resolving or
    /// downloading its files through the asset store. The server's <see cref="ModelRegistry"/> uses this to
    /// load, unload and reload models itself.
    /// </summary>
    public Task<DetectionModel> OpenAsync(ModelInfo info, CancellationToken cancellationToken = default) =>
        LoadCatalogueModelAsync(info, cancellationToken);

    /// <summary>Opens a new, uncached instance of a model file (.onnx, or a Darknet .cfg with its .weights) under the given name.</summary>
    public DetectionModel OpenFile(string name, string path, string? weightsPath = null, string? namesPath = null)
    {
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".onnx" => DetectionModel.Load(name, null, path, Settings, namesPath is not null ? ClassNames.ReadNamesFile(namesPath) : null, _logger),
            // A Darknet pair: the weights sit beside the cfg with the same stem unless given.
            ".cfg" => LoadDarknet(name, path, weightsPath ?? Path.ChangeExtension(path, ".weights"), namesPath),
            _ => throw new UnsupportedModelException($"'{path}' is not a model file Lookout reads (.onnx, or a Darknet .cfg with its .weights beside it)."),
        };
    }

    private async Task<DetectionModel> LoadCatalogueModelAsync(ModelInfo info, CancellationToken cancellationToken)
    {
        switch (info.Family)
        {
            case "yolox" or "ultralytics":
                var onnx = await Assets.ResolveAsync(info.Files["onnx"], cancellationToken: cancellationToken).ConfigureAwait(false);
                return DetectionModel.Load(info.Name, info.Family, onnx.Path, Settings, logger: _logger);
            case "darknet":
                var cfg = await Assets.ResolveAsync(info.Files["cfg"], cancellationToken: cancellationToken).ConfigureAwait(false);
                var weights = await Assets.ResolveAsync(info.Files["weights"], cancellationToken: cancellationToken).ConfigureAwait(false);
                string? names = info.Files.TryGetValue("names", out var n)
                    ? (await Assets.ResolveAsync(n, cancellationToken: cancellationToken).ConfigureAwait(false)).Path
                    : null;
                return LoadDarknet(info.Name, cfg.Path, weights.Path, names);
            default:
                throw new UnsupportedModelException($"Model '{info.Name}' is of family '{info.Family}', which this build cannot load.");
        }
    }

    private DetectionModel LoadFile(string path)
    {
        var namesFile = Path.ChangeExtension(path, ".names");
        return OpenFile(Path.GetFileNameWithoutExtension(path), path, weightsPath: null, File.Exists(namesFile) ? namesFile : null);
    }

    private DetectionModel LoadDarknet(string name, string cfgPath, string weightsPath, string? namesPath)
    {
        if (!File.Exists(weightsPath))
            throw new UnsupportedModelException($"Darknet model '{name}': weights file '{weightsPath}' is missing.");
        var imported = Darknet.DarknetImporter.Import(cfgPath, weightsPath, namesPath);
        return DetectionModel.Load(name, "darknet", imported.OnnxBytes, Settings, imported.ClassNames, _logger);
    }

    public void Dispose()
    {
        foreach (var lazy in _loaded.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
        _loaded.Clear();
    }
}
