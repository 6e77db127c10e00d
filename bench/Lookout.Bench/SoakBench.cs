using Lookout.Soak;

namespace Lookout.Bench;

/// <summary>
/// Overload / soak: the real server as a child process with its default limits, sent more load than it can take.
/// Options: --seconds N, --clients N, --server &lt;Lookout.Server.dll&gt;, --shared &lt;dir with models/ and images/&gt;,
/// and everything after --server-args goes to the server unchanged.
/// </summary>
public static class SoakBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int seconds = 120, clients = 64;
        string? serverDll = null;
        string shared = BenchAssets.Shared;
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

        var images = Directory.GetFiles(Path.Combine(shared, "images"), "*.jpg").Order().Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
        var logPath = Path.Combine(BenchAssets.RepositoryRoot, "test-output", "soak-server.log");
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        using var server = await ServerProcess.StartAsync(serverArgs, serverDll, [Path.Combine(shared, "models"), Path.Combine(shared, "images")], logPath);
        Console.WriteLine($"server pid {server.Pid} ready on {server.BaseAddress}; {images.Count} images: {string.Join(", ", images.Select(i => i.Item1))}");
        var runner = new SoakRunner(server.BaseAddress, images, () => server.Rss);
        var report = await runner.RunAsync(clients, TimeSpan.FromSeconds(seconds), Console.WriteLine);
        Console.WriteLine(report);
        Console.WriteLine($"server still running: {!server.HasExited}; its log: {logPath}");
        bool ok = report.FailedOtherwise == 0 && report.WrongResult == 0 && !server.HasExited;
        Console.WriteLine(ok ? "RESULT: PASS" : "RESULT: FAIL");
        return ok ? 0 : 1;
    }
}
