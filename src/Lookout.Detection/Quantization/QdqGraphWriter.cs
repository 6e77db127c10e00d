using Lookout.Detection.Models;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Lookout.Detection.Quantization;

/// <summary>uint8 parameters of one activation tensor: real = (q − zero point) × scale.</summary>
public sealed record ActivationParameters(float Scale, byte ZeroPoint)
{
    /// <summary>Parameters whose range always holds 0 exactly (padding and ReLU-like zeros stay exact).</summary>
    public static ActivationParameters FromRange(float low, float high)
    {
        low = Math.Min(low, 0);
        high = Math.Max(high, 0);
        if (high - low < 1e-12f) return new ActivationParameters(1f, 0);
        float scale = (high - low) / 255f;
        return new ActivationParameters(scale, (byte)Math.Clamp(Math.Round(-low / scale), 0, 255));
    }
}

/// <summary>What the writer did to the graph.</summary>
public sealed record QdqGraphSummary(int QuantizedNodes, int QuantizedConvolutions, IReadOnlyList<string> FloatConvolutions,
    IReadOnlyList<string> HeadConvolutions, IReadOnlyDictionary<string, int> QuantizedByOp);

/// <summary>
/// Rewrites a float graph as a static QDQ graph that ONNX Runtime's CPU provider fuses into its int8 kernels
/// (QLinearConv, QLinearAdd, QLinearMul, QLinearSigmoid, QLinearConcat…):
/// <list type="bullet">
/// <item>Conv (and MatMul/Gemm with constant weights): weights int8, symmetric, one scale per output channel; bias
/// int32 with scale = input scale × weight scale, zero point 0;</item>
/// <item>activations uint8, asymmetric, one scale per tensor from calibration; a tensor between two quantised
/// nodes gets one QuantizeLinear → DequantizeLinear pair, and every consumer of a quantised node's output reads the
/// DequantizeLinear (so the producer's only consumer is its Q, which fusion needs);</item>
/// <item>ops that only move data (MaxPool, Resize, Split, Slice, Reshape, Transpose) pass their input's parameters
/// on, and so does a Concat whose inputs share one set, so they run on uint8 without requantising;</item>
/// <item>the detection head's last convolutions and everything after them (the decoding) stay float, as do the
/// layers the caller names.</item>
/// </list>
/// </summary>
public static class QdqGraphWriter
{
    /// <summary>Ops that only move or select values: their output is quantised exactly like their input.</summary>
    private static readonly HashSet<string> DataMovement = ["MaxPool", "Resize", "Split", "Slice", "Reshape", "Transpose"];

    private static readonly HashSet<string> WeightOps = ["Conv", "MatMul", "Gemm"];
    private static readonly HashSet<string> Elementwise = ["Add", "Mul", "Sigmoid", "LeakyRelu", "AveragePool", "GlobalAveragePool", "Concat"];

    /// <summary>Op types whose meaning did not change between opset 10 and 13, so an older graph can be raised to 13
    /// (per-channel DequantizeLinear needs 13) without touching its nodes.</summary>
    private static readonly HashSet<string> StableToOpset13 =
    [
        "Conv", "Sigmoid", "Mul", "Add", "Sub", "Div", "Concat", "Slice", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Shape", "Reshape", "Resize", "Transpose", "Constant", "Relu", "LeakyRelu", "Gather", "Cast", "Exp", "Pow", "Sqrt",
        "ConstantOfShape", "Range", "Expand", "Tile", "Floor", "Ceil", "Neg", "Clip", "HardSigmoid", "Equal", "Where",
    ];

    public const int MinimumOpset = 13;

