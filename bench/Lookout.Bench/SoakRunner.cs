using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Lookout.Soak;

/// <summary>What a soak run measured.</summary>
public sealed record SoakReport
{
    public long Sent { get; init; }
    public long Accepted { get; init; }
    public long Rejected503 { get; init; }
    public long FailedOtherwise { get; init; }
    public long WrongResult { get; init; }
    public IReadOnlyDictionary<string, long> Failures { get; init; } = new Dictionary<string, long>();
    public double RejectP50Ms { get; init; }
    public double RejectP99Ms { get; init; }
    public double AcceptP50Ms { get; init; }
    public double AcceptP99Ms { get; init; }
    public double PeakQueue { get; init; }
    public int QueueSamples { get; init; }
    public long RssStart { get; init; }
    public long RssMiddle { get; init; }
    public long RssEnd { get; init; }
    public double SequentialP50BeforeMs { get; init; }
    public double SequentialP50AfterMs { get; init; }
    public TimeSpan Duration { get; init; }
    public int Clients { get; init; }

    public override string ToString() => string.Join(Environment.NewLine,
        $"load: {Clients} clients for {Duration.TotalSeconds:0} s",
        $"requests sent {Sent}, accepted (200) {Accepted}, rejected (503) {Rejected503}, failed otherwise {FailedOtherwise}" +
            (Failures.Count > 0 ? $" [{string.Join(", ", Failures.Select(f => $"{f.Key}: {f.Value}"))}]" : ""),
        $"200s with the wrong image's result: {WrongResult}",
        $"503 latency p50 {RejectP50Ms:0.0} ms, p99 {RejectP99Ms:0.0} ms; 200 latency p50 {AcceptP50Ms:0} ms, p99 {AcceptP99Ms:0} ms",
        $"throughput {Accepted / Duration.TotalSeconds:0.0} accepted/s",
        $"peak lookout_queue_length {PeakQueue} ({QueueSamples} samples)",
        $"server RSS start {RssStart / 1048576.0:0} MiB, middle {RssMiddle / 1048576.0:0} MiB, end {RssEnd / 1048576.0:0} MiB",
        $"sequential p50 of 20: before {SequentialP50BeforeMs:0.0} ms, after {SequentialP50AfterMs:0.0} ms");
}

/// <summary>
/// Sends more load than the server can take from many clients, each posting a mix of images, and checks every
/// answer: 200 with its own image's detections, or a fast 503. Shared by the console soak and the short CI test.
/// </summary>
public sealed class SoakRunner(Uri baseAddress, IReadOnlyList<(string Name, byte[] Bytes)> images, Func<long> readServerRss)
{
    /// <summary>An image's answer, reduced to what must not change between requests: its size and its labels.</summary>
    private static string Signature(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var image = root.GetProperty("image");
        var labels = root.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()).Order(StringComparer.Ordinal);
        return $"{image.GetProperty("width").GetInt32()}x{image.GetProperty("height").GetInt32()}:{string.Join(",", labels)}";
    }

    private static HttpContent Form(byte[] bytes, string name)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "image", name);
        return form;
    }

    public async Task<SoakReport> RunAsync(int clients, TimeSpan duration, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients + 4, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

        // Expected answers, computed one at a time before any load (twice: the first also warms up).
        var expected = new Dictionary<string, string>();
        foreach (var (name, bytes) in images.Concat(images))
        {
            using var response = await http.PostAsync("/api/v1/detect", Form(bytes, name), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{name}: {(int)response.StatusCode} before the load: {body}");
            var sig = Signature(body);
            if (expected.TryGetValue(name, out var first) && first != sig) throw new InvalidOperationException($"{name}: two answers differ ({first} / {sig}).");
            expected[name] = sig;
        }
        foreach (var (name, sig) in expected) log?.Invoke($"expected {name}: {sig}");
        var before = await SequentialP50Async(http, cancellationToken);
        log?.Invoke($"sequential p50 before: {before:0.0} ms");
        long rssStart = readServerRss();

        long sent = 0, accepted = 0, rejected = 0, failed = 0, wrong = 0;
        var failures = new ConcurrentDictionary<string, long>();
        var rejectMs = new ConcurrentBag<double>();
        var acceptMs = new ConcurrentBag<double>();
        double peakQueue = 0;
        int samples = 0;
        long rssMiddle = 0;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);

        var sampler = Task.Run(async () =>
        {
            using var metricsClient = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var text = await metricsClient.GetStringAsync("/metrics", CancellationToken.None);
                    foreach (var line in text.Split('\n'))
                        if (line.StartsWith("lookout_queue_length ", StringComparison.Ordinal))
                        {
                            peakQueue = Math.Max(peakQueue, double.Parse(line.AsSpan(21), CultureInfo.InvariantCulture));
                            samples++;
                        }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
                if (rssMiddle == 0 && clock.Elapsed >= duration / 2)
                {
                    rssMiddle = readServerRss();
                    log?.Invoke($"  middle: {Interlocked.Read(ref sent)} sent, {Interlocked.Read(ref accepted)} accepted, {Interlocked.Read(ref rejected)} rejected, RSS {rssMiddle / 1048576.0:0} MiB");
                }
                try { await Task.Delay(200, stop.Token); } catch (OperationCanceledException) { }
            }
        });

        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var rng = new Random(c);
            while (!stop.IsCancellationRequested)
            {
                var (name, bytes) = images[rng.Next(images.Count)];
                Interlocked.Increment(ref sent);
                var sw = Stopwatch.StartNew();
                try
                {
                    using var response = await http.PostAsync("/api/v1/detect", Form(bytes, name), CancellationToken.None);
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    var ms = sw.Elapsed.TotalMilliseconds;
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref accepted);
                        acceptMs.Add(ms);
                        if (Signature(body) != expected[name]) Interlocked.Increment(ref wrong);
                    }
                    else if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null)
                    {
                        Interlocked.Increment(ref rejected);
                        rejectMs.Add(ms);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                        failures.AddOrUpdate($"HTTP {(int)response.StatusCode}", 1, (_, n) => n + 1);
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    failures.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var loadTime = clock.Elapsed;
        await sampler;
        long rssEnd = readServerRss();

        var after = await SequentialP50Async(http, cancellationToken);
        return new SoakReport
        {
            Sent = sent, Accepted = accepted, Rejected503 = rejected, FailedOtherwise = failed, WrongResult = wrong,
            Failures = new Dictionary<string, long>(failures),
            RejectP50Ms = Percentile(rejectMs, 0.50), RejectP99Ms = Percentile(rejectMs, 0.99),
            AcceptP50Ms = Percentile(acceptMs, 0.50), AcceptP99Ms = Percentile(acceptMs, 0.99),
            PeakQueue = peakQueue, QueueSamples = samples,
            RssStart = rssStart, RssMiddle = rssMiddle == 0 ? rssEnd : rssMiddle, RssEnd = rssEnd,
            SequentialP50BeforeMs = before, SequentialP50AfterMs = after,
            Duration = loadTime, Clients = clients,
        };
    }

    private async Task<double> SequentialP50Async(HttpClient http, CancellationToken cancellationToken)
    {
        var times = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            var (name, bytes) = images[i % images.Count];
            var sw = Stopwatch.StartNew();
            using var response = await http.PostAsync("/api/v1/detect", Form(bytes, name), cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"sequential request {i}: {(int)response.StatusCode}");
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return Percentile(times, 0.5);
    }

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>VmRSS of a process from /proc (Linux).</summary>
    public static long RssOf(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}
