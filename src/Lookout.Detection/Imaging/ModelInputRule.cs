namespace Lookout.Detection.Imaging;

/// <summary>Which reduced sizes a JPEG may be decoded at (libjpeg-turbo scales in the DCT domain while decoding).</summary>
public enum JpegScaleSteps
{
    /// <summary>Always decode at full size.</summary>
    None,
    /// <summary>1/2, 1/4 or 1/8.</summary>
    PowersOfTwo,
    /// <summary>Any k/8 (1/8, 2/8, … 7/8).</summary>
    Eighths,
}

/// <summary>How the decoded pixels are shrunk into the letterbox.</summary>
public enum ResizeFilter
{
    /// <summary>cv2.resize INTER_LINEAR: two taps per axis, no antialiasing (what the reference pipelines feed the models).</summary>
    Bilinear,
    /// <summary>cv2.resize INTER_AREA: every output pixel is the mean of the source area it covers (bilinear when enlarging).</summary>
    Area,
}

/// <summary>
/// How an encoded photo becomes a model's input: at which reduced JPEG scale it is decoded (the smallest allowed step
/// whose longest side still covers the model input) and which filter shrinks it into the letterbox. Every route uses
/// the same rule for a given model, whatever is drawn afterwards, so a photo gets one answer.
/// </summary>
public sealed record ModelInputRule(string Name, JpegScaleSteps JpegScale, ResizeFilter Filter)
{
    public static ModelInputRule FullBilinear { get; } = new("full-bilinear", JpegScaleSteps.None, ResizeFilter.Bilinear);
    public static ModelInputRule FullArea { get; } = new("full-area", JpegScaleSteps.None, ResizeFilter.Area);
    public static ModelInputRule HalvingBilinear { get; } = new("dct-halving-bilinear", JpegScaleSteps.PowersOfTwo, ResizeFilter.Bilinear);
    public static ModelInputRule HalvingArea { get; } = new("dct-halving-area", JpegScaleSteps.PowersOfTwo, ResizeFilter.Area);
    public static ModelInputRule EighthsBilinear { get; } = new("dct-eighths-bilinear", JpegScaleSteps.Eighths, ResizeFilter.Bilinear);
    public static ModelInputRule EighthsArea { get; } = new("dct-eighths-area", JpegScaleSteps.Eighths, ResizeFilter.Area);

    /// <summary>The candidates bench/large-photos.sh compares by AP (docs/large-photos.md).</summary>
    public static IReadOnlyList<ModelInputRule> Candidates { get; } =
        [FullBilinear, FullArea, HalvingBilinear, HalvingArea, EighthsBilinear, EighthsArea];

    /// <summary>
    /// The rule every route uses for a model of this family (a caller may pick another, as `lookout eval --input-rule`
    /// does to compare them). Chosen by accuracy, per family, where the choice changes the answer:
    /// <list type="bullet">
    /// <item>YOLOX: full-size decode, area filter (docs/large-photos.md, made by bench/large-photos.sh): the fastest
    /// candidate whose AP, averaged over the set as given and enlarged 2× and 4×, is within 0.003 of the best on both
    /// the COCO val2017 dev set and coco128. Only the two area-filter rules reach the best on val2017 (0.373 against
    /// 0.365–0.368 for the bilinear ones: the bilinear shrink aliases); of those, the halving DCT decode then missed by
    /// 0.00001 on coco128, so the full decode is kept.</item>
    /// <item>Ultralytics and Darknet: halving DCT decode, cv2-exact bilinear — what their reference pipelines
    /// (Ultralytics' letterbox, OpenCV DNN) feed them. On the val2017 dev set the rules tie for them (YOLOv8n: AP 0.487
    /// with every rule, the photos are not larger than its 640 input; Yolo-Fastest-1.1-XL: 0.218 / 0.219 / 0.223 for
    /// full-bilinear / full-area / halving-bilinear, within the set's noise), while only bilinear keeps their detections
    /// equal to the reference pipelines' (the area filter moved a YOLOv8n score by 0.03 on dog.jpg), so they keep it,
    /// with the fastest decode.</item>
    /// </list>
    /// </summary>
    public static ModelInputRule For(string family) =>
        string.Equals(family, "yolox", StringComparison.OrdinalIgnoreCase) ? FullArea : HalvingBilinear;

    public static ModelInputRule Parse(string name) =>
        Candidates.FirstOrDefault(c => string.Equals(c.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown input rule '{name}'. Known: {string.Join(", ", Candidates.Select(c => c.Name))}.", nameof(name));

    public override string ToString() => Name;
}
