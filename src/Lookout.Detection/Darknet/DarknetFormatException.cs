namespace Lookout.Detection.Darknet;

/// <summary>A Darknet .cfg or .weights file that cannot be imported as it stands.</summary>
public sealed class DarknetFormatException : Exception
{
    public DarknetFormatException(string message) : base(message) { }

    public DarknetFormatException(string message, Exception inner) : base(message, inner) { }
}
