using System.Globalization;
using System.Text.Json.Nodes;
using SkiaSharp;

namespace Lookout.Bench;

/// <summary>
/// <c>enlarge IMAGES FACTOR OUT [COCO_JSON]</c>: an enlarged copy of a labelled image folder, so the large-photo paths
/// (reduced JPEG decodes, big shrinks) run on photos with ground truth. Images are enlarged with Skia's Mitchell cubic
/// and saved as JPEG quality 95 into OUT/images; a COCO JSON is copied to OUT/instances.json with sizes, boxes, areas
/// and polygons scaled (YOLO labels are normalised and need no copy). Files already there are kept: the set is made
/// once and cached (keep OUT outside the repository: /tmp or test-output).
/// </summary>
public static class EnlargeSet
{
    public static int Run(string[] args)
    {
        if (args.Length is < 3 or > 4)
        {
            Console.Error.WriteLine("usage: Lookout.Bench enlarge IMAGES FACTOR OUT [COCO_JSON]");
            return 1;
        }
        var (source, factor, output) = (args[0], double.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
        var images = Path.Combine(output, "images");
        Directory.CreateDirectory(images);
        int made = 0, kept = 0;
        foreach (var file in Directory.EnumerateFiles(source).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            var target = Path.Combine(images, Path.GetFileName(file));
            if (File.Exists(target)) { kept++; continue; }
            using var original = SKBitmap.Decode(file) ?? throw new InvalidDataException($"Skia could not decode {file}.");
            var size = new SKImageInfo((int)Math.Round(original.Width * factor), (int)Math.Round(original.Height * factor),
                SKColorType.Rgba8888, SKAlphaType.Premul);
            using var enlarged = original.Resize(size, new SKSamplingOptions(SKCubicResampler.Mitchell))
                ?? throw new InvalidOperationException($"Skia could not resize {file}.");
            using var jpeg = enlarged.Encode(SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(target + ".tmp", jpeg.ToArray());
            File.Move(target + ".tmp", target, overwrite: true);
            made++;
        }
        if (args.Length == 4) ScaleCoco(args[3], factor, Path.Combine(output, "instances.json"));
        Console.WriteLine($"{output}: {made} images enlarged {factor}×, {kept} already there");
        return 0;
    }

    private static void ScaleCoco(string source, double factor, string target)
    {
        var coco = JsonNode.Parse(File.ReadAllText(source))!.AsObject();
        foreach (var image in coco["images"]!.AsArray())
        {
            image!["width"] = (int)Math.Round((int)image["width"]! * factor);
            image["height"] = (int)Math.Round((int)image["height"]! * factor);
        }
        foreach (var annotation in coco["annotations"]!.AsArray())
        {
            annotation!["bbox"] = new JsonArray(annotation["bbox"]!.AsArray().Select(v => (JsonNode)((double)v! * factor)).ToArray());
            annotation["area"] = (double)annotation["area"]! * factor * factor;
            // Polygons scale; crowd RLE masks stay as they are (the box metric reads only bbox, area and iscrowd).
            if (annotation["segmentation"] is JsonArray polygons)
                annotation["segmentation"] = new JsonArray(polygons.Select(p =>
                    (JsonNode)new JsonArray(p!.AsArray().Select(v => (JsonNode)((double)v! * factor)).ToArray())).ToArray());
        }
        File.WriteAllText(target, coco.ToJsonString());
    }
}
