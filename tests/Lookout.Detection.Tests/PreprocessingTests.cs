using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Detection.Tests;

public sealed class PreprocessingTests
{
    /// <summary>
    /// The tensor Lookout feeds YOLOX equals what OpenCV's cv2.resize(INTER_LINEAR) gives for the same pixels (the
    /// reference pipelines' preprocessing), within the ±1 that cv2's 8-bit fixed-point rounding allows.
    /// </summary>
    [Theory]
    [InlineData("dog.jpg")]
    [InlineData("street.jpg")]
    public void Letterboxed_tensor_matches_cv2_resize(string name)
    {
        using var image = new ImageDecoder().Decode(TestAssets.Bytes(name));
        var dir = Directory.CreateTempSubdirectory("lookout-resize-");
        try
        {
            // The decoded pixels as a lossless PNG, so both sides start from identical bytes.
            var png = Path.Combine(dir.FullName, "in.png");
            File.WriteAllBytes(png, ImageFactory.Encode(image.Pixels, SKEncodedImageFormat.Png));
            var spec = PreprocessSpec.Yolox;
            var tensor = new float[3 * 416 * 416];
            var box = TensorWriter.Write(image.Pixels, 416, 416, spec, tensor);
            var raw = Path.Combine(dir.FullName, "cv2.bgr");
            ExternalTools.RunPython("cv2_resize.py", "python3-opencv", TimeSpan.FromMinutes(1),
                png, box.ResizedWidth.ToString(), box.ResizedHeight.ToString(), raw);
            var cv2 = File.ReadAllBytes(raw);

            double worst = 0;
            for (int y = 0; y < box.ResizedHeight; y++)
                for (int x = 0; x < box.ResizedWidth; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        float ours = tensor[c * 416 * 416 + (y + box.PadTop) * 416 + x + box.PadLeft];
                        worst = Math.Max(worst, Math.Abs(ours - cv2[(y * box.ResizedWidth + x) * 3 + c]));
                    }
            Assert.True(worst <= 1.0, $"largest difference from cv2.resize: {worst:0.000}");
            Assert.Equal(114f, tensor[3 * 416 * 416 - 1]); // padding, bottom-right corner
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
