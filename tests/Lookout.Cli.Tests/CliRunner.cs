using Lookout.Detection.Tests.Support;
using Spectre.Console;

namespace Lookout.Cli.Tests;

/// <summary>What one in-process run of <c>lookout</c> produced.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Console)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- console ---\n{Console}";
}

/// <summary>Runs the CLI in-process with the shared test assets and downloads off.</summary>
public static class CliRunner
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var consoleText = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(consoleText),
        });
        console.Profile.Width = 400; // no wrapping: assertions read whole lines
        var stdout = new StringWriter();
        var assetArgs = TestAssets.AssetDirectories.SelectMany(d => new[] { "--asset-dir", d }).Append("--offline");
        // Options go after the command words (e.g. "models list"), as users type them.
        int words = args.TakeWhile(a => !a.StartsWith('-') && a is "detect" or "eval" or "models" or "list" or "fetch" or "import-darknet" or "quantize").Count();
        string[] full = [.. args.Take(words), .. assetArgs, .. args.Skip(words)];
        var exit = await Program.RunAsync(full, console, stdout);
        return new CliRun(exit, stdout.ToString(), consoleText.ToString());
    }

    /// <summary>Runs without adding the asset options (for --help, --version, parse errors).</summary>
    public static async Task<CliRun> RunRawAsync(params string[] args)
    {
        var consoleText = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(consoleText),
        });
        console.Profile.Width = 400;
        var stdout = new StringWriter();
        var exit = await Program.RunAsync(args, console, stdout);
        return new CliRun(exit, stdout.ToString(), consoleText.ToString());
    }
}
