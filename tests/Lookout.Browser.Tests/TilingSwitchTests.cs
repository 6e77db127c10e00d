using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

/// <summary>The page's "Small objects (tiles)" switch: it sends tile=auto and re-runs the photo on screen.</summary>
[Collection(BrowserCollection.Name)]
public sealed class TilingSwitchTests(BrowserFixture browser, ServerFixture server)
{
    [Fact]
    public async Task Switching_tiles_on_reruns_the_photo_with_tile_auto_and_finds_more_on_street_jpg()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        var urls = new List<string>();
        page.Request += (_, req) =>
        {
            if (req.Method == "POST" && req.Url.Contains("/api/v1/detect", StringComparison.Ordinal)) lock (urls) urls.Add(req.Url);
        };
        await OpenAsync(page);
        Assert.False(await page.IsCheckedAsync("[data-testid=tile-toggle]"));

        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("street.jpg"));
        await WaitForResultAsync(page);
        var onePass = (await AllDetectionsAsync(page)).Count;
        Assert.Null(await page.EvaluateAsync<int?>("() => window.lookout.lastResult.timings.passes ?? null"));

        await page.CheckAsync("[data-testid=tile-toggle]");
        await page.WaitForFunctionAsync("() => (window.lookout.lastResult?.timings?.passes ?? 0) > 1", null,
            new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        await WaitForResultAsync(page, 60_000);
        await ScreenshotAsync(page, "tiling-street-auto");

        var tiled = (await AllDetectionsAsync(page)).Count;
        lock (urls)
        {
            Assert.Equal(2, urls.Count);
            Assert.DoesNotContain("tile=", urls[0]);
            Assert.Contains("tile=auto", urls[1]);
        }
        Assert.True(tiled > onePass, $"tile=auto found {tiled} objects, one pass {onePass}");
    }
}
