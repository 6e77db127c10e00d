using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests;

/// <summary>
/// The hostile corpus at the engine layer: every file either decodes (only where the damage may leave a valid
/// image) or raises a typed <see cref="ImageDecodeException"/> of the expected kind; nothing else escapes.
/// </summary>
public sealed class HostileDecodeTests(ITestOutputHelper output)
{
    private readonly ImageDecoder _decoder = new();

    private (string Outcome, Exception? Fault) Try(byte[] bytes, int? minLongestSide = null)
    {
        try
        {
            _decoder.ReadHeader(bytes);
        }
        catch (ImageDecodeException) { }
        catch (Exception ex) { return ("fault", ex); }
        try
        {
            using var image = _decoder.Decode(bytes, minLongestSide);
            return ("decoded", null);
        }
        catch (ImageDecodeException ex) { return (ex.Kind.ToString(), null); }
        catch (Exception ex) { return ("fault", ex); }
    }

    [Fact]
    public void Truncated_and_bit_flipped_files_of_every_format_are_refused_with_typed_errors()
    {
        var cases = HostileCorpus.MediumSeeds.SelectMany(kv => HostileCorpus.Truncations(kv.Key, kv.Value, 24)
                .Concat(HostileCorpus.BitFlips(kv.Key, kv.Value, 12, seed: 1000 + (int)kv.Key)))
            .ToList();
        var outcomes = cases.Select(c => (c, Result: Try(c.Bytes, c.Bytes.Length % 2 == 0 ? 416 : null))).ToList();

        Report(outcomes);
        Assert.Empty(outcomes.Where(o => o.Result.Outcome == "fault").Select(o => $"{o.c.Name}: {o.Result.Fault}"));
        Assert.Empty(outcomes.Where(o => o.Result.Outcome == "decoded" && !o.c.MayDecode).Select(o => o.c.Name));
        Assert.True(cases.Count >= 5 * 30, $"only {cases.Count} cases");
    }

    [Fact]
    public void Decompression_bombs_of_every_format_are_refused_as_too_many_pixels_before_decoding()
    {
        foreach (var bomb in HostileCorpus.Bombs())
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var error = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bomb.Bytes));
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            output.WriteLine($"{bomb.Name}: {error.Kind} ({error.Message}); {allocated} bytes allocated");
            if (bomb.Name == "jpeg-sof-0x0") Assert.Contains(error.Kind, new[] { ImageErrorKind.Corrupt, ImageErrorKind.Truncated });
            else Assert.True(error.Kind == ImageErrorKind.TooManyPixels, $"{bomb.Name}: {error.Kind} ({error.Message})");
            Assert.True(allocated < 1_000_000, $"{bomb.Name}: {allocated} bytes allocated while refusing a bomb");
            Assert.IsType<ImageDecodeException>(Record.Exception(() => _decoder.ReadHeader(bomb.Bytes)) ?? new ImageDecodeException(ImageErrorKind.Corrupt, "header read"));
        }
    }

    [Fact]
    public void Malformed_exif_never_escapes_as_anything_but_a_typed_error()
    {
        var outcomes = HostileCorpus.HostileExif().Select(c => (c, Result: Try(c.Bytes))).ToList();
        Report(outcomes);
        Assert.Empty(outcomes.Where(o => o.Result.Outcome == "fault").Select(o => $"{o.c.Name}: {o.Result.Fault}"));
        Assert.Empty(outcomes.Where(o => o.Result.Outcome == "decoded" && !o.c.MayDecode).Select(o => o.c.Name));
        // The pixels are intact in these: only the metadata is hostile, so the photo itself must still come through.
        foreach (var name in new[] { "exif-ifd-loop", "exif-huge-entry-count", "exif-64kb-app1", "exif-orientation-out-of-range", "exif-ifd0-offset-past-end" })
            Assert.Equal("decoded", outcomes.Single(o => o.c.Name == name).Result.Outcome);
    }

    [Fact]
    public void Non_image_files_with_image_names_are_refused()
    {
        var outcomes = HostileCorpus.NonImages().Append(new HostileFile("zero-length", [])).Select(c => (c, Result: Try(c.Bytes))).ToList();
        Report(outcomes);
        foreach (var (c, result) in outcomes)
        {
            string[] allowed = c.Name switch
            {
                "zero-length" => ["Empty"],
                "bmp-magic-then-text" or "riff-webp-garbage" or "gif-magic-only" or "png-signature-only" or "jpeg-soi-only" or "jpeg-soi-eoi" => ["Corrupt", "Truncated"],
                _ => ["UnsupportedFormat"],
            };
            Assert.True(allowed.Contains(result.Outcome), $"{c.Name}: {result.Outcome} {result.Fault}");
        }
    }

    [Fact]
    public void Os2_bitmap_with_a_core_header_decodes_instead_of_being_called_a_bomb()
    {
        // BITMAPCOREHEADER (12 bytes) keeps 16-bit width and height; reading them as 32-bit made 64×48 look like
        // 3145792×1572865 and the file was refused as "too many pixels".
        var os2 = ExternalTools.ConvertImage(HostileCorpus.Seeds[ImageFormat.Jpeg], ".bmp", "-resize", "64x48!", "-define", "bmp:format=bmp2");
        Assert.Equal(12, BitConverter.ToInt32(os2, 14));
        using var image = _decoder.Decode(os2);
        Assert.Equal((ImageFormat.Bmp, 64, 48), (image.Format, image.Width, image.Height));
        Assert.Equal((ImageFormat.Bmp, 64, 48, 1), _decoder.ReadHeader(os2));
    }

    [Theory]
    [InlineData("bmp-magic-then-text")]
    [InlineData("riff-webp-garbage")]
    public void Text_behind_an_image_signature_is_corrupt_not_a_bomb(string name)
    {
        var file = HostileCorpus.NonImages().Single(f => f.Name == name);
        Assert.Equal(ImageErrorKind.Corrupt, Assert.Throws<ImageDecodeException>(() => _decoder.Decode(file.Bytes)).Kind);
    }

    private void Report(List<(HostileFile c, (string Outcome, Exception? Fault) Result)> outcomes)
    {
        output.WriteLine($"hostile decode cases: {outcomes.Count}; " +
            string.Join(", ", outcomes.GroupBy(o => o.Result.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}")));
        foreach (var o in outcomes.Where(o => o.Result.Outcome is "fault" || (o.Result.Outcome == "decoded" && !o.c.MayDecode)))
            output.WriteLine($"  {o.c.Name}: {o.Result.Outcome} {o.Result.Fault?.GetType().Name} {o.Result.Fault?.Message}");
    }
}
