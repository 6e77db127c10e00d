using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class StatusAndErrorTests(BrowserFixture browser, ServerFixture server)
{
    [Fact]
    public async Task Status_light_reads_online_and_turns_offline_within_seconds_after_the_server_stops()
    {
        // Its own server, because this test stops it.
        await using var own = await LookoutServer.StartAsync();
        var page = await browser.NewPageAsync(own.BaseUrl);
        await OpenAsync(page);

        var light = page.Locator("#status-light");
        await Assertions.Expect(light).ToHaveTextAsync("online", new() { Timeout = 5_000 });
        await ScreenshotAsync(page, "status-online", fullPage: false);

        await own.StopAsync();
        var stopped = DateTime.UtcNow;
        await Assertions.Expect(light).ToHaveTextAsync("offline", new() { Timeout = 6_000 });
        var seconds = (DateTime.UtcNow - stopped).TotalSeconds;
        await ScreenshotAsync(page, "status-offline", fullPage: false);
        Assert.True(seconds < 6, $"offline shown after {seconds:F1} s");
    }

    [Fact]
    public async Task A_text_file_renamed_jpg_shows_a_readable_error_in_the_page()
    {
        var fake = Path.Combine(TestPaths.ScratchDir, "notes.jpg");
        await File.WriteAllTextAsync(fake, "These are my notes, not a photo.\n");
        var page = await browser.NewPageAsync(server.BaseUrl);
        var dialogs = 0;
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };
        await OpenAsync(page);

        await page.SetInputFilesAsync("#file-input", fake);
        var error = page.Locator("#error");
        await Assertions.Expect(error).ToBeVisibleAsync();
        await Assertions.Expect(error).ToHaveAttributeAsync("role", "alert");
        await Assertions.Expect(error).ToHaveTextAsync(new Regex("not.*image|could not be opened as an image", RegexOptions.IgnoreCase));
        await Assertions.Expect(page.Locator("#processing")).ToBeHiddenAsync();
        await ScreenshotAsync(page, "error-not-an-image");
        Assert.Equal(0, dialogs);
        Assert.Null(await page.EvaluateAsync<object?>("() => window.lookout.lastResult"));
    }

    [Fact]
    public async Task An_image_over_the_servers_upload_limit_shows_a_readable_too_large_error()
    {
        // A server whose upload limit is smaller than the page's shrunk JPEG of dog.jpg (~100 KB), so the
        // request really reaches the server and comes back 413.
        await using var own = await LookoutServer.StartAsync(LookoutServer.TinyUploadLimit(20_000));
        var page = await browser.NewPageAsync(own.BaseUrl);
        var dialogs = 0;
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };
        await OpenAsync(page);

        var response = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/detect", StringComparison.Ordinal));
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        Assert.Equal(413, (await response).Status);

        var error = page.Locator("#error");
        await Assertions.Expect(error).ToBeVisibleAsync();
        await Assertions.Expect(error).ToHaveTextAsync(new Regex("too large", RegexOptions.IgnoreCase));
        await Assertions.Expect(page.Locator("#processing")).ToBeHiddenAsync();
        await ScreenshotAsync(page, "error-too-large");
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task A_busy_server_shows_a_readable_try_again_message()
    {
        // The server's 503 itself is tested in Lookout.Server.Tests; here the page's handling of it, with the body
        // and Retry-After the server sends, delivered through Playwright's network interception.
        var page = await browser.NewPageAsync(server.BaseUrl);
        await page.RouteAsync("**/api/v1/detect**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 503,
            ContentType = "application/problem+json",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "3" },
            Body = "{\"type\":\"https://httpstatuses.io/503\",\"title\":\"Server busy\",\"status\":503,\"detail\":\"Every inference slot and queue place is taken; try again in a moment.\"}",
        }));
        await OpenAsync(page);

        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));

        var error = page.Locator("#error");
        await Assertions.Expect(error).ToBeVisibleAsync();
        await Assertions.Expect(error).ToHaveTextAsync(new Regex("busy", RegexOptions.IgnoreCase));
        await Assertions.Expect(page.Locator("#processing")).ToBeHiddenAsync();
        await ScreenshotAsync(page, "error-busy");
    }

    [Fact]
    public async Task A_server_that_does_not_answer_in_time_shows_a_timed_out_message()
    {
        // A server with a 1 s deadline tells the page (via /api/v1/config) to give up after 3 s; the detect request
        // is held back by interception so nothing answers in time.
        await using var own = await LookoutServer.StartAsync(new Dictionary<string, string> { ["Lookout:Limits:RequestTimeoutSeconds"] = "1" });
        var page = await browser.NewPageAsync(own.BaseUrl);
        var release = new TaskCompletionSource();
        await page.RouteAsync("**/api/v1/detect**", async route =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
            try { await route.AbortAsync(); } catch (PlaywrightException) { /* the page already gave up */ }
        });
        await OpenAsync(page);
        var started = DateTime.UtcNow;

        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));

        var error = page.Locator("#error");
        await Assertions.Expect(error).ToHaveTextAsync(new Regex("did not answer|took too long|timed? ?out", RegexOptions.IgnoreCase),
            new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });
        var waited = (DateTime.UtcNow - started).TotalSeconds;
        release.TrySetResult();
        await ScreenshotAsync(page, "error-timeout");
        Assert.InRange(waited, 2.5, 12);
    }
}
