using System.ComponentModel;
using Lookout.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ModelsFetchSettings : GlobalSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The catalogue model to download (see 'lookout models list').")]
    public string Name { get; init; } = "";

    [CommandOption("--no-progress")]
    [Description("Do not show a progress bar.")]
    public bool NoProgress { get; init; }
}

/// <summary><c>lookout models fetch</c>: makes a catalogue model's files available locally (cache).</summary>
public sealed class ModelsFetchCommand(CliEnvironment env) : AsyncCommand<ModelsFetchSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ModelsFetchSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.CreateAssetStore();
        var info = store.Manifest.FindModel(settings.Name)
            ?? throw new UsageException($"No model named '{settings.Name}'. Known models: {string.Join(", ", store.Manifest.Models.Select(m => m.Name).Order())}.");
        var resolved = await ModelLoading.FetchAsync(env, store, info.Files.Values.Distinct(),
            env.CanShowProgress(false, settings.NoProgress), cancellationToken);
        foreach (var asset in resolved)
            env.Console.MarkupLine($"[green]✓[/] {Markup.Escape(asset.Info.Name)}: {Markup.Escape(asset.Path)} [dim]({ModelsListCommand.SourceName(asset.Source)})[/]");
        env.Console.MarkupLine($"Model [bold]{Markup.Escape(info.Name)}[/] is available.");
        return ExitCodes.Success;
    }
}
