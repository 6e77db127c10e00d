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
