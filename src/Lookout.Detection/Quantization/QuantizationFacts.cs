using System.Globalization;

namespace Lookout.Detection.Quantization;

/// <summary>
/// What an int8 file records about how it was made, in its ONNX metadata (string pairs, beside the source's own), so
/// the catalogue can show it as int8 with its source and an operator can tell how it was checked.
/// </summary>
public sealed record QuantizationFacts(
    string Source,
    string SourceSha256,
    int CalibrationImages,
    string Method,
    IReadOnlyList<string> FloatLayers,
    string Gate)
{
    public const string PrecisionKey = "lookout_precision";
    public const string SourceKey = "lookout_quantized_from";
    public const string SourceShaKey = "lookout_source_sha256";
    public const string CalibrationKey = "lookout_calibration_images";
    public const string MethodKey = "lookout_quantization_method";
    public const string FloatLayersKey = "lookout_float_layers";
    public const string GateKey = "lookout_gate";

    public IEnumerable<(string Key, string Value)> ToMetadata()
    {
        yield return (PrecisionKey, "int8");
        yield return (SourceKey, Source);
        yield return (SourceShaKey, SourceSha256);
        yield return (CalibrationKey, CalibrationImages.ToString(CultureInfo.InvariantCulture));
        yield return (MethodKey, Method);
        yield return (FloatLayersKey, string.Join(";", FloatLayers));
        yield return (GateKey, Gate);
    }

    /// <summary>The facts of an int8 file, or null for a model Lookout did not quantise.</summary>
    public static QuantizationFacts? Read(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.GetValueOrDefault(PrecisionKey) != "int8") return null;
        return new QuantizationFacts(
            metadata.GetValueOrDefault(SourceKey, ""),
            metadata.GetValueOrDefault(SourceShaKey, ""),
            int.TryParse(metadata.GetValueOrDefault(CalibrationKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0,
            metadata.GetValueOrDefault(MethodKey, ""),
            metadata.GetValueOrDefault(FloatLayersKey, "").Split(';', StringSplitOptions.RemoveEmptyEntries),
            metadata.GetValueOrDefault(GateKey, ""));
    }

    /// <summary>
    /// Reads the facts from a model file's metadata without loading the model into ONNX Runtime, and without parsing
    /// its graph: only ModelProto's top-level fields are walked and the graph's bytes (nearly the whole file) are
    /// skipped, so a listing can afford it.
    /// </summary>
    public static QuantizationFacts? ReadFile(string onnxPath)
    {
        const int MetadataPropsField = 14; // onnx.proto: repeated StringStringEntryProto metadata_props = 14
        using var stream = File.OpenRead(onnxPath);
        using var input = new Google.Protobuf.CodedInputStream(stream);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) == MetadataPropsField
                    && Google.Protobuf.WireFormat.GetTagWireType(tag) == Google.Protobuf.WireFormat.WireType.LengthDelimited)
                {
                    var entry = new Onnx.StringStringEntryProto();
                    input.ReadMessage(entry);
                    metadata[entry.Key] = entry.Value;
                }
                else input.SkipLastField();
            }
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null; // not an ONNX file: it has no facts, and loading it will say what is wrong
        }
        return Read(metadata);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Size, DateTime LastWriteUtc, QuantizationFacts? Facts)> FileCache =
        new(StringComparer.Ordinal);

    /// <summary><see cref="ReadFile"/>, read again only when the file's size or time changes (listings ask often).</summary>
    public static QuantizationFacts? ReadFileCached(string onnxPath, long size, DateTime lastWriteUtc)
    {
        if (FileCache.TryGetValue(onnxPath, out var hit) && hit.Size == size && hit.LastWriteUtc == lastWriteUtc) return hit.Facts;
        QuantizationFacts? facts;
        try { facts = ReadFile(onnxPath); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
        FileCache[onnxPath] = (size, lastWriteUtc, facts);
        return facts;
    }
}
