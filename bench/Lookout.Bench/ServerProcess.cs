using System.Diagnostics;
using System.Net;
using Lookout.Soak;

namespace Lookout.Bench;

/// <summary>
/// The real server (Release build) as a child process on a free loopback port, so its memory can be read from
/// /proc while this process loads it. Killed with its process tree on dispose.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri baseAddress) { _process = process; BaseAddress = baseAddress; }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public long Rss => SoakRunner.RssOf(_process.Id);

    public static string DefaultDll => Path.Combine(BenchAssets.RepositoryRoot, "src", "Lookout.Server", "bin", "Release", "net10.0", "Lookout.Server.dll");

    /// <param name="logPath">Where the server's output goes; null drops all but its errors, which go to stderr.</param>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> extraArgs, string? dll = null, IEnumerable<string>? assetDirectories = null, string? logPath = null)
    {
        dll ??= DefaultDll;
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing: dotnet build -c Release src/Lookout.Server");
        int port = FreeLoopbackPort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--Lookout:AllowDownload=false" }.Concat(extraArgs)) psi.ArgumentList.Add(a);
        psi.Environment["LOOKOUT_ASSET_DIRS"] = string.Join(':', assetDirectories ?? BenchAssets.AssetDirectories);
        Console.WriteLine($"server: dotnet {string.Join(' ', psi.ArgumentList)}");
        var process = Process.Start(psi)!;
        var log = logPath is null ? null : new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && log is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (log is not null) lock (log) log.WriteLine(e.Data);
            else Console.Error.WriteLine("server: " + e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await server.WaitReadyAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited with {_process.ExitCode}");
            try
            {
                using var response = await http.GetAsync("/readyz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException("the server was not ready within 90 s");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); }
        _process.Dispose();
    }
}
