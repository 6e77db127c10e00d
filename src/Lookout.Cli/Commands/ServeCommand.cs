using System.ComponentModel;
using System.Globalization;
using Lookout.Cli.Infrastructure;
using Lookout.Server;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ServeSettings : GlobalSettings
{
    [CommandOption("-m|--model <MODEL>")]
    [Description("The catalogue model served by default (see 'lookout models list').")]
    [DefaultValue("yolox-nano")]
    public string Model { get; init; } = "yolox-nano";

    [CommandOption("-p|--port <PORT>")]
    [Description("HTTP port (the original served on 5000). With --cert/--key this is the HTTPS port.")]
    [DefaultValue(5000)]
    public int Port { get; init; } = 5000;

    [CommandOption("--host <HOST>")]
    [Description("Address to listen on: * (all, the default), 127.0.0.1, ::1 …")]
    [DefaultValue("*")]
    public string Host { get; init; } = "*";

    [CommandOption("--cert <PEM>")]
    [Description("Certificate chain for HTTPS, e.g. /etc/letsencrypt/live/<domain>/fullchain.pem. Renewed files are picked up without a restart.")]
    public string? Certificate { get; init; }

    [CommandOption("--key <PEM>")]
    [Description("Private key for HTTPS, e.g. /etc/letsencrypt/live/<domain>/privkey.pem.")]
    public string? Key { get; init; }

    [CommandOption("--provider <NAME>")]
    [Description("Execution provider: cpu (default) or cuda. An unavailable provider falls back to CPU with a log line.")]
    [DefaultValue("cpu")]
    public string Provider { get; init; } = "cpu";

    [CommandOption("--threads <N>")]
    [Description("Threads per inference; 0 = one per core.")]
    public int Threads { get; init; }

    [CommandOption("--concurrency <N>")]
    [Description("Inferences running at once; 0 = one per core.")]
    public int Concurrency { get; init; }

    [CommandOption("--queue <N>")]
    [Description("Requests that may wait for a slot before the server answers 503; -1 = sixteen per core.")]
    [DefaultValue(-1)]
    public int Queue { get; init; } = -1;

    [CommandOption("--timeout <SECONDS>")]
    [Description("Per-request deadline, queueing included.")]
    [DefaultValue(25.0)]
    public double Timeout { get; init; } = 25;

    [CommandOption("--archive <DIR>")]
    [Description("Keep every annotated result in DIR (off by default: nothing touches the disk).")]
    public string? Archive { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("Require this key (X-Api-Key header or DeepStack's api_key field) on detection routes.")]
    public string? ApiKey { get; init; }

    public override ValidationResult Validate()
    {
        if (Port is < 1 or > 65535) return ValidationResult.Error("--port must be 1–65535.");
        if ((Certificate is null) != (Key is null)) return ValidationResult.Error("--cert and --key go together.");
        return base.Validate();
    }
}

/// <summary>
/// <c>lookout serve</c>: makes sure the model is on disk (downloading it with a progress bar if needed), then runs
/// the web service until Ctrl+C / SIGTERM, finishing requests in flight.
/// </summary>
public sealed class ServeCommand(CliEnvironment env) : AsyncCommand<ServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.CreateAssetStore();
        var info = store.Manifest.FindModel(settings.Model)
            ?? throw new UsageException($"No model named '{settings.Model}'. Known models: {string.Join(", ", store.Manifest.Models.Select(m => m.Name).Order())}.");
        await ModelLoading.FetchAsync(env, store, info.Files.Values.Distinct(), env.CanShowProgress(false, false), cancellationToken);

        var args = new List<string>
        {
            "--Lookout:Model=" + settings.Model,
            "--Lookout:ExecutionProvider=" + settings.Provider,
            "--Lookout:IntraOpThreads=" + settings.Threads.ToString(CultureInfo.InvariantCulture),
            "--Lookout:Limits:MaxConcurrentInferences=" + settings.Concurrency.ToString(CultureInfo.InvariantCulture),
            "--Lookout:Limits:QueueLength=" + settings.Queue.ToString(CultureInfo.InvariantCulture),
            "--Lookout:Limits:RequestTimeoutSeconds=" + settings.Timeout.ToString(CultureInfo.InvariantCulture),
            "--Lookout:AllowDownload=" + (!settings.Offline).ToString(),
        };
        for (int i = 0; i < settings.AssetDirectories.Length; i++) args.Add($"--Lookout:AssetDirectories:{i}={Path.GetFullPath(settings.AssetDirectories[i])}");
        if (settings.Certificate is not null)
        {
            args.Add("--Lookout:Https:CertificatePath=" + Path.GetFullPath(settings.Certificate));
            args.Add("--Lookout:Https:KeyPath=" + Path.GetFullPath(settings.Key!));
            args.Add("--Lookout:Https:Port=" + settings.Port.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            args.Add("--Lookout:Port=" + settings.Port.ToString(CultureInfo.InvariantCulture));
            args.Add("--Lookout:Host=" + settings.Host);
        }
        if (settings.Archive is not null)
        {
            args.Add("--Lookout:Archive:Enabled=true");
            args.Add("--Lookout:Archive:Directory=" + Path.GetFullPath(settings.Archive));
        }
        if (settings.ApiKey is not null) args.Add("--Lookout:Security:ApiKey=" + settings.ApiKey);

        var app = LookoutServer.Build([.. args]);
        var scheme = settings.Certificate is null ? "http" : "https";
        var shown = settings.Host is "*" or "0.0.0.0" or "[::]" ? "localhost" : settings.Host;
        env.Console.MarkupLine($"Lookout is starting on [bold]{scheme}://{Markup.Escape(shown)}:{settings.Port}/[/] with model [bold]{Markup.Escape(settings.Model)}[/]. Press Ctrl+C to stop.");
        await app.RunAsync();
        return ExitCodes.Success;
    }
}
