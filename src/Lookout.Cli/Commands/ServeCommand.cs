using System.ComponentModel;
using System.Globalization;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Models;
using Lookout.Server;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ServeSettings : GlobalSettings
{
    [CommandOption("-m|--model <MODEL>")]
    [Description("The model served by default: a catalogue name (see 'lookout models list') or a models-folder model's name; default yolox-nano.")]
    public string? Model { get; init; }

    [CommandOption("-p|--port <PORT>")]
    [Description("HTTP port (default 5000, as the original served). With --cert/--key this is the HTTPS port.")]
    public int? Port { get; init; }

    [CommandOption("--host <HOST>")]
    [Description("Address to listen on: * (all, the default), 127.0.0.1, ::1 …")]
    public string? Host { get; init; }

    [CommandOption("--cert <PEM>")]
    [Description("Certificate chain for HTTPS, e.g. /etc/letsencrypt/live/<domain>/fullchain.pem. Renewed files are picked up without a restart.")]
    public string? Certificate { get; init; }

    [CommandOption("--key <PEM>")]
    [Description("Private key for HTTPS, e.g. /etc/letsencrypt/live/<domain>/privkey.pem.")]
    public string? Key { get; init; }

    [CommandOption("--provider <NAME>")]
    [Description("Execution provider: cpu (default) or cuda. An unavailable provider falls back to CPU with a log line.")]
    public string? Provider { get; init; }

    [CommandOption("--threads <N>")]
    [Description("Threads per inference; 0 = one per core.")]
    public int? Threads { get; init; }

    [CommandOption("--concurrency <N>")]
    [Description("Inferences running at once; 0 = one per core.")]
    public int? Concurrency { get; init; }

    [CommandOption("--queue <N>")]
    [Description("Requests that may wait for a slot before the server answers 503; -1 (default) = sixteen per core.")]
    public int? Queue { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("Per-request deadline in seconds, queueing included (default 25).")]
    public double? Timeout { get; init; }

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
        // Flags win; a flag not given leaves the setting to LOOKOUT__* variables and appsettings.json, as for the
        // server itself (so a systemd EnvironmentFile or a container's env can configure `lookout serve`).
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .Build();
        var modelName = settings.Model ?? config["Lookout:Model"] ?? "yolox-nano";
        var offline = settings.Offline || string.Equals(config["Lookout:AllowDownload"], "false", StringComparison.OrdinalIgnoreCase);

        var store = settings.CreateAssetStore();
        // Flags first, then the configuration's folders (LOOKOUT__MODELDIRECTORIES__N, appsettings.json).
        var modelDirectories = settings.ModelDirectories.Select(Path.GetFullPath)
            .Concat(config.GetSection("Lookout:ModelDirectories").GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0))
            .Distinct().ToList();
        var info = store.Manifest.FindModel(modelName);
        if (info is null && !ModelFolders.Scan(modelDirectories).Any(m => string.Equals(m.Name, modelName, StringComparison.OrdinalIgnoreCase)))
            throw new UsageException($"No model named '{modelName}'. Known models: {string.Join(", ", store.Manifest.Models.Select(m => m.Name).Order())}"
                + (modelDirectories.Count > 0 ? $", or a model in {string.Join(", ", modelDirectories)}." : "."));
        // With downloads off only through the configuration, the server itself reports a missing model (/readyz).
        if (info is not null && (!offline || settings.Offline))
            await ModelLoading.FetchAsync(env, store, info.Files.Values.Distinct(), env.CanShowProgress(false, false), cancellationToken);

        var args = new List<string> { "--Lookout:Model=" + modelName };
        void Add(string key, object? value)
        {
            if (value is not null) args.Add($"--{key}=" + Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        Add("Lookout:ExecutionProvider", settings.Provider);
        Add("Lookout:IntraOpThreads", settings.Threads);
        Add("Lookout:Limits:MaxConcurrentInferences", settings.Concurrency);
        Add("Lookout:Limits:QueueLength", settings.Queue);
        Add("Lookout:Limits:RequestTimeoutSeconds", settings.Timeout);
        if (offline) Add("Lookout:AllowDownload", "false");
        for (int i = 0; i < settings.AssetDirectories.Length; i++) args.Add($"--Lookout:AssetDirectories:{i}={Path.GetFullPath(settings.AssetDirectories[i])}");
        for (int i = 0; i < modelDirectories.Count; i++) args.Add($"--Lookout:ModelDirectories:{i}={modelDirectories[i]}");
        if (settings.Certificate is not null)
        {
            args.Add("--Lookout:Https:CertificatePath=" + Path.GetFullPath(settings.Certificate));
            args.Add("--Lookout:Https:KeyPath=" + Path.GetFullPath(settings.Key!));
            Add("Lookout:Https:Port", settings.Port);
        }
        else
        {
            Add("Lookout:Port", settings.Port);
            Add("Lookout:Host", settings.Host);
        }
        if (settings.Archive is not null)
        {
            args.Add("--Lookout:Archive:Enabled=true");
            args.Add("--Lookout:Archive:Directory=" + Path.GetFullPath(settings.Archive));
        }
        if (settings.ApiKey is not null) args.Add("--Lookout:Security:ApiKey=" + settings.ApiKey);

        // int8 files in the asset folders may be slower than float on a CPU without VNNI: say so before serving.
        if (ModelsListCommand.FindInt8(store.AssetDirectories).Count > 0) Cpu.WarnWithoutVnni(env);

        var app = LookoutServer.Build([.. args]);
        var https = settings.Certificate is not null || !string.IsNullOrWhiteSpace(config["Lookout:Https:CertificatePath"] ?? Environment.GetEnvironmentVariable("FLASK_RUN_CERT"));
        var port = settings.Port?.ToString(CultureInfo.InvariantCulture) ?? (https ? config["Lookout:Https:Port"] : config["Lookout:Port"]) ?? "5000";
        var host = settings.Host ?? config["Lookout:Host"] ?? "*";
        var shown = https || host is "*" or "0.0.0.0" or "[::]" ? "localhost" : host;
        env.Console.MarkupLine($"Lookout is starting on [bold]{(https ? "https" : "http")}://{Markup.Escape(shown)}:{Markup.Escape(port)}/[/] with model [bold]{Markup.Escape(modelName)}[/]. Press Ctrl+C to stop.");
        await app.RunAsync();
        return ExitCodes.Success;
    }
}
