namespace Lookout.Detection.Darknet;

/// <param name="OnnxBytes">A serialised ONNX model: input <c>images</c> float [1,3,H,W] RGB 0..1,
/// output <c>output</c> float [1, N, 5+C] rows (cx, cy, w, h, objectness, class probabilities).</param>
/// <param name="ClassNames">From the .names file when one was given.</param>
public sealed record DarknetModel(byte[] OnnxBytes, int InputWidth, int InputHeight, int ClassCount, IReadOnlyList<string>? ClassNames);
