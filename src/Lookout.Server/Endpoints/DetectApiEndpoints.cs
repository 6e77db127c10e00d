using Lookout.Detection;
using Lookout.Detection.Assets;
using Lookout.Detection.Models;
using Lookout.Detection.Output;
using Lookout.Server.Services;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Lookout.Server.Endpoints;

/// <summary>Lookout's own JSON API: <c>POST /api/v1/detect</c>, <c>GET /api/v1/models</c>, <c>GET /api/v1/config</c>.</summary>
public static class DetectApiEndpoints
{
    public static IEndpointRouteBuilder MapDetectApiEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Lookout API");
        api.MapPost("/detect", DetectAsync).DisableAntiforgery().RequireRateLimiting(ClientRateLimiting.Policy).AddEndpointFilter<ApiKeyFilter>()
            .WithSummary("Detect objects: multipart part 'image' (or 'file'), or the raw image as the body.")
            .WithDescription("Parameters (query or form): conf, iou, classes (names or ids, comma-separated), max_det, model, annotate. " +
                             "With 'Accept: image/jpeg' the annotated JPEG itself is returned.");
        api.MapGet("/models", ListModels).WithSummary("The models this server can run, and which are loaded.");
        api.MapGet("/config", Config).WithSummary("Settings the web page needs.");
        return app;
    }

    /// <summary>The server's stage times: the engine's, plus waiting for a slot and drawing.</summary>
    public sealed record ApiTimings(double QueueMs, double DecodeMs, double PreprocessMs, double InferenceMs, double PostprocessMs, double RenderMs, double TotalMs);

    /// <summary>The CLI's result shape (<see cref="ResultJson"/>) plus what only a server knows.</summary>
    public sealed record DetectResponse(string Model, string ExecutionProvider, ImageSizeDto Image, IReadOnlyList<DetectionDto> Detections, ApiTimings Timings)
    {
        public string? AnnotatedImage { get; init; }
    }

    public static DetectResponse ToResponse(DetectionOutcome outcome)
    {
        var dto = ResultJson.ToDto(outcome.Result);
        var t = dto.Timings;
        return new DetectResponse(dto.Model, outcome.ExecutionProvider, dto.Image, dto.Detections,
            new ApiTimings(R(outcome.QueueMs), t.DecodeMs, t.PreprocessMs, t.InferenceMs, t.PostprocessMs, R(outcome.RenderMs), R(outcome.TotalMs)));
    }

    private static double R(double ms) => Math.Round(ms, 2);

    private static async Task<IResult> DetectAsync(HttpContext context, DetectionService detection, IOptions<LookoutOptions> options)
    {
        try
        {
            detection.EnsureCapacity();
            var upload = await UploadReader.ReadAsync(context.Request, ["image", "file"], options.Value.Limits.MaxUploadBytes, allowRawBody: true, context.RequestAborted);
            var p = new RequestParameters(context.Request, upload.Form);
            using var lease = await detection.AcquireModelAsync(p.String("model"), context.RequestAborted);
            var model = lease.Model;
            bool wantsJpeg = context.Request.GetTypedHeaders().Accept is { Count: > 0 } accept
                && accept.Any(a => a.MediaType.Equals("image/jpeg", StringComparison.OrdinalIgnoreCase))
                && !accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
            DetectionOptions detectionOptions;
            try
            {
                detectionOptions = new DetectionOptions
                {
                    Confidence = p.Float("conf", DetectionOptions.DefaultConfidence, 0, 1),
                    Iou = p.Float("iou", DetectionOptions.DefaultIou, 0, 1, minExclusive: true),
                    MaxDetections = p.Int("max_det", DetectionOptions.DefaultMaxDetections, 1, 10_000),
                    Classes = ClassSelection.Parse(p.String("classes"), model.Names),
                };
            }
            catch (ArgumentException ex)
            {
                throw new ParameterException($"'classes': {ex.Message}");
            }
            bool annotate = p.Bool("annotate", false) || wantsJpeg;

            var outcome = await detection.DetectAsync(new DetectionJob(upload.Image, model.Name, detectionOptions, annotate), context.RequestAborted, lease);
            context.Items[RequestLogging.OutcomeKey] = outcome;
            if (wantsJpeg)
            {
                context.Response.Headers["X-Lookout-Detections"] = outcome.Result.Detections.Count.ToString();
                return Results.Bytes(outcome.AnnotatedJpeg!, "image/jpeg");
            }
            var response = ToResponse(outcome);
            if (annotate) response = response with { AnnotatedImage = "data:image/jpeg;base64," + Convert.ToBase64String(outcome.AnnotatedJpeg!) };
            return new BufferedJson(response, 200);
        }
        catch (Exception ex) when (RequestError.From(ex) is { } error)
        {
            return Problems.Create(context, error.Status, error.Title, error.Detail, error.RetryAfter);
        }
    }

    /// <summary>
    /// One model. The first fields are the original listing's; then where it comes from ("catalogue" or "folder"),
    /// its state (available, downloadable, downloading, missing, loading, loaded, error) and the exact error, the
    /// published facts (input size, COCO val2017 AP, licence), its file size and where it is (a path, "cached", or
    /// "download NN MB"), and a running download's progress.
    /// </summary>
    public sealed record ModelEntry(string Name, string Family, string Description, bool IsDefault, bool Loaded, bool Available,
        int? InputWidth, int? InputHeight, string? ExecutionProvider, IReadOnlyList<string>? Classes)
    {
        public string Origin { get; init; } = "catalogue";
        public string State { get; init; } = "available";
        public string? Error { get; init; }
        public int? InputSize { get; init; }
        public double? CocoAp { get; init; }
        public string? Licence { get; init; }
        public long? FileSize { get; init; }
        public string? Location { get; init; }
        public string? Path { get; init; }
        public DownloadEntry? Download { get; init; }
        public int ActiveRequests { get; init; }
    }

    public sealed record DownloadEntry(long BytesReceived, long TotalBytes, double Percent, bool Running, string? Error);

    public sealed record ModelsResponse(string Default, IReadOnlyList<ModelEntry> Models)
    {
        public int LoadedCount { get; init; }
        public int MaxLoadedModels { get; init; }
        public IReadOnlyList<string> ModelDirectories { get; init; } = [];
    }

    private static IResult ListModels(ModelRegistry registry, IOptions<LookoutOptions> options) =>
        new BufferedJson(Listing(registry, options.Value.Model), 200);

    public static ModelsResponse Listing(ModelRegistry registry, string defaultModel)
    {
        var store = registry.Catalog.Assets;
        var entries = registry.List().Select(status =>
        {
            var model = status.Model;
            bool isDefault = string.Equals(status.Name, defaultModel, StringComparison.OrdinalIgnoreCase);
            var state = status.State.ToString().ToLowerInvariant();
            if (status.Catalogue is { } info)
            {
                var files = info.Files.Values.Distinct().Select(f => (Asset: store.Manifest.FindAsset(f)!, Local: store.TryFindLocal(f))).ToArray();
                var main = files[0].Local;
                long missing = files.Where(f => f.Local is null).Sum(f => f.Asset.Size);
                string location = missing > 0
                    ? (store.AllowDownload ? $"download {Math.Max(1, (long)Math.Round(missing / 1e6))} MB" : "missing (downloads are off)")
                    : main!.Source == AssetSource.UserCache ? "cached" : main.Path;
                return new ModelEntry(info.Name, info.Family, info.Description, isDefault, model is not null, missing == 0 || model is not null,
                    model?.InputWidth ?? info.InputSize, model?.InputHeight ?? info.InputSize, model?.ExecutionProvider, model?.Names)
                {
                    Origin = "catalogue", State = state, Error = status.Error, InputSize = info.InputSize, CocoAp = info.CocoAp,
                    Licence = store.Manifest.LicenceOf(info), FileSize = store.Manifest.TotalSize(info), Location = location,
                    Path = main?.Path, ActiveRequests = status.ActiveRequests,
                    Download = status.Download is { } d ? new DownloadEntry(d.BytesReceived, d.TotalBytes, d.Percent, d.Running, d.Error) : null,
                };
            }
            var file = status.File!;
            return new ModelEntry(status.Name, model?.Family ?? (file.Kind == "darknet" ? "darknet" : "onnx"),
                $"Models folder: {System.IO.Path.GetFileName(file.Path)}", isDefault, model is not null, status.CanAnswer,
                model?.InputWidth, model?.InputHeight, model?.ExecutionProvider, model?.Names)
            {
                Origin = "folder", State = state, Error = status.Error, InputSize = model?.InputWidth, FileSize = file.Size,
                Location = file.Path, Path = file.Path, ActiveRequests = status.ActiveRequests,
            };
        }).ToArray();
        return new ModelsResponse(defaultModel, entries)
        {
            LoadedCount = registry.LoadedCount, MaxLoadedModels = registry.MaxLoadedModels, ModelDirectories = registry.Directories,
        };
    }

    public sealed record ExampleEntry(string Name, string Url);
    public sealed record ConfigResponse(int MaxSide, long MaxUploadBytes, float DefaultConf, string DefaultModel, double RequestTimeoutSeconds,
        IReadOnlyList<ExampleEntry> Examples);

    private static IResult Config(IOptions<LookoutOptions> options) => new BufferedJson(new ConfigResponse(
        options.Value.Page.MaxSide, options.Value.Limits.MaxUploadBytes, DetectionOptions.DefaultConfidence, options.Value.Model,
        options.Value.Limits.RequestTimeoutSeconds,
        ExampleEndpoints.Examples.Select(e => new ExampleEntry(Path.GetFileNameWithoutExtension(e), "/examples/" + e)).ToArray()), 200);
}

/// <summary>The original page's example images, served from the asset store (never committed to the repository).</summary>
public static class ExampleEndpoints
{
    public static readonly string[] Examples = ["dog.jpg", "street.jpg", "wedding.jpg", "NGC1499.jpg"];

    public static IEndpointRouteBuilder MapExampleEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/examples/{name}", async (string name, AssetStore assets, HttpContext context) =>
        {
            // Only the listed examples: the name never becomes a path.
            var file = Examples.FirstOrDefault(e => string.Equals(e, name, StringComparison.OrdinalIgnoreCase));
            if (file is null) return Results.NotFound();
            try
            {
                var asset = await assets.ResolveAsync(file, cancellationToken: context.RequestAborted);
                context.Response.Headers.CacheControl = "public, max-age=86400";
                return Results.File(asset.Path, "image/jpeg");
            }
            catch (AssetNotFoundException ex)
            {
                return Problems.Create(context, 404, "Example not available", ex.Message.Split('\n')[0]);
            }
        }).ExcludeFromDescription();
        return app;
    }
}
