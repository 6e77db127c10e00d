namespace Lookout.Detection;

/// <summary>An axis-aligned box in pixels (x1,y1 top-left; x2,y2 bottom-right).</summary>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    public static float IntersectionOverUnion(in BoundingBox a, in BoundingBox b)
    {
        float iw = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        float ih = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (iw <= 0 || ih <= 0) return 0f;
        float inter = iw * ih;
        float union = a.Area + b.Area - inter;
        return union <= 0 ? 0f : inter / union;
    }
}

/// <summary>One object found: class, score, and box in the pixels of the upright original image.</summary>
public sealed record Detection(int ClassId, string Label, float Score, BoundingBox Box);

/// <summary>Milliseconds spent in each stage of one detection.</summary>
public sealed record StageTimings(double DecodeMs, double PreprocessMs, double InferenceMs, double PostprocessMs)
{
    public double TotalMs => DecodeMs + PreprocessMs + InferenceMs + PostprocessMs;

    /// <summary>
    /// Model passes when tiling was asked for (the whole image plus each tile; preprocess and inference are their
    /// sums, postprocess includes the merge); null for an ordinary one-pass request.
    /// </summary>
    public int? Passes { get; init; }
}

/// <summary>
/// The one immutable result every output format is rendered from (seed JSON, Lookout JSON, DeepStack JSON,
/// annotated JPEG, CSV, CLI table). Detections are sorted by descending score.
/// </summary>
public sealed record DetectionResult(
    string Model,
    int ImageWidth,
    int ImageHeight,
    IReadOnlyList<Detection> Detections,
    StageTimings Timings);
