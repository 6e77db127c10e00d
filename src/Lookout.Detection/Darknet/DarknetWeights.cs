namespace Lookout.Detection.Darknet;

/// <summary>The stored parameters of one [convolutional] layer, as darknet writes them.</summary>
/// <param name="Kernel">filters × (in_channels/groups) × size × size, the same order as an ONNX Conv weight.</param>
/// <param name="BatchNorm">Null when the layer has no batch_normalize.</param>
public sealed record DarknetConvWeights(float[] Biases, DarknetBatchNorm? BatchNorm, float[] Kernel);

public sealed record DarknetBatchNorm(float[] Scales, float[] RollingMean, float[] RollingVariance);

/// <param name="Convolutions">Keyed by layer index.</param>
public sealed record DarknetWeights(int Major, int Minor, int Revision, long Seen, IReadOnlyDictionary<int, DarknetConvWeights> Convolutions);
