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
            .WithSummary("Detect objects in one image (multipart part 'image' or 'file', or the raw image as the body) or several (parts 'image' repeated, or 'images').")
            .WithDescription("Parameters (query or form), applied to every image: conf, iou, classes (names or ids, comma-separated), max_det, model, annotate, tile (off, auto or rows x columns such as 2x2: sliced inference, the whole image plus tiles), tile_overlap (0 to 0.75, default 0.2). " +
                             "One 'image' or 'file' part (or a raw body) answers one result object; with 'Accept: image/jpeg' the annotated JPEG itself is returned. " +
                             "Several parts, or any part named 'images', answer {\"results\": [...]} in upload order: per image, the same result object a single request " +
                             "returns, or {\"file\": name, \"error\": {\"status\", \"title\", \"detail\"}} for that image alone (415 not an image, 400 unreadable, " +
                             "413 too many pixels; 503/504 when the queue was full or the deadline passed before it ran). At most Lookout:Limits:MaxImagesPerRequest " +
                             "images (default 16; more is 400) and MaxUploadBytes for the whole request (more is 413). Each image queues for an inference slot like a " +
                             "request of its own, and one deadline covers the whole request.");
        api.MapGet("/models", ListModels).WithSummary("The models this server can run, and which are loaded.");
        api.MapGet("/config", Config).WithSummary("Settings the web page needs.");
        return app;
    }

    /// <summary>The server's stage times: the engine's, plus waiting for a slot and drawing.</summary>
    public sealed record ApiTimings(double QueueMs, double DecodeMs, double PreprocessMs, double InferenceMs, double PostprocessMs, double RenderMs, double TotalMs)
    {
        /// <summary>Model passes (whole image + tiles) when tiling was asked for; absent otherwise.</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public int? Passes { get; init; }
    }

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
            new ApiTimings(R(outcome.QueueMs), t.DecodeMs, t.PreprocessMs, t.InferenceMs, t.PostprocessMs, R(outcome.RenderMs), R(outcome.TotalMs))
            {
                Passes = outcome.Result.Timings.Passes,
            });
    }

    private static double R(double ms) => Math.Round(ms, 2);

    /// <summary>One image's failure inside a batch: the problem a single request would have answered, for that image alone.</summary>
    public sealed record ImageError(int Status, string Title, string Detail);
    public sealed record BatchItemError(string File, ImageError Error);

    /// <summary>A batch's answer: one item per image in upload order, a <see cref="DetectResponse"/> or a <see cref="BatchItemError"/>.</summary>
    public sealed record BatchResponse(IReadOnlyList<object> Results);

    /// <summary>What a request asks of every image it carries.</summary>
    private sealed record DetectSettings(ModelLease Lease, DetectionOptions Options, bool Annotate, bool WantsJpeg)
    {
        public string Model => Lease.Model.Name;
    }

    private static async Task<IResult> DetectAsync(HttpContext context, DetectionService detection, IOptions<LookoutOptions> options)
    {
        try
        {
            detection.EnsureCapacity();
            var limits = options.Value.Limits;
            var upload = await UploadReader.ReadImagesAsync(context.Request, ["image", "file"], batchPartName: "images", limits.MaxUploadBytes,
                limits.MaxImagesPerRequest, allowRawBody: true, context.RequestAborted);
            var settings = await ReadSettingsAsync(context, detection, upload.Form, limits.MaxTilesPerRequest);
            // The request keeps its model from reading its class names to its last image, even if the file is replaced meanwhile.
            using var lease = settings.Lease;
            if (upload.IsBatch) return await DetectBatchAsync(context, detection, upload.Images, settings);

            var outcome = await DetectOneAsync(detection, upload.Images[0].Bytes, settings, deadline: null, context.RequestAborted);
            context.Items[RequestLogging.OutcomeKey] = outcome;
            if (settings.WantsJpeg)
            {
                context.Response.Headers["X-Lookout-Detections"] = outcome.Result.Detections.Count.ToString();
                return Results.Bytes(outcome.AnnotatedJpeg!, "image/jpeg");
            }
            return new BufferedJson(ToResponse(outcome, settings.Annotate), 200);
        }
        catch (Exception ex) when (RequestError.From(ex) is { } error)
        {
            return Problems.Create(context, error.Status, error.Title, error.Detail, error.RetryAfter);
        }
    }

    private static async Task<DetectSettings> ReadSettingsAsync(HttpContext context, DetectionService detection, IFormCollection form, int maxTiles)
    {
        var p = new RequestParameters(context.Request, form);
        var lease = await detection.AcquireModelAsync(p.String("model"), context.RequestAborted);
        try
        {
            return ReadSettings(p, context, lease, maxTiles);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private static DetectSettings ReadSettings(RequestParameters p, HttpContext context, ModelLease lease, int maxTiles)
    {
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
        detectionOptions = p.Tiling(detectionOptions, maxTiles);
        return new DetectSettings(lease, detectionOptions, p.Bool("annotate", false) || wantsJpeg, wantsJpeg);
    }

    /// <summary>The one path every image takes, alone or in a batch; <paramref name="deadline"/> null = a deadline of its own.</summary>
    private static Task<DetectionOutcome> DetectOneAsync(DetectionService detection, byte[] image, DetectSettings settings, CancellationToken? deadline, CancellationToken aborted)
    {
        var job = new DetectionJob(image, settings.Model, settings.Options, settings.Annotate);
        return deadline is { } shared ? detection.DetectAsync(job, shared, aborted, settings.Lease) : detection.DetectAsync(job, aborted, settings.Lease);
    }

    private static DetectResponse ToResponse(DetectionOutcome outcome, bool annotate)
    {
        var response = ToResponse(outcome);
        return annotate ? response with { AnnotatedImage = "data:image/jpeg;base64," + Convert.ToBase64String(outcome.AnnotatedJpeg!) } : response;
    }

    /// <summary>
    /// Every image enters the gate at once, as that many single requests would: they queue behind the requests
    /// already waiting (no jumping ahead) and later requests queue behind them (no holding the slots between
    /// images). One deadline covers them all; a client that leaves cancels every waiting and running image.
    /// </summary>
    private static async Task<IResult> DetectBatchAsync(HttpContext context, DetectionService detection, IReadOnlyList<UploadedImage> images, DetectSettings settings)
    {
        if (settings.WantsJpeg)
            throw new UploadException(StatusCodes.Status406NotAcceptable,
                $"'Accept: image/jpeg' returns one annotated image, but the request has {images.Count} images: ask for JSON and 'annotate=true' instead.");
        using var deadline = new CancellationTokenSource(detection.Deadline);
        var aborted = context.RequestAborted;
        var items = await Task.WhenAll(images.Select(async image =>
        {
            // An image that gets a free slot runs the engine synchronously; without yielding first it would finish
            // before the next image even asked for its place, and the batch would use one slot at a time.
            await Task.Yield();
            try
            {
                return (object)ToResponse(await DetectOneAsync(detection, image.Bytes, settings, deadline.Token, aborted), settings.Annotate);
            }
            catch (Exception ex) when (RequestError.From(ex) is { } error)
            {
                return new BatchItemError(image.FileName, new ImageError(error.Status, error.Title, error.Detail));
            }
        }));
        aborted.ThrowIfCancellationRequested();
        context.Items[RequestLogging.BatchKey] = new RequestLogging.BatchSummary(settings.Model, items.Length,
            items.Count(i => i is BatchItemError), items.OfType<DetectResponse>().Sum(r => r.Detections.Count));
        return new BufferedJson(new BatchResponse(items), 200);
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

        /// <summary>"int8" for a file <c>lookout models quantize</c> made; absent for float models.</summary>
        public string? Precision { get; init; }

        /// <summary>How the int8 file was made: its float source (name and SHA-256), calibration, layers left float, gate.</summary>
        public Lookout.Detection.Quantization.QuantizationFacts? Quantization { get; init; }
    }

    public sealed record DownloadEntry(long BytesReceived, long TotalBytes, double Percent, bool Running, string? Error);

    public sealed record ModelsResponse(string Default, IReadOnlyList<ModelEntry> Models)
    {
        public int LoadedCount { get; init; }
        public int MaxLoadedModels { get; init; }
        public IReadOnlyList<string> ModelDirectories { get; init; } = [];

        /// <summary>Set when int8 models are listed and the CPU lacks VNNI: they may run no faster than float here.</summary>
        public string? Int8Warning { get; init; }
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
                var where = store.Locate(info);
                return new ModelEntry(info.Name, info.Family, info.Description, isDefault, model is not null, where.Complete || model is not null,
                    model?.InputWidth ?? info.InputSize, model?.InputHeight ?? info.InputSize, model?.ExecutionProvider, model?.Names)
                {
                    Origin = "catalogue", State = state, Error = status.Error, InputSize = info.InputSize, CocoAp = info.CocoAp,
                    Licence = store.Manifest.LicenceOf(info), FileSize = store.Manifest.TotalSize(info), Location = where.Describe(store.AllowDownload),
                    Path = where.Main?.Path, ActiveRequests = status.ActiveRequests,
                    Download = status.Download is { } d ? new DownloadEntry(d.BytesReceived, d.TotalBytes, d.Percent, d.Running, d.Error) : null,
                    Precision = model?.Quantization is null ? null : "int8", Quantization = model?.Quantization,
                };
            }
            var file = status.File!;
            // A loaded model knows its facts; an unloaded file's are read from its metadata alone (the graph is skipped, and cached by size and time).
            var facts = model?.Quantization ?? (file.Kind == "onnx" && file.Problem is null
                ? Lookout.Detection.Quantization.QuantizationFacts.ReadFileCached(file.Path, file.Size, file.LastWriteUtc) : null);
            return new ModelEntry(status.Name, model?.Family ?? (file.Kind == "darknet" ? "darknet" : "onnx"),
                $"Models folder: {System.IO.Path.GetFileName(file.Path)}", isDefault, model is not null, status.CanAnswer,
                model?.InputWidth, model?.InputHeight, model?.ExecutionProvider, model?.Names)
            {
                Origin = "folder", State = state, Error = status.Error, InputSize = model?.InputWidth, FileSize = file.Size,
                Location = file.Path, Path = file.Path, ActiveRequests = status.ActiveRequests,
                Precision = facts is null ? null : "int8", Quantization = facts,
            };
        }).ToArray();
        return new ModelsResponse(defaultModel, entries)
        {
            LoadedCount = registry.LoadedCount, MaxLoadedModels = registry.MaxLoadedModels, ModelDirectories = registry.Directories,
            Int8Warning = entries.Any(e => e.Precision == "int8") && Lookout.Detection.Quantization.CpuFeatures.HasVnni() == false
                ? Lookout.Detection.Quantization.CpuFeatures.NoVnniWarning : null,
        };
    }

    public sealed record ExampleEntry(string Name, string Url);
    public sealed record ConfigResponse(int MaxSide, long MaxUploadBytes, float DefaultConf, string DefaultModel, double RequestTimeoutSeconds,
        IReadOnlyList<ExampleEntry> Examples)
    {
        /// <summary>The page's gallery sends at most this many photos per request.</summary>
        public int MaxImagesPerRequest { get; init; }

        /// <summary>The decoder's pixel limit: the page uploads a larger photo as its own shrunk JPEG instead of the original.</summary>
        public long MaxPixels { get; init; }
    }

    private static IResult Config(IOptions<LookoutOptions> options) => new BufferedJson(new ConfigResponse(
        options.Value.Page.MaxSide, options.Value.Limits.MaxUploadBytes, DetectionOptions.DefaultConfidence, options.Value.Model,
        options.Value.Limits.RequestTimeoutSeconds,
        ExampleEndpoints.Examples.Select(e => new ExampleEntry(Path.GetFileNameWithoutExtension(e), "/examples/" + e)).ToArray())
    {
        MaxImagesPerRequest = options.Value.Limits.MaxImagesPerRequest,
        MaxPixels = options.Value.Limits.MaxPixels,
    }, 200);
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
