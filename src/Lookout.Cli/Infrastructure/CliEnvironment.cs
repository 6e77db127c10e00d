using Spectre.Console;

namespace Lookout.Cli.Infrastructure;

/// <summary>
/// Where the CLI writes. <see cref="Out"/> is for machine output (JSON, JSONL, CSV) and nothing else;
/// <see cref="Console"/> is stdout for people (tables); <see cref="Error"/> is stderr for people (progress, errors).
/// Tests pass one recording console for both and a <see cref="StringWriter"/> for <see cref="Out"/>.
/// </summary>
public sealed class CliEnvironment(IAnsiConsole console, IAnsiConsole error, TextWriter output, bool stdoutIsTerminal)
{
    public IAnsiConsole Console { get; } = console;
    public IAnsiConsole Error { get; } = error;
    public TextWriter Out { get; } = output;

    /// <summary>Whether stdout is a terminal (false when redirected to a file or pipe, and in tests).</summary>
    public bool StdoutIsTerminal { get; } = stdoutIsTerminal;

    /// <summary>
    /// Progress bars go to stderr, and only while a person is watching: stdout and stderr are terminals, stderr
    /// supports ANSI, the command is not writing machine output to stdout, and --no-progress was not given.
    /// </summary>
    public bool CanShowProgress(bool machineOutputOnStdout, bool noProgress) =>
        !noProgress && !machineOutputOnStdout && StdoutIsTerminal
        && Error.Profile.Capabilities.Interactive && Error.Profile.Capabilities.Ansi;

    /// <summary>The console for human-readable results: stdout, unless stdout carries machine output.</summary>
    public IAnsiConsole Human(bool machineOutputOnStdout) => machineOutputOnStdout ? Error : Console;

    /// <summary>Reports a problem on stderr as one line: "error: …".</summary>
    public void WriteError(string message) => Error.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");

    public void WriteWarning(string message) => Error.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");

    /// <summary>The real process streams. Colours are off when NO_COLOR is set or the stream is redirected.</summary>
    public static CliEnvironment FromProcess()
    {
        bool outRedirected = System.Console.IsOutputRedirected, errRedirected = System.Console.IsErrorRedirected;
        return new CliEnvironment(
            CreateConsole(System.Console.Out, outRedirected),
            CreateConsole(System.Console.Error, errRedirected),
            System.Console.Out,
            !outRedirected);
    }

    public static IAnsiConsole CreateConsole(TextWriter writer, bool redirected)
    {
        bool noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(writer),
        });
        // Redirected output has no terminal width; 80 columns would wrap tables and file paths needlessly.
        if (redirected) console.Profile.Width = 160;
        return console;
    }
}
