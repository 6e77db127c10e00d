using Lookout.Detection.Quantization;

namespace Lookout.Cli.Infrastructure;

/// <summary>The CLI's side of <see cref="CpuFeatures"/>: the warning, written where the CLI writes warnings.</summary>
public static class Cpu
{
    public static bool? HasVnni() => CpuFeatures.HasVnni();

    public const string NoVnniWarning = CpuFeatures.NoVnniWarning;

    public static void WarnWithoutVnni(CliEnvironment env)
    {
        if (HasVnni() == false) env.WriteWarning(NoVnniWarning);
    }
}
