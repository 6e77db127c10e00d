using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using System.Text.Json;
using Lookout.Detection.Rendering;
using Lookout.Server.Endpoints;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Lookout.Server.Services;

public enum ReadinessStatus { Loading, Ready, Failed }

/// <summary>Whether the default model is loaded and warmed; /readyz answers from it.</summary>
public sealed class Readiness
{
    private volatile ReadinessStatus _status = ReadinessStatus.Loading;
    public ReadinessStatus Status => _status;
    public string? Error { get; private set; }
    public DetectionModel? Model { get; private set; }

    public void MarkReady(DetectionModel model) { Model = model; _status = ReadinessStatus.Ready; }
    public void MarkFailed(string error) { Error = error; _status = ReadinessStatus.Failed; }
}

/// <summary>
/// Loads the default model in the background at start-up (downloading it if allowed), so the port opens at once
/// and /readyz turns 200 only when a request would be served at full speed.
/// </summary>
public sealed class ModelWarmup(ModelRegistry models, Readiness readiness, ImageDecoder decoder, AnnotationRenderer renderer,
    IOptions<LookoutOptions> options, ILogger<ModelWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WarnAboutInt8WithoutVnni();
        try
        {
            using var lease = await AcquireAsync(options.Value.Model, stoppingToken);
            var model = lease.Model;
            await WarmPipelineAsync(model, stoppingToken);
            readiness.MarkReady(model);
            logger.LogInformation("Ready: model {Model} on {Provider}", model.Name, model.ExecutionProvider);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            readiness.MarkFailed(ex.Message);
            logger.LogError("The default model {Model} could not be loaded; /readyz stays 503 until it can. {Reason}", options.Value.Model, ex.Message);
        }
    }

    /// <summary>
    /// At start-up, int8 files in the models folders on a CPU without VNNI: the operator quantised for speed that this
    /// CPU may not give (the list says so too, in int8_warning).
    /// </summary>
    private void WarnAboutInt8WithoutVnni()
    {
        if (Lookout.Detection.Quantization.CpuFeatures.HasVnni() != false) return;
        var int8 = DetectApiEndpoints.Listing(models, options.Value.Model).Models.Where(m => m.Precision == "int8").Select(m => m.Name).ToList();
        if (int8.Count > 0)
            logger.LogWarning("int8 models {Models}: {Warning}", string.Join(", ", int8), Lookout.Detection.Quantization.CpuFeatures.NoVnniWarning);
    }

    /// <summary>The default model, waiting for its download when it must be fetched first (requests meanwhile get 503 and the progress).</summary>
    private async Task<ModelLease> AcquireAsync(string name, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await models.AcquireAsync(name, stoppingToken);
            }
            catch (ModelDownloadingException ex)
            {
                logger.LogInformation("Waiting for the default model: {Status}", ex.Status);
                await models.Downloads.WaitAsync(models.Catalog.Assets.Manifest.FindModel(name)!, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Walks every path a request takes, a few times, before /readyz says ready, so the first user's request is not
    /// the one that compiles them (it took 70 ms against 18–25 ms later, its postprocess 12–35 ms against 0.2 ms, when
    /// the warm-up was one photo without objects): reading a multipart upload; decoding photos with objects, small and
    /// large, as the input rule says (and again at full size for drawing when that rule decodes reduced); the area or
    /// bilinear shrink; the head's decode and NMS with
    /// candidates (a low threshold guarantees them even on the generated photo); tags drawn; and the JSON of the
    /// /api/v1 route, the DeepStack routes and the original route written with the options those routes use. Nothing
    /// goes through the gate, the metrics or the archive, so the warm-up leaves no trace a client could see.
    /// </summary>
    internal async Task WarmPipelineAsync(DetectionModel model, CancellationToken cancellationToken)
    {
        var detector = new Detector(model, decoder);
        var photos = WarmupPhotos();
        var context = new DefaultHttpContext();
        for (int i = 0; i < 3; i++)
        {
            foreach (var photo in photos)
            {
                // The large photo once is enough to compile its paths; the small ones three times.
                if (i > 0 && photo.Large) continue;
                try
                {
                    await WarmOneAsync(detector, model, photo.Bytes, context, cancellationToken);
                }
                catch (Exception ex) when (ex is ImageDecodeException or UploadException)
                {
                    // A server configured with small upload or pixel limits refuses this photo as it would a client's;
                    // the warm-up goes on with the others rather than leave /readyz failed.
                    logger.LogDebug("Warm-up skipped a photo over this server's limits: {Reason}", ex.Message);
                }
            }
        }
    }

    private async Task WarmOneAsync(Detector detector, DetectionModel model, byte[] photo, HttpContext context, CancellationToken cancellationToken)
    {
        await ReadUploadAsync(photo, cancellationToken);
        foreach (var confidence in (ReadOnlySpan<float>)[DetectionOptions.DefaultConfidence, DeepStackEndpoints.DefaultMinConfidence, 0.01f])
        {
            var detectionOptions = new DetectionOptions { Confidence = confidence };
            var result = detector.Detect(photo, detectionOptions, cancellationToken);
            var annotated = detector.DetectAndAnnotate(photo, renderer, detectionOptions, cancellationToken);
            WriteJson(new DetectionOutcome(result, null, model.ExecutionProvider, 0, 0, result.Timings.TotalMs), context);
            WriteJson(new DetectionOutcome(annotated.Result, annotated.AnnotatedJpeg, model.ExecutionProvider, 0, annotated.RenderMs, 0), context);
        }
    }

    private static void WriteJson(DetectionOutcome outcome, HttpContext context)
    {
        var api = DetectApiEndpoints.ToResponse(outcome);
        if (outcome.AnnotatedJpeg is { } jpeg)
        {
            var dataUri = "data:image/jpeg;base64," + Convert.ToBase64String(jpeg);
            JsonSerializer.SerializeToUtf8Bytes(api with { AnnotatedImage = dataUri }, BufferedJson.SnakeCase);
            JsonSerializer.SerializeToUtf8Bytes(new SeedCompatEndpoints.SeedResponse("input.jpg", dataUri), BufferedJson.SnakeCase);
        }
        else
        {
            JsonSerializer.SerializeToUtf8Bytes(api, BufferedJson.SnakeCase);
            JsonSerializer.SerializeToUtf8Bytes(DeepStackEndpoints.ToResponse(outcome, context, "detect"), BufferedJson.AsDeclared);
        }
    }

    /// <summary>The multipart reader as an upload meets it (form parsing, in-memory buffering, part lookup).</summary>
    private async Task ReadUploadAsync(byte[] photo, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(photo);
        part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
        form.Add(part, "image", "warmup.jpg");
        form.Add(new StringContent("0.4"), "min_confidence");
        var body = new MemoryStream();
        await form.CopyToAsync(body, cancellationToken);
        body.Position = 0;
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = form.Headers.ContentType!.ToString();
        context.Request.ContentLength = body.Length;
        context.Request.Body = body;
        var formOptions = new FormOptions();
        UploadReader.Configure(formOptions, options.Value.Limits.MaxUploadBytes, options.Value.Limits.MaxImagesPerRequest);
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, formOptions));
        await UploadReader.ReadAsync(context.Request, ["image", "file"], options.Value.Limits.MaxUploadBytes, allowRawBody: true, cancellationToken);
    }

    /// <summary>
    /// A real photo with objects when one of the sample images is on disk (never downloaded for this), plus generated
    /// ones: a photo-sized JPEG and a large one (a big shrink, and the reduced JPEG decode under a rule that has one).
    /// </summary>
    private List<(byte[] Bytes, bool Large)> WarmupPhotos()
    {
        var photos = new List<(byte[], bool)>();
        try
        {
            if (models.Catalog.Assets.TryFindLocal("dog.jpg") is { } dog) photos.Add((File.ReadAllBytes(dog.Path), false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogDebug("Warm-up without the sample photo: {Reason}", ex.Message);
        }
        photos.Add((Generated(800, 600), false));
        photos.Add((Generated(2000, 1500), true));
        return photos;
    }

    private static byte[] Generated(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(90, 120, 150));
            using var paint = new SKPaint { Color = SKColors.White };
            canvas.DrawRect(width / 4f, height / 4f, width / 8f, height / 6f, paint);
            paint.Color = new SKColor(40, 40, 40);
            canvas.DrawCircle(width * 0.65f, height * 0.6f, height / 6f, paint);
        }
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return jpeg.ToArray();
    }
}
