using System.Globalization;

namespace Lookout.Detection.Tiling;

public enum TileMode { Off, Auto, Grid }

/// <summary>
/// Sliced inference asked for by a request: <c>off</c> (one pass over the whole image), <c>auto</c> (tiles only
/// when the photo is well above the model input, about the model's size each), or a fixed grid <c>RxC</c>
/// (rows × columns, e.g. <c>2x2</c>). The whole image is always one of the passes.
/// </summary>
public readonly record struct TileOption(TileMode Mode, int Rows = 0, int Columns = 0)
{
    /// <summary>Largest rows or columns a fixed grid may have; the per-request tile cap usually binds first.</summary>
    public const int MaxGridSide = 16;

    public static TileOption Off { get; } = new(TileMode.Off);
    public static TileOption Auto { get; } = new(TileMode.Auto);
    public static TileOption Grid(int rows, int columns) => new(TileMode.Grid, rows, columns);

    public int TileCount => Mode == TileMode.Grid ? Rows * Columns : 0;

    /// <summary>What users type: off, auto, or e.g. 2x3.</summary>
    public override string ToString() => Mode switch
    {
        TileMode.Off => "off",
        TileMode.Auto => "auto",
        _ => $"{Rows}x{Columns}",
    };

    /// <summary>Reads off / auto / RxC; the error says what is allowed and what was given.</summary>
    public static bool TryParse(string? text, out TileOption option, out string error)
    {
        option = Off;
        error = "";
        var t = text?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(t) || t is "off" or "none" or "false" or "0") return true;
        if (t is "auto" or "on" or "true")
        {
            option = Auto;
            return true;
        }
        var parts = t.Split(['x', '×', '*']);
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rows)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var columns))
        {
            if (rows is >= 1 and <= MaxGridSide && columns is >= 1 and <= MaxGridSide && rows * columns >= 2)
            {
                option = Grid(rows, columns);
                return true;
            }
            error = $"a tile grid needs 1 to {MaxGridSide} rows and columns and at least 2 tiles; got '{text!.Trim()}'.";
            return false;
        }
        error = $"must be 'off', 'auto' or rows x columns such as '2x2'; got '{text!.Trim()}'.";
        return false;
    }

    public static TileOption Parse(string? text) =>
        TryParse(text, out var option, out var error) ? option : throw new FormatException("Tile " + error);
}

/// <summary>How boxes from the whole image and the tiles are combined (after each pass's own NMS).</summary>
public enum TileMerge
{
    /// <summary>Class-wise NMS by IoU at the request's IoU threshold: the higher-scoring box stands for the object.</summary>
    Nms,

    /// <summary>
    /// SAHI's greedy non-maximum merging by intersection over the smaller box (GREEDYNMM, IOS 0.5): the
    /// higher-scoring box absorbs the boxes it covers and grows to their union.
    /// </summary>
    GreedyIos,
}
