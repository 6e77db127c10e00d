using System.Net;
using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Server.Tests;

[Collection(DefaultServerCollection.Name)]
public sealed class OperationsTests(DefaultServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    [Fact]
    public async Task Healthz_and_readyz_answer_when_the_model_is_loaded()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz")).StatusCode);
        var ready = JsonDocument.Parse(await Client.GetStringAsync("/readyz")).RootElement;
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal("yolox-nano", ready.GetProperty("model").GetString());
        Assert.Equal("cpu", ready.GetProperty("execution_provider").GetString());
    }

    [Fact]
    public async Task Metrics_expose_requests_latency_inference_and_queue()
    {
        await Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));

        var metrics = await Client.GetStringAsync("/metrics");

        Assert.Contains("http_requests_received_total", metrics);
        Assert.Contains("http_request_duration_seconds_bucket", metrics);
        Assert.Contains("lookout_inference_duration_seconds_bucket{model=\"yolox-nano\"", metrics);
        Assert.Contains("lookout_queue_length", metrics);
        Assert.Contains("lookout_rejections_total", metrics);
    }

    [Fact]
    public async Task Cors_preflight_is_answered_for_any_origin_without_credentials()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/detect");
        request.Headers.Add("Origin", "https://someone.github.io");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Simple_cross_origin_request_gets_the_allow_origin_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status_check");
        request.Headers.Add("Origin", "https://someone.github.io");
        var response = await Client.SendAsync(request);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task OpenApi_document_and_browsable_page_are_served()
    {
        var doc = await Client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/detect", doc);
        Assert.Contains("/v1/vision/detection", doc);
        var page = await Client.GetAsync("/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Security_headers_are_set()
    {
        var response = await Client.GetAsync("/healthz");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }
}
