namespace Lookout.Detection.Evaluation;

/// <summary>
/// The 80 COCO detection categories: contiguous class index 0..79 (the order YOLO/Darknet models use)
/// and the original COCO category ids 1..90 with gaps (12, 26, 29, 30, 45, 66, 68, 69, 71, 83 unused).
/// </summary>
public static class CocoCategories
{
    public const int Count = 80;

    private static readonly int[] Ids =
    [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
        46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
        67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    ];

    private static readonly string[] ClassNames =
    [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
        "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
        "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
        "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
        "scissors", "teddy bear", "hair drier", "toothbrush",
    ];

    private static readonly Dictionary<int, int> ClassOfId =
        Ids.Select((id, cls) => (id, cls)).ToDictionary(p => p.id, p => p.cls);

    /// <summary>COCO category ids indexed by contiguous class 0..79.</summary>
    public static IReadOnlyList<int> CategoryIds => Ids;

    /// <summary>Category names indexed by contiguous class 0..79.</summary>
    public static IReadOnlyList<string> Names => ClassNames;

    /// <summary>The 80 categories with their COCO ids and names, ascending id.</summary>
    public static IReadOnlyList<EvaluationCategory> Categories { get; } =
        Ids.Select((id, cls) => new EvaluationCategory(id, ClassNames[cls])).ToArray();

    /// <summary>Contiguous class 0..79 → COCO category id 1..90.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Class outside 0..79.</exception>
    public static int ToCocoId(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, Count);
        return Ids[classIndex];
    }

    /// <summary>COCO category id → contiguous class 0..79.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not one of the 80 COCO detection ids.</exception>
    public static int ToClassIndex(int cocoId) =>
        TryGetClassIndex(cocoId, out int cls)
            ? cls
            : throw new ArgumentOutOfRangeException(nameof(cocoId), cocoId, "Not a COCO detection category id.");

    public static bool TryGetClassIndex(int cocoId, out int classIndex) => ClassOfId.TryGetValue(cocoId, out classIndex);

    /// <summary>Name of contiguous class 0..79.</summary>
    public static string NameOfClass(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, Count);
        return ClassNames[classIndex];
    }
}
