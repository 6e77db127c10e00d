using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Rendering;
using SkiaSharp;
using Microsoft.Extensions.Options;

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
        try
        {
            using var lease = await AcquireAsync(options.Value.Model, stoppingToken);
            var model = lease.Model;
            WarmPipeline(model);
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
    /// Runs the whole pipeline once on a generated photo-sized JPEG, so decoding, the tensor writer, NMS and drawing
    /// are compiled before the first user's request rather than during it.
    /// </summary>
    private void WarmPipeline(DetectionModel model)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(800, 600, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(90, 120, 150));
            using var paint = new SKPaint { Color = SKColors.White };
            canvas.DrawRect(200, 150, 300, 250, paint);
        }
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        var detector = new Detector(model, decoder);
        var bytes = jpeg.ToArray();
        for (int i = 0; i < 3; i++)
        {
            detector.Detect(bytes);
            detector.DetectAndAnnotate(bytes, renderer);
        }
    }
}
