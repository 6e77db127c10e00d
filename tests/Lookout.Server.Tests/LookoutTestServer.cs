using System.Net.Http.Headers;
using Lookout.Detection.Tests.Support;
using Lookout.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lookout.Server.Tests;

/// <summary>The real server on a free loopback port, with the real model; requests go over real HTTP.</summary>
public sealed class LookoutTestServer : IAsyncDisposable
{
    private LookoutTestServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <param name="configure">Runs after the test defaults, e.g. to add a logger provider that captures log lines.</param>
    public static async Task<LookoutTestServer> StartAsync(IDictionary<string, string?>? settings = null, bool waitUntilReady = true, bool listenHttp = true,
        Action<WebApplicationBuilder>? configure = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Lookout:AllowDownload"] = "false",
            ["Lookout:IntraOpThreads"] = "1",
        };
        for (int i = 0; i < TestAssets.AssetDirectories.Count; i++) all[$"Lookout:AssetDirectories:{i}"] = TestAssets.AssetDirectories[i];
        if (listenHttp) all["urls"] = "http://127.0.0.1:0";
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;

        var app = LookoutServer.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var server = new LookoutTestServer(app, new Uri(address.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "127.0.0.1")));
        if (waitUntilReady) await server.WaitUntilReadyAsync();
        return server;
    }

    public async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Client.GetAsync("/readyz");
            if (response.IsSuccessStatusCode) return;
            await Task.Delay(100);
        }
        throw new TimeoutException("The server did not become ready within 60 s: " + await Client.GetStringAsync("/readyz"));
    }

    public static MultipartFormDataContent Form(string part, byte[] image, string fileName = "photo.jpg", string contentType = "image/jpeg", params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, part, fileName);
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>One server with default settings shared by the tests that need nothing special.</summary>
public sealed class DefaultServerFixture : IAsyncLifetime
{
    public LookoutTestServer Server { get; private set; } = null!;
    public async Task InitializeAsync() => Server = await LookoutTestServer.StartAsync();
    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class DefaultServerCollection : ICollectionFixture<DefaultServerFixture>
{
    public const string Name = "default server";
}
