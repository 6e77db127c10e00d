using System.Diagnostics;

namespace Lookout.Server.Tests;

/// <summary>
/// deploy/check.sh in CI: systemd-analyze verify on the unit, nginx -t on the filled proxy template, the Kubernetes
/// YAML parsed and cross-checked, the Dockerfile linted structurally. Needs nginx, openssl, systemd, python3-yaml.
/// </summary>
public sealed class DeployFilesTests
{
    [Fact]
    public async Task Deployment_files_pass_deploy_check_sh()
    {
        var script = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(NginxProxyTests.TemplatePath())))!, "deploy", "check.sh");
        var psi = new ProcessStartInfo("/bin/bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var (output, errors) = (await stdout, await stderr);
        Assert.True(process.ExitCode == 0, $"deploy/check.sh failed ({process.ExitCode}):\n{output}\n{errors}");
        Assert.Equal(4, output.Split('\n').Count(l => l.StartsWith("ok ")));
    }
}
