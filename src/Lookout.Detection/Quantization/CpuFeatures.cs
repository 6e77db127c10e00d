namespace Lookout.Detection.Quantization;

/// <summary>What the CPU offers int8 models: the CLI and the server both warn from it.</summary>
public static class CpuFeatures
{
    private static readonly Lazy<bool?> Vnni = new(ReadVnni);

    /// <summary>
    /// Whether the CPU has VNNI (AVX512-VNNI or AVX-VNNI), the dot-product instructions ONNX Runtime's int8 kernels
    /// are fast with; null where /proc/cpuinfo cannot tell (not Linux x86).
    /// </summary>
    public static bool? HasVnni() => Vnni.Value;

    public const string NoVnniWarning = "this CPU has no VNNI (avx512_vnni / avx_vnni): int8 models may run no faster than float here.";

    private static bool? ReadVnni()
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
}
