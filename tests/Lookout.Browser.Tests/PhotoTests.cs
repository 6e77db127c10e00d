using Lookout.Detection.Tests.Support;
using System.Text.Json;
using Microsoft.Playwright;
using SkiaSharp;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class PhotoTests(BrowserFixture browser, ServerFixture server)
{
    [Fact]
    public async Task Uploading_dog_jpg_draws_dog_bicycle_and_car_on_the_overlay_and_lists_them()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);

        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "photo-dog-result");

        var visible = await VisibleDetectionsAsync(page);
        var labels = visible.Select(d => d.Label).ToList();
        Assert.Contains("dog", labels);
        Assert.Contains("bicycle", labels);
        Assert.Contains("car", labels);

        // Each box is really drawn on #overlay, in its tab10 colour.
        foreach (var name in new[] { "dog", "bicycle", "car" })
        {
            var d = visible.First(v => v.Label == name);
            var px = await OverlayColourOnLeftEdgeAsync(page, d);
            Assert.True(px[3] > 200 && Near(Tab10(d.ClassId), px[0], px[1], px[2], 40),
                $"overlay at the left edge of the {name} box is rgba({string.Join(',', px)}), expected tab10[{d.ClassId % 10}]");
        }

        // The list shows the same objects, one focusable item each.
        var items = page.Locator("#objects-list li");
        Assert.Equal(visible.Count, await items.CountAsync());
        var listLabels = await items.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.label)");
        Assert.Equal(labels, listLabels);
        Assert.Equal("0", await items.First.GetAttributeAsync("tabindex"));
    }

    [Fact]
    public async Task Focusing_an_object_in_the_list_highlights_its_box()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);

        var dogItem = page.Locator("#objects-list li[data-label='dog']");
        await dogItem.FocusAsync();
        await Assertions.Expect(dogItem).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("active"));
        await ScreenshotAsync(page, "photo-dog-highlight");

        // Outside the highlighted box the photo is dimmed: the overlay is no longer transparent there.
        var alpha = await page.EvaluateAsync<int>(
            "() => { const c = document.getElementById('overlay'); return c.getContext('2d').getImageData(c.width - 3, c.height - 3, 1, 1).data[3]; }");
        Assert.True(alpha > 50, $"expected the area outside the highlighted box to be dimmed, alpha was {alpha}");
    }

    [Fact]
    public async Task Annotated_jpeg_download_is_a_valid_jpeg_with_the_boxes()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "download-jpeg-page");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-jpeg"));
        Assert.EndsWith(".jpg", download.SuggestedFilename);
        var path = Path.Combine(TestPaths.ScratchDir, "downloaded-annotated.jpg");
        await download.SaveAsAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);

        Assert.True(TestMedia.HasJpegMarkers(bytes), "the download does not start with SOI and end with EOI");
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        var (w, h) = await ResultImageSizeAsync(page);
        Assert.Equal((w, h), (bitmap.Width, bitmap.Height));

        // The dog's box outline is in the JPEG, in tab10[16 % 10].
        var dog = (await VisibleDetectionsAsync(page)).First(d => d.Label == "dog");
        // (JPEG blurs colour across a thin line, so take the closest pixel across the outline's width.)
        var midY = (int)Math.Round((dog.Box.Y1 + dog.Box.Y2) / 2);
        var expected = Tab10(dog.ClassId);
        var best = Enumerable.Range((int)Math.Floor(dog.Box.X1) - 1, 6)
            .Select(x => bitmap.GetPixel(x, midY))
            .MinBy(c => Math.Abs(c.Red - expected.R) + Math.Abs(c.Green - expected.G) + Math.Abs(c.Blue - expected.B));
        Assert.True(Near(expected, best.Red, best.Green, best.Blue, 50), $"closest pixel to the dog box outline's colour is {best}");
    }

    [Fact]
    public async Task Json_download_is_the_servers_result()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-json"));
        Assert.EndsWith(".json", download.SuggestedFilename);
        var path = Path.Combine(TestPaths.ScratchDir, "downloaded.json");
        await download.SaveAsAsync(path);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var labels = doc.RootElement.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()).ToList();
        Assert.Contains("dog", labels);
        Assert.True(doc.RootElement.GetProperty("timings").GetProperty("total_ms").GetDouble() > 0);
        await ScreenshotAsync(page, "download-json-page");
    }

    [Fact]
    public async Task Sideways_phone_photo_with_exif_orientation_6_is_shown_upright_with_the_dog_box_in_place()
    {
        var sideways = Path.Combine(TestPaths.ScratchDir, "dog-sideways-exif6.jpg");
        await File.WriteAllBytesAsync(sideways, ImageFactory.JpegWithOrientation(ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg")), 6));
        using (var stored = SKBitmap.Decode(sideways))
            Assert.True(stored.Height > stored.Width, "the generated file should store its pixels sideways (portrait)");

        // Reference: the upright original.
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);
        var (rw, rh) = await ResultImageSizeAsync(page);
        var reference = (await AllDetectionsAsync(page)).First(d => d.Label == "dog").Box;

        await page.ClickAsync("#reset");
        await page.SetInputFilesAsync("#file-input", sideways);
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, "photo-exif6-upright");

        var (w, h) = await ResultImageSizeAsync(page);
        Assert.True(w > h, $"the server got {w}×{h}; an upright dog.jpg is landscape");
        var shown = await page.EvaluateAsync<int[]>("() => { const i = document.getElementById('result-image'); return [i.naturalWidth, i.naturalHeight]; }");
        Assert.True(shown[0] > shown[1], $"the page shows a {shown[0]}×{shown[1]} picture; upright is landscape");

        var dog = (await AllDetectionsAsync(page)).FirstOrDefault(d => d.Label == "dog");
        Assert.NotNull(dog);
        const double tolerance = 0.04; // of the image size
        Assert.InRange(dog.Box.X1 / w - reference.X1 / rw, -tolerance, tolerance);
        Assert.InRange(dog.Box.X2 / w - reference.X2 / rw, -tolerance, tolerance);
        Assert.InRange(dog.Box.Y1 / h - reference.Y1 / rh, -tolerance, tolerance);
        Assert.InRange(dog.Box.Y2 / h - reference.Y2 / rh, -tolerance, tolerance);
    }

    [Theory]
    [InlineData("dog")]
    [InlineData("street")]
    [InlineData("wedding")]
    [InlineData("NGC1499")]
    public async Task Each_example_image_runs_a_detection(string example)
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        var requests = new DetectRequestCounter(page);
        await OpenAsync(page);

        await page.ClickAsync($"[data-example='{example}']");
        await WaitForResultAsync(page);
        await ScreenshotAsync(page, $"example-{example}");

        Assert.Equal(1, requests.Count);
        Assert.False(await page.IsVisibleAsync("#error"), await page.TextContentAsync("#error") ?? "");
        // The page uploads the example's own bytes (the server takes them), so the answer is in its own pixels,
        // street.jpg's 2380×1580 included, while the page shows its shrunk canvas.
        Assert.Equal("original", await page.EvaluateAsync<string>("() => window.lookout.sent.kind"));
        using (var codec = SKCodec.Create(TestPaths.Asset($"{example}.jpg")))
            Assert.Equal((codec.Info.Width, codec.Info.Height), await ResultImageSizeAsync(page));
        var shownWidth = await page.EvaluateAsync<int>("() => document.getElementById('result-image').naturalWidth");
        Assert.True(shownWidth > 0 && shownWidth <= 1280, $"the page shows a picture {shownWidth} px wide; max_side is 1280");
        if (example is "dog" or "street" or "wedding")
            Assert.NotEmpty(await VisibleDetectionsAsync(page));
    }

    [Fact]
    public async Task Confidence_slider_hides_low_score_boxes_without_a_new_request()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        var requests = new DetectRequestCounter(page);
        await OpenAsync(page);
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        await WaitForResultAsync(page);
        Assert.Equal(1, requests.Count);
        Assert.Equal("0.25", await page.InputValueAsync("#conf-slider"));

        var before = await VisibleDetectionsAsync(page);
        Assert.Contains(before, d => d.Score < 0.5); // the truck (0.32) is there at the default 0.25

        await page.FillAsync("#conf-slider", "0.5");
        await WaitForResultAsync(page);
        var after = await VisibleDetectionsAsync(page);
        await ScreenshotAsync(page, "slider-at-50");

        Assert.All(after, d => Assert.True(d.Score >= 0.5, $"{d.Label} {d.Score} still drawn"));
        Assert.True(after.Count < before.Count);
        Assert.Contains(after, d => d.Label == "dog");
        Assert.Equal(after.Count, await page.Locator("#objects-list li").CountAsync());
        Assert.Equal(after.Count.ToString(), await page.GetAttributeAsync("#overlay", "data-drawn"));
        Assert.Equal("50%", await page.TextContentAsync("#conf-value"));

        // Switching a class off is instant too.
        await page.Locator("#class-filter input[value='dog']").UncheckAsync();
        Assert.DoesNotContain(await VisibleDetectionsAsync(page), d => d.Label == "dog");

        await page.WaitForTimeoutAsync(300);
        Assert.Equal(1, requests.Count);
    }
}
