using Lookout.Detection.Quantization;

namespace Lookout.Cli.Infrastructure;

/// <summary>The CLI's side of <see cref="CpuFeatures"/>: the warning, written where the CLI writes warnings.</summary>
public static class Cpu
{
    public static void WarnWithoutVnni(CliEnvironment env)
    {
        if (CpuFeatures.HasVnni() == false) env.WriteWarning(CpuFeatures.NoVnniWarning);
    }
}
