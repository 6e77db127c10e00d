using Lookout.Detection.Models;
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
public sealed class ModelWarmup(ModelCatalog catalog, Readiness readiness, IOptions<LookoutOptions> options, ILogger<ModelWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var model = await catalog.GetAsync(options.Value.Model, stoppingToken);
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
}
