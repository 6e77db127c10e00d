using Lookout.Detection.Assets;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Rendering;
using Lookout.Server.Endpoints;
using Lookout.Server.Services;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Lookout.Server;

/// <summary>Builds the Lookout web application: reads like the table of contents of the service.</summary>
public static class LookoutServer
{
    /// <summary>Short flags for the common settings (`--model x` instead of `--Lookout:Model=x`).</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--model"] = "Lookout:Model",
        ["--port"] = "Lookout:Port",
        ["--host"] = "Lookout:Host",
        ["--asset-dir"] = "Lookout:AssetDirectories:0",
        ["--provider"] = "Lookout:ExecutionProvider",
        ["--threads"] = "Lookout:IntraOpThreads",
        ["--concurrent-threads"] = "Lookout:ConcurrentIntraOpThreads",
        ["--concurrency"] = "Lookout:Limits:MaxConcurrentInferences",
        ["--queue"] = "Lookout:Limits:QueueLength",
        ["--timeout"] = "Lookout:Limits:RequestTimeoutSeconds",
        ["--max-upload-bytes"] = "Lookout:Limits:MaxUploadBytes",
        ["--max-images"] = "Lookout:Limits:MaxImagesPerRequest",
        ["--cert"] = "Lookout:Https:CertificatePath",
        ["--key"] = "Lookout:Https:KeyPath",
        ["--https-port"] = "Lookout:Https:Port",
        ["--redirect-http-port"] = "Lookout:Https:RedirectHttpPort",
        ["--archive"] = "Lookout:Archive:Enabled",
        ["--archive-dir"] = "Lookout:Archive:Directory",
        ["--api-key"] = "Lookout:Security:ApiKey",
    };

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        MallocArenas.Limit();
        args = ExpandRepeatedSwitches(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        MapOriginalEnvironment(builder.Configuration);
        configure?.Invoke(builder);

        var section = builder.Configuration.GetSection(LookoutOptions.Section);
        var options = section.Get<LookoutOptions>() ?? new LookoutOptions();
        builder.Services.AddOptions<LookoutOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LookoutOptions>, LookoutOptionsValidation>();

        ConfigureKestrel(builder, options);
        AddEngine(builder.Services);
        builder.Services.AddSingleton<InferenceGate>();
        builder.Services.AddSingleton<ResultArchive>();
        builder.Services.AddSingleton<DetectionService>();
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddHostedService<ModelWarmup>();
        builder.Services.AddHealthChecks()
            .AddCheck<DefaultModelHealthCheck>("default-model", tags: [OperationsEndpoints.ReadyTag])
            .AddCheck<ModelsHealthCheck>("models", tags: [OperationsEndpoints.ReadyTag]);
        builder.Services.AddSingleton<ApiKeyFilter>();
        builder.Services.Configure<FormOptions>(f => UploadReader.Configure(f, options.Limits.MaxUploadBytes, options.Limits.MaxImagesPerRequest));
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.Limits.RequestTimeoutSeconds + 5));
        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (options.Cors.AllowedOrigins.Contains("*")) policy.AllowAnyOrigin();
            else policy.WithOrigins([.. options.Cors.AllowedOrigins]);
            policy.AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("Retry-After", "X-Lookout-Detections");
        }));
        builder.Services.Configure<ForwardedHeadersOptions>(f =>
        {
            f.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // X-Forwarded-* is believed only from loopback proxies, plus any the operator names
            // (Lookout:TrustedProxies: addresses like 10.0.0.5 or networks like 10.0.0.0/8 for a cluster's ingress).
            f.KnownProxies.Add(System.Net.IPAddress.Loopback);
            f.KnownProxies.Add(System.Net.IPAddress.IPv6Loopback);
            foreach (var entry in options.TrustedProxies)
            {
                if (entry.Contains('/')) f.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
                else f.KnownProxies.Add(System.Net.IPAddress.Parse(entry));
            }
        });
        builder.Services.AddClientRateLimiting(options.RateLimit);
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();
        if (options.Https.Enabled) builder.Services.AddSingleton<CertificateReloader>();

        var app = builder.Build();

        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseMiddleware<RequestLogging>();
        app.UseMiddleware<SecurityHeaders>();
        if (options.Https.Enabled && options.Https.RedirectHttpPort is not null) app.UseHttpsRedirection();
        app.UseCors();
        app.UseHttpMetrics();
        app.UseModelMetrics();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        // Route only after the static files: otherwise the implicit routing at the start of the pipeline
        // matches GET / to the POST-only seed endpoint (405) and the static files never serve index.html.
        app.UseRouting();
        // After routing: the per-client policy is endpoint metadata, known only once a route matched.
        app.UseRateLimiter();

        app.MapSeedCompatEndpoints();
        app.MapDetectApiEndpoints();
        app.MapDeepStackEndpoints();
        app.MapExampleEndpoints();
        app.MapOperationsEndpoints();
        app.MapOpenApi();
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint("/openapi/v1.json", "Lookout API");
            ui.RoutePrefix = "docs";
            ui.DocumentTitle = "Lookout API";
        });

        // A missing font would draw empty tags: fail now, not at the first request.
        app.Services.GetRequiredService<AnnotationRenderer>();
        // The models folders are scanned and watched from start-up, not from the first request.
        app.Services.GetRequiredService<ModelRegistry>();
        return app;
    }

    private static void AddEngine(IServiceCollection services)
    {
        // TryAdd: a host (or a test with a stand-in manifest and download address) may supply its own store.
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LookoutOptions>>().Value;
            var store = AssetStoreOptions.FromEnvironment();
            store.AssetDirectories.InsertRange(0, o.AssetDirectories);
            if (o.CacheDirectory is not null) store.CacheDirectory = o.CacheDirectory;
            store.AllowDownload = o.AllowDownload;
            return new AssetStore(store);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LookoutOptions>>().Value;
            int concurrency = o.Limits.EffectiveConcurrency;
            return new ModelCatalog(sp.GetRequiredService<AssetStore>(), new InferenceSettings
            {
                ExecutionProvider = o.ExecutionProvider,
                IntraOpThreads = o.IntraOpThreads,
                // A lone request gets every core; requests side by side share them out (measured in bench/: on 2 cores,
                // 2 × 1 thread gave ~85 req/s where 2 × 2 threads gave ~60).
                ConcurrentIntraOpThreads = concurrency > 1
                    ? (o.ConcurrentIntraOpThreads > 0 ? o.ConcurrentIntraOpThreads : Math.Max(1, Environment.ProcessorCount / concurrency))
                    : null,
                // The lone-request session spins for latency; the concurrent one never does (see InferenceSettings).
                AllowSpinning = true,
            }, sp.GetRequiredService<ILoggerFactory>());
        });
        services.AddSingleton(sp => new ModelDownloads(sp.GetRequiredService<AssetStore>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Lookout.Models")));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LookoutOptions>>().Value;
            var registry = new ModelRegistry(sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<ModelDownloads>(),
                new ModelRegistryOptions
                {
                    Directories = [.. o.ModelDirectories.Select(Path.GetFullPath)],
                    MaxLoadedModels = o.MaxLoadedModels,
                    AfterUnload = MallocArenas.Trim,
                },
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Lookout.Models"));
            registry.Start();
            return registry;
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LookoutOptions>>().Value;
            return new ImageDecoder(new DecodeLimits { MaxBytes = o.Limits.MaxUploadBytes, MaxPixels = o.Limits.MaxPixels });
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LookoutOptions>>().Value;
            return new AnnotationRenderer(new AnnotationOptions { JpegQuality = o.JpegQuality, FontPath = o.FontPath });
        });
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, LookoutOptions options)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Multipart framing on top of the largest image; bigger bodies get 413 before they are read.
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxUploadBytes + UploadReader.MultipartAllowance;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            if (options.Https.Enabled)
            {
                kestrel.ListenAnyIP(options.Https.Port, listen => listen.UseHttps(https =>
                {
                    var reloader = kestrel.ApplicationServices.GetRequiredService<CertificateReloader>();
                    https.ServerCertificateSelector = (_, _) => reloader.Current;
                }));
                if (options.Https.RedirectHttpPort is { } http) kestrel.ListenAnyIP(http);
            }
        });
        if (options.Https.Enabled)
        {
            builder.Services.AddHttpsRedirection(r => r.HttpsPort = options.Https.Port);
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            var host = builder.Configuration["Lookout:Host"] ?? "*";
            var port = builder.Configuration["Lookout:Port"] ?? "5000";
            builder.WebHost.UseUrls($"http://{host}:{port}");
        }
    }

    /// <summary>
    /// <c>--model-dir PATH</c> may be given several times; a switch mapping names one key, so each occurrence becomes
    /// <c>--Lookout:ModelDirectories:N=PATH</c> in order.
    /// </summary>
    public static string[] ExpandRepeatedSwitches(string[] args)
    {
        var result = new List<string>();
        int index = 0;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--model-dir" && i + 1 < args.Length) result.Add($"--Lookout:ModelDirectories:{index++}={args[++i]}");
            else if (args[i].StartsWith("--model-dir=", StringComparison.Ordinal)) result.Add($"--Lookout:ModelDirectories:{index++}={args[i]["--model-dir=".Length..]}");
            else result.Add(args[i]);
        }
        return [.. result];
    }

    /// <summary>The original read its certificate from FLASK_RUN_CERT / FLASK_RUN_KEY; honour them when Lookout's own are unset.</summary>
    private static void MapOriginalEnvironment(ConfigurationManager configuration)
    {
        var cert = Environment.GetEnvironmentVariable("FLASK_RUN_CERT");
        var key = Environment.GetEnvironmentVariable("FLASK_RUN_KEY");
        if (!string.IsNullOrEmpty(cert) && !string.IsNullOrEmpty(key) && string.IsNullOrEmpty(configuration["Lookout:Https:CertificatePath"]))
        {
            configuration["Lookout:Https:CertificatePath"] = cert;
            configuration["Lookout:Https:KeyPath"] = key;
        }
    }
}
