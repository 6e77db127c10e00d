using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// Load over loopback against the real server in its own process (so its memory can be read from /proc), in
/// interleaved rounds: this machine's speed drifts by 2× within minutes, so a ratio is only honest when both of its
/// figures come from the same moment. Each round measures, with the server idle, the bare InferenceSession.Run median
/// and the bare decode median (dog.jpg decoded for the model, as the server does), then sends a batch of requests at
/// concurrency 1, 2, 4 and 8 to the DeepStack route; the ratios are computed per round and the median over rounds is
/// reported, with their range. A batch on /api/v1/detect at concurrency 1 reads the server's own stage timings, to say
/// where the time beyond decode + Run goes. Then resident memory over 3000 requests.
/// </summary>
public static class HttpBench
{
    private const string Route = "/v1/vision/detection";

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 8;
        int perBatch = args.Length > 1 ? int.Parse(args[1]) : 40;
        // Anything after the counts goes to the server, e.g. --Lookout:IntraOpThreads=1, to compare layouts.
        // --no-memory skips the 3000-request memory phase (for a quick look at the ratios and stages).
        bool memory = !args.Contains("--no-memory");
        var serverArgs = args.Skip(2).Where(a => a != "--no-memory").ToArray();
        var dog = await File.ReadAllBytesAsync(BenchAssets.Store().Resolve("dog.jpg").Path);

        using var bare = await BareRun.CreateAsync(dog);
        using var server = await ServerProcess.StartAsync(["--Logging:LogLevel:Default=Warning", .. serverArgs]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        long rssStart = server.Rss;
        await LoadAsync(http, dog, Route, 1, 30);
        Console.WriteLine($"server args: {(serverArgs.Length == 0 ? "(defaults)" : string.Join(' ', serverArgs))}; {rounds} rounds, {perBatch} requests a batch, {Route} with dog.jpg");
        Console.WriteLine($"{"round",5} {"bare Run",9} {"decode",7} {"p50 c1",7} {"p99 c1",7} {"req/s c2",9} {"req/s c4",9} {"p50 c8",7} {"p99 c8",7} {"c1/Run",7} {"c1/(dec+Run)",12} {"c4·Run",7}");

        int[] levels = [1, 2, 4, 8];
        var perRound = new List<Round>();
        int sent = 30;
        for (int r = 0; r < rounds; r++)
        {
            // The server is idle here (no request in flight); a quiet gap lets both processes' spinning workers stop.
            await Task.Delay(100);
            double runMs = bare.Measure(25);
            double decodeMs = bare.MeasureDecode(25);
            await Task.Delay(100);
            var batches = new Dictionary<int, (double P50, double P99, double Rps)>();
            foreach (var c in levels)
            {
                var (latencies, seconds, errors) = await LoadAsync(http, dog, Route, c, perBatch);
                if (errors > 0) Console.WriteLine($"  {errors} errors at c={c}");
                batches[c] = (BenchAssets.Median(latencies), BenchAssets.Percentile(latencies, 0.99), latencies.Count / seconds);
                sent += perBatch;
            }
            var round = new Round(runMs, decodeMs, batches);
            perRound.Add(round);
            Console.WriteLine($"{r + 1,5} {runMs,9:0.00} {decodeMs,7:0.00} {batches[1].P50,7:0.00} {batches[1].P99,7:0.0} {batches[2].Rps,9:0.0} {batches[4].Rps,9:0.0} " +
                $"{batches[8].P50,7:0.0} {batches[8].P99,7:0.0} {round.C1OverRun,7:0.00} {round.C1OverDecodeAndRun,12:0.00} {round.C4TimesRun,7:0.00}");
        }

        // Where the time goes at concurrency 1: the server's own stage timings (JSON route) beside the client's latency.
        var stages = await StagesAsync(http, dog, perBatch);
        sent += perBatch;

        var samples = new List<(int Requests, long Rss)> { (sent, server.Rss) };
        while (memory && sent < 3000)
        {
            await LoadAsync(http, dog, Route, 4, 250);
            sent += 250;
            samples.Add((sent, server.Rss));
        }

        static string Summary(IEnumerable<double> values) { var v = values.ToArray(); return $"median {BenchAssets.Median(v):0.00} (rounds {v.Min():0.00}–{v.Max():0.00})"; }
        Console.WriteLine();
        Console.WriteLine("| concurrency | p50 | p99 | throughput |");
        Console.WriteLine("| --- | --- | --- | --- |");
        foreach (var c in levels)
            Console.WriteLine($"| {c} | {BenchAssets.Median(perRound.Select(x => x.Batches[c].P50)):0.0} ms | {BenchAssets.Median(perRound.Select(x => x.Batches[c].P99)):0} ms | {BenchAssets.Median(perRound.Select(x => x.Batches[c].Rps)):0} req/s |");
        Console.WriteLine($"bare Run {Summary(perRound.Select(x => x.RunMs))} ms; bare decode {Summary(perRound.Select(x => x.DecodeMs))} ms");
        Console.WriteLine($"HTTP p50 at c=1 / bare Run                  = {Summary(perRound.Select(x => x.C1OverRun))}   (target ≤ 1.4)");
        Console.WriteLine($"HTTP p50 at c=1 / (bare decode + bare Run)  = {Summary(perRound.Select(x => x.C1OverDecodeAndRun))}   (target ≤ 1.15)");
        Console.WriteLine($"throughput at c=4 × bare Run                = {Summary(perRound.Select(x => x.C4TimesRun))}   (target ≥ 0.9)");
        Console.WriteLine($"p99 at c=8 / p50 at c=1                     = {Summary(perRound.Select(x => x.Batches[8].P99 / x.Batches[1].P50))}");
        Console.WriteLine($"where a c=1 request's time goes (/api/v1/detect, medians): {stages}");
        Console.WriteLine($"resident memory: start {rssStart / 1048576.0:0} MB; " + string.Join(", ", samples.Select(s => $"{s.Requests} req → {s.Rss / 1048576.0:0} MB")));
        return 0;
    }

