using Prometheus;

namespace Lookout.Server.Services;

/// <summary>Prometheus series beyond the HTTP ones prometheus-net records per route and status.</summary>
public static class LookoutMetrics
{
    public static readonly Histogram InferenceSeconds = Metrics.CreateHistogram(
        "lookout_inference_duration_seconds", "Time inside ONNX Runtime per image.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.002, 1.6, 16) });

    public static readonly Histogram PipelineSeconds = Metrics.CreateHistogram(
        "lookout_pipeline_duration_seconds", "Decode + preprocess + inference + postprocess (+ render) per image.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.002, 1.6, 18) });

    public static readonly Histogram QueueSeconds = Metrics.CreateHistogram(
        "lookout_queue_wait_seconds", "Time a request waited for an inference slot.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    public static readonly Gauge QueueLength = Metrics.CreateGauge("lookout_queue_length", "Requests waiting for an inference slot.");
    public static readonly Gauge InFlight = Metrics.CreateGauge("lookout_inferences_in_flight", "Inferences running now.");

    public static readonly Counter Rejections = Metrics.CreateCounter(
        "lookout_rejections_total", "Requests refused by back-pressure.", new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Counter BadInputs = Metrics.CreateCounter(
        "lookout_bad_inputs_total", "Uploads refused as invalid.", new CounterConfiguration { LabelNames = ["kind"] });
}

/// <summary>Model states for /metrics, refreshed from the registry on each scrape (no timer, no stale values).</summary>
public static class ModelMetrics
{
    public static readonly Gauge Loaded = Metrics.CreateGauge("lookout_models_loaded", "Models loaded now (at most Lookout:MaxLoadedModels).");

    public static readonly Gauge States = Metrics.CreateGauge(
        "lookout_model_state", "1 for each model's current state (available, downloadable, downloading, missing, loading, loaded, error).",
        new GaugeConfiguration { LabelNames = ["model", "origin", "state"] });

    private static readonly object Gate = new();
    private static HashSet<(string, string, string)> _published = [];

    public static IApplicationBuilder UseModelMetrics(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.Equals("/metrics", StringComparison.OrdinalIgnoreCase))
            Refresh(context.RequestServices.GetRequiredService<Lookout.Detection.Models.ModelRegistry>());
        await next(context);
    });

    public static void Refresh(Lookout.Detection.Models.ModelRegistry registry)
    {
        var list = registry.List();
        var now = list.Select(m => (m.Name, m.Origin, m.State.ToString().ToLowerInvariant())).ToHashSet();
        lock (Gate)
        {
            foreach (var gone in _published.Where(p => !now.Contains(p))) States.RemoveLabelled(gone.Item1, gone.Item2, gone.Item3);
            foreach (var (name, origin, state) in now) States.WithLabels(name, origin, state).Set(1);
            _published = now;
            Loaded.Set(list.Count(m => m.State == Lookout.Detection.Models.ModelState.Loaded));
        }
    }
}
