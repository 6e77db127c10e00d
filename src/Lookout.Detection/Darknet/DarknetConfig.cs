namespace Lookout.Detection.Darknet;

/// <param name="SourceName">The cfg's file name, used in error messages.</param>
public sealed record DarknetConfig(string SourceName, int Width, int Height, int Channels, IReadOnlyList<DarknetLayer> Layers)
{
    public IEnumerable<DarknetYoloLayer> YoloLayers => Layers.OfType<DarknetYoloLayer>();

    /// <summary>A Darknet network may only have one class count, because all heads feed one output.</summary>
    public int ClassCount => YoloLayers.Select(y => y.Classes).FirstOrDefault();
}
