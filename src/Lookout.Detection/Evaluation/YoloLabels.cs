using System.Globalization;

namespace Lookout.Detection.Evaluation;

/// <summary>A malformed YOLO label line; <see cref="Exception.Message"/> names the file and line.</summary>
public sealed class YoloLabelFormatException(string filePath, int lineNumber, string problem)
    : FormatException($"{filePath}:{lineNumber}: {problem}")
{
    public string FilePath { get; } = filePath;
    public int LineNumber { get; } = lineNumber;
}

/// <summary>
/// Loads YOLO txt labels: an image directory plus a label directory holding <c>&lt;stem&gt;.txt</c>
/// per image, one object per line as <c>class cx cy w h</c> normalised to 0..1.
/// </summary>
/// <remarks>
/// ImageId is the file stem. Images are ordered by file name (ordinal). An image without a label file
/// (or with an empty one) has no objects. Class ids must be integers 0..classCount-1; they become
/// category ids through <c>classToCategoryId</c> (identity by default; pass
/// <see cref="CocoCategories.ToCocoId"/> for COCO ids). YOLO has no crowd flag and no segmentation
/// area: every object is non-crowd and its area is the box area. Blank lines are skipped; anything else
/// that is not 5 numbers (e.g. polygon segmentation labels) is an error.
/// </remarks>
public static class YoloLabels
{
    /// <summary>Image file extensions (case-insensitive) looked for in the image directory.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } =
        [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"];

    /// <summary>Loads a YOLO-labelled dataset.</summary>
    /// <param name="imagesDirectory">Directory of images (not searched recursively).</param>
    /// <param name="labelsDirectory">Directory of <c>&lt;stem&gt;.txt</c> label files.</param>
    /// <param name="imageSize">Size in pixels of an image, given its full path (e.g. read from the file header).</param>
    /// <param name="classCount">Number of classes of the model; class ids must be below it.</param>
    /// <param name="classToCategoryId">Class → category id; identity when null.</param>
    /// <param name="classNames">Class names for the dataset's categories; when null, COCO names if
    /// <paramref name="classCount"/> is 80, else the class number.</param>
    /// <exception cref="DirectoryNotFoundException">A directory does not exist.</exception>
    /// <exception cref="YoloLabelFormatException">A malformed label line.</exception>
    /// <exception cref="InvalidDataException">Two images with the same stem.</exception>
    public static EvaluationDataset Load(
        string imagesDirectory,
        string labelsDirectory,
        Func<string, (int Width, int Height)> imageSize,
        int classCount = CocoCategories.Count,
        Func<int, int>? classToCategoryId = null,
        IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(imageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (!Directory.Exists(imagesDirectory))
            throw new DirectoryNotFoundException($"Image directory not found: {imagesDirectory}");
        if (!Directory.Exists(labelsDirectory))
            throw new DirectoryNotFoundException($"Label directory not found: {labelsDirectory}");

        var files = Directory.EnumerateFiles(imagesDirectory)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToList();

        var images = new List<EvaluationImage>(files.Count);
        var gts = new List<GroundTruth>();
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            if (!stems.TryAdd(stem, file))
                throw new InvalidDataException($"Two images share the stem '{stem}': {stems[stem]} and {file}.");
            var (width, height) = imageSize(file);
            images.Add(new EvaluationImage(stem, width, height, Path.GetFileName(file)));
            string labelPath = Path.Combine(labelsDirectory, stem + ".txt");
            if (File.Exists(labelPath))
                gts.AddRange(ParseLabelFile(labelPath, stem, width, height, classCount, classToCategoryId));
        }

        var map = classToCategoryId ?? (c => c);
        var categories = Enumerable.Range(0, classCount)
            .Select(c => new EvaluationCategory(map(c),
                classNames is not null && c < classNames.Count ? classNames[c]
                : classCount == CocoCategories.Count ? CocoCategories.Names[c]
                : c.ToString(CultureInfo.InvariantCulture)))
            .OrderBy(c => c.Id)
            .ToArray();
        return new EvaluationDataset(images, gts, categories);
    }

    /// <summary>Parses one label file into ground truths (pixel boxes) for an image of the given size.</summary>
    public static IReadOnlyList<GroundTruth> ParseLabelFile(
        string labelPath, string imageId, int imageWidth, int imageHeight,
        int classCount = CocoCategories.Count, Func<int, int>? classToCategoryId = null)
    {
        using var reader = new StreamReader(labelPath);
        return ParseLabels(reader, labelPath, imageId, imageWidth, imageHeight, classCount, classToCategoryId);
    }

    /// <summary>Parses label lines; <paramref name="sourceName"/> is used in error messages.</summary>
    /// <exception cref="YoloLabelFormatException">A malformed line.</exception>
    public static IReadOnlyList<GroundTruth> ParseLabels(
        TextReader reader, string sourceName, string imageId, int imageWidth, int imageHeight,
        int classCount = CocoCategories.Count, Func<int, int>? classToCategoryId = null)
    {
        var result = new List<GroundTruth>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 5)
                throw new YoloLabelFormatException(sourceName, lineNumber,
                    $"expected 5 values 'class cx cy w h', got {parts.Length} in \"{line.Trim()}\"");
            if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int cls))
                throw new YoloLabelFormatException(sourceName, lineNumber, $"class id '{parts[0]}' is not a non-negative integer");
            if (cls >= classCount)
                throw new YoloLabelFormatException(sourceName, lineNumber, $"class id {cls} is out of range 0..{classCount - 1}");
            var v = new double[4];
            for (int i = 0; i < 4; i++)
            {
                if (!double.TryParse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
                    throw new YoloLabelFormatException(sourceName, lineNumber, $"'{parts[i + 1]}' is not a number");
                if (v[i] < 0 || v[i] > 1)
                    throw new YoloLabelFormatException(sourceName, lineNumber, $"value {parts[i + 1]} is not normalised to 0..1");
            }
            int category = classToCategoryId is null ? cls : classToCategoryId(cls);
            result.Add(new GroundTruth(imageId, category,
                BoxXyxy.FromNormalizedCxcywh(v[0], v[1], v[2], v[3], imageWidth, imageHeight)));
        }
        return result;
    }
}
