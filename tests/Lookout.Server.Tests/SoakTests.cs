using Lookout.Detection.Tests.Support;
using Lookout.Soak;
using Xunit.Abstractions;

namespace Lookout.Server.Tests;

/// <summary>
/// The short CI version of the soak bench: a few seconds of more load than a deliberately small server
/// (1 inference slot, 4 queue places) can take. The long run is <c>dotnet run -c Release --project bench/Lookout.Bench -- soak</c>.
/// </summary>
[Collection(IsolatedCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Overload_gets_fast_503s_correct_200s_no_other_failures_and_recovers()
    {
        await using var server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:Limits:MaxConcurrentInferences"] = "1",
            ["Lookout:Limits:QueueLength"] = "4",
        });
        string[] names = ["dog.jpg", "street.jpg", "crosswalk.jpg", "wedding.jpg"];
        var images = names.Select(n => (n, TestAssets.Bytes(n))).ToList();
        var runner = new SoakRunner(server.BaseAddress, images, () => SoakRunner.RssOf(Environment.ProcessId));

        var report = await runner.RunAsync(clients: 12, TimeSpan.FromSeconds(6), output.WriteLine);

        output.WriteLine(report.ToString());
        Assert.True(report.FailedOtherwise == 0, $"{report.FailedOtherwise} failed: {string.Join(", ", report.Failures)}");
        Assert.Equal(0, report.WrongResult);
        Assert.True(report.Accepted > 0 && report.Rejected503 > 0, $"accepted {report.Accepted}, rejected {report.Rejected503}");
        Assert.Equal(report.Sent, report.Accepted + report.Rejected503);
        // A refusal does not wait for an inference; an accepted request waits for up to 4 ahead of it.
        Assert.True(report.RejectP50Ms < report.AcceptP50Ms, $"503 p50 {report.RejectP50Ms:0.0} ms vs 200 p50 {report.AcceptP50Ms:0.0} ms");
        // The gauge counts a request from its arrival at the gate, so one being refused can show briefly on top of
        // the 4 queued: it is bounded by the clients, never growing with time.
        Assert.InRange(report.PeakQueue, 1, 12);
        // Recovered: once the load stops, single requests are about as fast as before it (slack for shared CI cores).
        Assert.True(report.SequentialP50AfterMs < 2 * report.SequentialP50BeforeMs + 50,
            $"sequential p50 {report.SequentialP50AfterMs:0.0} ms after vs {report.SequentialP50BeforeMs:0.0} ms before");
    }
}
