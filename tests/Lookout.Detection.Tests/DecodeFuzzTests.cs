using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests;

/// <summary>
/// A bounded mutation-fuzzing run over the decode path (ReadHeader, Decode at full and reduced scale, and the real
/// detector on every 25th input that decodes). CI runs it for 20 s; for a long run:
/// <c>LOOKOUT_FUZZ_SECONDS=600 dotnet test tests/Lookout.Detection.Tests -c Release --filter FullyQualifiedName~DecodeFuzzTests</c>.
/// LOOKOUT_FUZZ_SEED picks the run seed (default: a fixed one in CI, so a red run is reproducible).
/// Failing inputs land in test-output/fuzz-failures/ with their seed and iteration.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class DecodeFuzzTests(ModelFixture model, ITestOutputHelper output)
{
    [Fact]
    public void Mutated_images_only_decode_or_raise_typed_decode_errors()
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("LOOKOUT_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 20;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("LOOKOUT_FUZZ_SEED"), out var fixedSeed) ? fixedSeed : 20_250_101;

        var seeds = HostileCorpus.Seeds.Select(kv => (kv.Key, kv.Value))
            .Append((ImageFormat.Jpeg, ExifWriter.InsertOrientation(HostileCorpus.Seeds[ImageFormat.Jpeg], 6)))
            .Append((ImageFormat.Png, HostileCorpus.PngBomb(64, 48, withData: true)));
        var detector = model.Detector;
        var fuzzer = new DecodeFuzzer(seeds, new ImageDecoder(), image => detector.Detect(image));

        var report = fuzzer.Run(seed, TimeSpan.FromSeconds(seconds), log: output.WriteLine);

        output.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(TestAssets.TestOutputDirectory("fuzz"), $"report-seed{seed}.txt"), report + Environment.NewLine);
        Assert.True(report.Iterations > 100, $"only {report.Iterations} inputs in {seconds} s");
        Assert.True(report.Decoded > 0 && report.Refusals.Values.Sum() > 0, "the mutations should give both decodable and refused inputs");
        Assert.True(report.Failures.Count == 0,
            string.Join(Environment.NewLine, report.Failures.Select(f => $"iteration {f.Iteration} ({f.Mutations}) -> {f.SavedAs}: {f.Error}")));
    }

    [Fact]
    public void The_same_seed_and_iteration_give_the_same_input()
    {
        var fuzzer = new DecodeFuzzer(HostileCorpus.Seeds.Select(kv => (kv.Key, kv.Value)), new ImageDecoder());
        for (long i = 0; i < 50; i++) Assert.Equal(fuzzer.Generate(7, i).Input, fuzzer.Generate(7, i).Input);
    }
}
