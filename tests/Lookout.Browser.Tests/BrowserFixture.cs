using Microsoft.Playwright;

namespace Lookout.Browser.Tests;

/// <summary>
/// One Chromium for all tests: the system's /usr/bin/chromium (or LOOKOUT_CHROMIUM), never a downloaded one,
/// with a fake camera that plays a Y4M made from dog.jpg.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("LOOKOUT_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new FileNotFoundException($"Chromium was not found at '{chromium}'. Install Debian's chromium package (apt-get install chromium) or set LOOKOUT_CHROMIUM.");

        var y4m = Path.Combine(TestPaths.ScratchDir, "fake-camera-dog.y4m");
        TestMedia.WriteY4m(TestPaths.Asset("dog.jpg"), y4m);

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                $"--use-file-for-fake-video-capture={y4m}",
            ],
        });
    }

    public async Task<IPage> NewPageAsync(Uri baseUrl, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        });
        await context.GrantPermissionsAsync(["camera"]);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
    }
}

/// <summary>One Lookout.Server for the tests that do not stop it.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public LookoutServer Server { get; private set; } = null!;
    public Uri BaseUrl => Server.BaseUrl;

    public async Task InitializeAsync() => Server = await LookoutServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<ServerFixture>
{
    public const string Name = "browser";
}
