using System.Buffers.Binary;
using System.Diagnostics;
using Lookout.Detection.Imaging;

namespace Lookout.Detection.Tests.Support;

/// <summary>
/// A seeded, managed mutation fuzzer over the decode path. Each input is derived from (run seed, iteration) alone,
/// so any failure is reproducible from the two numbers (and its bytes are written out as well). An input may end
/// in success or an <see cref="ImageDecodeException"/>; any other exception, or taking longer than the watchdog,
/// is a failure.
/// </summary>
public sealed class DecodeFuzzer
{
    private readonly (ImageFormat Format, byte[] Bytes)[] _seeds;
    private readonly ImageDecoder _decoder;
    private readonly Action<DecodedImage>? _onDecoded;

    /// <param name="onDecoded">Run on (some) inputs that decode, e.g. the detector; it must not throw.</param>
    public DecodeFuzzer(IEnumerable<(ImageFormat, byte[])> seeds, ImageDecoder decoder, Action<DecodedImage>? onDecoded = null)
    {
        _seeds = [.. seeds];
        _decoder = decoder;
        _onDecoded = onDecoded;
    }

    public TimeSpan Watchdog { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Run the detector on every n-th input that decodes (inference costs ~1000× a tiny decode).</summary>
    public int DetectEvery { get; init; } = 25;

    public string FailureDirectory { get; init; } = TestAssets.TestOutputDirectory("fuzz-failures");

    public sealed record Failure(long Iteration, string Mutations, string Error, string? SavedAs);

    public sealed record Report(int Seed, long Iterations, long Decoded, long Detected, IReadOnlyDictionary<ImageErrorKind, long> Refusals,
        IReadOnlyList<Failure> Failures, TimeSpan Elapsed)
    {
        public double PerSecond => Iterations / Math.Max(Elapsed.TotalSeconds, 1e-9);

        public override string ToString() =>
            $"fuzz seed {Seed}: {Iterations} inputs in {Elapsed.TotalSeconds:0.0} s ({PerSecond:0} inputs/s); decoded {Decoded}, detector runs {Detected}, " +
            $"refused {string.Join(", ", Refusals.OrderBy(r => r.Key).Select(r => $"{r.Key}={r.Value}"))}; failures {Failures.Count}";
    }

    /// <summary>The input of one iteration, and a description of the mutations that made it.</summary>
    public (byte[] Input, string Mutations) Generate(int runSeed, long iteration)
    {
        var rng = new Random(HashCode.Combine(runSeed, iteration));
        var (format, seed) = _seeds[rng.Next(_seeds.Length)];
        var data = new List<byte>(seed);
        var applied = new List<string> { format.ToString() };
        int rounds = 1 + rng.Next(rng.Next(4) == 0 ? 12 : 4);
        for (int r = 0; r < rounds && data.Count > 0; r++) applied.Add(Mutate(rng, data, format));
        return ([.. data], string.Join(' ', applied));
    }

    public Report Run(int runSeed, TimeSpan duration, long maxIterations = long.MaxValue, Action<string>? log = null)
    {
        var refusals = new Dictionary<ImageErrorKind, long>();
        var failures = new List<Failure>();
        long iterations = 0, decoded = 0, detected = 0;
        var clock = Stopwatch.StartNew();
        var nextLog = TimeSpan.FromSeconds(60);

        using var worker = new WatchdogWorker();
        while (clock.Elapsed < duration && iterations < maxIterations && failures.Count < 20)
        {
            long it = iterations++;
            var (input, mutations) = Generate(runSeed, it);
            bool runDetector = false;
            Exception? error = null;
            string? outcome = null;
            var finished = worker.TryRun(() =>
            {
                try
                {
                    _decoder.ReadHeader(input);
                }
                catch (ImageDecodeException) { }
                try
                {
                    using var image = _decoder.Decode(input, minLongestSide: (it & 1) == 0 ? null : 416);
                    outcome = "decoded";
                    if (++decoded % DetectEvery == 0 && _onDecoded is not null)
                    {
                        runDetector = true;
                        _onDecoded(image);
                    }
                }
                catch (ImageDecodeException ex)
                {
                    outcome = ex.Kind.ToString();
                    lock (refusals) refusals[ex.Kind] = refusals.GetValueOrDefault(ex.Kind) + 1;
                }
            }, Watchdog, out error);

            if (runDetector && error is null) detected++;
            if (!finished || error is not null)
            {
                var what = !finished ? $"hang: no answer within {Watchdog.TotalSeconds:0} s" : error!.ToString();
                var file = Save(runSeed, it, input, mutations, what);
                failures.Add(new Failure(it, mutations, what, file));
                log?.Invoke($"FAILURE at iteration {it} ({mutations}): {what.Split('\n')[0]} -> {file}");
                if (!finished) break;   // the worker thread is stuck; nothing more can run on it
            }
            if (clock.Elapsed > nextLog)
            {
                log?.Invoke($"  … {iterations} inputs, {iterations / clock.Elapsed.TotalSeconds:0}/s, {failures.Count} failures");
                nextLog += TimeSpan.FromSeconds(60);
            }
        }
        return new Report(runSeed, iterations, decoded, detected, refusals, failures, clock.Elapsed);
    }

    private string Save(int runSeed, long iteration, byte[] input, string mutations, string error)
    {
        var path = Path.Combine(FailureDirectory, $"seed{runSeed}-iter{iteration}.bin");
        File.WriteAllBytes(path, input);
        File.WriteAllText(Path.ChangeExtension(path, ".txt"),
            $"run seed {runSeed}, iteration {iteration}\nreproduce: new DecodeFuzzer(...).Generate({runSeed}, {iteration})\nmutations: {mutations}\n\n{error}\n");
        return path;
    }

    // ---- mutations ---------------------------------------------------------------------------------------------

    private static readonly uint[] Interesting = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 65_500, 16_384];

