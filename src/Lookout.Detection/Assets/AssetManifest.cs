using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lookout.Detection.Assets;

/// <summary>One pinned external file: its bytes are fixed by size and SHA-256, so any copy that matches is the file.</summary>
public sealed record AssetInfo(
    string Name,
    long Size,
    string Sha256,
    string Url,
    string Licence,
    string Description);

/// <summary>A model the catalogue knows by name, and which asset files make it up.</summary>
/// <param name="InputSize">The square input side the file was exported at, or null when unknown.</param>
/// <param name="CocoAp">The COCO val2017 AP (0.5:0.95, in percent) its authors published, or null when they published none.</param>
/// <param name="Licence">The licence of the model's weights; null falls back to the first file's licence.</param>
public sealed record ModelInfo(
    string Name,
    string Family,
    IReadOnlyDictionary<string, string> Files,
    string Description,
    int? InputSize = null,
    double? CocoAp = null,
    string? Licence = null);

/// <summary>The manifest embedded in the engine (Assets/assets.json): every external file and model Lookout knows.</summary>
public sealed class AssetManifest
{
    private readonly Dictionary<string, AssetInfo> _assets;
    private readonly Dictionary<string, ModelInfo> _models;

    public AssetManifest(IEnumerable<AssetInfo> assets, IEnumerable<ModelInfo> models)
    {
        _assets = assets.ToDictionary(a => a.Name, StringComparer.Ordinal);
        _models = models.ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var model in _models.Values)
            foreach (var file in model.Files.Values)
                if (!_assets.ContainsKey(file))
                    throw new InvalidDataException($"Model '{model.Name}' names asset '{file}', which the manifest does not list.");
    }

    public IReadOnlyCollection<AssetInfo> Assets => _assets.Values;
    public IReadOnlyCollection<ModelInfo> Models => _models.Values;

    public AssetInfo? FindAsset(string name) => _assets.GetValueOrDefault(name);

    /// <summary>Bytes of every distinct file the model needs (what a first download costs).</summary>
    public long TotalSize(ModelInfo model) => model.Files.Values.Distinct().Sum(f => _assets[f].Size);

    /// <summary>The licence of the model's weights: the model's own, else its first file's.</summary>
    public string LicenceOf(ModelInfo model) => model.Licence ?? _assets[model.Files.Values.First()].Licence;
    public ModelInfo? FindModel(string name) => _models.GetValueOrDefault(name);

    private static readonly Lazy<AssetManifest> s_builtIn = new(LoadBuiltIn);

    /// <summary>The manifest shipped inside the engine assembly.</summary>
    public static AssetManifest BuiltIn => s_builtIn.Value;

    private static AssetManifest LoadBuiltIn()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Lookout.Detection.assets.json")
            ?? throw new InvalidOperationException("The engine assembly lacks its embedded assets.json.");
        return Parse(stream);
    }

    public static AssetManifest Parse(Stream json)
    {
        var doc = JsonSerializer.Deserialize<ManifestDocument>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException("The asset manifest is empty.");
        return new AssetManifest(
            doc.Assets.Select(a => new AssetInfo(a.Name, a.Size, a.Sha256.ToLowerInvariant(), a.Url, a.Licence, a.Description)),
            doc.Models.Select(m => new ModelInfo(m.Name, m.Family, m.Files, m.Description, m.InputSize, m.CocoAp, m.Licence)));
    }

    private sealed class ManifestDocument
    {
        [JsonPropertyName("assets")] public List<AssetEntry> Assets { get; set; } = [];
        [JsonPropertyName("models")] public List<ModelEntry> Models { get; set; } = [];
    }

    private sealed class AssetEntry
    {
        public string Name { get; set; } = "";
        public long Size { get; set; }
        public string Sha256 { get; set; } = "";
        public string Url { get; set; } = "";
        public string Licence { get; set; } = "";
        public string Description { get; set; } = "";
    }

    private sealed class ModelEntry
    {
        public string Name { get; set; } = "";
        public string Family { get; set; } = "";
        public Dictionary<string, string> Files { get; set; } = [];
        public string Description { get; set; } = "";
        public int? InputSize { get; set; }
        public double? CocoAp { get; set; }
        public string? Licence { get; set; }
    }
}
