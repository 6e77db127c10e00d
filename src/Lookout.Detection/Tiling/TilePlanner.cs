namespace Lookout.Detection.Tiling;

/// <summary>A tile: a rectangle of the decoded image, in its pixels.</summary>
public readonly record struct TileRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
}

/// <summary>
/// Lays out the tiles of a sliced-inference request. Tiles are cut from the decoded image at its own resolution:
/// each side is at least the model input's (where the image allows), so a tile is only ever shrunk into the model,
/// never enlarged; where a grid is finer than that, neighbouring tiles overlap more than asked.
/// </summary>
public static class TilePlanner
{
    /// <summary>
    /// <c>auto</c> tiles only when the image's longest side is at least this many model inputs: COCO-sized photos
    /// (640 px for a 416 model, 1.5×) go through in one pass as before, and at 2× a small object is already
    /// shrunk to half its pixels by the whole-image pass.
    /// </summary>
    public const double AutoMinRatio = 2.0;

    /// <summary>The tiles for an image of <paramref name="width"/>×<paramref name="height"/>; empty when the whole image alone is run.</summary>
    public static IReadOnlyList<TileRect> Plan(int width, int height, int inputWidth, int inputHeight, TileOption option,
        float overlap, int maxTiles)
    {
        if (option.Mode == TileMode.Off || width < 1 || height < 1) return [];
        int rows, columns;
        if (option.Mode == TileMode.Grid)
        {
            (rows, columns) = (option.Rows, option.Columns);
        }
        else
        {
            if (Math.Max((double)width / inputWidth, (double)height / inputHeight) < AutoMinRatio) return [];
            columns = AutoCount(width, inputWidth, overlap);
            rows = AutoCount(height, inputHeight, overlap);
            // Over the cap: coarsen the axis with more tiles first, so tiles stay near the model's shape.
            while (rows * columns > maxTiles)
            {
                if (columns >= rows) columns--; else rows--;
            }
        }
        if (rows * columns < 2) return [];

        var xs = Spans(width, columns, inputWidth, overlap);
        var ys = Spans(height, rows, inputHeight, overlap);
        var tiles = new List<TileRect>(rows * columns);
        foreach (var (y, h) in ys)
            foreach (var (x, w) in xs)
                tiles.Add(new TileRect(x, y, w, h));
        return tiles;
    }

    /// <summary>
    /// Tiles along one axis: the most whose size t is still at least the model input (n tiles with overlap o cover
    /// L = n·t − (n−1)·o·t), so a tile is 1–1.25× the input and only ever shrunk. Chosen by AP on val2017 enlarged 2×:
    /// this rule 0.420, rounding to the nearest count (tiles about the input, twice the passes on 1280×960) 0.419,
    /// tiles aimed at 0.8× / 1.4× the input 0.412 / 0.401; see docs/tiling.md.
    /// </summary>
    internal static int AutoCount(int length, int input, float overlap) =>
        Math.Clamp((int)Math.Floor(((double)length / input - overlap) / (1 - overlap) + 1e-9), 1, TileOption.MaxGridSide);

    /// <summary>Start and length of <paramref name="count"/> tiles along an axis: evenly spaced, first at 0, last flush with the end.</summary>
    internal static (int Start, int Length)[] Spans(int length, int count, int input, float overlap)
    {
        if (count <= 1) return [(0, length)];
        double wanted = length / (count - (count - 1) * (double)overlap);
        int tile = (int)Math.Ceiling(Math.Max(wanted, Math.Min(input, length)));
        tile = Math.Min(tile, length);
        var spans = new (int, int)[count];
        for (int i = 0; i < count; i++)
        {
            int start = (int)Math.Round((double)(length - tile) * i / (count - 1), MidpointRounding.AwayFromZero);
            spans[i] = (start, tile);
        }
        return spans;
    }
}
