using System.Net;
using Lookout.Detection.Tests.Support;
using Lookout.Server.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lookout.Server.Tests;

public sealed class OperationalBehaviourTests
{
    [Fact]
    public async Task Logs_carry_one_line_per_request_and_never_image_data_or_keys()
    {
        const string key = "k-SECRET-7d1f";
        var logs = new CapturingLoggerProvider();
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Security:ApiKey"] = key },
            configure: b => { b.Logging.SetMinimumLevel(LogLevel.Trace); b.Logging.AddProvider(logs); });
        var dog = TestAssets.Bytes("dog.jpg");

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/detect?annotate=true&api_key={key}") { Content = LookoutTestServer.Form("image", dog) })
        {
            request.Headers.Add("X-Api-Key", key);
            Assert.Equal(HttpStatusCode.OK, (await server.Client.SendAsync(request)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog, fields: [("api_key", key)]))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog, fields: [("api_key", key + "x")]))).StatusCode);
        using (var base64Body = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = new StringContent(Convert.ToBase64String(dog), System.Text.Encoding.UTF8, "text/plain") })
        {
            base64Body.Headers.Add("X-Api-Key", key);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await server.Client.SendAsync(base64Body)).StatusCode);
        }

        var lines = logs.Lines.Select(l => l.Message + " " + string.Join(" ", l.Values.Select(v => $"{v.Key}={v.Value}"))).ToArray();
        var requestLines = logs.Lines.Where(l => l.Category.EndsWith("RequestLogging")).ToArray();
        Assert.Equal(2, requestLines.Count(l => l.Message.Contains("objects=")));
        Assert.DoesNotContain(lines, l => l.Contains(key));
        Assert.DoesNotContain(lines, l => l.Contains("/9j/") || l.Contains("data:image"));   // base64 JPEG
        Assert.DoesNotContain(lines, l => l.Contains("api_key"));
    }

    [Fact]
    public async Task A_batch_logs_one_line_with_its_image_failure_and_object_counts_and_no_file_names()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await LookoutTestServer.StartAsync(configure: b => { b.Logging.SetMinimumLevel(LogLevel.Trace); b.Logging.AddProvider(logs); });
        var dog = TestAssets.Bytes("dog.jpg");
        var form = Batch.Form([("images", "holiday-secret-name.jpg", dog), ("images", "notes.txt", "text"u8.ToArray())], ("conf", "0.5"));
        Assert.Equal(HttpStatusCode.OK, (await server.Client.PostAsync("/api/v1/detect", form)).StatusCode);

        // The middleware writes its line once the response is out, so it may land just after the client has it.
        bool IsBatchLine(CapturingLoggerProvider.Line l) => l.Category.EndsWith("RequestLogging") && l.Message.Contains("images=");
        await BatchLimitTests.WaitFor(() => logs.Lines.Any(IsBatchLine), "the batch's log line", 5);
        var line = Assert.Single(logs.Lines, IsBatchLine);
        Assert.Equal(2, line.Values["Images"]);
        Assert.Equal(1, line.Values["Failed"]);
        Assert.Equal(3, line.Values["Objects"]);   // dog, bicycle, car
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains("holiday-secret-name"));
    }

    [Fact]
    public async Task Shutdown_finishes_the_requests_already_in_flight()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Limits:MaxConcurrentInferences"] = "1" });
        var gate = server.Service<InferenceGate>();
        var street = TestAssets.Bytes("street.jpg");
        // Hold the only slot, so the three requests are accepted and queued when shutdown begins.
        var (lease, _) = await gate.EnterAsync(CancellationToken.None, CancellationToken.None);
        var requests = Enumerable.Range(0, 3)
            .Select(_ => server.Client.PostAsync("/api/v1/detect?annotate=true", LookoutTestServer.Form("image", street)))
            .ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (gate.Waiting < 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(3, gate.Waiting);

        var stopping = server.App.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "the host stopped with requests still queued");
        lease.Dispose();

        var responses = await Task.WhenAll(requests);
        await stopping;
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses) Assert.Contains("\"label\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Rate_limiting_when_turned_on_answers_429_per_client_in_each_routes_shape()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:RateLimit:RequestsPerMinute"] = "1",
            ["Lookout:RateLimit:Burst"] = "2",
        });
        var dog = TestAssets.Bytes("dog.jpg");

        var first = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", dog));
        var second = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog));
        var api = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", dog));
        var deepstack = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
        Assert.True(api.Headers.RetryAfter!.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.TooManyRequests, deepstack.StatusCode);
        Assert.Contains("\"success\":false", await deepstack.Content.ReadAsStringAsync());
        // Health, the page and the model list are never limited.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v1/vision/custom/list")).StatusCode);
    }

    [Fact]
    public async Task Rate_limiting_is_off_by_default()
    {
        await using var server = await LookoutTestServer.StartAsync();
        var dog = TestAssets.Bytes("dog.jpg");
        for (int i = 0; i < 15; i++)
            Assert.Equal(HttpStatusCode.OK, (await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", dog))).StatusCode);
    }
}
