using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Lookout.Server.Services;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Tests;

/// <summary>Behaviours that need their own server settings: limits, back-pressure, keys, HTTPS, archiving.</summary>
public sealed class ConfiguredServerTests
{
    [Fact]
    public async Task Body_over_the_upload_limit_is_413_and_the_server_carries_on()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Limits:MaxUploadBytes"] = "100000" });

        // Expect: 100-continue, as clients sending large bodies do: the server refuses before the body is sent,
        // instead of racing the client's upload with an early 413 and a closed connection.
        async Task<HttpResponseMessage> Post(string url, HttpContent content)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
            request.Headers.ExpectContinue = true;
            return await server.Client.SendAsync(request);
        }
        var big = await Post("/api/v1/detect", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
        var raw = new ByteArrayContent(TestAssets.Bytes("street.jpg"));
        raw.Headers.ContentType = new("image/jpeg");
        var bigRaw = await Post("/api/v1/detect", raw);
        var deepstack = await Post("/v1/vision/detection", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigRaw.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, deepstack.StatusCode);
        Assert.False(JsonDocument.Parse(await deepstack.Content.ReadAsStringAsync()).RootElement.GetProperty("success").GetBoolean());
        using var small = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var ok = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", ImageFactory.Encode(small, SkiaSharp.SKEncodedImageFormat.Jpeg, 50)));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Flood_past_the_queue_gets_fast_503s_while_accepted_requests_succeed()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "2",
        });
        var street = TestAssets.Bytes("street.jpg");
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(async _ =>
        {
            var sw = Stopwatch.StartNew();
            var response = await server.Client.PostAsync("/api/v1/detect?annotate=true", LookoutTestServer.Form("image", street));
            var body = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, sw.Elapsed, body, RetryAfter: response.Headers.RetryAfter);
        }));

        var accepted = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToArray();
        var rejected = results.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.Equal(24, accepted.Length + rejected.Length);
        Assert.True(accepted.Length >= 3, $"only {accepted.Length} accepted");
        Assert.True(rejected.Length >= 10, $"only {rejected.Length} rejected");
        Assert.All(rejected, r => Assert.NotNull(r.RetryAfter));
        // A refusal does not wait for inference: it is answered while the accepted ones are still running.
        Assert.True(rejected.Select(r => r.Elapsed).Order().ElementAt(rejected.Length / 2) < accepted.Select(r => r.Elapsed).Max(),
            "the 503s were not faster than the accepted requests");
        Assert.All(accepted, r => Assert.Contains("\"label\":\"car\"", r.body));
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("lookout_rejections_total{reason=\"queue_full\"}", metrics);
    }

    [Fact]
    public async Task Deepstack_route_reports_a_full_queue_in_its_own_shape()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "0",
        });
        var gate = server.Service<InferenceGate>();
        var (lease, _) = await gate.EnterAsync(CancellationToken.None, CancellationToken.None);
        using (lease)
        {
            var response = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("Request queue 'objectdetection_queue' is full", json.GetProperty("error").GetString());
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }

    [Fact]
    public async Task A_saturated_server_refuses_before_reading_the_upload()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "0",
        });
        var (lease, _) = await server.Service<InferenceGate>().EnterAsync(CancellationToken.None, CancellationToken.None);
        using (lease)
        {
            // A body that never finishes arriving, sent after "100 Continue" (which Kestrel sends only once the
            // endpoint starts reading): only a server that answers without reading the upload can reply in time.
            var stalled = new StalledContent();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = stalled };
            request.Headers.ExpectContinue = true;
            var sw = Stopwatch.StartNew();
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(10));
            stalled.Release();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Sends multipart headers and the first bytes of a JPEG, then waits until released.</summary>
    private sealed class StalledContent : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StalledContent() => Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=xyz");

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync("--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"u8.ToArray());
            await stream.WriteAsync(new byte[] { 0xFF, 0xD8, 0xFF });
            await stream.FlushAsync();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(_ => { });
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task A_request_waiting_past_its_deadline_gets_504()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:RequestTimeoutSeconds"] = "0.5",
        });
        var (lease, _) = await server.Service<InferenceGate>().EnterAsync(CancellationToken.None, CancellationToken.None);
        using (lease)
        {
            var sw = Stopwatch.StartNew();
            var response = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.InRange(sw.Elapsed.TotalSeconds, 0.4, 5);
        }
    }

    [Fact]
    public async Task A_client_that_disconnects_gives_up_its_queue_place()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Limits:MaxConcurrentInferences"] = "1" });
        var gate = server.Service<InferenceGate>();
        var (lease, _) = await gate.EnterAsync(CancellationToken.None, CancellationToken.None);
        using (lease)
        {
            using var cts = new CancellationTokenSource();
            var pending = server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")), cts.Token);
            await WaitFor(() => gate.Waiting == 1);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            await WaitFor(() => gate.Waiting == 0);
        }
    }

    [Fact]
    public async Task Nothing_is_written_to_disk_by_default()
    {
        var temp = Path.GetTempPath();
        var before = Directory.GetFiles(temp, "ASPNETCORE_*").ToHashSet();
        await using var server = await LookoutTestServer.StartAsync();
        var archiveDir = server.Service<ResultArchive>().DirectoryPath;

        // Bigger than every default buffering threshold (64 KiB form buffering, 30 KiB request buffering).
        foreach (var url in new[] { "/", "/api/v1/detect?annotate=true", "/v1/vision/detection" })
        {
            var response = await server.Client.PostAsync(url, LookoutTestServer.Form(url == "/" ? "file" : "image", TestAssets.Bytes("street.jpg")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.False(server.Service<ResultArchive>().Enabled);
        Assert.False(Directory.Exists(archiveDir), $"{archiveDir} was created");
        Assert.DoesNotContain(Directory.GetFiles(temp, "ASPNETCORE_*"), f => !before.Contains(f));
    }

    [Fact]
    public async Task Archive_when_turned_on_keeps_unique_files_within_its_retention()
    {
        var dir = Directory.CreateTempSubdirectory("lookout-archive-");
        try
        {
            await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Lookout:Archive:Enabled"] = "true",
                ["Lookout:Archive:Directory"] = dir.FullName,
                ["Lookout:Archive:MaxFiles"] = "3",
            });
            await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
                server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")))));

            var files = Directory.GetFiles(dir.FullName);
            Assert.Equal(3, files.Length);
            Assert.All(files, f => Assert.Equal([0xFF, 0xD8], File.ReadAllBytes(f)[..2]));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public async Task Api_key_when_configured_is_required_on_every_detection_route()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Security:ApiKey"] = "s3cret" });
        var dog = TestAssets.Bytes("dog.jpg");

        var deepstackNoKey = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog, fields: [("api_key", "wrong")]));
        var deepstackKey = await server.Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", dog, fields: [("api_key", "s3cret")]));
        var apiNoKey = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", dog));
        using var withHeader = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = LookoutTestServer.Form("image", dog) };
        withHeader.Headers.Add("X-Api-Key", "s3cret");
        var apiKey = await server.Client.SendAsync(withHeader);
        var seedNoKey = await server.Client.PostAsync("/", LookoutTestServer.Form("file", dog));

        Assert.Equal(HttpStatusCode.Unauthorized, deepstackNoKey.StatusCode);
        Assert.Equal("Incorrect api key", JsonDocument.Parse(await deepstackNoKey.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, deepstackKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, apiNoKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, apiKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, seedNoKey.StatusCode);
    }

    [Fact]
    public async Task Readyz_is_503_with_the_reason_while_the_model_cannot_be_loaded()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Model"] = "yolov3-608" }, waitUntilReady: false);
        JsonElement json = default;
        HttpStatusCode status = default;
        await WaitFor(async () =>
        {
            var response = await server.Client.GetAsync("/readyz");
            status = response.StatusCode;
            json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return json.GetProperty("status").GetString() == "failed";
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("yolov3.weights", json.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
    }

    [Theory]
    [InlineData("Lookout:Limits:RequestTimeoutSeconds", "-1", "RequestTimeoutSeconds")]
    [InlineData("Lookout:ExecutionProvider", "tpu", "ExecutionProvider")]
    [InlineData("Lookout:TrustedProxies:0", "not-an-address", "TrustedProxies")]
    [InlineData("Lookout:Https:CertificatePath", "/nowhere/fullchain.pem", "KeyPath")]
    public async Task Bad_settings_stop_start_up_with_a_message_naming_them(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => LookoutTestServer.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public async Task Renewed_certificate_files_are_served_without_a_restart()
    {
        var dir = Directory.CreateTempSubdirectory("lookout-tls-");
        try
        {
            var certPath = Path.Combine(dir.FullName, "fullchain.pem");
            var keyPath = Path.Combine(dir.FullName, "privkey.pem");
            var first = WritePem(certPath, keyPath, "CN=first.lookout.test");
            int port = Loopback.FreePort();
            await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Lookout:Https:CertificatePath"] = certPath,
                ["Lookout:Https:KeyPath"] = keyPath,
                ["Lookout:Https:Port"] = port.ToString(),
            }, waitUntilReady: false, listenHttp: false);

            Assert.Equal(first, await ServedThumbprint(port));

            var second = WritePem(certPath, keyPath, "CN=second.lookout.test");
            string served = "";
            await WaitFor(async () => (served = await ServedThumbprint(port)) == second);
            Assert.Equal(second, served);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static string WritePem(string certPath, string keyPath, string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        return cert.Thumbprint;
    }

    private static async Task<string> ServedThumbprint(int port)
    {
        // A new connection each time, so each call sees a fresh TLS handshake.
        string? thumbprint = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => { thumbprint = new X509Certificate2(cert!).Thumbprint; return true; },
            },
        };
        using var client = new HttpClient(handler);
        var response = await client.GetAsync($"https://127.0.0.1:{port}/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return thumbprint!;
    }


    private static Task WaitFor(Func<bool> condition) => WaitFor(() => Task.FromResult(condition()));

    private static async Task WaitFor(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not become true within 20 s.");
            await Task.Delay(100);
        }
    }
}
