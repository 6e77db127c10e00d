namespace Lookout.Detection.Darknet;

/// <summary>One section of a Darknet cfg after [net]. <see cref="Line"/> is the section header's
/// line, kept so that later stages (shapes, weights) can point at the cfg text.</summary>
public abstract record DarknetLayer(int Line);

/// <param name="Padding">Already resolved from pad/padding the way darknet does.</param>
public sealed record DarknetConvolutionalLayer(
    int Line, int Filters, int Size, int Stride, int Padding, int Groups, bool BatchNormalize,
    DarknetActivation Activation) : DarknetLayer(Line);

/// <param name="From">Absolute index of the layer added to the previous one.</param>
public sealed record DarknetShortcutLayer(int Line, int From, DarknetActivation Activation) : DarknetLayer(Line);

/// <param name="Sources">Absolute indices of the concatenated layers.</param>
/// <param name="Groups">Each source is cut into this many channel groups and only
/// <paramref name="GroupId"/> is kept (the yolov4-tiny CSP trick).</param>
public sealed record DarknetRouteLayer(int Line, IReadOnlyList<int> Sources, int Groups, int GroupId) : DarknetLayer(Line);

public sealed record DarknetUpsampleLayer(int Line, int Stride) : DarknetLayer(Line);

/// <param name="Padding">Total padding per spatial axis; darknet puts Padding/2 before and the rest after.</param>
public sealed record DarknetMaxPoolLayer(int Line, int Size, int Stride, int Padding) : DarknetLayer(Line);

/// <summary>Identity at inference time.</summary>
public sealed record DarknetDropoutLayer(int Line) : DarknetLayer(Line);

/// <param name="Anchors">The anchors this head uses (already picked by mask), in input pixels.</param>
public sealed record DarknetYoloLayer(
    int Line, IReadOnlyList<(float Width, float Height)> Anchors, int Classes, float ScaleXY) : DarknetLayer(Line);
