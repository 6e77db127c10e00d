using System.ComponentModel;
using Lookout.Detection;
using Lookout.Detection.Assets;
using Spectre.Console.Cli;

namespace Lookout.Cli.Infrastructure;

/// <summary>Settings every command shares: where models are found and whether they may be downloaded.</summary>
public class GlobalSettings : CommandSettings
{
    [CommandOption("--asset-dir <DIR>")]
    [Description("A folder holding model files (repeatable). Searched before $LOOKOUT_ASSET_DIRS and the user cache.")]
    public string[] AssetDirectories { get; init; } = [];

    [CommandOption("--model-dir <DIR>")]
    [Description("A models folder (repeatable): every NAME.onnx and Darknet NAME.cfg + NAME.weights there is the model NAME. Added to $LOOKOUT__MODELDIRECTORIES__0, __1 ….")]
    public string[] ModelDirectories { get; init; } = [];

    /// <summary>The --model-dir folders, then those of the environment, as full paths.</summary>
    public IReadOnlyList<string> AllModelDirectories() =>
        [.. ModelDirectories.Concat(Lookout.Detection.Models.ModelFolders.FromEnvironment()).Select(Path.GetFullPath).Distinct()];

    [CommandOption("--offline")]
    [Description("Never download: a model file that is not found locally is an error.")]
    public bool Offline { get; init; }

    /// <summary>The asset store for these settings: --asset-dir folders first, then LOOKOUT_ASSET_DIRS, then the cache.</summary>
    public AssetStore CreateAssetStore()
    {
        var options = AssetStoreOptions.FromEnvironment();
        options.AssetDirectories.InsertRange(0, AssetDirectories);
        options.AllowDownload = !Offline;
        return new AssetStore(options);
    }
}

/// <summary>Settings of commands that run a model.</summary>
public class ModelSettings : GlobalSettings
{
    public const string DefaultModel = "yolox-nano";

    [CommandOption("-m|--model <MODEL>")]
    [Description("A catalogue model name (see 'lookout models list'), a models-folder model's name (--model-dir) or the path of an .onnx file; default yolox-nano. 'lookout eval' takes several (--model A --model B) and compares them.")]
    public string[] Models { get; init; } = [];

    /// <summary>The model of a command that runs one.</summary>
    public string Model => Models.Length > 0 ? Models[0] : DefaultModel;

    /// <summary>Whether the command runs several models (only <c>eval</c> does).</summary>
    protected virtual bool AcceptsSeveralModels => false;

    [CommandOption("--threads <N>")]
    [Description("Threads ONNX Runtime may use for one inference; 0 lets it choose (one per physical core).")]
    [DefaultValue(0)]
    public int Threads { get; init; }

    [CommandOption("--no-progress")]
    [Description("Do not show progress bars (they are also off when output is redirected).")]
    public bool NoProgress { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Threads < 0 ? Spectre.Console.ValidationResult.Error("--threads must be 0 or more.")
        : Models.Length > 1 && !AcceptsSeveralModels ? Spectre.Console.ValidationResult.Error("Give one --model (only 'lookout eval' compares several).")
        : base.Validate();
}

/// <summary>Settings of commands that detect in photos (detect, eval): the sliced-inference options they share.</summary>
public abstract class DetectionSettings : ModelSettings
{
    [CommandOption("--tile <TILE>")]
    [Description(TileArguments.TileHelp)]
    [DefaultValue("off")]
    public string Tile { get; init; } = "off";

    [CommandOption("--tile-overlap <FRACTION>")]
    [Description(TileArguments.OverlapHelp)]
    [DefaultValue(DetectionOptions.DefaultTileOverlap)]
    public float TileOverlap { get; init; } = DetectionOptions.DefaultTileOverlap;

    [CommandOption("--max-tiles <N>")]
    [Description(TileArguments.MaxTilesHelp)]
    [DefaultValue(DetectionOptions.DefaultMaxTiles)]
    public int MaxTiles { get; init; } = DetectionOptions.DefaultMaxTiles;

    public override Spectre.Console.ValidationResult Validate() =>
        TileArguments.Validate(Tile, TileOverlap, MaxTiles) is { Successful: false } tileError ? tileError : base.Validate();
}
