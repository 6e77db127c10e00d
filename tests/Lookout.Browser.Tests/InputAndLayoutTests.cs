using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class InputAndLayoutTests(BrowserFixture browser, ServerFixture server)
{
    // Builds a File from dog.jpg's bytes inside the page and hands it over as a drop or a paste.
    private const string MakeDataTransfer =
        """
        async (b64) => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], 'dropped-dog.jpg', { type: 'image/jpeg' }));
          return dt;
        }
        """;

    [Fact]
    public async Task Dropping_a_photo_on_the_page_runs_a_detection()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        var b64 = Convert.ToBase64String(await File.ReadAllBytesAsync(TestPaths.Asset("dog.jpg")));
        var dataTransfer = await page.EvaluateHandleAsync(MakeDataTransfer, b64);
        await page.DispatchEventAsync("#dropzone", "dragenter", new { dataTransfer });
        await page.DispatchEventAsync("#dropzone", "dragover", new { dataTransfer });
        await page.DispatchEventAsync("#dropzone", "drop", new { dataTransfer });
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "input-drop");
        Assert.Contains(await VisibleDetectionsAsync(page), d => d.Label == "dog");
    }

    [Fact]
    public async Task Pasting_a_photo_from_the_clipboard_runs_a_detection()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        var b64 = Convert.ToBase64String(await File.ReadAllBytesAsync(TestPaths.Asset("dog.jpg")));
        var dataTransfer = await page.EvaluateHandleAsync(MakeDataTransfer, b64);
        await page.EvaluateAsync(
            "(dt) => document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))",
            dataTransfer);
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "input-paste");
        Assert.Contains(await VisibleDetectionsAsync(page), d => d.Label == "dog");
    }

    [Fact]
    public async Task On_a_phone_sized_screen_the_result_fits_without_sideways_scrolling()
    {
        var page = await browser.NewPageAsync(server.BaseUrl, width: 360, height: 740);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "phone-360-result");

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow}px wider than a 360px screen");
        var box = await page.Locator("#overlay").BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.Width <= 360 && box.Width > 200, $"overlay is {box.Width}px wide");
        foreach (var id in new[] { "#upload-label", "#reset", "#download-jpeg", "#download-json", "#conf-slider" })
            Assert.True(await page.Locator(id).IsVisibleAsync(), $"{id} is not visible on a phone");
    }
}