    private string Mutate(Random rng, List<byte> data, ImageFormat format)
    {
        int n = data.Count;
        switch (rng.Next(11))
        {
            case 0:
            {
                int at = rng.Next(n);
                data[at] ^= (byte)(1 << rng.Next(8));
                return $"flip@{at}";
            }
            case 1:
            {
                int at = rng.Next(n);
                byte v = rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)rng.Next(256) };
                data[at] = v;
                return $"set@{at}={v:X2}";
            }
            case 2:
            {
                int at = rng.Next(n), len = Math.Min(n - at, 1 + rng.Next(64));
                for (int i = 0; i < len; i++) data[at + i] = (byte)rng.Next(256);
                return $"randomise@{at}+{len}";
            }
            case 3:
            {
                int at = rng.Next(n);
                data.RemoveRange(at, n - at);
                return $"truncate@{at}";
            }
            case 4:
            {
                int at = rng.Next(n), len = Math.Min(n - at, 1 + rng.Next(Math.Min(n, 512)));
                data.RemoveRange(at, len);
                return $"delete@{at}+{len}";
            }
            case 5:
            {
                int at = rng.Next(n), len = Math.Min(n - at, 1 + rng.Next(Math.Min(n, 512)));
                var chunk = data.GetRange(at, len);
                int to = rng.Next(data.Count + 1);
                data.InsertRange(to, chunk);
                return $"duplicate@{at}+{len}->{to}";
            }
            case 6:
            {
                var other = _seeds[rng.Next(_seeds.Length)].Bytes;
                int keep = rng.Next(n), from = rng.Next(other.Length);
                data.RemoveRange(keep, n - keep);
                data.AddRange(other.AsSpan(from).ToArray());
                return $"splice@{keep}<-{from}";
            }
            case 7:
            {
                int at = rng.Next(Math.Max(1, n - 3));
                uint v = Interesting[rng.Next(Interesting.Length)];
                bool wide = rng.Next(2) == 0, big = rng.Next(2) == 0;
                WriteInt(data, at, v, wide ? 4 : 2, big);
                return $"int@{at}={v:X}{(wide ? "/32" : "/16")}{(big ? "be" : "le")}";
            }
            case 8 or 9:
                return EditStructure(rng, data, format);
            default:
            {
                // Header region: most interesting parsing happens in the first few hundred bytes.
                int at = rng.Next(Math.Min(n, 64));
                data[at] = (byte)rng.Next(256);
                return $"header@{at}";
            }
        }
    }

    /// <summary>Format-aware edits: a segment/chunk length or a declared dimension, or a whole chunk duplicated/deleted.</summary>
    private static string EditStructure(Random rng, List<byte> data, ImageFormat format)
    {
        var spans = Structure(data, format);
        if (spans.Count == 0) return "structure:none";
        var (start, lengthAt, lengthSize, bigEndian, end) = spans[rng.Next(spans.Count)];
        switch (rng.Next(4))
        {
            case 0 when lengthAt >= 0 && lengthAt + lengthSize <= data.Count:
            {
                uint v = rng.Next(2) == 0 ? Interesting[rng.Next(Interesting.Length)] : (uint)rng.NextInt64(1L << (lengthSize * 8));
                WriteInt(data, lengthAt, v, lengthSize, bigEndian);
                return $"length@{lengthAt}={v:X}";
            }
            case 1:
            {
                int len = Math.Min(end, data.Count) - start;
                if (len <= 0) return "structure:empty";
                var chunk = data.GetRange(start, len);
                data.InsertRange(Math.Min(end, data.Count), chunk);
                return $"dupchunk@{start}+{len}";
            }
            case 2:
            {
                int len = Math.Min(end, data.Count) - start;
                if (len <= 0) return "structure:empty";
                data.RemoveRange(start, len);
                return $"delchunk@{start}+{len}";
            }
            default:
            {
                // Declared dimensions, where the format keeps them at fixed offsets.
                (int at, int size, bool big)? dim = format switch
                {
                    ImageFormat.Png => (16 + 4 * rng.Next(2), 4, true),
                    ImageFormat.Gif => (6 + 2 * rng.Next(2), 2, false),
                    ImageFormat.Bmp => (18 + 4 * rng.Next(2), 4, false),
                    ImageFormat.WebP => (24 + 3 * rng.Next(2), 2, false),
                    ImageFormat.Jpeg => spans.FirstOrDefault(s => s.LengthAt >= 0 && s.Start + 1 < data.Count && data[s.Start + 1] is 0xC0 or 0xC1 or 0xC2) is var sof && sof.End > 0
                        ? (sof.Start + 5 + 2 * rng.Next(2), 2, true) : null,
                    _ => null,
                };
                if (dim is not { } d || d.at + d.size > data.Count) return "dim:none";
                uint v = Interesting[rng.Next(Interesting.Length)];
                WriteInt(data, d.at, v, d.size, d.big);
                return $"dim@{d.at}={v:X}";
            }
        }
    }

    /// <summary>The chunks of a file: (start, offset of its length field or -1, its size, big-endian, end).</summary>
    private static List<(int Start, int LengthAt, int LengthSize, bool BigEndian, int End)> Structure(List<byte> data, ImageFormat format)
    {
        var spans = new List<(int, int, int, bool, int)>();
        var d = data.ToArray().AsSpan();
        switch (format)
        {
            case ImageFormat.Jpeg:
                for (int i = 2; i + 4 <= d.Length && spans.Count < 64;)
                {
                    if (d[i] != 0xFF) break;
                    int len = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 2)..]);
                    spans.Add((i, i + 2, 2, true, i + 2 + len));
                    if (d[i + 1] == 0xDA) break;
                    i += 2 + len;
                }
                break;
            case ImageFormat.Png:
                for (int i = 8; i + 8 <= d.Length && spans.Count < 64;)
                {
                    long len = BinaryPrimitives.ReadUInt32BigEndian(d[i..]);
                    spans.Add((i, i, 4, true, (int)Math.Min(d.Length, i + 12 + len)));
                    if (len > d.Length) break;
                    i += 12 + (int)len;
                }
                break;
            case ImageFormat.WebP:
                spans.Add((0, 4, 4, false, d.Length));
                for (int i = 12; i + 8 <= d.Length && spans.Count < 64;)
                {
                    long len = BinaryPrimitives.ReadUInt32LittleEndian(d[(i + 4)..]);
                    spans.Add((i, i + 4, 4, false, (int)Math.Min(d.Length, i + 8 + len + (len & 1))));
                    if (len > d.Length) break;
                    i += 8 + (int)(len + (len & 1));
                }
                break;
            case ImageFormat.Bmp:
                spans.Add((0, 2, 4, false, 14));                       // file header and its size field
                if (d.Length >= 18) spans.Add((14, 14, 4, false, 14 + (int)Math.Min(d.Length - 14, BinaryPrimitives.ReadUInt32LittleEndian(d[14..]))));
                if (d.Length >= 14) spans.Add((10, 10, 4, false, d.Length)); // pixel-data offset
                break;
            case ImageFormat.Gif:
                // Sub-blocks after the header: each starts with its length byte.
                for (int i = 13; i < d.Length && spans.Count < 64; i++)
                    if (d[i] == 0x2C || d[i] == 0x21) spans.Add((i, Math.Min(i + 1, d.Length - 1), 1, false, Math.Min(d.Length, i + 12)));
                break;
        }
        return spans;
    }

    private static void WriteInt(List<byte> data, int at, uint value, int size, bool bigEndian)
    {
        for (int i = 0; i < size && at + i < data.Count; i++)
        {
            int shift = bigEndian ? 8 * (size - 1 - i) : 8 * i;
            data[at + i] = (byte)(value >> shift);
        }
    }

    /// <summary>One long-lived thread that runs each input; the caller waits with a timeout (a hung decode cannot be killed in .NET, only reported).</summary>
    private sealed class WatchdogWorker : IDisposable
    {
        private readonly Thread _thread;
        private readonly SemaphoreSlim _start = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Action? _work;
        private Exception? _error;
        private volatile bool _stop;

        public WatchdogWorker()
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "fuzz worker" };
            _thread.Start();
        }

        public bool TryRun(Action work, TimeSpan timeout, out Exception? error)
        {
            _work = work;
            _error = null;
            _start.Release();
            if (!_done.Wait(timeout))
            {
                error = null;
                return false;
            }
            error = _error;
            return true;
        }

        private void Loop()
        {
            while (true)
            {
                _start.Wait();
                if (_stop) return;
                try { _work!(); }
                catch (Exception ex) { _error = ex; }
                _done.Release();
            }
        }

        public void Dispose()
        {
            _stop = true;
            _start.Release();
        }
    }
}
