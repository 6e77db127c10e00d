using System.Text.Json;
using Lookout.Server.Services;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Lookout.Server.Endpoints;

/// <summary>Liveness, readiness and Prometheus metrics, for probes and dashboards.</summary>
public static class OperationsEndpoints
{
    /// <summary>Health checks with this tag decide readiness.</summary>
    public const string ReadyTag = "ready";

    public sealed record HealthResponse(string Status);
    public sealed record CheckEntry(string Name, string Status, string? Description);

    /// <summary>Today's readiness answer (status of the default model, slots, queue), plus every check's own result.</summary>
    public sealed record ReadyResponse(string Status, string? Model, string? ExecutionProvider, string? Error, int InferenceSlots, int QueueLength, int Waiting)
    {
        public IReadOnlyList<CheckEntry> Checks { get; init; } = [];
    }

    public static IEndpointRouteBuilder MapOperationsEndpoints(this IEndpointRouteBuilder app)
    {
        // ASP.NET Core's health checks: liveness runs no check (the process answers), readiness runs the "ready" ones
        // (the default model; the other models as degraded-not-failed). Unhealthy → 503, healthy or degraded → 200.
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (context, _) => WriteAsync(context, new HealthResponse("alive")),
        }).WithTags("Operations").WithSummary("Liveness: the process answers.");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReadinessAsync,
        }).WithTags("Operations").WithSummary("Readiness: the default model is loaded and warmed (503 before).");
        app.MapMetrics("/metrics");
        return app;
    }

    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        var readiness = context.RequestServices.GetRequiredService<Readiness>();
        var gate = context.RequestServices.GetRequiredService<InferenceGate>();
        var body = new ReadyResponse(readiness.Status.ToString().ToLowerInvariant(), readiness.Model?.Name,
            readiness.Model?.ExecutionProvider, readiness.Error, gate.Concurrency, gate.QueueLength, gate.Waiting)
        {
            Checks = report.Entries.Select(e => new CheckEntry(e.Key, e.Value.Status.ToString().ToLowerInvariant(), e.Value.Description)).ToArray(),
        };
        return WriteAsync(context, body);
    }

    /// <summary>The health middleware has set the status code; the body goes out with a Content-Length, as every Lookout answer does.</summary>
    private static Task WriteAsync(HttpContext context, object body) =>
        new BufferedJson(body, context.Response.StatusCode).ExecuteAsync(context);
}
