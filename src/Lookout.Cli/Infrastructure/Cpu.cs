namespace Lookout.Cli.Infrastructure;

/// <summary>What the CPU offers int8 inference.</summary>
public static class Cpu
{
    /// <summary>
    /// Whether the CPU has VNNI (AVX512-VNNI or AVX-VNNI), the dot-product instructions ONNX Runtime's int8 kernels
    /// are fast with; null where /proc/cpuinfo cannot tell (not Linux x86).
    /// </summary>
    public static bool? HasVnni()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            if (flags is null) return null; // ARM lists "Features", not x86 flags
            var set = flags[(flags.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return set.Contains("avx512_vnni") || set.Contains("avx_vnni");
        }
        catch (IOException)
        {
            return null;
        }
    }

    public const string NoVnniWarning = "this CPU has no VNNI (avx512_vnni / avx_vnni): int8 models may run no faster than float here.";

    public static void WarnWithoutVnni(CliEnvironment env)
    {
        if (HasVnni() == false) env.WriteWarning(NoVnniWarning);
    }
}
