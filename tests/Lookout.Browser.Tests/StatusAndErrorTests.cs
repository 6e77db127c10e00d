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
}
