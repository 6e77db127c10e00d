using System.Net.Http.Headers;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Microsoft.Playwright;
using SkiaSharp;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

/// <summary>
/// One answer per photo (issue 12): the page uploads the original file whenever the server takes it, so what it
/// shows for a photo is what POST /api/v1/detect answers for the same bytes, however large the photo is; it
/// falls back to its own shrunk upright JPEG only beyond the server's limits.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OriginalUploadTests(BrowserFixture browser, ServerFixture server)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private sealed record Sent(string Kind, string? Reason, long Bytes);
    private sealed record GalleryItem(string Name, string State, string? Error, string? Sent, List<PageDriver.Detection>? Detections);

    // street.jpg (2380×1580) enlarged 1.5×: well above max_side (1280) and every JPEG decode-scale threshold.
    private static readonly Lazy<(byte[] Upright, byte[] Sideways)> LargeStreet = new(() =>
    {
        using var street = ImageFactory.DecodeRgba(TestAssets.Bytes("street.jpg"));
        using var large = street.Resize(new SKImageInfo(street.Width * 3 / 2, street.Height * 3 / 2, SKColorType.Rgba8888, SKAlphaType.Premul),
            new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)) ?? throw new InvalidOperationException("Could not enlarge street.jpg.");
        return (ImageFactory.Encode(large, SKEncodedImageFormat.Jpeg, 90), ImageFactory.JpegWithOrientation(large, 6));
    });

    private static async Task<string> WriteScratchAsync(string name, byte[] bytes)
    {
        var path = Path.Combine(TestPaths.ScratchDir, name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    /// <summary>POST /api/v1/detect with the file's bytes and the parameters the page sends.</summary>
    private static async Task<(int Width, int Height, List<PageDriver.Detection> Detections)> ApiDetectAsync(Uri baseUrl, byte[] bytes)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(part, "image", "photo.jpg");
        using var response = await http.PostAsync("/api/v1/detect?conf=0.05&iou=0.45&max_det=300&annotate=false", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"/api/v1/detect answered {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var image = doc.RootElement.GetProperty("image");
        var detections = JsonSerializer.Deserialize<List<PageDriver.Detection>>(doc.RootElement.GetProperty("detections").GetRawText(), Json)!;
        // The page lists by score, highest first (a stable sort, as LINQ's is).
        return (image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32(),
            detections.OrderByDescending(d => d.Score).ToList());
    }

    private static void AssertSameDetections(IReadOnlyList<PageDriver.Detection> expected, IReadOnlyList<PageDriver.Detection> actual, string what)
    {
        Assert.True(expected.Count > 0, $"{what}: the API found nothing, so the comparison would prove nothing");
        Assert.True(expected.Count == actual.Count,
            $"{what}: the API found {expected.Count} objects, the page {actual.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.True(e.Label == a.Label, $"{what}: detection {i} is {e.Label} from the API but {a.Label} in the page");
            Assert.True(Math.Abs(e.Score - a.Score) <= 1e-4, $"{what}: {e.Label} #{i} scores {e.Score} (API) and {a.Score} (page)");
            var worst = new[] { e.Box.X1 - a.Box.X1, e.Box.Y1 - a.Box.Y1, e.Box.X2 - a.Box.X2, e.Box.Y2 - a.Box.Y2 }.Max(Math.Abs);
            Assert.True(worst <= 0.5, $"{what}: {e.Label} #{i} box {e.Box} (API) and {a.Box} (page) differ by {worst:0.###} px");
        }
    }

    private static async Task<Sent> SentAsync(IPage page) =>
        JsonSerializer.Deserialize<Sent>(await page.EvaluateAsync<string>("() => JSON.stringify(window.lookout.sent)"), Json)!;

    private static async Task<int[]> ShownSizeAsync(IPage page) =>
        await page.EvaluateAsync<int[]>("() => { const i = document.getElementById('result-image'); return [i.naturalWidth, i.naturalHeight]; }");

    /// <summary>The box drawn on the overlay in its tab10 colour, at the displayed scale (overlay smaller than the photo).</summary>
    private static async Task AssertDrawnInPlaceAsync(IPage page, PageDriver.Detection d, string what)
    {
        var px = await OverlayColourOnLeftEdgeAsync(page, d);
        Assert.True(px[3] > 200 && Near(Tab10(d.ClassId), px[0], px[1], px[2], 40),
            $"{what}: overlay at the left edge of the {d.Label} box {d.Box} is rgba({string.Join(',', px)}), expected tab10[{d.ClassId % 10}]");
    }

    /// <summary>
    /// The largest box whose left edge no other box or tag covers (in a street scene boxes overlap), so the colour
    /// found there can only be its own outline.
    /// </summary>
    private static async Task<PageDriver.Detection> LargestUncoveredAsync(IPage page, IReadOnlyList<PageDriver.Detection> visible)
    {
        // Overlay pixels per image pixel; a tag is about 19 overlay pixels high and at most ~140 wide.
        var scale = await page.EvaluateAsync<double>("() => document.getElementById('overlay').width / window.lookout.lastResult.image.width");
        double tagH = 24 / scale, tagW = 140 / scale, margin = 6 / scale;
        bool Covers(PageDriver.Detection o, double x, double y) =>
            x >= o.Box.X1 - margin && x <= Math.Max(o.Box.X2, o.Box.X1 + tagW) + margin &&
            y >= o.Box.Y1 - tagH - margin && y <= o.Box.Y2 + margin;
        var free = visible.OrderByDescending(d => (d.Box.X2 - d.Box.X1) * (d.Box.Y2 - d.Box.Y1))
            .FirstOrDefault(d => !visible.Any(o => !ReferenceEquals(o, d) && Covers(o, d.Box.X1, (d.Box.Y1 + d.Box.Y2) / 2)));
        Assert.True(free is not null, $"every one of the {visible.Count} boxes has its left edge under another box");
        return free;
    }

    [Fact]
    public async Task A_large_photo_gets_exactly_the_detections_the_api_gives_for_the_same_file()
    {
        var bytes = LargeStreet.Value.Upright;
        var path = await WriteScratchAsync("street-3570.jpg", bytes);
        var api = await ApiDetectAsync(server.BaseUrl, bytes);
        Assert.Equal((3570, 2370), (api.Width, api.Height));

        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", path);
        await WaitForResultAsync(page, 60_000);
        await ScreenshotAsync(page, "photo-large-original");

        var sent = await SentAsync(page);
        Assert.Equal(("original", (long)bytes.Length), (sent.Kind, sent.Bytes));
        Assert.Equal((3570, 2370), await ResultImageSizeAsync(page));
        AssertSameDetections(api.Detections, await AllDetectionsAsync(page), "street enlarged to 3570 px");

        // Shown on the page's own shrunk canvas, with the boxes scaled down to it.
        var shown = await ShownSizeAsync(page);
        Assert.True(Math.Max(shown[0], shown[1]) <= 1280, $"the page shows a {shown[0]}×{shown[1]} picture; max_side is 1280");
        var visible = await VisibleDetectionsAsync(page);
        Assert.NotEmpty(visible);
        await AssertDrawnInPlaceAsync(page, await LargestUncoveredAsync(page, visible), "street enlarged to 3570 px");
    }

    [Fact]
    public async Task A_large_sideways_photo_is_sent_as_is_shown_upright_and_answered_like_the_api()
    {
        var (upright, sideways) = LargeStreet.Value;
        var sidewaysPath = await WriteScratchAsync("street-3570-exif6.jpg", sideways);
        using (var stored = SKBitmap.Decode(sideways))
            Assert.True(stored.Height > stored.Width, "the generated file should store its pixels sideways (portrait)");
        var api = await ApiDetectAsync(server.BaseUrl, sideways);
        var reference = await ApiDetectAsync(server.BaseUrl, upright);

        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", sidewaysPath);
        await WaitForResultAsync(page, 60_000);
        await ScreenshotAsync(page, "photo-large-exif6-upright");

        Assert.Equal("original", (await SentAsync(page)).Kind);
        // The server turned it upright: the answer is in the upright photo's pixels, as for the API.
        Assert.Equal((3570, 2370), await ResultImageSizeAsync(page));
        AssertSameDetections(api.Detections, await AllDetectionsAsync(page), "sideways street (EXIF 6)");
        var shown = await ShownSizeAsync(page);
        Assert.True(shown[0] > shown[1], $"the page shows a {shown[0]}×{shown[1]} picture; upright is landscape");

        // Its largest (uncovered) object is where the upright photo has it, and drawn there.
        var big = await LargestUncoveredAsync(page, await VisibleDetectionsAsync(page));
        var match = reference.Detections.Where(d => d.Label == big.Label).MinBy(d =>
            Math.Abs(d.Box.X1 - big.Box.X1) + Math.Abs(d.Box.Y1 - big.Box.Y1) + Math.Abs(d.Box.X2 - big.Box.X2) + Math.Abs(d.Box.Y2 - big.Box.Y2));
        Assert.NotNull(match);
        const double tolerance = 0.02; // of the image size: the sideways file is a re-encoding of the upright one
        foreach (var (a, b, size) in new[] { (big.Box.X1, match.Box.X1, 3570.0), (big.Box.X2, match.Box.X2, 3570.0),
                                             (big.Box.Y1, match.Box.Y1, 2370.0), (big.Box.Y2, match.Box.Y2, 2370.0) })
            Assert.True(Math.Abs(a - b) / size <= tolerance, $"the {big.Label} box {big.Box} is not where the upright photo has it ({match.Box})");
        await AssertDrawnInPlaceAsync(page, big, "sideways street (EXIF 6)");
    }

    [Fact]
    public async Task The_gallery_uploads_originals_and_each_photo_gets_the_apis_answer()
    {
        var large = LargeStreet.Value.Upright;
        var dog = TestAssets.Bytes("dog.jpg");
        var apiLarge = await ApiDetectAsync(server.BaseUrl, large);
        var apiDog = await ApiDetectAsync(server.BaseUrl, dog);

        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", [await WriteScratchAsync("street-3570.jpg", large), TestPaths.Asset("dog.jpg")]);
        await page.WaitForFunctionAsync("() => window.lookout.gallery.done", null, new PageWaitForFunctionOptions { Timeout = 90_000, PollingInterval = 100 });
        await ScreenshotAsync(page, "gallery-large-original");

        var items = JsonSerializer.Deserialize<List<GalleryItem>>(await page.EvaluateAsync<string>("() => JSON.stringify(window.lookout.gallery.items)"), Json)!;
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.True(i.Error is null && i.Sent == "original", $"{i.Name}: {i.Error ?? "sent " + i.Sent}"));
        AssertSameDetections(apiLarge.Detections, items[0].Detections!, "gallery: street enlarged to 3570 px");
        AssertSameDetections(apiDog.Detections, items[1].Detections!, "gallery: dog.jpg");

        // Opened in the main view, the large photo's boxes are drawn at the shrunk canvas's scale.
        await page.Locator("#gallery-list li[data-index='0'] button").ClickAsync();
        await WaitForResultAsync(page);
        Assert.Equal((3570, 2370), await ResultImageSizeAsync(page));
        await AssertDrawnInPlaceAsync(page, await LargestUncoveredAsync(page, await VisibleDetectionsAsync(page)), "gallery: street enlarged to 3570 px");
    }

    [Fact]
    public async Task A_photo_over_the_upload_limit_is_sent_as_the_pages_own_shrunk_jpeg()
    {
        var bytes = LargeStreet.Value.Upright;
        // A limit the original exceeds but the page's 1280-px JPEG of it fits.
        await using var own = await LookoutServer.StartAsync(LookoutServer.TinyUploadLimit(bytes.Length / 2));
        var page = await browser.NewPageAsync(own.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", await WriteScratchAsync("street-3570.jpg", bytes));
        await WaitForResultAsync(page, 60_000);

        Assert.False(await page.IsVisibleAsync("#error"), await page.TextContentAsync("#error") ?? "");
        var sent = await SentAsync(page);
        Assert.Equal(("upright-jpeg", "bytes"), (sent.Kind, sent.Reason));
        Assert.True(sent.Bytes < bytes.Length / 2, $"the page sent {sent.Bytes} bytes; the limit is {bytes.Length / 2}");
        var (w, h) = await ResultImageSizeAsync(page);
        Assert.Equal(1280, Math.Max(w, h));
        var visible = await VisibleDetectionsAsync(page);
        Assert.NotEmpty(visible);
        await AssertDrawnInPlaceAsync(page, await LargestUncoveredAsync(page, visible), "shrunk street");
    }
}
