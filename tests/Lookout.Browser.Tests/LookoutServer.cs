using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Lookout.Browser.Tests;

/// <summary>
/// A real Lookout.Server process on 127.0.0.1 with a free port chosen by Kestrel (--urls ...:0);
/// the address is read from the "Now listening on:" line the server logs at start-up.
/// </summary>
public sealed partial class LookoutServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log;

    public Uri BaseUrl { get; }

    private LookoutServer(Process process, Uri baseUrl, StringBuilder log)
    {
        _process = process;
        BaseUrl = baseUrl;
        _log = log;
    }

    public string Log { get { lock (_log) return _log.ToString(); } }

    public bool HasExited => _process.HasExited;

    // ------------------------------------------------------------------------------------------
    // THE SINGLE PLACE TO ADAPT to how Lookout.Server is launched and configured.
    // By default: `dotnet <repo>/src/Lookout.Server/bin/<Configuration>/<tfm>/Lookout.Server.dll
    //   --urls http://127.0.0.1:0 [--Key=Value ...]` from the repository root.
    // Overrides: LOOKOUT_SERVER_DLL (path of the server assembly), or LOOKOUT_SERVER_COMMAND
    // (a shell command line that must log "Now listening on: http://..."; "{urls}" is replaced).
    // ------------------------------------------------------------------------------------------
    private static ProcessStartInfo CreateStartInfo(IReadOnlyDictionary<string, string> settings)
    {
        const string urls = "http://127.0.0.1:0";
        var extra = string.Join(' ', settings.Select(kv => $"\"--{kv.Key}={kv.Value}\""));

        var command = Environment.GetEnvironmentVariable("LOOKOUT_SERVER_COMMAND");
        ProcessStartInfo psi;
        if (!string.IsNullOrWhiteSpace(command))
        {
            psi = new ProcessStartInfo("/bin/sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command.Replace("{urls}", urls) + " " + extra);
        }
        else
        {
            var dll = ServerAssemblyPath();
            psi = new ProcessStartInfo("dotnet");
            psi.ArgumentList.Add(dll);
            psi.ArgumentList.Add("--urls");
            psi.ArgumentList.Add(urls);
            // Air-gapped like CI: the model comes from the shared folders, never from the internet.
            psi.ArgumentList.Add("--Lookout:AllowDownload=false");
            foreach (var kv in settings) psi.ArgumentList.Add($"--{kv.Key}={kv.Value}");
            // The content root holds appsettings.json and wwwroot/, copied next to the server's binaries.
            psi.WorkingDirectory = Path.GetDirectoryName(dll)!;
        }
        // The model and the example images come from the shared asset folders (never from the repository).
        psi.Environment["LOOKOUT_ASSET_DIRS"] = string.Join(':', Lookout.Detection.Tests.Support.TestAssets.AssetDirectories);
        if (string.IsNullOrEmpty(psi.WorkingDirectory)) psi.WorkingDirectory = TestPaths.RepoRoot;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        // Plain console logs, so that "Now listening on:" is one readable line.
        psi.Environment["Logging__Console__FormatterName"] = "simple";
        return psi;
    }

    /// <summary>Settings (configuration keys, passed as --Key=Value) for a server whose upload limit is tiny.</summary>
    public static IReadOnlyDictionary<string, string> TinyUploadLimit(long bytes) =>
        new Dictionary<string, string> { ["Lookout:Limits:MaxUploadBytes"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static string ServerAssemblyPath()
    {
        var fromEnv = Environment.GetEnvironmentVariable("LOOKOUT_SERVER_DLL");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            if (!File.Exists(fromEnv)) throw new FileNotFoundException($"LOOKOUT_SERVER_DLL points at '{fromEnv}', which does not exist.");
            return fromEnv;
        }
        // The test assembly lives in tests/Lookout.Browser.Tests/bin/<Configuration>/<tfm>/.
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfmDir.Parent?.Name ?? "Debug";
        var candidates = new[]
        {
            Path.Combine(TestPaths.RepoRoot, "src", "Lookout.Server", "bin", configuration, tfmDir.Name, "Lookout.Server.dll"),
            Path.Combine(AppContext.BaseDirectory, "Lookout.Server.dll"),
        };
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            "Lookout.Server.dll was not found (build src/Lookout.Server first, or set LOOKOUT_SERVER_DLL). Looked at: " +
            string.Join(", ", candidates));
    }

    public static async Task<LookoutServer> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var psi = CreateStartInfo(settings ?? new Dictionary<string, string>());
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;

        var log = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            var m = ListeningRegex().Match(line);
            if (m.Success) listening.TrySetResult(new Uri(m.Groups[1].Value.TrimEnd('/') + "/"));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException(
            $"Lookout.Server exited (code {process.ExitCode}) before it listened. Its output:\n{log}"));

        if (!process.Start()) throw new InvalidOperationException("Could not start Lookout.Server.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timeout = Task.Delay(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(listening.Task, timeout) == timeout)
        {
            TryKill(process);
            throw new TimeoutException($"Lookout.Server did not log 'Now listening on:' within 60 s. Its output:\n{log}");
        }
        var server = new LookoutServer(process, await listening.Task, log);
        await server.WaitUntilReadyAsync();
        return server;
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var res = await http.GetAsync("status_check");
                if (res.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline || _process.HasExited)
                throw new TimeoutException($"Lookout.Server at {BaseUrl} never answered /status_check. Its output:\n{Log}");
            await Task.Delay(200);
        }
    }

    /// <summary>Stop the server (the page should then see it as offline).</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        TryKill(_process);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private static void TryKill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    [GeneratedRegex(@"Now listening on:\s*(https?://[^\s""]+)")]
    private static partial Regex ListeningRegex();
}