    private sealed record Round(double RunMs, double DecodeMs, Dictionary<int, (double P50, double P99, double Rps)> Batches)
    {
        public double C1OverRun => Batches[1].P50 / RunMs;
        public double C1OverDecodeAndRun => Batches[1].P50 / (DecodeMs + RunMs);
        public double C4TimesRun => Batches[4].Rps * RunMs / 1000;
    }

    /// <summary>Medians of the server's stage timings and of the client's latency for /api/v1/detect at concurrency 1.</summary>
    private static async Task<string> StagesAsync(HttpClient http, byte[] image, int count)
    {
        string[] keys = ["queue_ms", "decode_ms", "preprocess_ms", "inference_ms", "postprocess_ms", "total_ms"];
        var values = keys.ToDictionary(k => k, _ => new List<double>());
        var client = new List<double>();
        var outsideStages = new List<double>();
        var outsideService = new List<double>();
        for (int i = 0; i < count; i++)
        {
            using var form = Form(image);
            var t0 = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("/api/v1/detect", form);
            var text = await response.Content.ReadAsStringAsync();
            client.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            using var json = System.Text.Json.JsonDocument.Parse(text);
            var timings = json.RootElement.GetProperty("timings");
            foreach (var k in keys) values[k].Add(timings.GetProperty(k).GetDouble());
            // Per request, not from the medians: on a noisy machine a sum of stage medians is not the median of sums.
            double stageSum = keys.Where(k => k != "total_ms").Sum(k => timings.GetProperty(k).GetDouble());
            outsideStages.Add(timings.GetProperty("total_ms").GetDouble() - stageSum);
            outsideService.Add(client[^1] - timings.GetProperty("total_ms").GetDouble());
        }
        double clientMs = BenchAssets.Median(client), serverMs = BenchAssets.Median(values["total_ms"]);
        return string.Join(", ", keys.Select(k => $"{k.Replace("_ms", "")} {BenchAssets.Median(values[k]):0.00}")) +
               $"; client latency {clientMs:0.00} ms. Per request (medians): in the service outside the stages " +
               $"{BenchAssets.Median(outsideStages):0.00} ms, HTTP + multipart + JSON outside the service {BenchAssets.Median(outsideService):0.00} ms";
    }

    private static MultipartFormDataContent Form(byte[] image)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(image);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(part, "image", "dog.jpg");
        return form;
    }

    internal static async Task<(List<double> Latencies, double Seconds, int Errors)> LoadAsync(HttpClient http, byte[] image, string route, int concurrency, int total)
    {
        var latencies = new List<double>(total);
        int next = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= total)
            {
                using var form = Form(image);
                var t0 = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(route, form);
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

    private readonly byte[] _image;
    private readonly Lookout.Detection.Imaging.ImageDecoder _decoder = new();

    private BareRun(ModelCatalog catalog, DetectionModel model, OrtValue input, byte[] image) { _catalog = catalog; _model = model; _input = input; _image = image; }

    public static async Task<BareRun> CreateAsync(byte[] image)
    {
        var catalog = new ModelCatalog(BenchAssets.Store(), new InferenceSettings());
        var model = await catalog.GetAsync(ModelCatalog.DefaultModelName);
        var tensor = new float[3 * model.InputWidth * model.InputHeight];
        using (var decoded = new Lookout.Detection.Imaging.ImageDecoder().Decode(image, 416))
            Lookout.Detection.Imaging.TensorWriter.Write(decoded.Pixels, model.InputWidth, model.InputHeight, model.Preprocess, tensor);
        var bare = new BareRun(catalog, model, OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, model.InputHeight, model.InputWidth]), image);
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

    /// <summary>The bare decode: the photo decoded for this model as the server's input rule decodes it.</summary>
    public double MeasureDecode(int runs) => BenchAssets.Median(Enumerable.Range(0, runs).Select(_ =>
    {
        var t0 = Stopwatch.GetTimestamp();
        using var image = _decoder.Decode(_image, Math.Max(_model.InputWidth, _model.InputHeight), Lookout.Detection.Imaging.ModelInputRule.For(_model.Family).JpegScale);
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }).ToArray());

    public void Dispose()
    {
        _input.Dispose();
        _runOptions.Dispose();
        _catalog.Dispose();
    }
}
