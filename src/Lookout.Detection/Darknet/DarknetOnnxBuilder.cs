using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Lookout.Detection.Darknet;

/// <summary>Turns a parsed Darknet network into an ONNX graph whose single output has the
/// Ultralytics YOLOv5 layout, so the engine's YOLOv5 head can consume it unchanged.</summary>
public sealed class DarknetOnnxBuilder
{
    public const string InputName = "images";
    public const string OutputName = "output";
    public const int Opset = 13;

    // Darknet itself is not consistent here: its unfused forward divides by sqrt(variance) + 1e-6,
    // its fused inference path by sqrt(variance + 1e-5). OpenCV's importer uses sqrt(variance + 1e-6),
    // which sits between the two; we follow OpenCV so the two independent importers agree exactly
    // (on Yolo-Fastest-XL the first form moves one head value by 1e-3).
    private const double BatchNormEpsilon = 0.000001;
    private const float LeakySlope = 0.1f;

    private readonly DarknetConfig _config;
    private readonly IReadOnlyList<DarknetShape> _shapes;
    private readonly DarknetWeights _weights;
    private readonly DarknetImportOptions _options;
    private readonly GraphProto _graph = new() { Name = "darknet" };
    private int _nodeCount;

    private DarknetOnnxBuilder(DarknetConfig config, IReadOnlyList<DarknetShape> shapes, DarknetWeights weights, DarknetImportOptions options)
    {
        _config = config;
        _shapes = shapes;
        _weights = weights;
        _options = options;
    }

