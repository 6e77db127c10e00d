using Lookout.Detection.Postprocessing;

namespace Lookout.Detection.Tiling;

/// <summary>
/// What happens to boxes between the passes of a tiled request: which tile boxes are believed, and how the
/// survivors are merged with the whole image's boxes.
/// </summary>
public static class TileMerging
{
    /// <summary>
    /// Keeps a tile's box only when it lies wholly inside the tile and is no bigger than half of it. A box that
    /// touches an edge the tile shares with its neighbours is an object the cut went through: that tile saw only a
    /// piece, the whole-image pass (or the tile that holds it entirely) sees it whole, so keeping the piece would
    /// report the object twice or as fragments. A box more than half a tile wide or high is a large object, which
    /// the whole image shows in context. Edges on the image border are not cuts and do not count.
    /// </summary>
    public static bool KeepTileBox(in BoundingBox box, TileRect tile, int imageWidth, int imageHeight)
    {
        if (box.Width > tile.Width / 2f || box.Height > tile.Height / 2f) return false;
        // A cut object's box ends at the cut or a few pixels short of it.
        float mx = Math.Max(2f, tile.Width * 0.01f), my = Math.Max(2f, tile.Height * 0.01f);
        if (tile.X > 0 && box.X1 <= tile.X + mx) return false;
        if (tile.Y > 0 && box.Y1 <= tile.Y + my) return false;
        if (tile.Right < imageWidth && box.X2 >= tile.Right - mx) return false;
        if (tile.Bottom < imageHeight && box.Y2 >= tile.Bottom - my) return false;
        return true;
    }

    /// <summary>Intersection over the smaller box's area (SAHI's IOS).</summary>
    public static float IntersectionOverSmaller(in BoundingBox a, in BoundingBox b)
    {
        float iw = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        float ih = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (iw <= 0 || ih <= 0) return 0f;
        float smaller = Math.Min(a.Area, b.Area);
        return smaller <= 0 ? 0f : iw * ih / smaller;
    }

    /// <summary>Merges the pooled boxes of every pass class-wise; at most <paramref name="maxDetections"/>, by descending score.</summary>
    public static List<Candidate> Merge(List<Candidate> pooled, TileMerge merge, float iou, int maxDetections) => merge switch
    {
        TileMerge.Nms => NonMaxSuppression.Apply(pooled, iou, maxDetections),
        _ => GreedyMerge(pooled, GreedyIosThreshold, maxDetections),
    };

    /// <summary>SAHI's default match threshold for GREEDYNMM with IOS.</summary>
    public const float GreedyIosThreshold = 0.5f;

    /// <summary>
    /// Greedy non-maximum merging, class-wise: in descending score, an unclaimed box becomes a keeper and claims
    /// every lower box of its class that it overlaps by more than <paramref name="threshold"/> IOS; the claimed boxes
    /// are then folded into it one by one, each only while it still overlaps the grown box by that much, the box
    /// growing to their union and keeping the keeper's score. (Our reading of SAHI's GreedyNMMPostprocess.)
    /// </summary>
    public static List<Candidate> GreedyMerge(List<Candidate> candidates, float threshold, int maxDetections)
    {
        var sorted = candidates.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Score).ThenBy(t => t.i).Select(t => t.c).ToArray();
        var claimed = new bool[sorted.Length];
        var kept = new List<Candidate>();
        for (int k = 0; k < sorted.Length && kept.Count < maxDetections; k++)
        {
            if (claimed[k]) continue;
            var keeper = sorted[k];
            var box = keeper.Box;
            for (int j = k + 1; j < sorted.Length; j++)
            {
                if (claimed[j] || sorted[j].ClassId != keeper.ClassId) continue;
                if (IntersectionOverSmaller(keeper.Box, sorted[j].Box) <= threshold) continue;
                claimed[j] = true;
                if (IntersectionOverSmaller(box, sorted[j].Box) > threshold)
                {
                    var other = sorted[j].Box;
                    box = new BoundingBox(Math.Min(box.X1, other.X1), Math.Min(box.Y1, other.Y1), Math.Max(box.X2, other.X2), Math.Max(box.Y2, other.Y2));
                }
            }
            kept.Add(keeper with { Box = box });
        }
        return kept;
    }
}
