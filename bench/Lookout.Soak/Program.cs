using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lookout.Soak;

// Overload / soak: starts the real server as a child process with its default limits and sends it more load
// than it can take. Example:
//   dotnet run -c Release --project bench/Lookout.Soak -- --seconds 120 --clients 64
// Options: --seconds N, --clients N, --server <Lookout.Server.dll>, --shared <dir with models/ and images/>,
//          -- any further arguments after "--server-args" go to the server unchanged.

int seconds = 120, clients = 64;
string root = FindRepositoryRoot();
string serverDll = Path.Combine(root, "src/Lookout.Server/bin/Release/net10.0/Lookout.Server.dll");
string shared = Path.GetFullPath(Path.Combine(root, "..", "shared"));
var serverArgs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = int.Parse(args[++i]); break;
        case "--clients": clients = int.Parse(args[++i]); break;
        case "--server": serverDll = args[++i]; break;
        case "--shared": shared = args[++i]; break;
        case "--server-args": serverArgs.AddRange(args[(i + 1)..]); i = args.Length; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (!File.Exists(serverDll)) { Console.Error.WriteLine($"{serverDll} is missing: dotnet build src/Lookout.Server -c Release"); return 2; }

var images = Directory.GetFiles(Path.Combine(shared, "images"), "*.jpg").Order().Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
int port = FreePort();
var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { serverDll, "--urls", $"http://127.0.0.1:{port}", $"--Lookout:AssetDirectories:0={Path.Combine(shared, "models")}", "--Lookout:AllowDownload=false" }.Concat(serverArgs))
    psi.ArgumentList.Add(a);
Console.WriteLine($"server: dotnet {string.Join(' ', psi.ArgumentList)}");
using var server = Process.Start(psi)!;
var logPath = Path.Combine(root, "test-output", "soak-server.log");
Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
using var serverLog = new StreamWriter(logPath) { AutoFlush = true };
server.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (serverLog) serverLog.WriteLine(e.Data); };
server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (serverLog) serverLog.WriteLine(e.Data); };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
try
{
    var baseAddress = new Uri($"http://127.0.0.1:{port}");
    await WaitReady(baseAddress, server);
    Console.WriteLine($"server pid {server.Id} ready on {baseAddress}; {images.Count} images: {string.Join(", ", images.Select(i => i.Item1))}");
    var runner = new SoakRunner(baseAddress, images, () => SoakRunner.RssOf(server.Id));
    var report = await runner.RunAsync(clients, TimeSpan.FromSeconds(seconds), Console.WriteLine);
    Console.WriteLine(report);
    Console.WriteLine($"server still running: {!server.HasExited}; its log: {logPath}");
    bool ok = report.FailedOtherwise == 0 && report.WrongResult == 0 && !server.HasExited;
    Console.WriteLine(ok ? "RESULT: PASS" : "RESULT: FAIL");
    return ok ? 0 : 1;
}
finally
{
    if (!server.HasExited) { server.Kill(entireProcessTree: true); server.WaitForExit(10_000); }
}

static async Task WaitReady(Uri baseAddress, Process server)
{
    using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
    var deadline = DateTime.UtcNow.AddSeconds(90);
    while (DateTime.UtcNow < deadline)
    {
        if (server.HasExited) throw new InvalidOperationException($"the server exited with {server.ExitCode}");
        try
        {
            using var response = await http.GetAsync("/readyz");
            if (response.StatusCode == HttpStatusCode.OK) return;
        }
        catch (HttpRequestException) { }
        await Task.Delay(250);
    }
    throw new TimeoutException("the server was not ready within 90 s");
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    int port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
