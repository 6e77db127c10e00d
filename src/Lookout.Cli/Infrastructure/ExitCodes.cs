namespace Lookout.Cli.Infrastructure;

/// <summary>The process exit codes, documented in <c>lookout --help</c>.</summary>
public static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Success = 0;
    /// <summary>Bad arguments: unknown option, value out of range, unknown model or class, missing dataset folder.</summary>
    public const int Usage = 1;
    /// <summary>The command ran but some inputs failed (unreadable, corrupt or not an image); the others were processed.</summary>
    public const int SomeInputsFailed = 2;
    /// <summary>The command could not run: a model file missing and not downloadable, a failed download, an unexpected error.</summary>
    public const int Failure = 3;
    /// <summary>Stopped by Ctrl-C (128 + SIGINT, as shells report it); what was written so far is kept.</summary>
    public const int Interrupted = 130;
    /// <summary><c>models quantize</c>: the int8 model failed its accuracy gate (not written unless --force).</summary>
    public const int GateFailed = 4;
}

/// <summary>A usage error found while running a command (unknown class name…): printed as one line, exit code 1.</summary>
public sealed class UsageException(string message) : Exception(message);
