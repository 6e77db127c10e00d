using System.Globalization;
using System.Text.Json;

namespace Lookout.Detection.Evaluation;

/// <summary>
/// COCO JSON: instances files (ground truth) and results files (detections), via System.Text.Json.
/// Image ids in the records of this library are the COCO integer ids as invariant decimal strings
/// ("9"), unless a <see cref="CocoImageIdMap"/> is given.
/// </summary>
public static class CocoJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    // ----- instances (ground truth) -----

    /// <summary>Loads a COCO instances file (<c>images</c>, <c>annotations</c>, <c>categories</c>).</summary>
    /// <returns>Images ascending by id (pycocotools' evaluation order), ImageId = id as a string,
    /// FileName = file_name; annotations in file order with <c>area</c> and <c>iscrowd</c>.</returns>
    /// <exception cref="InvalidDataException">Malformed file; the message names the file.</exception>
    public static EvaluationDataset LoadInstances(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadInstances(stream, path);
    }

    /// <inheritdoc cref="LoadInstances(string)"/>
    public static EvaluationDataset ReadInstances(Stream stream, string sourceName = "<stream>")
    {
        try
        {
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;

            var images = new List<(int Id, EvaluationImage Image)>();
            var imageIds = new HashSet<int>();
            foreach (var img in RequiredArray(root, "images", sourceName))
            {
                int id = img.GetProperty("id").GetInt32();
                if (!imageIds.Add(id)) throw new InvalidDataException($"{sourceName}: duplicate image id {id}.");
                int width = img.TryGetProperty("width", out var w) ? w.GetInt32() : 0;
                int height = img.TryGetProperty("height", out var h) ? h.GetInt32() : 0;
                string? fileName = img.TryGetProperty("file_name", out var f) ? f.GetString() : null;
                images.Add((id, new EvaluationImage(IdString(id), width, height, fileName)));
            }
            images.Sort((a, b) => a.Id.CompareTo(b.Id));

            var categories = new List<EvaluationCategory>();
            if (root.TryGetProperty("categories", out var cats))
            {
                foreach (var c in cats.EnumerateArray())
                {
                    int id = c.GetProperty("id").GetInt32();
                    string name = c.TryGetProperty("name", out var n) ? n.GetString() ?? "" : IdString(id);
                    categories.Add(new EvaluationCategory(id, name));
                }
            }
            categories.Sort((a, b) => a.Id.CompareTo(b.Id));

            var gts = new List<GroundTruth>();
            int index = 0;
            foreach (var ann in RequiredArray(root, "annotations", sourceName))
            {
                int imageId = ann.GetProperty("image_id").GetInt32();
                if (!imageIds.Contains(imageId))
                    throw new InvalidDataException($"{sourceName}: annotation #{index} refers to unknown image {imageId}.");
                var box = ReadBbox(ann, sourceName, $"annotation #{index}");
                double? area = ann.TryGetProperty("area", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : null;
                bool crowd = ann.TryGetProperty("iscrowd", out var ic) && ic.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.Number => ic.GetInt32() != 0,
                    _ => false,
                };
                gts.Add(new GroundTruth(IdString(imageId), ann.GetProperty("category_id").GetInt32(), box, crowd, area));
                index++;
            }
            return new EvaluationDataset(images.Select(i => i.Image).ToArray(), gts, categories);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{sourceName}: not a valid COCO instances file: {e.Message}", e);
        }
    }

    /// <summary>Writes a dataset as a COCO instances file. Annotation ids are 1..N in order; <c>bbox</c>
    /// is [x1, y1, x2-x1, y2-y1]; <c>area</c> is the ground truth's area (box area when not given).</summary>
    /// <param name="imageIds">Image id mapping; default <see cref="CocoImageIdMap.Create"/> over the images.</param>
    public static void WriteInstances(Stream stream, EvaluationDataset dataset, CocoImageIdMap? imageIds = null)
    {
        imageIds ??= CocoImageIdMap.Create(dataset.Images.Select(i => i.ImageId));
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        w.WriteStartObject();
        w.WriteStartArray("images");
        foreach (var img in dataset.Images)
        {
            w.WriteStartObject();
            w.WriteNumber("id", imageIds.ToCoco(img.ImageId));
            w.WriteString("file_name", img.FileName ?? img.ImageId);
            w.WriteNumber("width", img.Width);
            w.WriteNumber("height", img.Height);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("annotations");
        int id = 1;
        foreach (var g in dataset.GroundTruths)
        {
            w.WriteStartObject();
            w.WriteNumber("id", id++);
            w.WriteNumber("image_id", imageIds.ToCoco(g.ImageId));
            w.WriteNumber("category_id", g.CategoryId);
            WriteBbox(w, g.Box);
            w.WriteNumber("area", g.EffectiveArea);
            w.WriteNumber("iscrowd", g.IsCrowd ? 1 : 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("categories");
        foreach (var c in dataset.Categories)
        {
            w.WriteStartObject();
            w.WriteNumber("id", c.Id);
            w.WriteString("name", c.Name);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <inheritdoc cref="WriteInstances(Stream, EvaluationDataset, CocoImageIdMap?)"/>
    public static void WriteInstances(string path, EvaluationDataset dataset, CocoImageIdMap? imageIds = null)
    {
        using var stream = File.Create(path);
        WriteInstances(stream, dataset, imageIds);
    }

    // ----- results (detections) -----

    /// <summary>Writes detections in the COCO results format:
    /// <c>[{"image_id":9,"category_id":1,"bbox":[x,y,w,h],"score":0.9}, ...]</c>, in the order given.
    /// Numbers are written with round-trip precision.</summary>
    /// <param name="imageIds">Maps ImageId to the integer image_id; null: ImageId must be an integer string.</param>
    public static void WriteResults(Stream stream, IEnumerable<ScoredDetection> detections, CocoImageIdMap? imageIds = null)
    {
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        w.WriteStartArray();
        foreach (var d in detections)
        {
            w.WriteStartObject();
            w.WriteNumber("image_id", imageIds?.ToCoco(d.ImageId) ?? ParseImageId(d.ImageId));
            w.WriteNumber("category_id", d.CategoryId);
            WriteBbox(w, d.Box);
            w.WriteNumber("score", d.Score);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <inheritdoc cref="WriteResults(Stream, IEnumerable{ScoredDetection}, CocoImageIdMap?)"/>
    public static void WriteResults(string path, IEnumerable<ScoredDetection> detections, CocoImageIdMap? imageIds = null)
    {
        using var stream = File.Create(path);
        WriteResults(stream, detections, imageIds);
    }

    /// <summary>Reads a COCO results file. ImageId is mapped back through <paramref name="imageIds"/>
    /// when given, else it is the integer image_id as a string.</summary>
    /// <exception cref="InvalidDataException">Malformed file or unknown image id.</exception>
    public static IReadOnlyList<ScoredDetection> ReadResults(Stream stream, CocoImageIdMap? imageIds = null, string sourceName = "<stream>")
    {
        try
        {
            using var doc = JsonDocument.Parse(stream);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{sourceName}: a COCO results file is a JSON array.");
            var result = new List<ScoredDetection>();
            int index = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                int cocoImageId = e.GetProperty("image_id").GetInt32();
                string imageId;
                if (imageIds is null) imageId = IdString(cocoImageId);
                else if (!imageIds.TryFromCoco(cocoImageId, out imageId))
                    throw new InvalidDataException($"{sourceName}: result #{index} refers to unknown image_id {cocoImageId}.");
                result.Add(new ScoredDetection(imageId, e.GetProperty("category_id").GetInt32(),
                    ReadBbox(e, sourceName, $"result #{index}"), e.GetProperty("score").GetDouble()));
                index++;
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{sourceName}: not a valid COCO results file: {e.Message}", e);
        }
    }

    /// <inheritdoc cref="ReadResults(Stream, CocoImageIdMap?, string)"/>
    public static IReadOnlyList<ScoredDetection> LoadResults(string path, CocoImageIdMap? imageIds = null)
    {
        using var stream = File.OpenRead(path);
        return ReadResults(stream, imageIds, path);
    }

    // ----- helpers -----

    private static string IdString(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static int ParseImageId(string imageId) =>
        int.TryParse(imageId, NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            ? id
            : throw new ArgumentException($"Image id '{imageId}' is not an integer; pass a CocoImageIdMap.");

    private static JsonElement.ArrayEnumerator RequiredArray(JsonElement root, string name, string sourceName) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Array
            ? e.EnumerateArray()
            : throw new InvalidDataException($"{sourceName}: missing array '{name}'.");

    private static BoxXyxy ReadBbox(JsonElement e, string sourceName, string what)
    {
        var bbox = e.GetProperty("bbox");
        if (bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4)
            throw new InvalidDataException($"{sourceName}: {what}: bbox must be [x, y, w, h].");
        return BoxXyxy.FromXywh(bbox[0].GetDouble(), bbox[1].GetDouble(), bbox[2].GetDouble(), bbox[3].GetDouble());
    }

    private static void WriteBbox(Utf8JsonWriter w, BoxXyxy box)
    {
        w.WriteStartArray("bbox");
        w.WriteNumberValue(box.X1);
        w.WriteNumberValue(box.Y1);
        w.WriteNumberValue(box.Width);
        w.WriteNumberValue(box.Height);
        w.WriteEndArray();
    }
}
