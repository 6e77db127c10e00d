using Lookout.Server.Services;
using Prometheus;

namespace Lookout.Server.Endpoints;

/// <summary>Liveness, readiness and Prometheus metrics, for probes and dashboards.</summary>
public static class OperationsEndpoints
{
    public sealed record HealthResponse(string Status);
    public sealed record ReadyResponse(string Status, string? Model, string? ExecutionProvider, string? Error, int InferenceSlots, int QueueLength, int Waiting);

    public static IEndpointRouteBuilder MapOperationsEndpoints(this IEndpointRouteBuilder app)
    {
        var ops = app.MapGroup("").WithTags("Operations");
        ops.MapGet("/healthz", () => new BufferedJson(new HealthResponse("alive"), 200)).WithSummary("Liveness: the process answers.");
        ops.MapGet("/readyz", (Readiness readiness, InferenceGate gate) =>
        {
            var body = new ReadyResponse(readiness.Status.ToString().ToLowerInvariant(), readiness.Model?.Name,
                readiness.Model?.ExecutionProvider, readiness.Error, gate.Concurrency, gate.QueueLength, gate.Waiting);
            return new BufferedJson(body, readiness.Status == ReadinessStatus.Ready ? 200 : 503);
        }).WithSummary("Readiness: the default model is loaded and warmed (503 before).");
        ops.MapMetrics("/metrics");
        return app;
    }
}
