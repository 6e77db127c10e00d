using System.Diagnostics;
using System.Text.Json;

namespace Lookout.Bench;

/// <summary>
/// <c>first [starts] [server dll]</c>: is the first request after /readyz turns 200 as fast as the later ones? Starts
/// the server several times; each time, as soon as /readyz answers 200, sends dog.jpg to /api/v1/detect, then the
/// first request of each other route (annotated JSON, Accept: image/jpeg, DeepStack, POST /), then 20 more to
/// /api/v1/detect. Reports the first request's client latency and server-side postprocess time against the later
/// requests' medians, per start and as the median over starts.
/// </summary>
public static class FirstRequestBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int starts = args.Length > 0 ? int.Parse(args[0]) : 5;
        string? dll = args.Length > 1 ? args[1] : null;
        var dog = await File.ReadAllBytesAsync(BenchAssets.Store().Resolve("dog.jpg").Path);
        var firstOverLater = new List<double>();
        var firstPost = new List<double>();
        var laterPost = new List<double>();
        var routeFirsts = new List<string>();
        Console.WriteLine($"{"start",5} {"first ms",9} {"later p50",9} {"ratio",6} {"first post",10} {"later post",10} | first of each other route (ms)");
        for (int s = 0; s < starts; s++)
        {
            using var server = await ServerProcess.StartAsync(["--Logging:LogLevel:Default=Warning"], dll);
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var (firstMs, firstPostMs) = await ApiAsync(http, dog);
            var others = new List<(string, double)>
            {
                ("annotate", await TimeAsync(() => http.PostAsync("/api/v1/detect?annotate=true", Form("image", dog)))),
                ("jpeg", await TimeAsync(() =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = Form("image", dog) };
                    request.Headers.Accept.ParseAdd("image/jpeg");
                    return http.SendAsync(request);
                })),
                ("deepstack", await TimeAsync(() => http.PostAsync("/v1/vision/detection", Form("image", dog)))),
                ("seed", await TimeAsync(() => http.PostAsync("/", Form("file", dog)))),
            };
            var later = new List<(double Ms, double Post)>();
            for (int i = 0; i < 20; i++) later.Add(await ApiAsync(http, dog));
            double laterMs = BenchAssets.Median(later.Select(l => l.Ms)), laterPostMs = BenchAssets.Median(later.Select(l => l.Post));
            firstOverLater.Add(firstMs / laterMs);
            firstPost.Add(firstPostMs);
            laterPost.Add(laterPostMs);
            var otherText = string.Join(", ", others.Select(o => $"{o.Item1} {o.Item2:0.0}"));
            routeFirsts.Add(otherText);
            Console.WriteLine($"{s + 1,5} {firstMs,9:0.0} {laterMs,9:0.0} {firstMs / laterMs,6:0.00} {firstPostMs,10:0.00} {laterPostMs,10:0.00} | {otherText}");
        }
        Console.WriteLine();
        Console.WriteLine($"first request / later median: median {BenchAssets.Median(firstOverLater):0.00}× (starts {firstOverLater.Min():0.00}–{firstOverLater.Max():0.00}); " +
                          $"postprocess first {BenchAssets.Median(firstPost):0.00} ms against {BenchAssets.Median(laterPost):0.00} ms later");
        return 0;
    }

    private static async Task<(double Ms, double PostprocessMs)> ApiAsync(HttpClient http, byte[] image)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("/api/v1/detect", Form("image", image));
        var text = await response.Content.ReadAsStringAsync();
        var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(text);
        return (ms, json.RootElement.GetProperty("timings").GetProperty("postprocess_ms").GetDouble());
    }

    private static async Task<double> TimeAsync(Func<Task<HttpResponseMessage>> send)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var response = await send();
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private static MultipartFormDataContent Form(string part, byte[] image)
    {
        var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
        form.Add(content, part, "dog.jpg");
        return form;
    }
}
