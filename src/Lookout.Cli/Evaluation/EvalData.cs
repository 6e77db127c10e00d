using Lookout.Cli.Commands;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Models;

namespace Lookout.Cli.Evaluation;

/// <summary>
/// The evaluation set of one <c>lookout eval</c>: the image files in evaluation order and where their ground truth
/// comes from. Loaded once, before any model runs, so every model of a comparison sees exactly the same images and a
/// set without a single annotated object is refused before minutes of inference.
/// </summary>
internal sealed class EvalData
{
    private EvalData(string images, string? labels, string? cocoJson, EvaluationDataset? coco, IReadOnlyList<(string ImageId, string Path)> work)
    {
        ImagesDirectory = images;
        LabelsDirectory = labels;
        CocoJsonPath = cocoJson;
        Coco = coco;
        Work = work;
    }

    public string ImagesDirectory { get; }
    public string? LabelsDirectory { get; }
    public string? CocoJsonPath { get; }

    /// <summary>The COCO instances file, when the ground truth is one (its images ascending by id).</summary>
    public EvaluationDataset? Coco { get; }

    public bool IsCoco => Coco is not null;

    /// <summary>Image id and file, in evaluation order.</summary>
    public IReadOnlyList<(string ImageId, string Path)> Work { get; }

    /// <exception cref="UsageException">No images, an unreadable COCO file, or no annotated object at all.</exception>
    public static EvalData Load(EvalSettings settings)
    {
        string images = settings.Images!;
        if (settings.CocoJson is { } json)
        {
            EvaluationDataset coco;
            try { coco = CocoJson.LoadInstances(json); }
            catch (InvalidDataException ex) { throw new UsageException(ex.Message); }
            var work = coco.Images.Select(i => (i.ImageId, Path.Combine(images,
                i.FileName ?? throw new UsageException($"{json}: image {i.ImageId} has no file_name.")))).ToList();
            if (work.Count == 0) throw new UsageException($"{json} lists no images.");
            if (!coco.GroundTruths.Any(g => !g.IsCrowd))
                throw new UsageException($"{json} has no annotations: its {work.Count} images have no ground-truth objects " +
                    $"({coco.GroundTruths.Count} crowd regions), so there is nothing to measure a model against. " +
                    "Give an instances file with the images' boxes (e.g. instances_val2017.json), not an image-info file.");
            return new EvalData(images, null, json, coco, work);
        }

        // The same files, in the same order, as YoloLabels.Load enumerates.
        var files = Directory.EnumerateFiles(images)
            .Where(f => YoloLabels.ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Select(f => (Path.GetFileNameWithoutExtension(f), f)).ToList();
        if (files.Count == 0) throw new UsageException($"No images found in {images}.");
        string labels = settings.Labels!;
        bool anyObject = files.Any(f =>
        {
            var label = Path.Combine(labels, f.Item1 + ".txt");
            return File.Exists(label) && File.ReadLines(label).Any(l => !string.IsNullOrWhiteSpace(l));
        });
        if (!anyObject)
            throw new UsageException($"No label in {labels} describes an object: none of the {files.Count} images in {images} has a " +
                "<stem>.txt there with a 'class cx cy w h' line, so there is nothing to measure a model against.");
        return new EvalData(images, labels, null, null, files);
    }

    /// <summary>Refuses a model this ground truth cannot score.</summary>
    public void CheckModel(DetectionModel model)
    {
        if (IsCoco && model.Names.Count != CocoCategories.Count)
            throw new UsageException($"--coco-json maps the model's classes 0..79 to COCO ids, but {model.Name} has {model.Names.Count} classes.");
    }

    /// <summary>Category id of a model's class in this ground truth.</summary>
    public int CategoryOf(int classId) => IsCoco ? CocoCategories.ToCocoId(classId) : classId;

    /// <summary>The ground truth for a model's run. YOLO labels are normalised, so they need each image's size (as
    /// decoded: upright, full resolution); their classes are the model's.</summary>
    public EvaluationDataset DatasetFor(DetectionModel model, IReadOnlyDictionary<string, (int Width, int Height)> sizes)
    {
        if (Coco is not null) return Coco;
        try
        {
            return YoloLabels.Load(ImagesDirectory, LabelsDirectory!, f => sizes[f], model.Names.Count, classNames: model.Names);
        }
        catch (Exception ex) when (ex is YoloLabelFormatException or InvalidDataException)
        {
            throw new UsageException(ex.Message);
        }
    }
}
