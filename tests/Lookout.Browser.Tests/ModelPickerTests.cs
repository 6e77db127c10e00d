using Microsoft.Playwright;
using static Lookout.Browser.Tests.PageDriver;

namespace Lookout.Browser.Tests;

/// <summary>
/// The page's model picker against a real server whose asset folders hold YOLOX-Nano (the default) and
/// Yolo-Fastest 1.1, and not YOLOv3's weights (and, in one test, a models folder with an Ultralytics YOLOv8n): the
/// list offers the models this server can answer with, the choice goes out as model= and survives a reload, and
/// the page says which model answered.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ModelPickerTests(BrowserFixture browser, ServerFixture server)
{
    private static async Task WaitForModelsAsync(IPage page) =>
        await page.WaitForFunctionAsync("() => document.getElementById('model-select').dataset.ready === 'true'");

    [Fact]
    public async Task Picker_lists_the_models_present_here_with_their_input_size()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await WaitForModelsAsync(page);

        var options = await page.Locator("#model-select option").EvaluateAllAsync<string[][]>(
            "els => els.map(o => [o.value, o.textContent])");
        var values = options.Select(o => o[0]).ToList();
        Assert.Equal("", values[0]);                       // "Server default (yolox-nano)"
        Assert.Contains("yolox-nano", options[0][1]);
        Assert.Contains("yolox-nano", values);
        Assert.Contains("yolo-fastest-1.1", values);
        // YOLOv3's 248 MB weights are not on this machine: not offered.
        Assert.DoesNotContain("yolov3-416", values);
        Assert.DoesNotContain("yolov3-608", values);
        // The default model is loaded at start-up, so its input size is known.
        Assert.Contains("416", options.Single(o => o[0] == "yolox-nano")[1]);
        Assert.False(await page.Locator("#model-select").IsDisabledAsync());
        await ScreenshotAsync(page, "model-picker", fullPage: false);
    }

    [Fact]
    public async Task Picking_a_model_sends_it_shows_who_answered_and_is_remembered()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await WaitForModelsAsync(page);
        await page.SelectOptionAsync("#model-select", "yolo-fastest-1.1");

        var request = page.WaitForRequestAsync(r => r.Url.Contains("/api/v1/detect", StringComparison.Ordinal));
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        Assert.Contains("model=yolo-fastest-1.1", (await request).Url);
        await WaitForResultAsync(page);

        Assert.Equal("yolo-fastest-1.1", await page.EvaluateAsync<string>("() => window.lookout.lastResult.model"));
        var answeredBy = page.Locator("#answered-by");
        Assert.Equal("yolo-fastest-1.1", await answeredBy.GetAttributeAsync("data-model"));
        Assert.Contains("yolo-fastest-1.1", await answeredBy.TextContentAsync());
        Assert.Equal("yolo-fastest-1.1", await page.Locator("[data-timing='model']").TextContentAsync());
        await ScreenshotAsync(page, "model-picker-answered", fullPage: false);

        // Changing the model runs the photo on screen again with the new one.
        var again = page.WaitForRequestAsync(r => r.Url.Contains("/api/v1/detect", StringComparison.Ordinal));
        await page.SelectOptionAsync("#model-select", "yolox-nano");
        Assert.Contains("model=yolox-nano", (await again).Url);
        await page.WaitForFunctionAsync("() => window.lookout.lastResult?.model === 'yolox-nano'");
        await Assertions.Expect(answeredBy).ToHaveAttributeAsync("data-model", "yolox-nano");
        Assert.Contains("416", await answeredBy.TextContentAsync());

        // The choice survives a reload (localStorage), and the next photo goes to it.
        await page.SelectOptionAsync("#model-select", "yolo-fastest-1.1");
        await page.ReloadAsync();
        await OpenAsync(page);
        await WaitForModelsAsync(page);
        Assert.Equal("yolo-fastest-1.1", await page.Locator("#model-select").InputValueAsync());
        var afterReload = page.WaitForRequestAsync(r => r.Url.Contains("/api/v1/detect", StringComparison.Ordinal));
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("street.jpg"));
        Assert.Contains("model=yolo-fastest-1.1", (await afterReload).Url);
        await WaitForResultAsync(page);
        Assert.Equal("yolo-fastest-1.1", await answeredBy.GetAttributeAsync("data-model"));
    }

    [Fact]
    public async Task A_model_from_the_models_folder_is_offered_picked_and_named_in_the_answer()
    {
        // The real Ultralytics YOLOv8n export (tests only: AGPL-3.0 weights) in a models folder beside YOLOX-Nano.
        var folder = Directory.CreateTempSubdirectory("lookout-browser-models-").FullName;
        try
        {
            var temp = Path.Combine(folder, ".yolov8n_fp32.tmp");
            File.Copy(Lookout.Detection.Tests.Support.TestAssets.SharedPath("models", "ultralytics", "yolov8n_fp32.onnx"), temp);
            File.Move(temp, Path.Combine(folder, "yolov8n_fp32.onnx"));
            await using var own = await LookoutServer.StartAsync(new Dictionary<string, string> { ["Lookout:ModelDirectories:0"] = folder });
            var page = await browser.NewPageAsync(own.BaseUrl);
            await OpenAsync(page);
            await WaitForModelsAsync(page);

            var option = page.Locator("#model-select option[value='yolov8n_fp32']");
            Assert.Equal(1, await option.CountAsync());
            await page.SelectOptionAsync("#model-select", "yolov8n_fp32");
            await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
            await WaitForResultAsync(page);

            // A folder model's input size comes from its file once loaded; the page then shows it.
            var answeredBy = page.Locator("#answered-by");
            Assert.Equal("yolov8n_fp32", await answeredBy.GetAttributeAsync("data-model"));
            await Assertions.Expect(answeredBy).ToHaveTextAsync("yolov8n_fp32 (640 × 640)");
            await Assertions.Expect(option).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("640"));
            Assert.Equal("yolov8n_fp32", await page.Locator("#model-select").InputValueAsync());
            var labels = (await VisibleDetectionsAsync(page)).Select(d => d.Label).ToList();
            Assert.Contains("dog", labels);
            Assert.Contains("bicycle", labels);
            await ScreenshotAsync(page, "model-picker-yolov8n", fullPage: false);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_remembered_model_the_server_does_not_have_falls_back_to_the_default()
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await OpenAsync(page);
        await page.EvaluateAsync("() => localStorage.setItem('lookout.model', 'no-such-model')");
        await page.ReloadAsync();
        await OpenAsync(page);
        await WaitForModelsAsync(page);

        Assert.Equal("", await page.Locator("#model-select").InputValueAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('lookout.model')"));
        var request = page.WaitForRequestAsync(r => r.Url.Contains("/api/v1/detect", StringComparison.Ordinal));
        await page.SetInputFilesAsync("#file-input", TestPaths.Asset("dog.jpg"));
        Assert.DoesNotContain("model=", (await request).Url);
        await WaitForResultAsync(page);
        Assert.Equal("yolox-nano", await page.Locator("#answered-by").GetAttributeAsync("data-model"));
    }
}
