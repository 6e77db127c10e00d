using System.Diagnostics;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Rendering;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Services;

/// <summary>One detection asked for over HTTP, whichever route it came through.</summary>
public sealed record DetectionJob(byte[] Image, string? Model, DetectionOptions Options, bool Annotate)
{
    /// <summary>An EXIF orientation to apply when the file carries none of its own (the seed route's field), or null.</summary>
    public int? ExtraOrientation { get; init; }
}

public sealed record DetectionOutcome(DetectionResult Result, byte[]? AnnotatedJpeg, string ExecutionProvider,
    double QueueMs, double RenderMs, double TotalMs);

/// <summary>The request ran past its deadline.</summary>
public sealed class DeadlineExceededException(TimeSpan deadline) : Exception($"The request took longer than {deadline.TotalSeconds:0.#} s.");

/// <summary>
/// The server's single path into the engine: choose the model, wait for a slot, run the pipeline under the
/// request's deadline, render and archive when asked. Endpoints only translate HTTP to a job and back.
/// </summary>
public sealed class DetectionService(
    ModelRegistry models,
    InferenceGate gate,
    AnnotationRenderer renderer,
    ResultArchive archive,
    ImageDecoder decoder,
    IOptions<LookoutOptions> options)
{
    private readonly LookoutOptions _options = options.Value;

    public TimeSpan Deadline => TimeSpan.FromSeconds(_options.Limits.RequestTimeoutSeconds);
    public string DefaultModel => _options.Model;

    /// <summary>Throws <see cref="GateRefusedException"/> when no slot or queue place is free (call before reading the upload).</summary>
    public void EnsureCapacity() => gate.ThrowIfSaturated();

    /// <summary>
    /// A lease on the request's model (catalogue or models folder; a name, never a path), loading it if needed. The
    /// model stays in service until the lease is disposed, even if its file is replaced meanwhile.
    /// </summary>
    public Task<ModelLease> AcquireModelAsync(string? name, CancellationToken cancellationToken) =>
        models.AcquireAsync(string.IsNullOrWhiteSpace(name) ? _options.Model : name.Trim(), cancellationToken);

    /// <summary>Runs one job under its own request deadline.</summary>
    /// <param name="modelLease">The model the caller already holds (to read its class names first), or null to acquire <c>job.Model</c>.</param>
    public async Task<DetectionOutcome> DetectAsync(DetectionJob job, CancellationToken aborted, ModelLease? modelLease = null)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        return await DetectAsync(job, deadline.Token, aborted, modelLease).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one job under a deadline the caller owns: a request with several images shares one deadline among them,
    /// while each image still waits for its own slot in the gate, like a request of its own.
    /// </summary>
    /// <param name="modelLease">The model the caller holds for every image of its request, or null to acquire <c>job.Model</c>.</param>
    public async Task<DetectionOutcome> DetectAsync(DetectionJob job, CancellationToken deadline, CancellationToken aborted, ModelLease? modelLease = null)
    {
        var start = Stopwatch.GetTimestamp();
        using var ownLease = modelLease is null ? await AcquireModelAsync(job.Model, aborted).ConfigureAwait(false) : null;
        var model = (modelLease ?? ownLease)!.Model;
        var (lease, waited) = await gate.EnterAsync(deadline, aborted).ConfigureAwait(false);
        using (lease)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline, aborted);
            LookoutMetrics.InFlight.Inc();
            try
            {
                var (result, jpeg, renderMs) = Run(model, job, linked.Token);
                LookoutMetrics.InferenceSeconds.WithLabels(model.Name).Observe(result.Timings.InferenceMs / 1000);
                LookoutMetrics.PipelineSeconds.WithLabels(model.Name).Observe((result.Timings.TotalMs + renderMs) / 1000);
                if (jpeg is not null && archive.Enabled) await archive.SaveAsync(jpeg, aborted).ConfigureAwait(false);
                return new DetectionOutcome(result, jpeg, model.ExecutionProvider, waited.TotalMilliseconds, renderMs,
                    Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                LookoutMetrics.Rejections.WithLabels("timeout").Inc();
                throw new DeadlineExceededException(Deadline);
            }
            catch (ImageDecodeException ex)
            {
                LookoutMetrics.BadInputs.WithLabels(ex.Kind.ToString()).Inc();
                throw;
            }
            finally
            {
                LookoutMetrics.InFlight.Dec();
            }
        }
    }

    private (DetectionResult, byte[]?, double) Run(DetectionModel model, DetectionJob job, CancellationToken cancellationToken)
    {
        var detector = new Detector(model, decoder);
        // Archiving keeps annotated images, so it needs them drawn even when the client did not ask. Drawing never
        // changes the detections: the model's input is made the same way either way.
        bool draw = job.Annotate || archive.Enabled;
        if (!draw) return (detector.Detect(job.Image, job.Options, job.ExtraOrientation, cancellationToken), null, 0);
        var annotated = detector.DetectAndAnnotate(job.Image, renderer, job.Options, job.ExtraOrientation, cancellationToken);
        return (annotated.Result, annotated.AnnotatedJpeg, annotated.RenderMs);
    }
}
