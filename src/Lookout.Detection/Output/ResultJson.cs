using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lookout.Detection.Output;

/// <summary>
/// The one JSON shape of a detection result, shared by the CLI (<c>lookout detect --json/--jsonl</c>) and the
/// web server (<c>/api/v1/detect</c>). Field names are snake_case:
/// <code>
/// {"file":"dog.jpg","model":"yolox-nano","image":{"width":768,"height":576},
///  "detections":[{"label":"dog","class_id":16,"score":0.8571,"box":{"x1":133.2,"y1":206.1,"x2":326.4,"y2":543.0}}],
///  "timings":{"decode_ms":3.1,"preprocess_ms":0.9,"inference_ms":12.3,"postprocess_ms":0.1,"total_ms":16.4}}
/// </code>
/// <c>file</c> is left out when null (the server has no file name to report). Detections keep the result's order
/// (descending score). Scores are rounded to 4 decimals, box corners (original-image pixels) to 1 decimal,
/// milliseconds to 2 decimals: enough for every consumer, and stable output for diffs.
/// </summary>
public static class ResultJson
{
    /// <summary>Builds the DTO of a result; <paramref name="file"/> is the input's path as the user gave it, or null.</summary>
    public static DetectionResultDto ToDto(DetectionResult result, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var detections = new DetectionDto[result.Detections.Count];
        for (int i = 0; i < detections.Length; i++)
        {
            var d = result.Detections[i];
            detections[i] = new DetectionDto(d.Label, d.ClassId, Math.Round(d.Score, 4),
                new BoxDto(Round1(d.Box.X1), Round1(d.Box.Y1), Round1(d.Box.X2), Round1(d.Box.Y2)));
        }
        var t = result.Timings;
        return new DetectionResultDto(file, result.Model, new ImageSizeDto(result.ImageWidth, result.ImageHeight), detections,
            new TimingsDto(Round2(t.DecodeMs), Round2(t.PreprocessMs), Round2(t.InferenceMs), Round2(t.PostprocessMs), Round2(t.TotalMs)) { Passes = t.Passes });
    }

    /// <summary>One result as compact JSON (one line: what <c>--jsonl</c> writes).</summary>
    public static string Serialize(DetectionResult result, string? file = null) => Serialize(ToDto(result, file));

    /// <summary>One result DTO as compact JSON (a video frame's line carries its <c>frame</c> and <c>time</c>).</summary>
    public static string Serialize(DetectionResultDto dto) => JsonSerializer.Serialize(dto, ResultJsonContext.Default.DetectionResultDto);

    /// <summary>Writes an array of results as one indented JSON document (what <c>--json</c> writes).</summary>
    public static void WriteArray(Stream stream, IEnumerable<DetectionResultDto> results)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartArray();
        foreach (var r in results) JsonSerializer.Serialize(writer, r, ResultJsonContext.Default.DetectionResultDto);
        writer.WriteEndArray();
    }

    /// <summary>Reads one result document (for tests and clients).</summary>
    public static DetectionResultDto? Deserialize(string json) =>
        JsonSerializer.Deserialize(json, ResultJsonContext.Default.DetectionResultDto);

    /// <summary>Reads an array of result documents.</summary>
    public static IReadOnlyList<DetectionResultDto>? DeserializeArray(string json) =>
        JsonSerializer.Deserialize(json, ResultJsonContext.Default.DetectionResultDtoArray);

    private static double Round1(float v) => Math.Round(v, 1);
    private static double Round2(double v) => Math.Round(v, 2);
}

/// <summary>A detection result as JSON; see <see cref="ResultJson"/>.</summary>
public sealed record DetectionResultDto(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? File,
    string Model,
    ImageSizeDto Image,
    IReadOnlyList<DetectionDto> Detections,
    TimingsDto Timings)
{
    /// <summary>A video frame's 0-based index in the source video (every decoded frame counts); absent for photos.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Frame { get; init; }

    /// <summary>A video frame's time in seconds from the start of the video; absent for photos.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Time { get; init; }
}

/// <summary>The upright original image's size in pixels.</summary>
public sealed record ImageSizeDto(int Width, int Height);

/// <summary>One detection: label, class id of the model, score 0..1, box in original pixels.</summary>
public sealed record DetectionDto(string Label, int ClassId, double Score, BoxDto Box);

/// <summary>Box corners in original-image pixels: (x1,y1) top-left, (x2,y2) bottom-right.</summary>
public sealed record BoxDto(double X1, double Y1, double X2, double Y2);

/// <summary>Milliseconds per stage; total is their sum. <c>passes</c> (whole image + tiles) only when tiling was asked for.</summary>
public sealed record TimingsDto(double DecodeMs, double PreprocessMs, double InferenceMs, double PostprocessMs, double TotalMs)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Passes { get; init; }
}

/// <summary>System.Text.Json source-generated metadata for the result DTOs, snake_case names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DetectionResultDto))]
[JsonSerializable(typeof(DetectionResultDto[]))]
public sealed partial class ResultJsonContext : JsonSerializerContext;
