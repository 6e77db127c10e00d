using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Lookout.Detection;
using Lookout.Detection.Models;
using Lookout.Server.Services;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Endpoints;

/// <summary>
/// DeepStack / CodeProject.AI compatible routes, for Home Assistant, Frigate, Blue Iris and Agent DVR. Field names,
/// error texts, sort order (descending confidence: Frigate stops at the first low one) and non-chunked bodies
/// follow those servers.
/// </summary>
public static class DeepStackEndpoints
{
    /// <summary>DeepStack's server-side default for min_confidence.</summary>
    public const float DefaultMinConfidence = 0.40f;
    public const string ModuleId = "ObjectDetectionLookout";
    public const string ModuleName = "Lookout Object Detection";
    public const string QueueName = "objectdetection_queue";

    public static IEndpointRouteBuilder MapDeepStackEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("DeepStack / CodeProject.AI");
        var vision = v1.MapGroup("/vision").RequireRateLimiting(ClientRateLimiting.Policy);
        vision.MapPost("/detection", (HttpContext c, DetectionService d, IOptions<LookoutOptions> o) => DetectAsync(c, d, o, null))
            .DisableAntiforgery().WithSummary("DeepStack object detection: multipart 'image', 'min_confidence', 'api_key'; Lookout's extra 'tile' (off, auto, RxC) and 'tile_overlap'.");
        vision.MapPost("/custom/{model}", (string model, HttpContext c, DetectionService d, IOptions<LookoutOptions> o) => DetectAsync(c, d, o, model))
            .DisableAntiforgery().WithSummary("DeepStack custom-model detection with a named model.");
        // Only models that can answer now, as DeepStack lists its models folder: camera software builds its picker from this.
        v1.MapGet("/vision/custom/list", (ModelRegistry models) => new BufferedJson(
            new ModelListResponse(true, models.List().Where(m => m.CanAnswer).Select(m => m.Name).ToArray(), ModuleId, ModuleName, "list", 0), 200) { Options = BufferedJson.AsDeclared });
        v1.MapGet("/server/status/ping", () => new BufferedJson(new PingResponse(true), 200) { Options = BufferedJson.AsDeclared });
        v1.MapGet("/status/updateavailable", () => new BufferedJson(UpdateResponse.Current, 200) { Options = BufferedJson.AsDeclared });
        return app;
    }

    public sealed record Prediction(
        [property: JsonPropertyName("confidence")] float Confidence,
        [property: JsonPropertyName("label")] string Label,
        [property: JsonPropertyName("y_min")] int YMin,
        [property: JsonPropertyName("x_min")] int XMin,
        [property: JsonPropertyName("y_max")] int YMax,
        [property: JsonPropertyName("x_max")] int XMax);

    /// <summary>DeepStack's fields, then CodeProject.AI's additions.</summary>
    public sealed record DetectionResponse(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("predictions")] IReadOnlyList<Prediction> Predictions,
        [property: JsonPropertyName("duration")] int Duration,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("count")] int Count,
        [property: JsonPropertyName("moduleId")] string ModuleId,
        [property: JsonPropertyName("moduleName")] string ModuleName,
        [property: JsonPropertyName("command")] string Command,
        [property: JsonPropertyName("requestId")] string RequestId,
        [property: JsonPropertyName("inferenceDevice")] string InferenceDevice,
        [property: JsonPropertyName("inferenceMs")] int InferenceMs,
        [property: JsonPropertyName("processMs")] int ProcessMs,
        [property: JsonPropertyName("analysisRoundTripMs")] int AnalysisRoundTripMs,
        [property: JsonPropertyName("processedBy")] string ProcessedBy,
        [property: JsonPropertyName("timestampUTC")] string TimestampUtc);

    public sealed record ErrorResponse(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("duration")] int Duration);

    public sealed record ModelListResponse(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("models")] IReadOnlyList<string> Models,
        [property: JsonPropertyName("moduleId")] string ModuleId,
        [property: JsonPropertyName("moduleName")] string ModuleName,
        [property: JsonPropertyName("command")] string Command,
        [property: JsonPropertyName("processMs")] int ProcessMs);

    public sealed record PingResponse([property: JsonPropertyName("success")] bool Success);

    public sealed record VersionInfo(
        [property: JsonPropertyName("major")] int Major, [property: JsonPropertyName("minor")] int Minor,
        [property: JsonPropertyName("patch")] int Patch, [property: JsonPropertyName("preRelease")] string? PreRelease,
        [property: JsonPropertyName("securityUpdate")] bool SecurityUpdate, [property: JsonPropertyName("build")] int Build,
        [property: JsonPropertyName("file")] string? File, [property: JsonPropertyName("releaseNotes")] string? ReleaseNotes);

    public sealed record UpdateResponse(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("version")] VersionInfo Version,
        [property: JsonPropertyName("current")] VersionInfo CurrentVersion,
        [property: JsonPropertyName("latest")] VersionInfo Latest,
        [property: JsonPropertyName("updateAvailable")] bool UpdateAvailable)
    {
        // Self-hosted and offline: Lookout never phones home, so "the running version is the latest" is the honest answer.
        private static readonly VersionInfo Running = new(1, 0, 0, null, false, 0, null, null);
        public static UpdateResponse Current { get; } = new(true, "Lookout does not check for updates; this is the running version.", Running, Running, Running, false);
    }

    private static async Task<IResult> DetectAsync(HttpContext context, DetectionService detection, IOptions<LookoutOptions> options, string? model)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            detection.EnsureCapacity();
            Upload upload;
            try
            {
                upload = await UploadReader.ReadAsync(context.Request, ["image"], options.Value.Limits.MaxUploadBytes, allowRawBody: false, context.RequestAborted);
            }
            catch (UploadException ex) when (ex.StatusCode is 400 or 415)
            {
                return Error(400, "No valid image file found", start);
            }
            if (!ApiKeys.Matches(options.Value.Security.ApiKey, upload.Form["api_key"].ToString(), context.Request.Headers["X-Api-Key"].ToString()))
                return Error(401, "Incorrect api key", start);

            var minConfidence = DefaultMinConfidence;
            var text = upload.Form["min_confidence"].ToString();
            if (!string.IsNullOrWhiteSpace(text))
            {
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out minConfidence) || float.IsNaN(minConfidence) || minConfidence < 0)
                    return Error(400, "Invalid value for min_confidence", start);
                if (minConfidence > 1) return Error(400, "min_confidence cannot be greater than 1", start);
            }

            // Lookout's extra form fields (DeepStack clients never send them, so their requests are unchanged).
            DetectionOptions detectionOptions;
            try
            {
                detectionOptions = RequestParameters.ApplyTiling(new DetectionOptions { Confidence = minConfidence },
                    upload.Form["tile"].ToString(), upload.Form["tile_overlap"].ToString(), options.Value.Limits.MaxTilesPerRequest);
            }
            catch (ParameterException ex)
            {
                return Error(400, "Invalid value: " + ex.Message, start);
            }
            var outcome = await detection.DetectAsync(
                new DetectionJob(upload.Image, model, detectionOptions, Annotate: false), context.RequestAborted);
            context.Items[RequestLogging.OutcomeKey] = outcome;
            return new BufferedJson(ToResponse(outcome, context, model is null ? "detect" : "custom"), 200) { Options = BufferedJson.AsDeclared };
        }
        catch (Exception ex) when (RequestError.From(ex) is { } error)
        {
            return error.Status switch
            {
                415 or 400 when ex is Lookout.Detection.Imaging.ImageDecodeException => Error(400, "invalid image file", start),
                413 => Error(413, "invalid image file: " + error.Detail, start),
                503 when ex is GateRefusedException => ErrorWithRetry(context, 503, $"Request queue '{QueueName}' is full", start, error.RetryAfter),
                // A removed folder model, a name never seen and a name that is a path all read as DeepStack's "not found".
                400 or 404 when ex is ModelNotFoundException or InvalidModelNameException => Error(404, $"Custom model '{ModelRegistry.Printable(model)}' not found", start),
                503 when ex is ModelDownloadingException => ErrorWithRetry(context, 503, error.Detail, start, error.RetryAfter),
                504 => Error(500, "The request timed out", start),
                _ => Error(error.Status, error.Detail, start),
            };
        }
    }

    internal static DetectionResponse ToResponse(DetectionOutcome outcome, HttpContext context, string command)
    {
        var r = outcome.Result;
        // Already sorted by descending score (the result's contract), which Frigate relies on.
        var predictions = r.Detections
            .Select(d => new Prediction(MathF.Round(d.Score, 4), d.Label,
                (int)MathF.Round(d.Box.Y1), (int)MathF.Round(d.Box.X1), (int)MathF.Round(d.Box.Y2), (int)MathF.Round(d.Box.X2)))
            .ToArray();
        var labels = predictions.Select(p => p.Label).Distinct().ToArray();
        var message = labels.Length == 0
            ? "No objects found"
            : "Found " + string.Join(", ", labels.Take(10)) + (labels.Length > 10 ? "..." : "");
        int inferenceMs = (int)Math.Round(r.Timings.InferenceMs);
        int processMs = (int)Math.Round(r.Timings.TotalMs);
        int roundTrip = (int)Math.Round(outcome.TotalMs);
        return new DetectionResponse(true, predictions, processMs, message, predictions.Length, ModuleId, ModuleName, command,
            context.TraceIdentifier, outcome.ExecutionProvider.ToUpperInvariant(), inferenceMs, processMs, roundTrip,
            Environment.MachineName, DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture));
    }


    private static IResult Error(int status, string message, long start) =>
        new BufferedJson(new ErrorResponse(false, message, (int)Stopwatch.GetElapsedTime(start).TotalMilliseconds), status) { Options = BufferedJson.AsDeclared };

    private static IResult ErrorWithRetry(HttpContext context, int status, string message, long start, TimeSpan? retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Error(status, message, start);
    }
}
