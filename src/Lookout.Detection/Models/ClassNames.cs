using System.Text.RegularExpressions;

namespace Lookout.Detection.Models;

public static partial class ClassNames
{
    /// <summary>The 80 COCO classes in the contiguous order every COCO-trained YOLO uses.</summary>
    public static IReadOnlyList<string> Coco { get; } =
    [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
        "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
        "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
        "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
        "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
    ];

    /// <summary>Writes class names as Ultralytics exports carry them in the "names" metadata (<c>{0: 'person', …}</c>), the form <see cref="ParseUltralyticsNames"/> reads.</summary>
    public static string FormatUltralyticsNames(IEnumerable<string> names) =>
        "{" + string.Join(", ", names.Select((n, i) => $"{i}: '{n.Replace("'", "\\'", StringComparison.Ordinal)}'")) + "}";

    /// <summary>Parses Ultralytics' "names" metadata, a Python dict literal such as <c>{0: 'person', 1: 'bicycle'}</c>.</summary>
    public static IReadOnlyList<string>? ParseUltralyticsNames(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var entries = NamesEntry().Matches(value)
            .Select(m => (Index: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                          Name: m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value))
            .ToList();
        if (entries.Count == 0) return null;
        var names = new string[entries.Max(e => e.Index) + 1];
        foreach (var (index, name) in entries) names[index] = name.Replace("\\'", "'", StringComparison.Ordinal);
        for (int i = 0; i < names.Length; i++) names[i] ??= $"class {i}";
        return names;
    }

    /// <summary>Reads a names file: one class a line (Darknet's .names, or classes.txt).</summary>
    public static IReadOnlyList<string> ReadNamesFile(string path) =>
        File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    /// <summary>Names for <paramref name="count"/> classes: the given ones if they fit, else generic names.</summary>
    public static IReadOnlyList<string> Fit(IReadOnlyList<string>? names, int count)
    {
        if (names is not null && names.Count == count) return names;
        if (names is null && count == Coco.Count) return Coco;
        return Enumerable.Range(0, count).Select(i => names is not null && i < names.Count ? names[i] : $"class {i}").ToArray();
    }

    [GeneratedRegex("""(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")]
    private static partial Regex NamesEntry();
}
