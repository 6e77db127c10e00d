using System.Globalization;
using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class LiveTests(BrowserFixture browser, ServerFixture server)
{
    [Fact]
    public async Task Live_camera_overlays_boxes_and_shows_a_frame_rate()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);

        await page.ClickAsync("#tab-live");
        await page.ClickAsync("#live-start");
        await page.WaitForFunctionAsync(
            "() => window.lookout.live.frames >= 4 && window.lookout.live.visibleDetections().length > 0",
            null, new PageWaitForFunctionOptions { Timeout = 45_000, PollingInterval = 200 });
        await ScreenshotAsync(page, "live-camera");

        var labels = await page.EvaluateAsync<string[]>("() => window.lookout.live.visibleDetections().map(d => d.label)");
        Assert.Contains("dog", labels);
        var drawn = int.Parse(await page.GetAttributeAsync("#live-overlay", "data-drawn") ?? "0", CultureInfo.InvariantCulture);
        Assert.True(drawn > 0, "no boxes drawn on #live-overlay");

        var fps = double.Parse(await page.TextContentAsync("#live-fps") ?? "0", CultureInfo.InvariantCulture);
        Assert.True(fps > 0, $"#live-fps shows {fps}");
        Assert.Matches(@"\d+ ms", await page.TextContentAsync("#live-latency") ?? "");

        // Frames go at most one at a time, scaled to a longest side of 640.
        var (w, h) = (await page.EvaluateAsync<int>("() => window.lookout.live.lastResult.image.width"),
                      await page.EvaluateAsync<int>("() => window.lookout.live.lastResult.image.height"));
        Assert.Equal(640, Math.Max(w, h));

        await page.ClickAsync("#live-stop");
        await Assertions.Expect(page.Locator("#live-start")).ToBeEnabledAsync();
        Assert.False(await page.EvaluateAsync<bool>("() => window.lookout.live.running"));
    }
}
