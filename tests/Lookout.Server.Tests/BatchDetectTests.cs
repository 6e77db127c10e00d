using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Lookout.Server.Services;

namespace Lookout.Server.Tests;

/// <summary>Several images in one POST /api/v1/detect, over real HTTP with the real model.</summary>
internal static class Batch
{
    public static MultipartFormDataContent Form(IEnumerable<(string Part, string FileName, byte[] Bytes)> images, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (part, fileName, bytes) in images)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue(fileName.EndsWith(".txt") ? "text/plain" : "image/jpeg");
            form.Add(file, part, fileName);
        }
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    public static MultipartFormDataContent Images(params byte[][] images) => Form(images.Select((b, i) => ("images", $"photo{i}.jpg", b)));

    /// <summary>A result object without its timings, which differ from run to run.</summary>
    public static string WithoutTimings(JsonElement result) =>
        string.Join("|", result.EnumerateObject().Where(p => p.Name != "timings").Select(p => p.Name + "=" + p.Value.GetRawText()));

    public static byte[][] Coco128(int count) =>
        Directory.GetFiles(TestAssets.SharedPath("data", "coco128", "images"), "*.jpg").Order().Take(count).Select(File.ReadAllBytes).ToArray();

    public static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
}

[Collection(DefaultServerCollection.Name)]
public sealed class BatchDetectTests(DefaultServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    private async Task<JsonElement> Single(byte[] image, string query = "")
    {
        var response = await Client.PostAsync("/api/v1/detect" + query, LookoutTestServer.Form("image", image));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Batch.Json(response);
    }

    [Fact]
    public async Task Five_photos_a_damaged_one_and_a_text_file_answer_seven_items_in_upload_order()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        var good = new[] { dog, TestAssets.Bytes("street.jpg"), TestAssets.Bytes("wedding.jpg") }.Concat(Batch.Coco128(2)).ToArray();
        var parts = new List<(string, string, byte[])>
        {
            ("image", "dog.jpg", good[0]),
            ("image", "street.jpg", good[1]),
            ("image", "damaged.jpg", dog[..(dog.Length / 2)]),
            ("image", "wedding.jpg", good[2]),
            ("image", "notes.txt", "these are my holiday notes, not a photo"u8.ToArray()),
            ("image", "coco-a.jpg", good[3]),
            ("image", "coco-b.jpg", good[4]),
        };

        var response = await Client.PostAsync("/api/v1/detect?conf=0.3", Batch.Form(parts));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await Batch.Json(response)).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(7, results.Length);
        int[] goodAt = [0, 1, 3, 5, 6];
        for (int i = 0; i < goodAt.Length; i++)
        {
            // Exactly the object a single request answers for the same photo (timings aside), in upload order.
            var alone = await Single(good[i], "?conf=0.3");
            Assert.Equal(Batch.WithoutTimings(alone), Batch.WithoutTimings(results[goodAt[i]]));
            Assert.Equal(alone.GetProperty("timings").EnumerateObject().Select(p => p.Name), results[goodAt[i]].GetProperty("timings").EnumerateObject().Select(p => p.Name));
            Assert.False(results[goodAt[i]].TryGetProperty("error", out _));
        }
        Assert.Contains("\"dog\"", results[0].GetProperty("detections").GetRawText());

        var damaged = results[2];
        Assert.Equal("damaged.jpg", damaged.GetProperty("file").GetString());
        Assert.Equal(400, damaged.GetProperty("error").GetProperty("status").GetInt32());
        Assert.Equal("Unreadable image", damaged.GetProperty("error").GetProperty("title").GetString());
        Assert.Contains("truncated", damaged.GetProperty("error").GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        var text = results[4];
        Assert.Equal("notes.txt", text.GetProperty("file").GetString());
        Assert.Equal(415, text.GetProperty("error").GetProperty("status").GetInt32());
        Assert.Equal("Not an image", text.GetProperty("error").GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(text.GetProperty("error").GetProperty("detail").GetString()));
        Assert.Equal(["file", "error"], damaged.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task One_image_part_answers_todays_object_and_the_images_part_always_answers_a_list()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        var single = await Single(dog);
        Assert.False(single.TryGetProperty("results", out _));
        Assert.Equal("yolox-nano", single.GetProperty("model").GetString());

        var one = await Batch.Json(await Client.PostAsync("/api/v1/detect", Batch.Images(dog)));
        Assert.Equal(Batch.WithoutTimings(single), Batch.WithoutTimings(one.GetProperty("results").EnumerateArray().Single()));

        // 'images' and 'image' parts mix, in upload order; parameters apply to every image.
        var street = TestAssets.Bytes("street.jpg");
        var mixed = Batch.Form([("images", "street.jpg", street), ("image", "dog.jpg", dog)], ("classes", "dog,car"), ("annotate", "true"));
        var results = (await Batch.Json(await Client.PostAsync("/api/v1/detect", mixed))).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        Assert.Equal(Batch.WithoutTimings(await Single(street, "?classes=dog,car&annotate=true")), Batch.WithoutTimings(results[0]));
        foreach (var result in results)
        {
            Assert.All(result.GetProperty("detections").EnumerateArray(), d => Assert.Contains(d.GetProperty("label").GetString(), new[] { "dog", "car" }));
            Assert.StartsWith("data:image/jpeg;base64,", result.GetProperty("annotated_image").GetString());
        }
        Assert.Equal(768, results[1].GetProperty("image").GetProperty("width").GetInt32());
    }

    [Fact]
    public async Task A_batch_cannot_ask_for_one_jpeg_and_a_bad_parameter_fails_the_whole_request()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        using var jpeg = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = Batch.Images(dog, dog) };
        jpeg.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/jpeg"));
        var refused = await Client.SendAsync(jpeg);
        Assert.Equal(HttpStatusCode.NotAcceptable, refused.StatusCode);
        Assert.Contains("annotate=true", (await Batch.Json(refused)).GetProperty("detail").GetString());

        var badConf = await Client.PostAsync("/api/v1/detect?conf=7", Batch.Images(dog, dog));
        Assert.Equal(HttpStatusCode.BadRequest, badConf.StatusCode);
        Assert.Contains("'conf'", (await Batch.Json(badConf)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_openapi_description_explains_batches_and_the_page_learns_the_limit()
    {
        var config = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/config")).RootElement;
        Assert.Equal(16, config.GetProperty("max_images_per_request").GetInt32());
        // The page uploads the original photo only within the decoder's pixel limit.
        Assert.Equal(Lookout.Detection.Imaging.DecodeLimits.DefaultMaxPixels, config.GetProperty("max_pixels").GetInt64());
        var doc = await Client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("'images'", doc);
        Assert.Contains("MaxImagesPerRequest", doc);
        Assert.Contains("upload order", doc);
    }

    [Fact]
    public async Task The_deepstack_route_stays_single_image()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        var response = await Client.PostAsync("/v1/vision/detection", Batch.Form([("image", "a.jpg", dog), ("image", "b.jpg", dog)]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False((await Batch.Json(response)).GetProperty("success").GetBoolean());
    }
}

/// <summary>Batches against the limits and the bounded queue, each on a server with its own settings.</summary>
public sealed class BatchLimitTests
{
    [Fact]
    public async Task Too_many_images_is_400_and_too_many_bytes_in_all_is_413()
    {
        var dog = TestAssets.Bytes("dog.jpg");   // ~160 KB: two fit under 400 KB, three do not
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxImagesPerRequest"] = "4",
            ["Lookout:Limits:MaxUploadBytes"] = "400000",
        });
        using var small = ImageFactory.DecodeRgba(dog);
        var tiny = ImageFactory.Encode(small, SkiaSharp.SKEncodedImageFormat.Jpeg, 30);

        var four = await server.Client.PostAsync("/api/v1/detect", Batch.Images(tiny, tiny, tiny, tiny));
        var five = await server.Client.PostAsync("/api/v1/detect", Batch.Images(tiny, tiny, tiny, tiny, tiny));
        var large = await server.Client.PostAsync("/api/v1/detect", Batch.Images(dog, dog, dog));

        Assert.Equal(HttpStatusCode.OK, four.StatusCode);
        Assert.Equal(4, (await Batch.Json(four)).GetProperty("results").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, five.StatusCode);
        Assert.Equal("application/problem+json", five.Content.Headers.ContentType!.MediaType);
        Assert.Contains("5 images; at most 4", (await Batch.Json(five)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Contains("whole request", (await Batch.Json(large)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await server.Client.PostAsync("/api/v1/detect", Batch.Images(dog, dog))).StatusCode);
    }

    [Fact]
    public async Task Each_image_takes_a_queue_place_like_a_single_request_and_one_deadline_covers_the_batch()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "3",
            ["Lookout:Limits:RequestTimeoutSeconds"] = "3",
        });
        var gate = server.Service<InferenceGate>();
        var dog = TestAssets.Bytes("dog.jpg");
        // Hold the only slot: the batch's images can only queue.
        var (lease, _) = await gate.EnterAsync(CancellationToken.None, CancellationToken.None);
        Task<HttpResponseMessage> batch;
        using (lease)
        {
            batch = server.Client.PostAsync("/api/v1/detect", Batch.Images(dog, dog, dog, dog, dog));
            await WaitFor(() => gate.Waiting == 3, "three of the batch's images queued");
            // The batch took the three places a single request would need: the next one is refused at once.
            var single = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", dog));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, single.StatusCode);
        }

        var results = (await Batch.Json(await batch)).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(5, results.Length);
        Assert.Equal(3, results.Count(r => r.TryGetProperty("detections", out _)));
        var refused = results.Where(r => r.TryGetProperty("error", out _)).ToArray();
        Assert.Equal(2, refused.Length);
        Assert.All(refused, r => Assert.Equal(503, r.GetProperty("error").GetProperty("status").GetInt32()));

        // Stuck behind a held slot past the request's deadline, every image of the batch times out together.
        var (held, _) = await gate.EnterAsync(CancellationToken.None, CancellationToken.None);
        var sw = Stopwatch.StartNew();
        using (held)
        {
            var late = (await Batch.Json(await server.Client.PostAsync("/api/v1/detect", Batch.Images(dog, dog)))).GetProperty("results").EnumerateArray().ToArray();
            Assert.All(late, r => Assert.Equal(504, r.GetProperty("error").GetProperty("status").GetInt32()));
        }
        Assert.InRange(sw.Elapsed.TotalSeconds, 2.5, 15);
        Assert.Equal(0, gate.Waiting);
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task A_batch_and_eight_single_clients_at_once_all_get_their_own_results_within_the_queue_bound()
    {
        const int concurrency = 2, queue = 16;
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = concurrency.ToString(),
            ["Lookout:Limits:QueueLength"] = queue.ToString(),
        });
        var gate = server.Service<InferenceGate>();
        var images = Batch.Coco128(16);
        var batchImages = images[..8];
        var singleImages = images[8..];

        async Task<string> Single(byte[] image)
        {
            var response = await server.Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", image));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Batch.WithoutTimings(await Batch.Json(response));
        }
        var expected = new List<string>();
        foreach (var image in images) expected.Add(await Single(image));

        int maxInFlight = 0, maxWaiting = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxInFlight = Math.Max(maxInFlight, gate.InFlight);
                maxWaiting = Math.Max(maxWaiting, gate.Waiting);
                await Task.Delay(2);
            }
        });
        var batch = server.Client.PostAsync("/api/v1/detect", Batch.Images(batchImages));
        var singles = singleImages.Select(Single).ToArray();
        var batchResponse = await batch;
        var singleResults = await Task.WhenAll(singles);
        sampling.Cancel();
        await sampler;

        Assert.Equal(HttpStatusCode.OK, batchResponse.StatusCode);
        var batchResults = (await Batch.Json(batchResponse)).GetProperty("results").EnumerateArray().Select(Batch.WithoutTimings).ToArray();
        Assert.Equal(expected[..8], batchResults);
        Assert.Equal(expected[8..], singleResults);
        Assert.InRange(maxInFlight, 1, concurrency);
        Assert.InRange(maxWaiting, 0, queue);
        Assert.True(maxWaiting >= 2, $"at most {maxWaiting} waited: the batch and the singles never queued together");
    }

    internal static async Task WaitFor(Func<bool> condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {seconds} s for: {what}.");
            await Task.Delay(10);
        }
    }
}

