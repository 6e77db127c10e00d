namespace Lookout.Detection.Evaluation;

/// <summary>An axis-aligned box in pixels, corners (X1,Y1) top-left and (X2,Y2) bottom-right.</summary>
public readonly record struct BoxXyxy(double X1, double Y1, double X2, double Y2)
{
    public double Width => X2 - X1;
    public double Height => Y2 - Y1;

    /// <summary>Box area as pycocotools computes it for a bbox: w*h, no +1 pixel convention.</summary>
    public double Area => Width * Height;

    public static BoxXyxy FromXywh(double x, double y, double width, double height) =>
        new(x, y, x + width, y + height);

    /// <summary>Box from a YOLO normalised (cx, cy, w, h) in an image of the given size.</summary>
    public static BoxXyxy FromNormalizedCxcywh(double cx, double cy, double w, double h, int imageWidth, int imageHeight) =>
        new((cx - w / 2) * imageWidth, (cy - h / 2) * imageHeight, (cx + w / 2) * imageWidth, (cy + h / 2) * imageHeight);

    internal bool IsFinite =>
        double.IsFinite(X1) && double.IsFinite(Y1) && double.IsFinite(X2) && double.IsFinite(Y2);
}

/// <summary>A ground-truth object. <paramref name="Area"/> overrides the box area for the area-range
/// classification (COCO stores the segmentation area there); when null the box area is used.</summary>
public sealed record GroundTruth(string ImageId, int CategoryId, BoxXyxy Box, bool IsCrowd = false, double? Area = null)
{
    public double EffectiveArea => Area ?? Box.Area;
}

/// <summary>A detection produced by a model.</summary>
public sealed record ScoredDetection(string ImageId, int CategoryId, BoxXyxy Box, double Score);

/// <summary>An image of the evaluation set. <paramref name="FileName"/> is the image file name
/// (relative to the image directory) when known.</summary>
public sealed record EvaluationImage(string ImageId, int Width, int Height, string? FileName = null);

/// <summary>A category of a dataset.</summary>
public sealed record EvaluationCategory(int Id, string Name);

/// <summary>A ground-truth dataset: its images (in evaluation order), objects and categories.</summary>
public sealed record EvaluationDataset(
    IReadOnlyList<EvaluationImage> Images,
    IReadOnlyList<GroundTruth> GroundTruths,
    IReadOnlyList<EvaluationCategory> Categories)
{
    /// <summary>The category ids, ascending: pass as <see cref="CocoEvaluationSettings.CategoryIds"/>.</summary>
    public IReadOnlyList<int> CategoryIds => Categories.Select(c => c.Id).Distinct().Order().ToArray();
}

/// <summary>Options of <see cref="CocoEvaluator.Evaluate"/>.</summary>
public sealed record CocoEvaluationSettings
{
    /// <summary>Categories to evaluate (pycocotools' params.catIds). When null: the distinct category ids
    /// of the ground truth. Detections and ground truths of other categories are ignored. A listed
    /// category without ground truth gets AP -1 and is left out of the means, as in pycocotools.</summary>
    public IReadOnlyList<int>? CategoryIds { get; init; }
}
