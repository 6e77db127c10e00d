using System.Text.Json;
using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

/// <summary>Several photos at once: the gallery of tiles, opening one, filters across tiles, the JSON of all.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GalleryTests(BrowserFixture browser, ServerFixture server)
{
    private static readonly string[] Photos = ["dog.jpg", "street.jpg", "wedding.jpg", "crosswalk.jpg", "NGC1499.jpg"];

    // Builds Files from the given bytes inside the page and hands them over as one drop.
    private const string MakeDataTransfer =
        """
        async (files) => {
          const dt = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, { type: f.type }));
          }
          return dt;
        }
        """;

    private sealed record Tile(string Name, string State, int? Count, string? Error, List<PageDriver.Detection>? Detections);

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static async Task DropAsync(IPage page, IEnumerable<(string Name, byte[] Bytes, string Type)> files)
    {
        var payload = files.Select(f => new { name = f.Name, b64 = Convert.ToBase64String(f.Bytes), type = f.Type }).ToArray();
        var dataTransfer = await page.EvaluateHandleAsync(MakeDataTransfer, payload);
        await page.DispatchEventAsync("#dropzone", "dragenter", new { dataTransfer });
        await page.DispatchEventAsync("#dropzone", "dragover", new { dataTransfer });
        await page.DispatchEventAsync("#dropzone", "drop", new { dataTransfer });
    }

    private static async Task WaitForGalleryAsync(IPage page) =>
        await page.WaitForFunctionAsync("() => window.lookout.gallery.done", null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });

    private static async Task<List<Tile>> TilesAsync(IPage page) =>
        JsonSerializer.Deserialize<List<Tile>>(await page.EvaluateAsync<string>("() => JSON.stringify(window.lookout.gallery.items)"), Json)!;

    /// <summary>What the tiles show on screen: each tile's data-count (null for a failed one).</summary>
    private static async Task<int?[]> ShownCountsAsync(IPage page) =>
        (await page.Locator("#gallery-list li").EvaluateAllAsync<string?[]>("els => els.map(e => e.dataset.count ?? null)"))
        .Select(c => c is null ? (int?)null : int.Parse(c)).ToArray();

    private static int CountAbove(Tile tile, double conf, params string[] excluded) =>
        tile.Detections!.Count(d => d.Score >= conf - 1e-9 && !excluded.Contains(d.Label));

    [Fact]
    public async Task Five_photos_dropped_at_once_make_five_tiles_with_their_counts_open_filter_and_download_together()
    {
        // The count each photo gets through the page's one-photo path: what its tile must show.
        var single = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(single);
        var expected = new List<int>();
        foreach (var photo in Photos)
        {
            await single.EvaluateAsync("() => { window.previousResult = window.lookout.lastResult; }");
            await single.SetInputFilesAsync("#file-input", TestPaths.Asset(photo));
            await single.WaitForFunctionAsync("() => window.lookout.lastResult !== null && window.lookout.lastResult !== window.previousResult");
            await WaitForResultAsync(single);
            expected.Add((await VisibleDetectionsAsync(single)).Count);
        }
        await single.Context.CloseAsync();

        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        var requests = new DetectRequestCounter(page);
        await DropAsync(page, Photos.Select(p => (p, File.ReadAllBytes(TestPaths.Asset(p)), "image/jpeg")));
        await WaitForGalleryAsync(page);
        await ScreenshotAsync(page, "gallery-five");

        Assert.Equal("5 of 5", await page.Locator("#gallery-progress").TextContentAsync());
        Assert.Equal(5, await page.Locator("#gallery-list li").CountAsync());
        // A few at a time: fewer requests than photos, more than one.
        Assert.InRange(requests.Count, 2, 4);
        var tiles = await TilesAsync(page);
        Assert.Equal(Photos, tiles.Select(t => t.Name));
        Assert.All(tiles, t => Assert.Equal("done", t.State));
        Assert.Equal(expected.Select(c => (int?)c), await ShownCountsAsync(page));
        Assert.True(expected.Sum() > 10, $"only {expected.Sum()} objects in the five photos");
        Assert.Contains($"{expected[0]} objects", await page.Locator("#gallery-list li").Nth(0).TextContentAsync());

        // Clicking a tile opens it in the usual view, overlay and list included.
        await page.Locator("#gallery-list li").Nth(1).Locator("button").ClickAsync();
        await page.WaitForFunctionAsync("() => window.lookout.gallery.openIndex === 1");
        await WaitForResultAsync(page);
        var streetVisible = await VisibleDetectionsAsync(page);
        Assert.Equal(expected[1], streetVisible.Count);
        Assert.Equal(expected[1].ToString(), await page.Locator("#overlay").GetAttributeAsync("data-drawn"));
        Assert.Equal(expected[1], await page.Locator("#objects-list li").CountAsync());
        Assert.Equal("true", await page.Locator("#gallery-list li").Nth(1).Locator("button").GetAttributeAsync("aria-current"));
        await ScreenshotAsync(page, "gallery-open-street");

        // The filters act on every tile: a higher confidence and one class switched off.
        await page.Locator("#conf-slider").FillAsync("0.5");
        await page.Locator("#class-filter input[value='person']").UncheckAsync();
        await WaitForResultAsync(page);
        var counts = await ShownCountsAsync(page);
        var wanted = tiles.Select(t => (int?)CountAbove(t, 0.5, "person")).ToArray();
        Assert.Equal(wanted, counts);
        Assert.True(counts.Zip(expected).Count(p => p.First < p.Second) >= 3, $"the filter changed too few tiles: {string.Join(",", counts)} from {string.Join(",", expected)}");
        Assert.DoesNotContain(await VisibleDetectionsAsync(page), d => d.Label == "person" || d.Score < 0.5);
        await ScreenshotAsync(page, "gallery-filtered");

        // "Download JSON" holds every photo's result, in order.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-json"));
        var path = Path.Combine(TestPaths.ScratchDir, "gallery.json");
        await download.SaveAsAsync(path);
        var results = JsonDocument.Parse(await File.ReadAllTextAsync(path)).RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(5, results.Length);
        Assert.Equal(Photos, results.Select(r => r.GetProperty("file").GetString()));
        for (int i = 0; i < 5; i++)
            Assert.Equal(tiles[i].Detections!.Count, results[i].GetProperty("detections").GetArrayLength());
    }

    [Fact]
    public async Task A_failed_photo_shows_its_error_in_its_tile_and_keyboard_and_phone_width_work()
    {
        var page = await browser.NewPageAsync(server.BaseUrl, width: 360, height: 740);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", new FilePayload[]
        {
            new() { Name = "dog.jpg", MimeType = "image/jpeg", Buffer = File.ReadAllBytes(TestPaths.Asset("dog.jpg")) },
            new() { Name = "notes.txt", MimeType = "text/plain", Buffer = "not a photo at all"u8.ToArray() },
            new() { Name = "wedding.jpg", MimeType = "image/jpeg", Buffer = File.ReadAllBytes(TestPaths.Asset("wedding.jpg")) },
        });
        await WaitForGalleryAsync(page);
        await ScreenshotAsync(page, "gallery-phone-with-error");

        var tiles = await TilesAsync(page);
        Assert.Equal(["done", "error", "done"], tiles.Select(t => t.State));
        var failed = page.Locator("#gallery-list li").Nth(1);
        Assert.Contains("could not be opened as an image", await failed.TextContentAsync());
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow}px wider than a 360px screen");

        // The first good photo opens by itself; the arrow keys and Enter open another.
        await page.WaitForFunctionAsync("() => window.lookout.gallery.openIndex === 0");
        await page.Locator("#gallery-list li").Nth(0).Locator("button").FocusAsync();
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => window.lookout.gallery.openIndex === 2");
        await WaitForResultAsync(page);
        Assert.Contains(await VisibleDetectionsAsync(page), d => d.Label == "person");

        // A single photo afterwards replaces the gallery.
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await page.WaitForFunctionAsync("() => document.getElementById('gallery').hidden");
        await WaitForResultAsync(page);
        Assert.Contains(await VisibleDetectionsAsync(page), d => d.Label == "dog");
    }
}
