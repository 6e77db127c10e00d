using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Lookout.Bench;

/// <summary>
/// Throughput of one request carrying 8 images against 8 single requests (sent one after another by one client,
/// and all at once by 8 clients), over loopback against the real server in its own process. The three take turns
/// in every round (the order rotating), and the figure is the median of the per-round ratios, because this
/// machine's speed drifts within minutes.
/// </summary>
public static class BatchBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 30;
        var serverArgs = args.Skip(1).ToArray();
        var folder = Path.Combine(BenchAssets.Shared, "data", "coco128", "images");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder} is missing (the shared coco128 images)");
        var images = Directory.GetFiles(folder, "*.jpg").Order().Take(8).Select(File.ReadAllBytes).ToArray();

        using var server = await ServerProcess.StartAsync(["--Logging:LogLevel:Default=Warning", .. serverArgs]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        // The batch must answer what the singles answer, or the comparison means nothing.
        var singles = await Task.WhenAll(images.Select(i => Single(http, i)));
        var batch = await Batch(http, images);
        for (int i = 0; i < images.Length; i++)
            if (Detections(batch.RootElement.GetProperty("results")[i]) != Detections(singles[i].RootElement))
                throw new InvalidOperationException($"image {i}: the batch's detections differ from the single request's");

        var ways = new (string Name, Func<Task> Run)[]
        {
            ("1 request × 8 images", () => Batch(http, images)),
            ("8 requests, one at a time", async () => { foreach (var i in images) await Single(http, i); }),
            ("8 requests at once", () => Task.WhenAll(images.Select(i => Single(http, i)))),
        };
        foreach (var (_, run) in ways) for (int w = 0; w < 3; w++) await run();   // warm-up

        var times = ways.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < ways.Length; k++)
            {
                int w = (r + k) % ways.Length;
                var t0 = Stopwatch.GetTimestamp();
                await ways[w].Run();
                times[w].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }

        Console.WriteLine($"server args: {(serverArgs.Length == 0 ? "(defaults)" : string.Join(' ', serverArgs))}; {Environment.ProcessorCount} cores; {rounds} rounds; 8 coco128 images");
        Console.WriteLine($"{"way",-28} {"median ms / 8 images",22} {"images/s",9} {"median ratio to batch",22}");
        for (int w = 0; w < ways.Length; w++)
        {
            var median = BenchAssets.Median(times[w]);
            var ratio = BenchAssets.Median(times[w].Zip(times[0], (mine, batchMs) => mine / batchMs));
            Console.WriteLine($"{ways[w].Name,-28} {median,22:0.0} {8000 / median,9:0.0} {ratio,22:0.00}");
        }
        return 0;
    }

    private static string Detections(JsonElement result) => result.GetProperty("detections").GetRawText();

    private static async Task<JsonDocument> Single(HttpClient http, byte[] image)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(image);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(part, "image", "photo.jpg");
        return await Post(http, form);
    }

    private static async Task<JsonDocument> Batch(HttpClient http, byte[][] images)
    {
        using var form = new MultipartFormDataContent();
        for (int i = 0; i < images.Length; i++)
        {
            var part = new ByteArrayContent(images[i]);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(part, "images", $"photo{i}.jpg");
        }
        return await Post(http, form);
    }

    private static async Task<JsonDocument> Post(HttpClient http, MultipartFormDataContent form)
    {
        using var response = await http.PostAsync("/api/v1/detect", form);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body);
    }
}
