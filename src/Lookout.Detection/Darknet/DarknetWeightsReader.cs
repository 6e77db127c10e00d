using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Lookout.Detection.Darknet;

public static class DarknetWeightsReader
{
    /// <summary>How many floats the cfg's layers need after the header.</summary>
    public static long CountFloats(DarknetConfig config, IReadOnlyList<DarknetShape> shapes)
    {
        long total = 0;
        for (int i = 0; i < config.Layers.Count; i++)
        {
            if (config.Layers[i] is DarknetConvolutionalLayer conv)
            {
                total += (conv.BatchNormalize ? 4L : 1L) * conv.Filters + KernelLength(conv, InputChannels(config, shapes, i));
            }
        }

        return total;
    }

    public static DarknetWeights Read(string path, DarknetConfig config, IReadOnlyList<DarknetShape> shapes)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return Read(bytes, Path.GetFileName(path), config, shapes);
    }

    public static DarknetWeights Read(ReadOnlySpan<byte> bytes, string sourceName, DarknetConfig config, IReadOnlyList<DarknetShape> shapes)
    {
        if (bytes.Length < 16)
        {
            throw new DarknetFormatException($"{sourceName} is {bytes.Length} bytes long, too short for a Darknet weights header.");
        }

        int major = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int minor = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        int revision = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        // darknet widened `seen` to 64 bits in format 0.2; the <1000 checks rule out the
        // transposed-weights variant, whose version numbers are offset by 1000.
        bool wideSeen = major * 10 + minor >= 2 && major < 1000 && minor < 1000;
        long seen = wideSeen ? BinaryPrimitives.ReadInt64LittleEndian(bytes[12..]) : BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        int headerLength = wideSeen ? 20 : 16;
        if (major > 1000 || minor > 1000)
        {
            throw new DarknetFormatException($"{sourceName} is a transposed-weights file (version {major}.{minor}), which is not supported.");
        }

        var body = bytes[Math.Min(headerLength, bytes.Length)..];
        long expected = CountFloats(config, shapes);
        if (body.Length % sizeof(float) != 0)
        {
            throw new DarknetFormatException($"{sourceName} holds {body.Length} bytes after its header, not a whole number of floats; {config.SourceName} needs {expected} floats.");
        }

        long found = body.Length / sizeof(float);
        if (found != expected)
        {
            throw new DarknetFormatException($"{sourceName} holds {found} floats after its header, but {config.SourceName} needs {expected}.");
        }

        var floats = MemoryMarshal.Cast<byte, float>(body);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Darknet weights are little-endian; big-endian hosts are not supported.");
        }

        var convolutions = new Dictionary<int, DarknetConvWeights>();
        int offset = 0;
        static float[] Take(ReadOnlySpan<float> floats, ref int offset, int count)
        {
            var result = floats.Slice(offset, count).ToArray();
            offset += count;
            return result;
        }

        for (int i = 0; i < config.Layers.Count; i++)
        {
            if (config.Layers[i] is not DarknetConvolutionalLayer conv)
            {
                continue;
            }

            var biases = Take(floats, ref offset, conv.Filters);
            DarknetBatchNorm? bn = null;
            if (conv.BatchNormalize)
            {
                var scales = Take(floats, ref offset, conv.Filters);
                var mean = Take(floats, ref offset, conv.Filters);
                var variance = Take(floats, ref offset, conv.Filters);
                bn = new DarknetBatchNorm(scales, mean, variance);
            }

            convolutions[i] = new DarknetConvWeights(biases, bn, Take(floats, ref offset, checked((int)KernelLength(conv, InputChannels(config, shapes, i)))));
        }

        return new DarknetWeights(major, minor, revision, seen, convolutions);
    }

    private static int InputChannels(DarknetConfig config, IReadOnlyList<DarknetShape> shapes, int index) =>
        index == 0 ? config.Channels : shapes[index - 1].Channels;

    private static long KernelLength(DarknetConvolutionalLayer conv, int inputChannels) =>
        (long)conv.Filters * (inputChannels / conv.Groups) * conv.Size * conv.Size;
}