    public static ModelProto Build(DarknetConfig config, IReadOnlyList<DarknetShape> shapes, DarknetWeights weights,
        DarknetImportOptions? options = null, IReadOnlyList<string>? classNames = null)
    {
        var builder = new DarknetOnnxBuilder(config, shapes, weights, options ?? new DarknetImportOptions());
        var model = new ModelProto
        {
            IrVersion = 7,
            ProducerName = "Lookout.Detection.Darknet",
            Graph = builder.BuildGraph(),
            DocString = $"Converted from {config.SourceName}",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        // Tells Lookout, when the exported file is loaded by path, to feed it the Darknet letterbox (grey 0.5 padding).
        model.MetadataProps.Add(new StringStringEntryProto { Key = Models.DetectionModel.FamilyMetadataKey, Value = "darknet" });
        if (classNames is not null)
        {
            // The same "names" metadata Ultralytics exports carry.
            model.MetadataProps.Add(new StringStringEntryProto { Key = "names", Value = Models.ClassNames.FormatUltralyticsNames(classNames) });
        }

        return model;
    }

    private GraphProto BuildGraph()
    {
        _graph.Input.Add(ValueInfo(InputName, 1, _config.Channels, _config.Height, _config.Width));
        var outputs = new string[_config.Layers.Count];
        var heads = new List<string>();
        int rows = 0;
        for (int i = 0; i < _config.Layers.Count; i++)
        {
            string input = i == 0 ? InputName : outputs[i - 1];
            var inputShape = i == 0 ? new DarknetShape(_config.Channels, _config.Height, _config.Width) : _shapes[i - 1];
            outputs[i] = _config.Layers[i] switch
            {
                DarknetConvolutionalLayer conv => Convolution(i, conv, input, inputShape),
                DarknetShortcutLayer s => Activate(Node("Add", [input, outputs[s.From]]), s.Activation),
                DarknetRouteLayer r => Route(r, outputs),
                DarknetUpsampleLayer up => Node("Resize", [input, "", FloatConstant("scales", [1, 1, up.Stride, up.Stride], 4)],
                    ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor")),
                DarknetMaxPoolLayer pool => MaxPool(pool, input),
                DarknetDropoutLayer => input,
                DarknetYoloLayer yolo => input,
                var other => throw new DarknetFormatException($"{_config.SourceName} line {other.Line}: no ONNX translation for {other.GetType().Name}"),
            };

            if (_config.Layers[i] is DarknetYoloLayer head)
            {
                if (_options.IncludeRawHeadOutputs)
                {
                    string rawName = $"yolo{heads.Count}_raw";
                    _graph.Node.Add(NewNode("Identity", [input], rawName));
                    _graph.Output.Add(ValueInfo(rawName, 1, inputShape.Channels, inputShape.Height, inputShape.Width));
                }

                heads.Add(DecodeHead(head, input, inputShape));
                rows += head.Anchors.Count * inputShape.Height * inputShape.Width;
            }
        }

        _graph.Node.Add(NewNode("Concat", heads, OutputName, ("axis", 1L)));
        _graph.Output.Insert(0, ValueInfo(OutputName, 1, rows, 5 + _config.ClassCount));
        return _graph;
    }

    private string Convolution(int index, DarknetConvolutionalLayer conv, string input, DarknetShape inputShape)
    {
        var w = _weights.Convolutions[index];
        int perFilter = w.Kernel.Length / conv.Filters;
        var kernel = new float[w.Kernel.Length];
        var bias = new float[conv.Filters];
        for (int f = 0; f < conv.Filters; f++)
        {
            // Fold batch norm into the conv so inference runs one op instead of three.
            double k = 1, b = w.Biases[f];
            if (w.BatchNorm is { } bn)
            {
                k = bn.Scales[f] / Math.Sqrt(bn.RollingVariance[f] + BatchNormEpsilon);
                b = w.Biases[f] - bn.RollingMean[f] * k;
            }

            for (int j = f * perFilter; j < (f + 1) * perFilter; j++)
            {
                kernel[j] = (float)(w.Kernel[j] * k);
            }

            bias[f] = (float)b;
        }

        string weightName = Initializer($"conv{index}_w", kernel, conv.Filters, inputShape.Channels / conv.Groups, conv.Size, conv.Size);
        string biasName = Initializer($"conv{index}_b", bias, conv.Filters);
        string output = Node("Conv", [input, weightName, biasName],
            ("kernel_shape", new long[] { conv.Size, conv.Size }),
            ("strides", new long[] { conv.Stride, conv.Stride }),
            ("pads", new long[] { conv.Padding, conv.Padding, conv.Padding, conv.Padding }),
            ("group", (long)conv.Groups));
        return Activate(output, conv.Activation);
    }

    private string Activate(string x, DarknetActivation activation) => activation switch
    {
        DarknetActivation.Linear => x,
        DarknetActivation.Leaky => Node("LeakyRelu", [x], ("alpha", LeakySlope)),
        DarknetActivation.Relu => Node("Relu", [x]),
        DarknetActivation.Logistic => Node("Sigmoid", [x]),
        // Mish is only an ONNX op from opset 18; this spelling runs on any runtime.
        DarknetActivation.Mish => Node("Mul", [x, Node("Tanh", [Node("Softplus", [x])])]),
        DarknetActivation.Swish => Node("Mul", [x, Node("Sigmoid", [x])]),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    private string Route(DarknetRouteLayer route, string[] outputs)
    {
        var parts = new List<string>();
        foreach (int source in route.Sources)
        {
            if (route.Groups == 1)
            {
                parts.Add(outputs[source]);
                continue;
            }

            int size = _shapes[source].Channels / route.Groups;
            parts.Add(Node("Slice", [outputs[source],
                LongConstant("starts", [route.GroupId * size]),
                LongConstant("ends", [(route.GroupId + 1) * size]),
                LongConstant("axes", [1])]));
        }

        return parts.Count == 1 ? parts[0] : Node("Concat", parts, ("axis", 1L));
    }

    private string MaxPool(DarknetMaxPoolLayer pool, string input)
    {
        // darknet starts the window at -padding/2 and clips at the far edge, i.e. the odd pixel
        // of padding goes after; ONNX pads are [top, left, bottom, right].
        long before = pool.Padding / 2, after = pool.Padding - pool.Padding / 2;
        return Node("MaxPool", [input],
            ("kernel_shape", new long[] { pool.Size, pool.Size }),
            ("strides", new long[] { pool.Stride, pool.Stride }),
            ("pads", new long[] { before, before, after, after }));
    }

    /// <summary>[1, A*(5+C), Gh, Gw] → [1, A*Gh*Gw, 5+C] rows of (cx, cy, w, h) in input pixels,
    /// sigmoid objectness, sigmoid class probabilities; rows ordered anchor, y, x as Ultralytics does.</summary>
    private string DecodeHead(DarknetYoloLayer yolo, string input, DarknetShape shape)
    {
        int a = yolo.Anchors.Count, c = yolo.Classes, gh = shape.Height, gw = shape.Width;
        string grid = Node("Transpose", [Node("Reshape", [input, LongConstant("shape", [1, a, 5 + c, gh, gw])])],
            ("perm", new long[] { 0, 1, 3, 4, 2 }));
        var pieces = Nodes("Split", [grid, LongConstant("split", [2, 2, 1 + c])], 3, ("axis", 4L));

        float s = yolo.ScaleXY;
        var offsets = new float[gh * gw * 2];
        for (int y = 0; y < gh; y++)
        {
            for (int x = 0; x < gw; x++)
            {
                offsets[(y * gw + x) * 2] = x - 0.5f * (s - 1);
                offsets[(y * gw + x) * 2 + 1] = y - 0.5f * (s - 1);
            }
        }

        string xy = Node("Sigmoid", [pieces[0]]);
        if (s != 1f)
        {
            xy = Node("Mul", [xy, FloatConstant("scale_x_y", [s])]);
        }

        xy = Node("Add", [xy, FloatConstant("grid", offsets, 1, 1, gh, gw, 2)]);
        xy = Node("Mul", [xy, FloatConstant("cell", [(float)_config.Width / gw, (float)_config.Height / gh], 2)]);

        var anchors = yolo.Anchors.SelectMany(p => new[] { p.Width, p.Height }).ToArray();
        string wh = Node("Mul", [Node("Exp", [pieces[1]]), FloatConstant("anchors", anchors, 1, a, 1, 1, 2)]);
        string scores = Node("Sigmoid", [pieces[2]]);

        string decoded = Node("Concat", [xy, wh, scores], ("axis", 4L));
        return Node("Reshape", [decoded, LongConstant("shape", [1, a * gh * gw, 5 + c])]);
    }

    private string Node(string op, IReadOnlyList<string> inputs, params (string Name, object Value)[] attributes) =>
        Nodes(op, inputs, 1, attributes)[0];

    private string[] Nodes(string op, IReadOnlyList<string> inputs, int outputCount, params (string Name, object Value)[] attributes)
    {
        int id = _nodeCount++;
        var outputs = Enumerable.Range(0, outputCount).Select(k => outputCount == 1 ? $"{op.ToLowerInvariant()}_{id}" : $"{op.ToLowerInvariant()}_{id}_{k}").ToArray();
        var node = NewNode(op, inputs, outputs[0], attributes);
        for (int k = 1; k < outputs.Length; k++)
        {
            node.Output.Add(outputs[k]);
        }

        _graph.Node.Add(node);
        return outputs;
    }

    private NodeProto NewNode(string op, IReadOnlyList<string> inputs, string output, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            var attribute = new AttributeProto { Name = name };
            switch (value)
            {
                case long l:
                    attribute.Type = AttributeProto.Types.AttributeType.Int;
                    attribute.I = l;
                    break;
                case float f:
                    attribute.Type = AttributeProto.Types.AttributeType.Float;
                    attribute.F = f;
                    break;
                case string str:
                    attribute.Type = AttributeProto.Types.AttributeType.String;
                    attribute.S = ByteString.CopyFromUtf8(str);
                    break;
                case long[] ints:
                    attribute.Type = AttributeProto.Types.AttributeType.Ints;
                    attribute.Ints.AddRange(ints);
                    break;
                default:
                    throw new ArgumentException($"attribute {name} has unsupported type {value.GetType()}");
            }

            node.Attribute.Add(attribute);
        }

        return node;
    }

    private string Initializer(string name, float[] data, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        _graph.Initializer.Add(tensor);
        return name;
    }

    private string FloatConstant(string name, float[] data, params long[] dims) =>
        Initializer($"{name}_{_graph.Initializer.Count}", data, dims.Length == 0 ? [data.Length] : dims);

    private string LongConstant(string name, long[] data)
    {
        var tensor = new TensorProto { Name = $"{name}_{_graph.Initializer.Count}", DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(data.Length);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private static ValueInfoProto ValueInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
