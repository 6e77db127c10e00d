using Lookout.Detection.Postprocessing;

namespace Lookout.Detection.Models;

/// <summary>
/// Turns one model output layout into candidate boxes in model-input pixels. A head is a small strategy: the
/// pipeline around it (decode, letterbox, run, NMS, map back) is the same for every family.
/// </summary>
public abstract class ModelHead(int classCount)
{
    public int ClassCount { get; } = classCount;

    /// <summary>A short name of the layout, shown in model listings and errors.</summary>
    public abstract string Layout { get; }

    /// <summary>End-to-end exports already ran NMS inside the graph.</summary>
    public virtual bool NeedsNms => true;

    public abstract void Decode(ReadOnlySpan<float> output, float confidence, IReadOnlySet<int>? classes, List<Candidate> sink);

    /// <summary>The best allowed class among <paramref name="scores"/> (contiguous).</summary>
    protected static (int ClassId, float Score) BestClass(ReadOnlySpan<float> scores, IReadOnlySet<int>? classes)
    {
        int best = -1;
        float bestScore = float.NegativeInfinity;
        if (classes is null)
        {
            for (int c = 0; c < scores.Length; c++)
                if (scores[c] > bestScore) { bestScore = scores[c]; best = c; }
        }
        else
        {
            foreach (var c in classes)
                if ((uint)c < (uint)scores.Length && scores[c] > bestScore) { bestScore = scores[c]; best = c; }
        }
        return (best, bestScore);
    }

    protected static BoundingBox FromCenter(float cx, float cy, float w, float h) =>
        new(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
}

/// <summary>
/// YOLOX without in-graph decoding: [1, N, 5+C] rows (tx, ty, tw, th, obj, cls…) over the grids of strides
/// 8/16/32; xy = (t + grid)·s, wh = exp(t)·s, score = obj × cls (both already through a sigmoid).
/// </summary>
public sealed class YoloxHead : ModelHead
{
    private readonly float[] _gridX, _gridY, _stride;

    public YoloxHead(int classCount, int inputWidth, int inputHeight, IReadOnlyList<int> strides) : base(classCount)
    {
        var gx = new List<float>(); var gy = new List<float>(); var st = new List<float>();
        foreach (var s in strides)
            for (int y = 0; y < inputHeight / s; y++)
                for (int x = 0; x < inputWidth / s; x++)
                { gx.Add(x); gy.Add(y); st.Add(s); }
        _gridX = [.. gx]; _gridY = [.. gy]; _stride = [.. st];
    }

    public int AnchorCount => _stride.Length;
    public override string Layout => $"yolox [1,{AnchorCount},{5 + ClassCount}]";

    public override void Decode(ReadOnlySpan<float> output, float confidence, IReadOnlySet<int>? classes, List<Candidate> sink)
    {
        int rowLength = 5 + ClassCount;
        for (int i = 0; i < _stride.Length; i++)
        {
            var row = output.Slice(i * rowLength, rowLength);
            float obj = row[4];
            if (obj < confidence) continue; // class scores are ≤ 1, so the product cannot reach the threshold
            var (cls, clsScore) = BestClass(row[5..], classes);
            if (cls < 0) continue;
            float score = obj * clsScore;
            if (score < confidence) continue;
            float s = _stride[i];
            float cx = (row[0] + _gridX[i]) * s, cy = (row[1] + _gridY[i]) * s;
            float w = MathF.Exp(row[2]) * s, h = MathF.Exp(row[3]) * s;
            sink.Add(new Candidate(FromCenter(cx, cy, w, h), score, cls));
        }
    }
}

/// <summary>
/// Decoded rows with objectness, [1, N, 5+C] = (cx, cy, w, h, obj, cls…) in input pixels: Ultralytics YOLOv5
/// exports, and Lookout's own Darknet graphs. Score = obj × cls.
/// </summary>
public sealed class ObjectnessRowsHead(int classCount, int rows) : ModelHead(classCount)
{
    public override string Layout => $"yolov5 [1,{rows},{5 + ClassCount}]";

    public override void Decode(ReadOnlySpan<float> output, float confidence, IReadOnlySet<int>? classes, List<Candidate> sink)
    {
        int rowLength = 5 + ClassCount;
        for (int i = 0; i < rows; i++)
        {
            var row = output.Slice(i * rowLength, rowLength);
            float obj = row[4];
            if (obj < confidence) continue;
            var (cls, clsScore) = BestClass(row[5..], classes);
            if (cls < 0) continue;
            float score = obj * clsScore;
            if (score < confidence) continue;
            sink.Add(new Candidate(FromCenter(row[0], row[1], row[2], row[3]), score, cls));
        }
    }
}

/// <summary>
/// Ultralytics YOLOv8/v11 (anchor-free, no objectness): [1, 4+C, N], channel-major, (cx, cy, w, h, cls…).
/// </summary>
public sealed class ChannelMajorHead(int classCount, int anchors) : ModelHead(classCount)
{
    public override string Layout => $"yolov8 [1,{4 + ClassCount},{anchors}]";

    public override void Decode(ReadOnlySpan<float> output, float confidence, IReadOnlySet<int>? classes, List<Candidate> sink)
    {
        int n = anchors;
        // Channel-major: walk each class plane once, keeping the best class per anchor, rather than striding per anchor.
        var bestScore = new float[n];
        var bestClass = new int[n];
        Array.Fill(bestClass, -1);
        Array.Fill(bestScore, float.NegativeInfinity);
        for (int c = 0; c < ClassCount; c++)
        {
            if (classes is not null && !classes.Contains(c)) continue;
            var plane = output.Slice((4 + c) * n, n);
            for (int i = 0; i < n; i++)
                if (plane[i] > bestScore[i]) { bestScore[i] = plane[i]; bestClass[i] = c; }
        }
        for (int i = 0; i < n; i++)
        {
            if (bestClass[i] < 0 || bestScore[i] < confidence) continue;
            sink.Add(new Candidate(FromCenter(output[i], output[n + i], output[2 * n + i], output[3 * n + i]), bestScore[i], bestClass[i]));
        }
    }
}

/// <summary>End-to-end exports (YOLOv10, YOLO26 and NMS-in-graph models): [1, K, 6] = (x1, y1, x2, y2, score, class).</summary>
public sealed class EndToEndHead(int classCount, int rows) : ModelHead(classCount)
{
    public override string Layout => $"end-to-end [1,{rows},6]";
    public override bool NeedsNms => false;

    public override void Decode(ReadOnlySpan<float> output, float confidence, IReadOnlySet<int>? classes, List<Candidate> sink)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = output.Slice(i * 6, 6);
            float score = row[4];
            int cls = (int)row[5];
            if (score < confidence || cls < 0 || cls >= ClassCount) continue;
            if (classes is not null && !classes.Contains(cls)) continue;
            sink.Add(new Candidate(new BoundingBox(row[0], row[1], row[2], row[3]), score, cls));
        }
    }
}
