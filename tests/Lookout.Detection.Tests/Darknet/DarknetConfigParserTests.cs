using Lookout.Detection.Tests.Support;
using Lookout.Detection.Darknet;

namespace Lookout.Detection.Tests.Darknet;

public sealed class DarknetConfigParserTests
{
    [Theory]
    [InlineData("yolo-fastest-1.1.cfg", 320, 131, 2)]
    [InlineData("yolo-fastest-1.1-xl.cfg", 320, 131, 2)]
    [InlineData("yolov3_416x416.cfg", 416, 107, 3)]
    [InlineData("yolov3_608x608.cfg", 608, 107, 3)]
    public void Parses_the_shared_cfgs(string fileName, int size, int layerCount, int heads)
    {
        var config = DarknetConfigParser.ParseFile(TestAssets.PathOf(fileName));

        Assert.Equal((size, size, 3), (config.Width, config.Height, config.Channels));
        Assert.Equal(layerCount, config.Layers.Count);
        Assert.Equal(heads, config.YoloLayers.Count());
        Assert.Equal(80, config.ClassCount);
        var shapes = DarknetShapes.Infer(config);
        var headSizes = config.Layers.Select((l, i) => (l, i)).Where(p => p.l is DarknetYoloLayer).Select(p => shapes[p.i].Width);
        Assert.Equal(heads == 2 ? [size / 32, size / 16] : new[] { size / 32, size / 16, size / 8 }, headSizes);
    }

    [Fact]
    public void Reads_yolo_fastest_details()
    {
        var config = DarknetConfigParser.ParseFile(TestAssets.PathOf("yolo-fastest-1.1.cfg"));

        var first = Assert.IsType<DarknetConvolutionalLayer>(config.Layers[0]);
        Assert.Equal(new DarknetConvolutionalLayer(22, 8, 3, 2, 1, 1, true, DarknetActivation.Leaky), first);
        Assert.Contains(config.Layers, l => l is DarknetConvolutionalLayer { Groups: > 1 });
        var spp = config.Layers.OfType<DarknetMaxPoolLayer>().ToList();
        Assert.Equal([(3, 1, 2), (5, 1, 4), (9, 1, 8)], spp.Select(p => (p.Size, p.Stride, p.Padding)));
        var head = config.YoloLayers.First();
        Assert.Equal([(115f, 73f), (119f, 199f), (242f, 238f)], head.Anchors);
        Assert.Equal(1f, head.ScaleXY);
    }

    [Fact]
    public void Resolves_relative_and_absolute_route_indices()
    {
        var config = DarknetConfigParser.Parse(DarknetTestConfigs.YoloV3Tiny, "yolov3-tiny.cfg");

        var routes = config.Layers.OfType<DarknetRouteLayer>().ToList();
        Assert.Equal([13], routes[0].Sources);
        Assert.Equal([19, 8], routes[1].Sources);
    }

    [Fact]
    public void Pad_1_overrides_padding_and_pad_0_uses_it()
    {
        var config = DarknetConfigParser.Parse(Cfg("[convolutional]\nfilters=4\nsize=5\npad=1\npadding=7\n\n[convolutional]\nfilters=6\nsize=3\npadding=2\n\n" + Yolo(6)), "pad.cfg");

        Assert.Equal(2, ((DarknetConvolutionalLayer)config.Layers[0]).Padding);
        Assert.Equal(2, ((DarknetConvolutionalLayer)config.Layers[1]).Padding);
    }

    [Fact]
    public void Refuses_an_unknown_section_naming_file_line_and_section()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetConfigParser.Parse(Cfg("[convolutional]\nfilters=255\n\n[reorg3d]\nstride=2\n"), "odd.cfg"));

        Assert.Contains("odd.cfg", e.Message);
        Assert.Contains("line 9", e.Message);
        Assert.Contains("reorg3d", e.Message);
    }

    [Fact]
    public void Refuses_an_unknown_key_naming_file_line_and_key()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetConfigParser.Parse(Cfg("# a comment\n[convolutional]\nfilters=255\n; another\ndilation=2\n\n" + Yolo(255)), "odd.cfg"));

        Assert.Contains("odd.cfg", e.Message);
        Assert.Contains("line 10", e.Message);
        Assert.Contains("dilation", e.Message);
    }

    [Fact]
    public void Refuses_an_unknown_net_key()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetConfigParser.Parse("[net]\nwidth=32\nheight=32\nwarp=1\n", "net.cfg"));

        Assert.Contains("net.cfg line 4", e.Message);
        Assert.Contains("warp", e.Message);
    }

    [Fact]
    public void Refuses_a_route_to_a_layer_that_does_not_exist_yet()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetConfigParser.Parse(Cfg("[convolutional]\nfilters=8\n\n[route]\nlayers=-3\n"), "route.cfg"));

        Assert.Contains("route.cfg line 9", e.Message);
        Assert.Contains("layers", e.Message);
    }

    [Fact]
    public void Refuses_an_unsupported_activation()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetConfigParser.Parse(Cfg("[convolutional]\nfilters=8\nactivation=gelu\n"), "act.cfg"));

        Assert.Contains("act.cfg line 8", e.Message);
        Assert.Contains("gelu", e.Message);
    }

    private static string Cfg(string layers) => "[net]\nwidth=32\nheight=32\nchannels=3\n\n" + layers;

    private static string Yolo(int filters) =>
        $"[yolo]\nmask=0\nanchors=10,10\nclasses={filters - 5}\nnum=1\n";
}
