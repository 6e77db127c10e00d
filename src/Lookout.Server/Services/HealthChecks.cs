using Lookout.Detection.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lookout.Server.Services;

/// <summary>Ready when the default model is loaded and warmed (what /readyz always meant); unhealthy while loading or failed.</summary>
public sealed class DefaultModelHealthCheck(Readiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.Status switch
        {
            ReadinessStatus.Ready => HealthCheckResult.Healthy($"model {readiness.Model?.Name} is loaded"),
            ReadinessStatus.Failed => HealthCheckResult.Unhealthy(readiness.Error),
            _ => HealthCheckResult.Unhealthy("the default model is still loading"),
        });
}

/// <summary>
/// The other models: degraded (still ready: the default answers) when a models-folder file is unusable, so a
/// dashboard shows it without the orchestrator taking the pod out of service.
/// </summary>
public sealed class ModelsHealthCheck(ModelRegistry models) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var broken = models.UnusableFolderModels().Select(m => $"{m.Name}: {m.Reason}").ToArray();
        var summary = $"{models.LoadedCount} of at most {models.MaxLoadedModels} models loaded";
        return Task.FromResult(broken.Length == 0
            ? HealthCheckResult.Healthy(summary)
            : HealthCheckResult.Degraded(summary + "; unusable: " + string.Join("; ", broken)));
    }
}
