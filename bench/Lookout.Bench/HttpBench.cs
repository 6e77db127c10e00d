using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// Load over loopback against the real server in its own process (so its memory can be read from /proc):
/// p50/p99 and throughput for POST /api/v1/detect with dog.jpg at concurrency 1, 2, 4, 8, beside the bare
/// InferenceSession.Run time measured in this run, and resident memory over 2000 requests.
/// </summary>
public static class HttpBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int perLevel = args.Length > 0 ? int.Parse(args[0]) : 300;
        // Anything after the count goes to the server, e.g. --Lookout:IntraOpThreads=1, to compare layouts.
        var serverArgs = args.Skip(1).ToArray();
        var dog = await File.ReadAllBytesAsync(BenchAssets.Store().Resolve("dog.jpg").Path);

        // The bare Run, with all cores, in this process; measured beside each load level because this machine's
        // speed drifts with its neighbours.
        using var bare = await BareRun.CreateAsync(dog);

        using var server = await ServerProcess.StartAsync(["--Logging:LogLevel:Default=Warning", .. serverArgs]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        long rssStart = server.Rss;

        // Warm-up, then each concurrency level.
        await LoadAsync(http, dog, 1, 30);
        bare.Measure(30);
        Console.WriteLine($"server args: {(serverArgs.Length == 0 ? "(defaults)" : string.Join(' ', serverArgs))}");
        Console.WriteLine($"{"conc",4} {"requests",8} {"p50 ms",8} {"p99 ms",8} {"req/s",8} {"errors",6} {"bare Run ms",12}");
        var levels = new Dictionary<int, (double P50, double P99, double Rps, double Bare)>();
        int sent = 30;
        foreach (var c in new[] { 1, 2, 4, 8 })
        {
            List<double> latencies; double seconds; int errors; double bareMs;
            if (c == 1)
            {
                // Side by side: one bare Run, then one request, alternating, so both see the same machine.
                latencies = []; errors = 0; var bareTimes = new List<double>();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < perLevel; i++)
                {
                    bareTimes.Add(bare.Once());
                    // A quiet gap each side: both processes' ORT workers spin briefly after a run, and on two
                    // cores a spinning neighbour would be timed as part of the other's run.
                    await Task.Delay(30);
                    var (one, _, e) = await LoadAsync(http, dog, 1, 1);
                    await Task.Delay(30);
                    latencies.AddRange(one); errors += e;
                }
                seconds = latencies.Sum() / 1000; // throughput of the requests alone, gaps and bare Runs excluded
                bareMs = BenchAssets.Median(bareTimes);
            }
            else
            {
                double before = bare.Measure(40);
                (latencies, seconds, errors) = await LoadAsync(http, dog, c, perLevel);
                bareMs = (before + bare.Measure(40)) / 2;
            }
            sent += perLevel;
            var p50 = BenchAssets.Median(latencies); var p99 = BenchAssets.Percentile(latencies, 0.99);
            levels[c] = (p50, p99, latencies.Count / seconds, bareMs);
            Console.WriteLine($"{c,4} {latencies.Count,8} {p50,8:0.00} {p99,8:0.00} {latencies.Count / seconds,8:0.0} {errors,6} {bareMs,12:0.00}");
        }

        // Memory: keep going to 2000 requests and past, sampling resident memory.
        var samples = new List<(int Requests, long Rss)> { (sent, server.Rss) };
        while (sent < 3000)
        {
            await LoadAsync(http, dog, 4, 250);
            sent += 250;
            samples.Add((sent, server.Rss));
        }

        var (p50c1, _, _, bare1) = levels[1];
        var bare4 = levels[4].Bare;
        Console.WriteLine();
        Console.WriteLine($"HTTP p50 at c=1 / bare Run      = {p50c1:0.00} / {bare1:0.00} = {p50c1 / bare1:0.00}x   (target ≤ 1.4)");
        Console.WriteLine($"throughput at c=4 / (1/bare Run) = {levels[4].Rps:0.0} / {1000 / bare4:0.0} = {levels[4].Rps * bare4 / 1000:0.00}   (target ≥ 0.9)");
        Console.WriteLine($"p99 at c=8 / p50 at c=1         = {levels[8].P99:0.00} / {p50c1:0.00} = {levels[8].P99 / p50c1:0.00}x   (target ≤ 4)");
        Console.WriteLine($"resident memory: start {rssStart / 1048576.0:0} MB; " + string.Join(", ", samples.Select(s => $"{s.Requests} req → {s.Rss / 1048576.0:0} MB")) + "   (target ≤ 300 MB, flat)");
        return 0;
    }

    private static async Task<(List<double> Latencies, double Seconds, int Errors)> LoadAsync(HttpClient http, byte[] image, int concurrency, int total)
    {
        var latencies = new List<double>(total);
        int next = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= total)
            {
                using var form = new MultipartFormDataContent();
                var part = new ByteArrayContent(image);
                part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                form.Add(part, "image", "dog.jpg");
                var t0 = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("/api/v1/detect", form);
                await response.Content.ReadAsByteArrayAsync();
                var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                lock (latencies)
                {
                    if (response.StatusCode == HttpStatusCode.OK) latencies.Add(ms); else errors++;
                }
            }
        }));
        return (latencies, sw.Elapsed.TotalSeconds, errors);
    }

}

/// <summary>A bare InferenceSession.Run of YOLOX-Nano with all cores, on dog.jpg's real tensor, in this process.</summary>
public sealed class BareRun : IDisposable
{
    private readonly ModelCatalog _catalog;
    private readonly DetectionModel _model;
    private readonly OrtValue _input;
    private readonly RunOptions _runOptions = new();

    private BareRun(ModelCatalog catalog, DetectionModel model, OrtValue input) { _catalog = catalog; _model = model; _input = input; }

    public static async Task<BareRun> CreateAsync(byte[] image)
    {
        var catalog = new ModelCatalog(BenchAssets.Store(), new InferenceSettings());
        var model = await catalog.GetAsync(ModelCatalog.DefaultModelName);
        var tensor = new float[3 * model.InputWidth * model.InputHeight];
        using (var decoded = new Lookout.Detection.Imaging.ImageDecoder().Decode(image, 416))
            Lookout.Detection.Imaging.TensorWriter.Write(decoded.Pixels, model.InputWidth, model.InputHeight, model.Preprocess, tensor);
        var bare = new BareRun(catalog, model, OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, model.InputHeight, model.InputWidth]));
        bare.Measure(20);
        return bare;
    }

    public double Once()
    {
        var t0 = Stopwatch.GetTimestamp();
        using var outputs = _model.Session.Run(_runOptions, [_model.InputName], [_input], [_model.OutputName]);
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    public double Measure(int runs) => BenchAssets.Median(Enumerable.Range(0, runs).Select(_ => Once()).ToArray());

    public void Dispose()
    {
        _input.Dispose();
        _runOptions.Dispose();
        _catalog.Dispose();
    }
}
