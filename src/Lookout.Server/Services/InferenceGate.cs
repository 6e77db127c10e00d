using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Services;

/// <summary>Why a request did not get to run.</summary>
public enum GateRefusal { QueueFull, TimedOut, ClientGone }

public sealed class GateRefusedException(GateRefusal reason) : Exception(reason.ToString())
{
    public GateRefusal Reason { get; } = reason;
}

/// <summary>
/// Bounds inferences in flight and requests waiting for one. A full queue answers at once (503) instead of
/// letting requests pile up for minutes; a request whose client left or whose deadline passed gives its place up.
/// </summary>
public sealed class InferenceGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public InferenceGate(IOptions<LookoutOptions> options)
    {
        var limits = options.Value.Limits;
        Concurrency = limits.EffectiveConcurrency;
        QueueLength = limits.EffectiveQueueLength;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Concurrency,
            QueueLimit = QueueLength,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int Concurrency { get; }
    public int QueueLength { get; }
    /// <summary>Inferences holding a slot now.</summary>
    public int InFlight => Concurrency - (int)(_limiter.GetStatistics()?.CurrentAvailablePermits ?? Concurrency);

    /// <summary>Requests waiting for a slot now (not counting ones being refused).</summary>
    public int Waiting => (int)(_limiter.GetStatistics()?.CurrentQueuedCount ?? 0);

    /// <summary>Every slot busy and every queue place taken: a new request would be refused.</summary>
    public bool IsSaturated => _limiter.GetStatistics() is { CurrentAvailablePermits: 0 } stats && stats.CurrentQueuedCount >= QueueLength;

    /// <summary>
    /// Refuses at once when the gate is saturated, so an endpoint can answer 503 before reading a 20 MB upload it
    /// would only throw away. The acquire still decides for requests that pass this early look.
    /// </summary>
    public void ThrowIfSaturated()
    {
        if (!IsSaturated) return;
        LookoutMetrics.Rejections.WithLabels("queue_full").Inc();
        throw new GateRefusedException(GateRefusal.QueueFull);
    }

    /// <summary>Waits for a slot. <paramref name="deadline"/> fires on timeout, <paramref name="aborted"/> when the client leaves.</summary>
    public async Task<(RateLimitLease Lease, TimeSpan Waited)> EnterAsync(CancellationToken deadline, CancellationToken aborted)
    {
        var start = Stopwatch.GetTimestamp();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline, aborted);
        RateLimitLease lease;
        try
        {
            var pending = _limiter.AcquireAsync(1, linked.Token);
            PublishQueueLength();
            lease = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new GateRefusedException(aborted.IsCancellationRequested ? GateRefusal.ClientGone : GateRefusal.TimedOut);
        }
        finally
        {
            PublishQueueLength();
        }
        var waited = Stopwatch.GetElapsedTime(start);
        LookoutMetrics.QueueSeconds.Observe(waited.TotalSeconds);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            LookoutMetrics.Rejections.WithLabels("queue_full").Inc();
            throw new GateRefusedException(GateRefusal.QueueFull);
        }
        return (lease, waited);
    }

    private readonly Lock _gauge = new();

    /// <summary>
    /// Reads and publishes the queue length as one step. When a batch's client leaves, its queued images are cancelled
    /// together and their continuations race: without the lock, one that read the length before the others left
    /// could publish it last, and the gauge would stay above zero with an empty queue.
    /// </summary>
    private void PublishQueueLength()
    {
        lock (_gauge) LookoutMetrics.QueueLength.Set(Waiting);
    }

    public void Dispose() => _limiter.Dispose();
}
