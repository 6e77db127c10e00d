using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Lookout.Detection.Quantization;

/// <summary>
/// Read access to an ONNX graph for the quantiser: who produces and who consumes each tensor, the constant tensors
/// (initializers and Constant nodes), and small helpers to build nodes and initializers the way the Darknet builder does.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);

    public OnnxGraph(ModelProto model)
    {
        Model = model;
        foreach (var init in model.Graph.Initializer) _constants[init.Name] = init;
        foreach (var node in model.Graph.Node)
        {
            foreach (var o in node.Output) if (o.Length > 0) _producer[o] = node;
            foreach (var i in node.Input)
            {
                if (i.Length == 0) continue;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                list.Add(node);
            }
            if (node.OpType == "Constant" && node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } t })
                _constants[node.Output[0]] = t;
        }
    }

    public ModelProto Model { get; }
    public GraphProto Graph => Model.Graph;

    public NodeProto? Producer(string tensor) => _producer.GetValueOrDefault(tensor);
    public IReadOnlyList<NodeProto> Consumers(string tensor) => _consumers.TryGetValue(tensor, out var l) ? l : [];
    public bool IsConstant(string tensor) => _constants.ContainsKey(tensor);
    public TensorProto? Constant(string tensor) => _constants.GetValueOrDefault(tensor);
    public bool IsGraphOutput(string tensor) => Graph.Output.Any(o => o.Name == tensor);

    /// <summary>The opset of the default ONNX domain.</summary>
    public long Opset => Model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0;

    public static float[] FloatData(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"Tensor '{tensor.Name}' is not float32 (ONNX type {tensor.DataType}).");
        if (!tensor.RawData.IsEmpty) return MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        return [.. tensor.FloatData];
    }

    public static long[] Dims(TensorProto tensor) => [.. tensor.Dims];

    public static TensorProto Tensor<T>(string name, TensorProto.Types.DataType type, T[] data, params long[] dims) where T : struct
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return tensor;
    }

    public static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, long? axis = null)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        if (axis is { } a)
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
        return node;
    }

    /// <summary>The attribute's integer, or <paramref name="fallback"/>.</summary>
    public static long IntAttribute(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;
}
