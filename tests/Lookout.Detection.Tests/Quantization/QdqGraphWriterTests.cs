using System.Runtime.InteropServices;
using Lookout.Detection.Quantization;
using Microsoft.ML.OnnxRuntime;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Lookout.Detection.Tests.Quantization;

/// <summary>The QDQ writer on a small hand-made graph: Conv → SiLU → MaxPool → Conv (head) → output.</summary>
public sealed class QdqGraphWriterTests
{
    private const int Channels = 4;

    [Fact]
    public void Writes_per_channel_weights_int32_bias_shared_pool_parameters_and_leaves_the_head_float()
    {
        var model = SmallGraph();
        var ranges = Ranges(model);
        var (q, summary) = QdqGraphWriter.Write(QdqGraphWriter.Prepare(model), ranges, new HashSet<string>());

        Assert.Equal(["head"], summary.HeadConvolutions);
        Assert.Equal(1, summary.QuantizedConvolutions);
        var init = q.Graph.Initializer.ToDictionary(i => i.Name);
        var w = init["body_weight_quantized"];
        Assert.Equal((int)DataType.Int8, w.DataType);
        var ws = Floats(init["body_weight_scale"]);
        Assert.Equal(Channels, ws.Length);
        // Channel c's weights are (c + 1) × 0.1 × k for k in −1..1: max |w| = (c + 1) × 0.1, scale = that / 127.
        for (int c = 0; c < Channels; c++) Assert.Equal((c + 1) * 0.1f / 127f, ws[c], 6);
        var bias = init["body_bias_quantized"];
        Assert.Equal((int)DataType.Int32, bias.DataType);
        float inputScale = Floats(init["images_scale"])[0];
        var bs = Floats(init["body_bias_scale"]);
        for (int c = 0; c < Channels; c++) Assert.Equal(inputScale * ws[c], bs[c], 8);
        // MaxPool only moves data: its output is quantised with its input's scale and zero point.
        Assert.Equal(Floats(init["silu_scale"])[0], Floats(init["pooled_scale"])[0]);
        Assert.Equal(init["silu_zero_point"].RawData, init["pooled_zero_point"].RawData);
        // The head convolution reads dequantised input but keeps float weights.
        var head = q.Graph.Node.Single(n => n.Name == "head");
        Assert.Equal("pooled_dequantized", head.Input[0]);
        Assert.Equal("head_w", head.Input[1]);
    }

    [Fact]
    public void The_quantised_graph_runs_in_onnx_runtime_fused_and_close_to_float()
    {
        var model = SmallGraph();
        var (q, _) = QdqGraphWriter.Write(QdqGraphWriter.Prepare(model), Ranges(model), new HashSet<string>());
        var input = Input();
        var expected = Run(model.ToByteArray(), input);
        var actual = Run(q.ToByteArray(), input);
        double maxError = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max(), peak = expected.Max(Math.Abs);
        Assert.True(maxError < 0.05 * peak, $"max error {maxError} against peak {peak}");
        var ops = ModelQuantizer.OptimizedOpCounts(q.ToByteArray());
        Assert.Equal(1, ops.GetValueOrDefault("QLinearConv"));
    }

    [Fact]
    public void An_opset_the_writer_cannot_raise_safely_is_refused_with_the_reason()
    {
        var model = SmallGraph();
        model.OpsetImport[0].Version = 11;
        model.Graph.Node.Add(new NodeProto { OpType = "Squeeze", Name = "sq", Input = { "output" }, Output = { "squeezed" } });
        var ex = Assert.Throws<Lookout.Detection.Models.UnsupportedModelException>(() => QdqGraphWriter.Prepare(model));
        Assert.Contains("opset 11", ex.Message);
        Assert.Contains("Squeeze", ex.Message);
    }

    private static float[] Input() => [.. Enumerable.Range(0, 3 * 8 * 8).Select(i => (i * 37 % 101) / 100f)];

    /// <summary>The exact min/max of every tensor on the one input: a calibration of one image.</summary>
    private static Dictionary<string, (float, float)> Ranges(ModelProto model)
    {
        var instrumented = model.Clone();
        foreach (var n in model.Graph.Node) foreach (var o in n.Output)
            if (instrumented.Graph.Output.All(x => x.Name != o)) instrumented.Graph.Output.Add(new ValueInfoProto { Name = o });
        using var session = new InferenceSession(instrumented.ToByteArray());
        var input = Input();
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 8, 8]);
        var names = session.OutputMetadata.Keys.ToArray();
        using var outputs = session.Run(new RunOptions(), ["images"], [value], names);
        var ranges = new Dictionary<string, (float, float)> { ["images"] = (input.Min(), input.Max()) };
        for (int i = 0; i < names.Length; i++)
        {
            var span = outputs[i].GetTensorDataAsSpan<float>().ToArray();
            ranges[names[i]] = (span.Min(), span.Max());
        }
        return ranges;
    }

    private static float[] Run(byte[] onnx, float[] input)
    {
        using var session = new InferenceSession(onnx);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 8, 8]);
        using var outputs = session.Run(new RunOptions(), ["images"], [value], ["output"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] Floats(TensorProto t) => MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();

    private static ModelProto SmallGraph()
    {
        var g = new GraphProto { Name = "small" };
        g.Input.Add(ValueInfo("images", 1, 3, 8, 8));
        g.Output.Add(ValueInfo("output", 1, 2, 4, 4));
        var w = new float[Channels * 3 * 3 * 3];
        for (int i = 0; i < w.Length; i++) w[i] = (i / 27 + 1) * 0.1f * ((i % 3) - 1);
        g.Initializer.Add(Tensor("body_w", w, Channels, 3, 3, 3));
        g.Initializer.Add(Tensor("body_b", [0.05f, -0.1f, 0.2f, 0f], Channels));
        g.Initializer.Add(Tensor("head_w", [.. Enumerable.Range(0, 2 * Channels).Select(i => 0.3f - 0.1f * i)], 2, Channels, 1, 1));
        g.Node.Add(Node("Conv", "body", ["images", "body_w", "body_b"], "conv", ("pads", [1, 1, 1, 1])));
        g.Node.Add(Node("Sigmoid", "sig", ["conv"], "sigmoid"));
        g.Node.Add(Node("Mul", "mul", ["conv", "sigmoid"], "silu"));
        g.Node.Add(Node("MaxPool", "pool", ["silu"], "pooled", ("kernel_shape", [2, 2]), ("strides", [2, 2])));
        g.Node.Add(Node("Conv", "head", ["pooled", "head_w"], "output"));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, params (string Name, long[] Ints)[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        foreach (var (a, ints) in attributes)
            n.Attribute.Add(new AttributeProto { Name = a, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints } });
        return n;
    }

    private static TensorProto Tensor(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(data);
        return t;
    }

    private static ValueInfoProto ValueInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
