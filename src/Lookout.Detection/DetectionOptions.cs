using Lookout.Detection.Tiling;

namespace Lookout.Detection;

/// <summary>Per-request postprocessing settings.</summary>
public sealed record DetectionOptions
{
    public const float DefaultConfidence = 0.25f;
    public const float DefaultIou = 0.45f;
    public const int DefaultMaxDetections = 300;

    /// <summary>Minimum score (objectness × class probability where the family has objectness).</summary>
    public float Confidence { get; init; } = DefaultConfidence;

    /// <summary>Class-wise NMS threshold.</summary>
    public float Iou { get; init; } = DefaultIou;

    /// <summary>When set, only these class ids are reported.</summary>
    public IReadOnlySet<int>? Classes { get; init; }

    public int MaxDetections { get; init; } = DefaultMaxDetections;

    /// <summary>Sliced inference: off (the default: one pass), auto, or a fixed grid. See docs/tiling.md.</summary>
    public TileOption Tile { get; init; } = TileOption.Off;

    public const float DefaultTileOverlap = 0.2f;
    public const float MaxTileOverlap = 0.75f;
    public const int DefaultMaxTiles = 16;

    /// <summary>Fraction of a tile shared with its neighbour, 0 to <see cref="MaxTileOverlap"/>.</summary>
    public float TileOverlap { get; init; } = DefaultTileOverlap;

    /// <summary>Most tiles one request may run (besides the whole image): <c>auto</c> coarsens its grid to fit; a larger fixed grid is refused.</summary>
    public int MaxTiles { get; init; } = DefaultMaxTiles;

    /// <summary>How the boxes of the passes are combined.</summary>
    public TileMerge TileMerge { get; init; } = TileMerge.Nms;

    public static DetectionOptions Default { get; } = new();

    public void Validate()
    {
        if (!(Confidence is >= 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "Confidence must be between 0 and 1.");
        if (!(Iou is > 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(Iou), Iou, "IoU must be greater than 0 and at most 1.");
        if (MaxDetections < 1) throw new ArgumentOutOfRangeException(nameof(MaxDetections), MaxDetections, "Max detections must be at least 1.");
        if (!(TileOverlap is >= 0f and <= MaxTileOverlap))
            throw new ArgumentOutOfRangeException(nameof(TileOverlap), TileOverlap, $"Tile overlap must be from 0 to {MaxTileOverlap}.");
        if (MaxTiles < 1) throw new ArgumentOutOfRangeException(nameof(MaxTiles), MaxTiles, "Max tiles must be at least 1.");
        if (Tile.TileCount > MaxTiles)
            throw new ArgumentOutOfRangeException(nameof(Tile), Tile.ToString(), TooManyTiles(Tile, MaxTiles));
    }

    /// <summary>The message for a fixed grid over the cap (shared by every adapter).</summary>
    public static string TooManyTiles(TileOption tile, int maxTiles) =>
        $"tile grid {tile} is {tile.TileCount} tiles; at most {maxTiles} are allowed per request.";
}
