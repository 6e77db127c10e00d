namespace Lookout.Detection.Darknet;

public sealed record DarknetImportOptions
{
    /// <summary>Also expose each [yolo] head's undecoded conv output as a graph output named
    /// <c>yolo{k}_raw</c> (k = head order in the cfg), shape [1, A*(5+C), Gh, Gw]. For checking the
    /// network against another implementation; inference does not need it.</summary>
    public bool IncludeRawHeadOutputs { get; init; }
}