    /// <summary>
    /// The graph's Conv/Gemm/MatMul nodes that the writer keeps float whatever the caller asks: those the graph's
    /// outputs are reached from through no other convolution (the head's last convolutions). A single-output-channel
    /// convolution (YOLOv8's DFL expectation, fixed weights) is part of the decoding, so the walk goes through it.
    /// </summary>
    public static IReadOnlySet<string> HeadNodes(ModelProto model)
    {
        var graph = new OnnxGraph(model);
        var head = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(model.Graph.Output.Select(o => o.Name));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            var tensor = stack.Pop();
            if (!seen.Add(tensor) || graph.Producer(tensor) is not { } node) continue;
            head.Add(node.Name);
            bool stop = WeightOps.Contains(node.OpType) && !IsSingleChannelConv(graph, node);
            if (stop) continue;
            foreach (var i in node.Input) if (i.Length > 0) stack.Push(i);
        }
        return head;
    }

    private static bool IsSingleChannelConv(OnnxGraph graph, NodeProto node) =>
        node.OpType == "Conv" && graph.Constant(node.Input[1]) is { } w && w.Dims.Count == 4 && w.Dims[0] == 1;

    /// <summary>Gives unnamed nodes names (layers are named in reports and in the float list) and raises an old opset to 13.</summary>
    public static ModelProto Prepare(ModelProto source)
    {
        var model = source.Clone();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Node.Count; i++)
        {
            var node = model.Graph.Node[i];
            if (node.Name.Length == 0 || !names.Add(node.Name))
            {
                node.Name = $"{node.OpType}_{i}";
                names.Add(node.Name);
            }
        }
        var graph = new OnnxGraph(model);
        if (graph.Opset < MinimumOpset)
        {
            var unstable = model.Graph.Node.Select(n => n.OpType).Where(op => !StableToOpset13.Contains(op)).Distinct().ToList();
            if (unstable.Count > 0)
                throw new UnsupportedModelException($"The model uses ONNX opset {graph.Opset}; per-channel int8 weights need opset {MinimumOpset}, " +
                    $"and its {string.Join(", ", unstable)} nodes changed meaning since. Re-export it with opset {MinimumOpset} or newer.");
            foreach (var o in model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx")) o.Version = MinimumOpset;
            if (model.IrVersion < 7) model.IrVersion = 7;
        }
        return model;
    }

    /// <param name="model">A graph from <see cref="Prepare"/>.</param>
    /// <param name="ranges">Calibrated range of each float activation.</param>
    /// <param name="keepFloat">Names of Conv/Gemm/MatMul nodes to leave float (the sensitivity step's choice).</param>
    /// <param name="convolutionsOnly">Quantise only Conv/Gemm/MatMul (and the data movement between them); activations
    /// such as SiLU's Sigmoid and Mul then run in float between a DequantizeLinear and a QuantizeLinear.</param>
    public static (ModelProto Model, QdqGraphSummary Summary) Write(ModelProto model, IReadOnlyDictionary<string, (float Low, float High)> ranges,
        IReadOnlySet<string> keepFloat, bool convolutionsOnly = false)
    {
        var graph = new OnnxGraph(model);
        var head = HeadNodes(model);
        var quantised = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);

        bool IsActivation(string t) => t.Length > 0 && !graph.IsConstant(t) && ranges.ContainsKey(t);
        bool IsFloatConstant(string t) => graph.Constant(t) is { DataType: (int)DataType.Float };

        foreach (var node in model.Graph.Node)
        {
            if (head.Contains(node.Name) || keepFloat.Contains(node.Name)) continue;
            var inputs = DataInputs(node);
            if (inputs.Count == 0 || node.Output.Any(o => o.Length > 0 && !ranges.ContainsKey(o))) continue;
            if (WeightOps.Contains(node.OpType))
            {
                if (!IsActivation(node.Input[0]) || !HasQuantisableWeight(graph, node)) continue;
            }
            else if (DataMovement.Contains(node.OpType) || (Elementwise.Contains(node.OpType) && !convolutionsOnly))
            {
                if (!inputs.All(i => IsActivation(i) || IsFloatConstant(i))) continue;
                // Only where int8 already flows: a lone quantised op between float ones would just add Q/DQ work.
                if (!inputs.Any(i => graph.Producer(i) is { } p && quantised.Contains(p))) continue;
                if (DataMovement.Contains(node.OpType) && node.Output.Count(o => o.Length > 0) == 0) continue;
            }
            else continue;
            quantised.Add(node);
        }

        // Parameters per activation: data movement passes its input's on; a Concat whose inputs agree keeps theirs.
        var parameters = new Dictionary<string, ActivationParameters>(StringComparer.Ordinal);
        ActivationParameters ParametersOf(string t)
        {
            if (parameters.TryGetValue(t, out var p)) return p;
            var producer = graph.Producer(t);
            if (producer is not null && quantised.Contains(producer) && DataMovement.Contains(producer.OpType))
                p = ParametersOf(producer.Input[0]);
            else if (producer is not null && quantised.Contains(producer) && producer.OpType == "Concat"
                     && producer.Input.Select(ParametersOf).Distinct().Count() == 1)
                p = ParametersOf(producer.Input[0]);
            else if (graph.Constant(t) is { } c)
            {
                var data = OnnxGraph.FloatData(c);
                p = ActivationParameters.FromRange(data.Length == 0 ? 0 : data.Min(), data.Length == 0 ? 0 : data.Max());
            }
            else
            {
                var (low, high) = ranges[t];
                p = ActivationParameters.FromRange(low, high);
            }
            parameters[t] = p;
            return p;
        }

        // Tensors that get a Q → DQ pair: inputs and outputs of quantised nodes.
        var qdq = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in quantised)
        {
            foreach (var i in DataInputs(node)) qdq.Add(i);
            foreach (var o in node.Output) if (o.Length > 0) qdq.Add(o);
        }

        var output = model.Clone();
        output.Graph.Node.Clear();
        var newGraph = output.Graph;
        var dequantised = new Dictionary<string, string>(StringComparer.Ordinal);

        void EmitQdq(string t)
        {
            var p = ParametersOf(t);
            string scale = $"{t}_scale", zero = $"{t}_zero_point";
            newGraph.Initializer.Add(OnnxGraph.Tensor(scale, DataType.Float, [p.Scale]));
            newGraph.Initializer.Add(OnnxGraph.Tensor(zero, DataType.Uint8, [p.ZeroPoint]));
            if (graph.Constant(t) is { } c)
            {
                // A constant operand (Add/Mul): stored as uint8, dequantised in the graph.
                var data = OnnxGraph.FloatData(c);
                var q = data.Select(v => (byte)Math.Clamp(Math.Round(v / p.Scale) + p.ZeroPoint, 0, 255)).ToArray();
                newGraph.Initializer.Add(OnnxGraph.Tensor($"{t}_quantized", DataType.Uint8, q, OnnxGraph.Dims(c)));
                newGraph.Node.Add(OnnxGraph.Node("DequantizeLinear", $"{t}_DequantizeLinear", [$"{t}_quantized", scale, zero], [$"{t}_dequantized"]));
            }
            else
            {
                newGraph.Node.Add(OnnxGraph.Node("QuantizeLinear", $"{t}_QuantizeLinear", [t, scale, zero], [$"{t}_quantized"]));
                newGraph.Node.Add(OnnxGraph.Node("DequantizeLinear", $"{t}_DequantizeLinear", [$"{t}_quantized", scale, zero], [$"{t}_dequantized"]));
            }
            dequantised[t] = $"{t}_dequantized";
        }

        foreach (var t in qdq.Where(t => graph.Producer(t) is null)) EmitQdq(t); // graph inputs and constants
        int quantisedConvs = 0;
        foreach (var original in model.Graph.Node)
        {
            var node = original.Clone();
            bool isQuantised = quantised.Contains(original);
            for (int k = 0; k < node.Input.Count; k++)
            {
                var t = node.Input[k];
                if (!dequantised.TryGetValue(t, out var dq)) continue;
                // A quantised producer's output is read through its DQ by everyone; otherwise only quantised consumers.
                bool producerQuantised = graph.Producer(t) is { } p && quantised.Contains(p);
                if (producerQuantised || (isQuantised && DataInputs(original).Contains(t))) node.Input[k] = dq;
            }
            if (isQuantised && WeightOps.Contains(node.OpType))
            {
                QuantiseWeights(graph, original, node, ParametersOf(original.Input[0]).Scale, newGraph);
                quantisedConvs += node.OpType == "Conv" ? 1 : 0;
            }
            newGraph.Node.Add(node);
            foreach (var o in original.Output) if (qdq.Contains(o)) EmitQdq(o);
        }
        RemoveUnusedInitializers(newGraph);

        var convs = model.Graph.Node.Where(n => n.OpType == "Conv").ToList();
        var summary = new QdqGraphSummary(quantised.Count, quantisedConvs,
            convs.Where(n => !quantised.Contains(n) && !head.Contains(n.Name)).Select(n => n.Name).ToList(),
            convs.Where(n => head.Contains(n.Name)).Select(n => n.Name).ToList(),
            quantised.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count()));
        return (output, summary);
    }

    /// <summary>The inputs of a node that carry activations (not weights, shapes, scales or indices).</summary>
    private static List<string> DataInputs(NodeProto node) => node.OpType switch
    {
        "Add" or "Mul" or "Concat" => node.Input.Where(i => i.Length > 0).ToList(),
        _ => node.Input.Count > 0 && node.Input[0].Length > 0 ? [node.Input[0]] : [],
    };

    private static bool HasQuantisableWeight(OnnxGraph graph, NodeProto node)
    {
        if (node.Input.Count < 2 || graph.Constant(node.Input[1]) is not { DataType: (int)DataType.Float } w) return false;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && graph.Constant(node.Input[2]) is not { DataType: (int)DataType.Float }) return false;
        return node.OpType switch
        {
            "Conv" => w.Dims.Count >= 3,
            "MatMul" => w.Dims.Count == 2,
            "Gemm" => w.Dims.Count == 2 && OnnxGraph.IntAttribute(node, "transA", 0) == 0
                      && node.Attribute.Where(a => a.Name is "alpha" or "beta").All(a => a.F == 1f),
            _ => false,
        };
    }

    /// <summary>Per-output-channel symmetric int8 weights and int32 bias, each behind a DequantizeLinear.</summary>
    private static void QuantiseWeights(OnnxGraph graph, NodeProto original, NodeProto node, float inputScale, GraphProto target)
    {
        var w = graph.Constant(original.Input[1])!;
        var data = OnnxGraph.FloatData(w);
        var dims = OnnxGraph.Dims(w);
        // The output channel's axis: Conv weights are [M, C/g, kH, kW]; MatMul B is [K, N]; Gemm B is [K, N] or, with transB, [N, K].
        int axis = original.OpType switch
        {
            "Conv" => 0,
            "Gemm" when OnnxGraph.IntAttribute(original, "transB", 0) == 1 => 0,
            _ => 1,
        };
        int channels = (int)dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.Length; d++) inner *= dims[d];
        var maxAbs = new float[channels];
        for (long i = 0; i < data.Length; i++)
        {
            int c = (int)(i / inner % channels);
            maxAbs[c] = Math.Max(maxAbs[c], Math.Abs(data[i]));
        }
        var scales = maxAbs.Select(m => m > 0 ? m / 127f : 1f).ToArray();
        var q = new sbyte[data.Length];
        for (long i = 0; i < data.Length; i++)
        {
            int c = (int)(i / inner % channels);
            q[i] = (sbyte)Math.Clamp(Math.Round(data[i] / scales[c]), -127, 127);
        }
        string prefix = node.Name;
        target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_weight_quantized", DataType.Int8, q, dims));
        target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_weight_scale", DataType.Float, scales, channels));
        target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_weight_zero_point", DataType.Int8, new sbyte[channels], channels));
        target.Node.Add(OnnxGraph.Node("DequantizeLinear", $"{prefix}_weight_DequantizeLinear",
            [$"{prefix}_weight_quantized", $"{prefix}_weight_scale", $"{prefix}_weight_zero_point"], [$"{prefix}_weight_dequantized"], axis));
        node.Input[1] = $"{prefix}_weight_dequantized";

        if (original.Input.Count > 2 && original.Input[2].Length > 0)
        {
            var bias = OnnxGraph.FloatData(graph.Constant(original.Input[2])!);
            if (bias.Length != channels) return; // a broadcast Gemm bias: left float
            var biasScales = scales.Select(s => s * inputScale).ToArray();
            var qb = bias.Select((b, c) => (int)Math.Clamp(Math.Round(b / biasScales[c]), int.MinValue + 1, int.MaxValue)).ToArray();
            target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_bias_quantized", DataType.Int32, qb, channels));
            target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_bias_scale", DataType.Float, biasScales, channels));
            target.Initializer.Add(OnnxGraph.Tensor($"{prefix}_bias_zero_point", DataType.Int32, new int[channels], channels));
            target.Node.Add(OnnxGraph.Node("DequantizeLinear", $"{prefix}_bias_DequantizeLinear",
                [$"{prefix}_bias_quantized", $"{prefix}_bias_scale", $"{prefix}_bias_zero_point"], [$"{prefix}_bias_dequantized"], 0));
            node.Input[2] = $"{prefix}_bias_dequantized";
        }
    }

    private static void RemoveUnusedInitializers(GraphProto graph)
    {
        var used = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        var keep = graph.Initializer.Where(i => used.Contains(i.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(keep);
        // Inputs that merely declared the removed float weights (IR < 4 style) go with them.
        var inputs = graph.Input.Where(i => used.Contains(i.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
    }
}
