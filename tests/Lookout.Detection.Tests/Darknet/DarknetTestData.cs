using System.Runtime.InteropServices;
using Lookout.Detection.Darknet;
using Lookout.Detection.Imaging;

namespace Lookout.Detection.Tests.Darknet;

internal static class DarknetTestData
{
    /// <summary>The engine's own Darknet input tensor (RGB 0..1, CHW, letterboxed on grey). Both implementations
    /// get this very tensor, so its exact recipe does not affect the comparison.</summary>
    public static float[] LetterboxedTensor(string imagePath, int width, int height)
    {
        using var image = new ImageDecoder().Decode(File.ReadAllBytes(imagePath));
        var tensor = new float[3 * width * height];
        TensorWriter.Write(image.Pixels, width, height, PreprocessSpec.Darknet, tensor);
        return tensor;
    }

    public static float[] RandomTensor(int length, int seed)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = random.NextSingle();
        }

        return data;
    }

    /// <summary>Writes a weights file of exactly the size the cfg needs. Kernels are He-scaled (residual branches damped) and
    /// BN statistics kept near identity so activations neither vanish nor blow up through deep
    /// networks; otherwise the comparison would be trivially true (zeros) or meaningless (inf).</summary>
    public static void WriteRandomWeights(string path, DarknetConfig config, int seed)
    {
        var shapes = DarknetShapes.Infer(config);
        var random = new Random(seed);
        using var stream = new BufferedStream(File.Create(path), 1 << 20);
        using var writer = new BinaryWriter(stream);
        writer.Write(0);
        writer.Write(2);
        writer.Write(5);
        writer.Write(0L);
        float Uniform(float lo, float hi) => lo + (hi - lo) * random.NextSingle();
        void WriteMany(int count, Func<float> next)
        {
            var buffer = new float[count];
            for (int i = 0; i < count; i++)
            {
                buffer[i] = next();
            }

            writer.Write(MemoryMarshal.AsBytes(buffer.AsSpan()));
        }

        for (int i = 0; i < config.Layers.Count; i++)
        {
            if (config.Layers[i] is not DarknetConvolutionalLayer conv)
            {
                continue;
            }

            int inputChannels = (i == 0 ? config.Channels : shapes[i - 1].Channels) / conv.Groups;
            int fanIn = inputChannels * conv.Size * conv.Size;
            WriteMany(conv.Filters, () => Uniform(-0.1f, 0.1f));
            if (conv.BatchNormalize)
            {
                WriteMany(conv.Filters, () => Uniform(0.8f, 1.2f));
                WriteMany(conv.Filters, () => Uniform(-0.1f, 0.1f));
                WriteMany(conv.Filters, () => Uniform(0.5f, 1.5f));
            }

            // A residual branch at full He scale doubles the variance at every [shortcut]; YOLOv3's
            // 23 of them would reach 1e6, where float cancellation, not the importer, decides the
            // comparison. Damped branches keep the trunk O(1)..O(10).
            // Head logits are damped too, so that exp(tw) stays finite and sigmoids are not all 0 or 1.
            var next = config.Layers.Skip(i + 1).FirstOrDefault(l => l is not DarknetDropoutLayer);
            float std = MathF.Sqrt(2f / fanIn) * next switch
            {
                DarknetShortcutLayer => 0.3f,
                DarknetYoloLayer when config.Layers.Count(l => l is DarknetShortcutLayer) > 10 => 0.05f,
                _ => 1f,
            };
            WriteMany(conv.Filters * fanIn, () => std * Normal(random));
        }
    }

    private static float Normal(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
