using System.Globalization;
using Lookout.Detection;
using Lookout.Detection.Tiling;
using Spectre.Console;

namespace Lookout.Cli.Infrastructure;

/// <summary>
/// The tiling options shared by <c>lookout detect</c> and <c>lookout eval</c> (<c>--tile</c>, <c>--tile-overlap</c>,
/// <c>--max-tiles</c>): checked like every other option, so a bad value is one clear line and exit code 1.
/// </summary>
internal static class TileArguments
{
    public const string TileHelp = "Sliced inference: off (one pass), auto (tiles of at least the model's input, only when the image is at least twice its size), or rows x columns such as 2x2. The whole image is always one of the passes.";
    public const string OverlapHelp = "Fraction of a tile shared with its neighbour (0 to 0.75).";
    public const string MaxTilesHelp = "Most tiles per image besides the whole image: auto coarsens its grid to fit; a larger fixed grid is refused.";

    public static ValidationResult Validate(string? tile, float overlap, int maxTiles)
    {
        if (!TileOption.TryParse(tile, out var option, out var error)) return ValidationResult.Error("--tile " + error);
        if (!(overlap is >= 0 and <= DetectionOptions.MaxTileOverlap))
            return ValidationResult.Error(string.Create(CultureInfo.InvariantCulture,
                $"--tile-overlap must be from 0 to {DetectionOptions.MaxTileOverlap}; got {overlap}."));
        if (maxTiles is < 1 or > TileOption.MaxGridSide * TileOption.MaxGridSide)
            return ValidationResult.Error($"--max-tiles must be from 1 to {TileOption.MaxGridSide * TileOption.MaxGridSide}.");
        if (option.TileCount > maxTiles) return ValidationResult.Error("--tile: " + DetectionOptions.TooManyTiles(option, maxTiles) + " Raise --max-tiles to allow it.");
        return ValidationResult.Success();
    }

    public static DetectionOptions Apply(DetectionOptions options, string? tile, float overlap, int maxTiles, TileMerge merge = TileMerge.Nms) =>
        options with { Tile = TileOption.Parse(tile), TileOverlap = overlap, MaxTiles = maxTiles, TileMerge = merge };
}
