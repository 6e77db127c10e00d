using System.Diagnostics;
using Lookout.Server.Services;

namespace Lookout.Server;

/// <summary>
/// One structured line per request with its timings. Never image data, never an API key: only method, path
/// (no query string, which may carry a key), status, sizes and stage times, plus the scheme and client address as
/// seen after UseForwardedHeaders: behind a trusted reverse proxy they are the client's, not the proxy's.
/// </summary>
public sealed class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public const string OutcomeKey = "lookout.outcome";
    public const string BatchKey = "lookout.batch";

    /// <summary>What a request with several images did, for its one log line (each image's stages are in the metrics).</summary>
    public sealed record BatchSummary(string Model, int Images, int Failed, int Objects);

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            if (context.Items.TryGetValue(OutcomeKey, out var o) && o is DetectionOutcome outcome)
            {
                var t = outcome.Result.Timings;
                logger.LogInformation(
                    "{Method} {Path} {Status} {ElapsedMs:0.0} ms scheme={Scheme} client={RemoteIp} model={Model} image={Width}x{Height} objects={Objects} queue={QueueMs:0.0} decode={DecodeMs:0.0} preprocess={PreprocessMs:0.0} inference={InferenceMs:0.0} postprocess={PostprocessMs:0.0} render={RenderMs:0.0}",
                    context.Request.Method, context.Request.Path.Value, status, elapsed, context.Request.Scheme, RemoteIp(context), outcome.Result.Model, outcome.Result.ImageWidth,
                    outcome.Result.ImageHeight, outcome.Result.Detections.Count, outcome.QueueMs, t.DecodeMs, t.PreprocessMs, t.InferenceMs,
                    t.PostprocessMs, outcome.RenderMs);
            }
            else if (context.Items.TryGetValue(BatchKey, out var b) && b is BatchSummary batch)
            {
                logger.LogInformation(
                    "{Method} {Path} {Status} {ElapsedMs:0.0} ms scheme={Scheme} client={RemoteIp} model={Model} images={Images} failed={Failed} objects={Objects}",
                    context.Request.Method, context.Request.Path.Value, status, elapsed, context.Request.Scheme, RemoteIp(context), batch.Model,
                    batch.Images, batch.Failed, batch.Objects);
            }
            else if (!IsQuietPath(context.Request.Path))
            {
                logger.LogInformation("{Method} {Path} {Status} {ElapsedMs:0.0} ms scheme={Scheme} client={RemoteIp}", context.Request.Method,
                    context.Request.Path.Value, status, elapsed, context.Request.Scheme, RemoteIp(context));
            }
        }
    }

    private static string RemoteIp(HttpContext context)
    {
        var ip = context.Connection.RemoteIpAddress;
        if (ip is null) return "-";
        return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
    }

    // Probes and scrapes every few seconds would drown the log.
    private static bool IsQuietPath(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/status_check");
}
