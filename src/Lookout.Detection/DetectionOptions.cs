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

    public static DetectionOptions Default { get; } = new();

    public void Validate()
    {
        if (!(Confidence is >= 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "Confidence must be between 0 and 1.");
        if (!(Iou is > 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(Iou), Iou, "IoU must be greater than 0 and at most 1.");
        if (MaxDetections < 1) throw new ArgumentOutOfRangeException(nameof(MaxDetections), MaxDetections, "Max detections must be at least 1.");
    }
}
