using System.Runtime.InteropServices;

namespace Lookout.Server;

/// <summary>
/// Caps glibc's malloc arenas. Under load the thread pool grows and glibc gives each busy thread its own arena, so
/// native memory (Skia bitmaps, ONNX Runtime buffers) fragments across many of them: in the 64-client soak the
/// server held ~330 MiB with the default and ~272 MiB with two arenas, at the same throughput. An operator's own
/// MALLOC_ARENA_MAX wins; on non-glibc systems (musl, macOS, Windows) this does nothing.
/// </summary>
internal static partial class MallocArenas
{
    private const int M_ARENA_MAX = -8;

    public static void Limit(int arenas = 2)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 }) return;
        try
        {
            mallopt(M_ARENA_MAX, arenas);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc: nothing to tune.
        }
    }

    /// <summary>
    /// Hands free native memory back to the system. An unloaded model frees its ONNX Runtime arena, but glibc keeps
    /// freed heap pages mapped (its mmap threshold rises after the first large free, so later sessions come from the
    /// heap): without this, loading and evicting models would ratchet resident memory up. Called after an unload.
    /// </summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
