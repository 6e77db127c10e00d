namespace Lookout.Detection.Models;

/// <summary>A model whose input or output Lookout cannot interpret; the message says what was found.</summary>
public sealed class UnsupportedModelException(string message) : Exception(message);

/// <summary>Recognises a detector's output layout from its shape, so models need no hand-written config.</summary>
public static class OutputLayout
{
    private static readonly int[] Strides = [8, 16, 32];

    /// <param name="family">A family the caller already knows ("yolox", "darknet"…), or null to infer it.</param>
    /// <param name="knownClassCount">The number of class names known from metadata, to disambiguate, or null.</param>
    public static ModelHead Recognise(IReadOnlyList<long> shape, int inputWidth, int inputHeight, string? family, int? knownClassCount = null)
    {
        int cells = Strides.Sum(s => (inputWidth / s) * (inputHeight / s));
        string found = $"[{string.Join(",", shape)}]";
        if (shape.Count != 3 || shape[0] != 1 || shape[1] <= 0 || shape[2] <= 0)
            throw Unrecognised(found, inputWidth, inputHeight, cells);

        int a = (int)shape[1], b = (int)shape[2];
        switch (family?.ToLowerInvariant())
        {
            case "yolox" when b > 5 && a == cells:
                return new YoloxHead(b - 5, inputWidth, inputHeight, Strides);
            case "yolox":
                throw new UnsupportedModelException($"A YOLOX model must output [1,{cells},5+C] for a {inputWidth}×{inputHeight} input; this one outputs {found}.");
            case "darknet" or "yolov5" when b > 5:
                return new ObjectnessRowsHead(b - 5, a);
        }

        if (a == cells && b > 5 && family is null or "") return new YoloxHead(b - 5, inputWidth, inputHeight, Strides);
        if (b == 6 && a <= 1000) return new EndToEndHead(knownClassCount ?? 80, a);
        // Decoded rows: any number of anchors and heads (YOLOv5 P5/P6, Darknet's two-head tiny models…).
        if (a > b && b > 5) return new ObjectnessRowsHead(b - 5, a);
        // Channel-major: YOLOv8/11 at any stride set.
        if (b > a && a > 4) return new ChannelMajorHead(a - 4, b);
        throw Unrecognised(found, inputWidth, inputHeight, cells);
    }

    private static UnsupportedModelException Unrecognised(string found, int w, int h, int cells) => new(
        $"The model's output {found} is not a detector layout Lookout recognises for a {w}×{h} input. Expected " +
        $"[1,{cells},5+C] (YOLOX, raw grid), [1,N,5+C] with N > 5+C (YOLOv5 / Darknet, decoded rows), " +
        $"[1,4+C,N] with N > 4+C (YOLOv8 / YOLO11) or [1,K≤1000,6] (end-to-end with NMS in the graph).");
}
