using Google.Protobuf;
using Onnx;

namespace Lookout.Server.Tests;

/// <summary>Small valid ONNX graphs that are not detectors, written with the same protobuf types the Darknet importer uses.</summary>
internal static class TinyOnnx
{
    /// <summary>Two image inputs added together: a valid model, but a detector has one input.</summary>
    public static byte[] TwoInputs() => Model(
        [Value("a", 1, 3, 32, 32), Value("b", 1, 3, 32, 32)], [Value("sum", 1, 3, 32, 32)],
        new NodeProto { OpType = "Add", Input = { "a", "b" }, Output = { "sum" } });

    /// <summary>One image in, three numbers out ([1,3]): no detector layout has that shape.</summary>
    public static byte[] NotADetector() => Model(
        [Value("images", 1, 3, 64, 64)], [Value("scores", 1, 3)],
        new NodeProto { OpType = "GlobalAveragePool", Input = { "images" }, Output = { "pooled" } },
        new NodeProto { OpType = "Flatten", Input = { "pooled" }, Output = { "scores" } });

    private static byte[] Model(ValueInfoProto[] inputs, ValueInfoProto[] outputs, params NodeProto[] nodes)
    {
        var graph = new GraphProto { Name = "not-a-detector" };
        graph.Input.AddRange(inputs);
        graph.Output.AddRange(outputs);
        graph.Node.AddRange(nodes);
        var model = new ModelProto { IrVersion = 7, ProducerName = "Lookout tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
