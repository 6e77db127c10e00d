using Lookout.Detection.Tests.Support;
using Lookout.Detection.Darknet;

namespace Lookout.Detection.Tests.Darknet;

public sealed class DarknetWeightsReaderTests
{
    [Theory]
    [InlineData("yolo-fastest-1.1")]
    [InlineData("yolo-fastest-1.1-xl")]
    public void Real_weights_hold_exactly_what_their_cfg_needs(string model)
    {
        var config = DarknetConfigParser.ParseFile(TestAssets.PathOf(model + ".cfg"));
        var shapes = DarknetShapes.Infer(config);
        var weightsPath = TestAssets.PathOf(model + ".weights");

        var weights = DarknetWeightsReader.Read(weightsPath, config, shapes);

        Assert.Equal(new FileInfo(weightsPath).Length, 20 + 4 * DarknetWeightsReader.CountFloats(config, shapes));
        Assert.Equal(config.Layers.OfType<DarknetConvolutionalLayer>().Count(), weights.Convolutions.Count);
        Assert.All(weights.Convolutions.Values.Where(c => c.BatchNorm is not null), c => Assert.All(c.BatchNorm!.RollingVariance, v => Assert.True(v >= 0)));
    }

    [Fact]
    public void A_file_one_float_short_states_expected_and_found_counts()
    {
        var cfgPath = TestAssets.PathOf("yolo-fastest-1.1.cfg");
        var config = DarknetConfigParser.ParseFile(cfgPath);
        var shapes = DarknetShapes.Infer(config);
        var bytes = File.ReadAllBytes(TestAssets.PathOf("yolo-fastest-1.1.weights"));
        long needed = DarknetWeightsReader.CountFloats(config, shapes);

        var e = Assert.Throws<DarknetFormatException>(() => DarknetWeightsReader.Read(bytes.AsSpan(0, bytes.Length - 4), "yolo-fastest.weights", config, shapes));

        Assert.Equal($"yolo-fastest.weights holds {needed - 1} floats after its header, but yolo-fastest-1.1.cfg needs {needed}.", e.Message);
    }

    [Fact]
    public void A_mismatched_cfg_and_weights_pair_is_refused_by_the_importer()
    {
        var e = Assert.Throws<DarknetFormatException>(() => DarknetImporter.Import(
            TestAssets.PathOf("yolo-fastest-1.1.cfg"), TestAssets.PathOf("yolo-fastest-1.1-xl.weights")));

        Assert.Matches(@"^yolo-fastest-1\.1-xl\.weights holds \d+ floats after its header, but yolo-fastest-1\.1\.cfg needs \d+\.$", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_whole_floats_is_refused()
    {
        var config = DarknetConfigParser.ParseFile(TestAssets.PathOf("yolo-fastest-1.1.cfg"));
        var bytes = File.ReadAllBytes(TestAssets.PathOf("yolo-fastest-1.1.weights"));

        var e = Assert.Throws<DarknetFormatException>(() => DarknetWeightsReader.Read(bytes.AsSpan(0, bytes.Length - 1), "cut.weights", config, DarknetShapes.Infer(config)));

        Assert.Contains("not a whole number of floats", e.Message);
    }

    [Fact]
    public void Old_headers_with_a_32_bit_seen_are_read()
    {
        var config = DarknetConfigParser.Parse(DarknetTestConfigs.Activations, "activations.cfg");
        var shapes = DarknetShapes.Infer(config);
        long floats = DarknetWeightsReader.CountFloats(config, shapes);
        var bytes = new byte[16 + 4 * floats];
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 1); // version 0.1: seen is an int32

        var weights = DarknetWeightsReader.Read(bytes, "old.weights", config, shapes);

        Assert.Equal((0, 1), (weights.Major, weights.Minor));
    }
}
