namespace Lookout.Detection.Darknet;

/// <summary>Channels × height × width of one layer's output (batch is always 1).</summary>
public readonly record struct DarknetShape(int Channels, int Height, int Width);

/// <summary>Works out every layer's output shape the way darknet does, which both the weights
/// reader (a conv's weight count depends on its input channels) and the graph builder need.</summary>
public static class DarknetShapes
{
    public static IReadOnlyList<DarknetShape> Infer(DarknetConfig config)
    {
        var shapes = new List<DarknetShape>(config.Layers.Count);
        var input = new DarknetShape(config.Channels, config.Height, config.Width);
        for (int i = 0; i < config.Layers.Count; i++)
        {
            var previous = i == 0 ? input : shapes[i - 1];
            shapes.Add(Infer(config, config.Layers[i], previous, shapes));
        }

        return shapes;
    }

    private static DarknetShape Infer(DarknetConfig config, DarknetLayer layer, DarknetShape input, List<DarknetShape> shapes)
    {
        DarknetShape result;
        switch (layer)
        {
            case DarknetConvolutionalLayer conv:
                if (input.Channels % conv.Groups != 0)
                {
                    throw Error(config, layer, $"groups={conv.Groups} does not divide its {input.Channels} input channels");
                }

                result = new DarknetShape(conv.Filters,
                    (input.Height + 2 * conv.Padding - conv.Size) / conv.Stride + 1,
                    (input.Width + 2 * conv.Padding - conv.Size) / conv.Stride + 1);
                break;
            case DarknetShortcutLayer shortcut:
                if (shapes[shortcut.From] != input)
                {
                    throw Error(config, layer, $"adds layer {shortcut.From} ({Describe(shapes[shortcut.From])}) to {Describe(input)}; only equal shapes are supported");
                }

                result = input;
                break;
            case DarknetRouteLayer route:
                var first = shapes[route.Sources[0]];
                int channels = 0;
                foreach (int source in route.Sources)
                {
                    var s = shapes[source];
                    if (s.Height != first.Height || s.Width != first.Width)
                    {
                        throw Error(config, layer, $"concatenates layer {route.Sources[0]} ({Describe(first)}) with layer {source} ({Describe(s)}) of another size");
                    }

                    if (s.Channels % route.Groups != 0)
                    {
                        throw Error(config, layer, $"groups={route.Groups} does not divide layer {source}'s {s.Channels} channels");
                    }

                    channels += s.Channels / route.Groups;
                }

                result = first with { Channels = channels };
                break;
            case DarknetUpsampleLayer up:
                result = new DarknetShape(input.Channels, input.Height * up.Stride, input.Width * up.Stride);
                break;
            case DarknetMaxPoolLayer pool:
                result = new DarknetShape(input.Channels,
                    (input.Height + pool.Padding - pool.Size) / pool.Stride + 1,
                    (input.Width + pool.Padding - pool.Size) / pool.Stride + 1);
                break;
            case DarknetYoloLayer yolo:
                int needed = yolo.Anchors.Count * (5 + yolo.Classes);
                if (input.Channels != needed)
                {
                    throw Error(config, layer, $"has {yolo.Anchors.Count} anchors and {yolo.Classes} classes, so its input needs {needed} channels, but it gets {input.Channels}");
                }

                result = input;
                break;
            default:
                result = input;
                break;
        }

        if (result.Channels <= 0 || result.Height <= 0 || result.Width <= 0)
        {
            throw Error(config, layer, $"would output {Describe(result)} from {Describe(input)}");
        }

        return result;
    }

    private static string Describe(DarknetShape s) => $"{s.Channels}x{s.Height}x{s.Width}";

    private static DarknetFormatException Error(DarknetConfig config, DarknetLayer layer, string message) =>
        new($"{config.SourceName} line {layer.Line}: {message}");
}
