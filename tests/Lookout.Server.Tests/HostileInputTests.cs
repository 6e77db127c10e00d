using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using Xunit.Abstractions;

namespace Lookout.Server.Tests;

/// <summary>
/// The hostile corpus over real HTTP against the real server: broken images through every upload route, broken
/// multipart framing, wrong content types, a slow-body client. Every case must end in a 4xx (or a 200 where the
/// damage leaves a decodable image), never a 5xx, and a good request must succeed after it.
/// </summary>
[Collection(IsolatedCollection.Name)]
public sealed class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    // 2 MiB instead of the default 20 MiB so the oversized-part cases stay cheap to send; everything else default.
    private const long UploadLimit = 2 * 1024 * 1024;
    private LookoutTestServer _server = null!;
    private byte[] _good = null!;

    public async Task InitializeAsync()
    {
        _server = await LookoutTestServer.StartAsync(new Dictionary<string, string?> { ["Lookout:Limits:MaxUploadBytes"] = UploadLimit.ToString() });
        _good = HostileCorpus.Seeds[ImageFormat.Jpeg];
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>One request to send: made fresh each time (a request message can be sent once).</summary>
    /// <param name="MayDrop">An oversized body refused unread: the server answers 413 and closes, so a client still
    /// sending may see the connection reset instead of the answer (HTTP/1.1 has no other way to refuse early).</param>
    private sealed record HttpCase(string Name, Func<HttpRequestMessage> Make, bool May200 = false, bool MayDrop = false)
    {
        public bool Acceptable(int status) => status is >= 400 and < 500 || (status == 200 && May200) || (status == Dropped && MayDrop);
    }

    private const int Dropped = -1;

    [Fact]
    public async Task Every_hostile_request_gets_a_4xx_the_server_stays_up_and_memory_stays_bounded()
    {
        var cases = BuildCases();
        var client = _server.Client;

        // Pass 1 (also the warm-up): every case, each followed by a good detection that must succeed.
        var statuses = new List<(HttpCase Case, int Status)>();
        foreach (var c in cases)
        {
            statuses.Add((c, await SendAsync(client, c)));
            await AssertGoodRequestSucceeds(client, $"after {c.Name}");
        }

        int n = statuses.Count;
        int k4xx = statuses.Count(s => s.Status is >= 400 and < 500);
        int k200 = statuses.Count(s => s.Status == 200);
        int dropped = statuses.Count(s => s.Status == Dropped);
        output.WriteLine($"hostile cases: {n}, 4xx: {k4xx}, 200 (damage left a decodable image): {k200}, " +
                         $"connection closed on an oversized body: {dropped}, other: {n - k4xx - k200 - dropped}");
        foreach (var g in statuses.GroupBy(s => s.Status).OrderBy(g => g.Key)) output.WriteLine($"  {g.Key}: {g.Count()}");
        var bad = statuses.Where(s => !s.Case.Acceptable(s.Status)).Select(s => $"{s.Case.Name} -> {s.Status}").ToList();
        Assert.True(bad.Count == 0, "Cases without a 4xx:\n" + string.Join("\n", bad));

        // Memory: after the warm-up pass, two more passes of the whole corpus must not grow the process much.
        // The bound: the server keeps no per-request state, so steady-state growth should be ~0; what does vary is
        // allocator retention — GC heap segments, and glibc arenas keeping freed native Skia/ONNX buffers (a few tens
        // of MB; +14 MB was measured) — so 100 MB is well above that noise, yet leaking one decoded 320×240 RGBA image
        // (300 KB) per request would cross it over the 358 requests of the two passes.
        long before = StableRssBytes();
        int sent = 0;
        for (int pass = 0; pass < 2; pass++)
            foreach (var c in cases)
            {
                var status = await SendAsync(client, c);
                Assert.True(c.Acceptable(status), $"{c.Name} -> {status} on pass {pass + 2}");
                sent++;
            }
        await AssertGoodRequestSucceeds(client, "after the memory passes");
        long after = StableRssBytes();
        output.WriteLine($"RSS before the two passes {before / 1048576.0:0.0} MiB, after {after / 1048576.0:0.0} MiB " +
                         $"({(after - before) / 1048576.0:+0.0;-0.0} MiB over {sent} requests)");
        Assert.True(after - before < 100L * 1024 * 1024, $"RSS grew {(after - before) / 1048576.0:0.0} MiB over {sent} hostile requests");
    }

    [Fact]
    public async Task A_slow_body_is_cut_off_while_other_clients_are_served()
    {
        var sw = Stopwatch.StartNew();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = tcp.GetStream();
        // Kestrel's default MinRequestBodyDataRate: 240 bytes/s after a 5 s grace period. This client sends 4 bytes/s.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(13));
        var trickle = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    await stream.WriteAsync(_good.AsMemory(4 * i % (_good.Length - 4), 4), stop.Token);
                    await Task.Delay(1000, stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException) { }
        });

        // Meanwhile the server answers everyone else promptly.
        var served = new List<double>();
        while (sw.Elapsed < TimeSpan.FromSeconds(4))
        {
            var t = Stopwatch.StartNew();
            await AssertGoodRequestSucceeds(_server.Client, "while a slow client trickles");
            served.Add(t.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.OK, (await _server.Client.GetAsync("/healthz")).StatusCode);
        }

        // The slow request must be ended by the server: a 4xx response, or the connection closed.
        var buffer = new byte[4096];
        string answer;
        try
        {
            using var readTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, 14 - sw.Elapsed.TotalSeconds)));
            int read = await stream.ReadAsync(buffer, readTimeout.Token);
            answer = read == 0 ? "closed" : Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
        }
        catch (IOException)
        {
            answer = "reset";
        }
        catch (OperationCanceledException)
        {
            answer = "still open";
        }
        var cutAfter = sw.Elapsed;
        stop.Cancel();
        await trickle;
        output.WriteLine($"slow upload: '{answer}' after {cutAfter.TotalSeconds:0.0} s; {served.Count} good requests meanwhile, slowest {served.Max():0} ms");

        Assert.True(answer is "closed" or "reset" || answer.StartsWith("HTTP/1.1 4"), $"the slow request ended as '{answer}'");
        Assert.True(cutAfter < TimeSpan.FromSeconds(15), $"cut off only after {cutAfter.TotalSeconds:0.0} s");
        await AssertGoodRequestSucceeds(_server.Client, "after the slow client");
    }

    [Fact]
    public async Task A_body_refused_unread_as_too_large_closes_the_connection_and_says_so()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: {UploadLimit * 3}\r\n\r\n"));
        await stream.WriteAsync(_good);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var head = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while (!head.ToString().Contains("\r\n\r\n") && (read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            head.Append(Encoding.ASCII.GetString(buffer, 0, read));

        var text = head.ToString();
        Assert.StartsWith("HTTP/1.1 413", text);
        // Without it a keep-alive client reuses the socket Kestrel is about to drop, and its next request fails.
        Assert.Contains("Connection: close", text, StringComparison.OrdinalIgnoreCase);
        await AssertGoodRequestSucceeds(_server.Client, "after the refused body");
    }

    [Theory]
    [InlineData("boundary-over-70-chars")] // 200 characters: past the reader's 128 as well as RFC 2046's 70
    [InlineData("20kb-part-header")]
    [InlineData("100-text-fields")]
    public async Task Framing_past_the_form_readers_limits_is_a_bad_request_not_too_large(string kind)
    {
        var jpeg = HostileCorpus.Seeds[ImageFormat.Jpeg];
        string b = kind == "boundary-over-70-chars" ? new string('x', 200) : "bnd";
        byte[] Part(string name, byte[] data, string extra = "") =>
            [.. Encoding.ASCII.GetBytes($"--{b}\r\n{extra}Content-Disposition: form-data; name=\"{name}\"; filename=\"a.jpg\"\r\n\r\n"), .. data, .. "\r\n"u8];
        byte[] body = kind switch
        {
            "20kb-part-header" => [.. Part("image", jpeg, $"X-Padding: {new string('a', 20_000)}\r\n"), .. Encoding.ASCII.GetBytes($"--{b}--\r\n")],
            "100-text-fields" => [.. Enumerable.Range(0, 100).SelectMany(i => Encoding.ASCII.GetBytes($"--{b}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n")),
                .. Part("image", jpeg), .. Encoding.ASCII.GetBytes($"--{b}--\r\n")],
            _ => [.. Part("image", jpeg), .. Encoding.ASCII.GetBytes($"--{b}--\r\n")],
        };
        using var response = await _server.Client.PostAsync("/api/v1/detect", Raw(body, $"multipart/form-data; boundary={b}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Contains("limit", text);
    }

    private async Task AssertGoodRequestSucceeds(HttpClient client, string when)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", _good));
        }
        catch (HttpRequestException ex)
        {
            throw new Xunit.Sdk.XunitException($"good request {when}: no response ({ex.Message} {ex.InnerException?.Message})");
        }
        using var _ = response;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"good request {when}: {(int)response.StatusCode} {body}");
    }

    /// <summary>Sends a case: its status, or <see cref="Dropped"/> where an oversized body's connection was closed under it.</summary>
    private static async Task<int> SendAsync(HttpClient client, HttpCase c)
    {
        using var request = c.Make();
        try
        {
            using var response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode;
        }
        catch (HttpRequestException ex)
        {
            if (c.MayDrop) return Dropped;
            throw new Xunit.Sdk.XunitException($"{c.Name}: no response ({ex.Message})");
        }
    }

    private static long StableRssBytes()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("No VmRSS in /proc/self/status.");
    }

    // ---- the corpus ----------------------------------------------------------------------------------------------

    private static readonly string[] Routes = ["api-multipart", "api-raw", "deepstack", "seed"];

    private static HttpRequestMessage ImageRequest(string route, byte[] bytes, string fileName, string contentType) => route switch
    {
        "api-multipart" => Post("/api/v1/detect", LookoutTestServer.Form("image", bytes, fileName, contentType)),
        "api-raw" => Post("/api/v1/detect", Raw(bytes, contentType)),
        "deepstack" => Post("/v1/vision/detection", LookoutTestServer.Form("image", bytes, fileName, contentType)),
        _ => Post("/", LookoutTestServer.Form("file", bytes, fileName, contentType)),
    };

    private static HttpRequestMessage Post(string url, HttpContent content) => new(HttpMethod.Post, url) { Content = content };

    private static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static List<HttpCase> BuildCases()
    {
        var files = new List<HostileFile>();
        foreach (var (format, bytes) in HostileCorpus.MediumSeeds)
        {
            files.AddRange(HostileCorpus.Truncations(format, bytes, 16));
            files.AddRange(HostileCorpus.BitFlips(format, bytes, 6, seed: 2000 + (int)format));
        }
        files.AddRange(HostileCorpus.Bombs());
        files.AddRange(HostileCorpus.HostileExif());
        files.AddRange(HostileCorpus.NonImages());
        files.Add(new HostileFile("zero-length", []));

        // Each file through one of the four upload routes in turn, named photo.jpg whatever it is.
        var cases = files.Select((f, i) =>
        {
            var route = Routes[i % Routes.Length];
            // Only the files damaged in a way that may leave a valid image may answer 200.
            return new HttpCase($"{f.Name} via {route}", () => ImageRequest(route, f.Bytes, "photo.jpg", "image/jpeg"), f.MayDecode);
        }).ToList();

        var jpeg = HostileCorpus.Seeds[ImageFormat.Jpeg];
        const string b = "hostile-boundary-7f3a";
        string ct = $"multipart/form-data; boundary={b}";
        byte[] Part(string disposition, byte[] data, string? type = "image/jpeg") =>
            [.. Encoding.ASCII.GetBytes($"--{b}\r\nContent-Disposition: {disposition}\r\n{(type is null ? "" : $"Content-Type: {type}\r\n")}\r\n"), .. data, .. "\r\n"u8];
        byte[] Close() => Encoding.ASCII.GetBytes($"--{b}--\r\n");
        var imagePart = Part("form-data; name=\"image\"; filename=\"photo.jpg\"", jpeg);

        void Add(string name, string url, Func<HttpContent> content) => cases.Add(new HttpCase(name, () => Post(url, content()), MayDrop: name.Contains("oversized")));

        foreach (var url in new[] { "/api/v1/detect", "/v1/vision/detection", "/" })
        {
            string tag = url == "/" ? "seed" : url.Contains("vision") ? "deepstack" : "api";
            Add($"multipart-missing-image-part ({tag})", url, () => Raw([.. Part("form-data; name=\"conf\"", "0.5"u8.ToArray(), null), .. Close()], ct));
            var filePart = Part("form-data; name=\"file\"; filename=\"b.jpg\"", jpeg);
            // On /api/v1/detect repeated image parts are a batch (one result each); the single-image routes refuse them.
            cases.Add(new HttpCase($"multipart-duplicate-image-parts ({tag})",
                () => Post(url, Raw([.. imagePart, .. imagePart, .. filePart, .. filePart, .. Close()], ct)), May200: tag == "api"));
            Add($"multipart-oversized-part ({tag})", url, () => Raw([.. Part("form-data; name=\"image\"; filename=\"big.jpg\"", new byte[UploadLimit + 200_000]), .. Close()], ct));
            Add($"multipart-part-without-filename ({tag})", url, () => Raw([.. Part("form-data; name=\"image\"", jpeg), .. Part("form-data; name=\"file\"", jpeg), .. Close()], ct));
            Add($"multipart-boundary-never-closes ({tag})", url, () => Raw(imagePart[..^2], ct));
            Add($"multipart-garbage ({tag})", url, () => Raw(RandomBytes(3000, 42), ct));
        }
        // Batches past the image count, and past the form reader's own part limit.
        Add("multipart-17-image-parts", "/api/v1/detect", () => Raw([.. Enumerable.Repeat(imagePart, 17).SelectMany(p => p), .. Close()], ct));
        Add("multipart-300-tiny-image-parts", "/api/v1/detect",
            () => Raw([.. Enumerable.Repeat(Part("form-data; name=\"images\"; filename=\"x.jpg\"", [0xFF, 0xD8]), 300).SelectMany(p => p), .. Close()], ct));
        Add("multipart-no-boundary-parameter", "/api/v1/detect", () => Raw([.. imagePart, .. Close()], "multipart/form-data"));
        Add("multipart-empty-boundary-parameter", "/api/v1/detect", () => Raw([.. imagePart, .. Close()], "multipart/form-data; boundary="));
        Add("multipart-empty-body", "/api/v1/detect", () => Raw([], ct));
        Add("multipart-only-closing-boundary", "/api/v1/detect", () => Raw(Close(), ct));
        Add("multipart-boundary-mismatch", "/api/v1/detect", () => Raw([.. imagePart, .. Close()], "multipart/form-data; boundary=other"));
        Add("multipart-boundary-over-70-chars", "/api/v1/detect", () => Raw([.. imagePart, .. Close()], "multipart/form-data; boundary=" + new string('x', 200)));
        Add("multipart-20kb-part-header", "/api/v1/detect", () => Raw([.. Encoding.ASCII.GetBytes($"--{b}\r\nX-Padding: {new string('a', 20_000)}\r\n"), .. imagePart[(b.Length + 4)..], .. Close()], ct));
        Add("multipart-100-text-fields", "/api/v1/detect", () => Raw([.. Enumerable.Range(0, 100).SelectMany(i => Part($"form-data; name=\"f{i}\"", "x"u8.ToArray(), null)), .. imagePart, .. Close()], ct));
        Add("multipart-empty-file-part", "/api/v1/detect", () => Raw([.. Part("form-data; name=\"image\"; filename=\"empty.jpg\"", []), .. Close()], ct));
        Add("multipart-image-under-another-name", "/api/v1/detect", () => Raw([.. Part("form-data; name=\"photo\"; filename=\"photo.jpg\"", jpeg), .. Close()], ct));
        Add("multipart-no-content-disposition", "/api/v1/detect", () => Raw([.. Encoding.ASCII.GetBytes($"--{b}\r\nContent-Type: image/jpeg\r\n\r\n"), .. jpeg, .. "\r\n"u8, .. Close()], ct));
        Add("multipart-pdf-as-image", "/api/v1/detect", () => LookoutTestServer.Form("image", HostileCorpus.NonImages().First().Bytes, "photo.jpg"));
        Add("multipart-bad-conf-parameter", "/api/v1/detect", () => LookoutTestServer.Form("image", jpeg, fields: [("conf", "NaN")]));
        Add("multipart-unknown-model", "/api/v1/detect?model=../../etc/passwd", () => LookoutTestServer.Form("image", jpeg));
        Add("wrong-content-type-text-plain", "/api/v1/detect", () => Raw(jpeg, "text/plain"));
        Add("wrong-content-type-json", "/api/v1/detect", () => Raw(jpeg, "application/json"));
        Add("wrong-content-type-multipart-mixed", "/api/v1/detect", () => Raw([.. imagePart, .. Close()], $"multipart/mixed; boundary={b}"));
        Add("wrong-content-type-urlencoded", "/api/v1/detect", () => Raw("image=%FF%D8%FF%E0&conf=0.5"u8.ToArray(), "application/x-www-form-urlencoded"));
        Add("wrong-content-type-urlencoded-garbage", "/api/v1/detect", () => Raw(RandomBytes(2000, 9), "application/x-www-form-urlencoded"));
        // The raw-body route only looks at the media type's prefix: junk parameters after image/jpeg are ignored (200).
        cases.Add(new HttpCase("content-type-with-junk-parameters", () => Post("/api/v1/detect", Raw(jpeg, "image/jpeg; ;; ==")), May200: true));
        Add("raw-image-type-but-pdf", "/api/v1/detect", () => Raw(HostileCorpus.NonImages().First().Bytes, "image/jpeg"));
        Add("raw-empty-body", "/api/v1/detect", () => Raw([], "image/jpeg"));
        Add("raw-body-on-deepstack", "/v1/vision/detection", () => Raw(jpeg, "image/jpeg"));
        Add("raw-body-on-seed", "/", () => Raw(jpeg, "image/jpeg"));
        cases.Add(new HttpCase("no-body-no-content-type", () => new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect")));
        cases.Add(new HttpCase("chunked-oversized-raw-body", () =>
        {
            var content = new StreamContent(new MemoryStream(new byte[UploadLimit + 200_000]));
            content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            var request = Post("/api/v1/detect", content);
            request.Headers.TransferEncodingChunked = true;
            return request;
        }, MayDrop: true));
        return cases;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>
/// Tests that measure the whole test process (RSS) or need the cores to themselves: xUnit runs this collection
/// after the parallel ones, alone, so another class's server cannot show up in the numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolatedCollection
{
    public const string Name = "isolated (process-wide measurements)";
}