/// <summary>Reads the process-wide gauges, so it runs alone (no other class's server moves them meanwhile).</summary>
[Collection(IsolatedCollection.Name)]
public sealed class BatchDisconnectTests
{
    [Fact]
    public async Task A_client_leaving_mid_batch_frees_every_place_and_the_gauges_return_to_zero()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "16",
        });
        var gate = server.Service<InferenceGate>();
        var street = TestAssets.Bytes("street.jpg");
        using var leaving = new CancellationTokenSource();
        var batch = server.Client.PostAsync("/api/v1/detect?annotate=true", Batch.Images(Enumerable.Repeat(street, 16).ToArray()), leaving.Token);
        // Mid-batch: at least two images done, one running, the rest queued behind it. (A wide window: on a busy
        // machine this thread may not look for a second or more.)
        await BatchLimitTests.WaitFor(() => gate.InFlight == 1 && gate.Waiting is >= 1 and <= 13, "the batch part done, one image running, the rest queued");
        Assert.True(Gauge(await server.Client.GetStringAsync("/metrics"), "lookout_queue_length") >= 1, "the queue gauge did not show the batch waiting");

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch);

        await BatchLimitTests.WaitFor(() => gate.InFlight == 0 && gate.Waiting == 0, "every place freed after the client left", 10);
        // The cancelled images publish the gauges from their own continuations, a moment after the gate emptied.
        string metrics = "";
        var settle = DateTime.UtcNow.AddSeconds(5);
        do
        {
            metrics = await server.Client.GetStringAsync("/metrics");
            if (Gauge(metrics, "lookout_queue_length") == 0 && Gauge(metrics, "lookout_inferences_in_flight") == 0) break;
            await Task.Delay(20);
        } while (DateTime.UtcNow < settle);
        Assert.Equal(0, Gauge(metrics, "lookout_queue_length"));
        Assert.Equal(0, Gauge(metrics, "lookout_inferences_in_flight"));
        // The places are usable again at once.
        var after = await server.Client.PostAsync("/api/v1/detect", Batch.Images(street, street));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private static double Gauge(string metrics, string name)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(name + " "));
        return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
