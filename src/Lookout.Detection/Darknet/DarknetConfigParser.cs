using System.Globalization;

namespace Lookout.Detection.Darknet;

/// <summary>Reads a Darknet .cfg. Strict on purpose: a key it does not know could change the
/// network (e.g. stride_x, dilation, new_coords), so anything unknown is refused rather than ignored.</summary>
public static class DarknetConfigParser
{
    // Training-only keys: they change how darknet learns, never what the network computes.
    private static readonly HashSet<string> IgnoredNetKeys =
    [
        "batch", "subdivisions", "momentum", "decay", "angle", "saturation", "exposure", "hue",
        "learning_rate", "burn_in", "max_batches", "policy", "steps", "scales", "step", "gamma", "power",
        "mosaic", "mosaic_bound", "cutmix", "mixup", "flip", "blur", "gaussian_noise", "letter_box",
        "aspect", "min_crop", "max_crop", "adam", "b1", "b2", "eps", "max_chart_loss", "track",
        "time_steps", "label_smooth_eps", "ema_alpha", "loss_scale", "dynamic_minibatch",
        "optimized_memory", "workspace_size_limit_mb", "seed",
    ];

    private static readonly HashSet<string> IgnoredYoloKeys =
    [
        "jitter", "ignore_thresh", "truth_thresh", "random", "iou_normalizer", "iou_loss", "nms_kind",
        "beta_nms", "cls_normalizer", "max_delta", "resize", "counters_per_class", "label_smooth_eps",
        "iou_thresh", "obj_normalizer", "delta_normalizer", "iou_thresh_kind", "focal_loss",
        "objectness_smooth", "max",
    ];

    private static readonly HashSet<string> IgnoredDropoutKeys =
        ["probability", "dropblock", "dropblock_size_rel", "dropblock_size_abs"];

    public static DarknetConfig ParseFile(string path) =>
        Parse(File.ReadAllText(path), Path.GetFileName(path));

    public static DarknetConfig Parse(string text, string sourceName)
    {
        var sections = ReadSections(text, sourceName);
        if (sections.Count == 0 || sections[0].Name is not ("net" or "network"))
        {
            throw new DarknetFormatException(sections.Count == 0
                ? $"{sourceName} has no sections; a Darknet cfg starts with [net]."
                : $"{sourceName} line {sections[0].Line}: the first section is [{sections[0].Name}], but a Darknet cfg starts with [net].");
        }

        var net = sections[0];
        int width = net.Int("width", 416), height = net.Int("height", 416), channels = net.Int("channels", 3);
        net.RejectUnused(IgnoredNetKeys);
        if (width <= 0 || height <= 0 || channels <= 0)
        {
            throw net.Error($"[net] width, height and channels must be positive (got {width}, {height}, {channels})");
        }

        var layers = new List<DarknetLayer>();
        foreach (var section in sections.Skip(1))
        {
            layers.Add(ParseLayer(section, layers.Count));
        }

        if (!layers.OfType<DarknetYoloLayer>().Any())
        {
            throw new DarknetFormatException($"{sourceName} has no [yolo] section, so the network has no detection output.");
        }

        var classCounts = layers.OfType<DarknetYoloLayer>().Select(y => y.Classes).Distinct().ToList();
        if (classCounts.Count > 1)
        {
            throw new DarknetFormatException($"{sourceName}: its [yolo] sections disagree on classes ({string.Join(", ", classCounts)}).");
        }

        return new DarknetConfig(sourceName, width, height, channels, layers);
    }

    private static DarknetLayer ParseLayer(Section s, int index)
    {
        DarknetLayer layer = s.Name switch
        {
            "convolutional" or "conv" => ParseConvolutional(s),
            "shortcut" => new DarknetShortcutLayer(s.Line, s.LayerIndex("from", index, required: true), s.Activation("activation", DarknetActivation.Linear)),
            "route" => ParseRoute(s, index),
            "upsample" => new DarknetUpsampleLayer(s.Line, s.Positive("stride", 2)),
            "maxpool" or "max" => ParseMaxPool(s),
            "dropout" => new DarknetDropoutLayer(s.Line),
            "yolo" => ParseYolo(s),
            _ => throw new DarknetFormatException($"{s.Source} line {s.Line}: unsupported section [{s.Name}]"),
        };
        s.RejectUnused(s.Name switch
        {
            "yolo" => IgnoredYoloKeys,
            "dropout" => IgnoredDropoutKeys,
            _ => [],
        });
        return layer;
    }

    private static DarknetConvolutionalLayer ParseConvolutional(Section s)
    {
        int filters = s.Positive("filters", 1);
        int size = s.Positive("size", 1);
        int stride = s.Positive("stride", 1);
        bool pad = s.Int("pad", 0) != 0;
        int padding = s.Int("padding", 0);
        int groups = s.Positive("groups", 1);
        bool batchNormalize = s.Int("batch_normalize", 0) != 0;
        var activation = s.Activation("activation", DarknetActivation.Logistic);
        if (filters % groups != 0)
        {
            throw s.Error($"filters={filters} is not divisible by groups={groups}");
        }

        // darknet: "if(pad) padding = size/2;" - pad=1 overrides any padding= value.
        return new DarknetConvolutionalLayer(s.Line, filters, size, stride, pad ? size / 2 : padding, groups, batchNormalize, activation);
    }

    private static DarknetRouteLayer ParseRoute(Section s, int index)
    {
        var sources = s.IntList("layers", required: true).Select(v => ResolveIndex(s, "layers", v, index)).ToList();
        int groups = s.Positive("groups", 1);
        int groupId = s.Int("group_id", 0);
        if (groupId < 0 || groupId >= groups)
        {
            throw s.Error($"group_id={groupId} is outside 0..{groups - 1}");
        }

        return new DarknetRouteLayer(s.Line, sources, groups, groupId);
    }

    private static DarknetMaxPoolLayer ParseMaxPool(Section s)
    {
        int stride = s.Positive("stride", 1);
        int size = s.Positive("size", stride);
        // darknet's default total padding is size-1, which is what keeps the stride-1 SPP pools at
        // the input size and turns a 13x13 map into 7x7 rather than 6x6 at stride 2.
        int padding = s.Int("padding", size - 1);
        return new DarknetMaxPoolLayer(s.Line, size, stride, padding);
    }

    private static DarknetYoloLayer ParseYolo(Section s)
    {
        int classes = s.Positive("classes", 20);
        var anchorValues = s.FloatList("anchors");
        int num = s.Positive("num", Math.Max(1, anchorValues.Count / 2));
        if (anchorValues.Count != num * 2)
        {
            throw s.Error($"anchors has {anchorValues.Count} numbers, but num={num} needs {num * 2}");
        }

        var mask = s.Has("mask") ? s.IntList("mask", required: true) : Enumerable.Range(0, num).ToList();
        var anchors = new List<(float, float)>();
        foreach (int m in mask)
        {
            if (m < 0 || m >= num)
            {
                throw s.Error($"mask entry {m} is outside the {num} anchors");
            }

            anchors.Add((anchorValues[2 * m], anchorValues[2 * m + 1]));
        }

        float scaleXY = s.Float("scale_x_y", 1f);
        return new DarknetYoloLayer(s.Line, anchors, classes, scaleXY);
    }

    private static int ResolveIndex(Section s, string key, int value, int index)
    {
        int resolved = value < 0 ? index + value : value;
        if (resolved < 0 || resolved >= index)
        {
            throw s.Error($"{key} refers to layer {value} (index {resolved}), but only layers 0..{index - 1} come before this one");
        }

        return resolved;
    }

    private static List<Section> ReadSections(string text, string sourceName)
    {
        var sections = new List<Section>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            string line = lines[i];
            int comment = line.IndexOfAny(['#', ';']);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '[')
            {
                if (line[^1] != ']')
                {
                    throw new DarknetFormatException($"{sourceName} line {lineNumber}: section header '{line}' has no closing ']'");
                }

                sections.Add(new Section(sourceName, line[1..^1].Trim().ToLowerInvariant(), lineNumber));
                continue;
            }

            int eq = line.IndexOf('=');
            if (eq <= 0)
            {
                throw new DarknetFormatException($"{sourceName} line {lineNumber}: expected key=value, got '{line}'");
            }

            if (sections.Count == 0)
            {
                throw new DarknetFormatException($"{sourceName} line {lineNumber}: key '{line[..eq].Trim()}' comes before any section");
            }

            sections[^1].Add(line[..eq].Trim().ToLowerInvariant(), line[(eq + 1)..].Trim(), lineNumber);
        }

        return sections;
    }

    /// <summary>One [section] with its key=value entries; tracks which keys were read so that the
    /// rest can be refused.</summary>
    private sealed class Section(string source, string name, int line)
    {
        private readonly Dictionary<string, (string Value, int Line)> _entries = [];
        private readonly HashSet<string> _used = [];

        public string Source { get; } = source;

        public string Name { get; } = name;

        public int Line { get; } = line;

        public void Add(string key, string value, int line)
        {
            if (!_entries.TryAdd(key, (value, line)))
            {
                throw new DarknetFormatException($"{Source} line {line}: key '{key}' appears twice in [{Name}] (first at line {_entries[key].Line})");
            }
        }

        public bool Has(string key) => _entries.ContainsKey(key);

        public DarknetFormatException Error(string message) =>
            new($"{Source} line {Line}: [{Name}] {message}");

        public void RejectUnused(HashSet<string> ignorable)
        {
            foreach (var (key, entry) in _entries.OrderBy(e => e.Value.Line))
            {
                if (!_used.Contains(key) && !ignorable.Contains(key))
                {
                    throw new DarknetFormatException($"{Source} line {entry.Line}: unsupported key '{key}' in [{Name}]");
                }
            }
        }

        public int Int(string key, int fallback)
        {
            if (!TryGet(key, out var value, out int line))
            {
                return fallback;
            }

            return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result)
                ? result
                : throw new DarknetFormatException($"{Source} line {line}: '{key}' must be an integer, got '{value}'");
        }

        public int Positive(string key, int fallback)
        {
            int value = Int(key, fallback);
            return value > 0 ? value : throw new DarknetFormatException($"{Source} line {LineOf(key)}: '{key}' must be positive, got {value}");
        }

        public float Float(string key, float fallback)
        {
            if (!TryGet(key, out var value, out int line))
            {
                return fallback;
            }

            return float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float result)
                ? result
                : throw new DarknetFormatException($"{Source} line {line}: '{key}' must be a number, got '{value}'");
        }

        public List<int> IntList(string key, bool required) =>
            List(key, required, (string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v), "integers");

        public List<float> FloatList(string key) =>
            List(key, required: true, (string s, out float v) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v), "numbers");

        public int LayerIndex(string key, int index, bool required)
        {
            var values = IntList(key, required);
            if (values.Count != 1)
            {
                throw new DarknetFormatException($"{Source} line {LineOf(key)}: '{key}' must be a single layer index");
            }

            return ResolveIndex(this, key, values[0], index);
        }

        public DarknetActivation Activation(string key, DarknetActivation fallback)
        {
            if (!TryGet(key, out var value, out int line))
            {
                return fallback;
            }

            return value.ToLowerInvariant() switch
            {
                "linear" => DarknetActivation.Linear,
                "leaky" => DarknetActivation.Leaky,
                "relu" => DarknetActivation.Relu,
                "mish" => DarknetActivation.Mish,
                "swish" => DarknetActivation.Swish,
                "logistic" => DarknetActivation.Logistic,
                _ => throw new DarknetFormatException($"{Source} line {line}: unsupported activation '{value}'"),
            };
        }

        private delegate bool TryParse<T>(string text, out T value);

        private List<T> List<T>(string key, bool required, TryParse<T> parse, string what)
        {
            if (!TryGet(key, out var value, out int line))
            {
                return required ? throw Error($"needs '{key}'") : [];
            }

            var result = new List<T>();
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length == 0 && result.Count > 0)
                {
                    continue; // a trailing comma, as some published cfgs have
                }

                result.Add(parse(part, out T v) ? v : throw new DarknetFormatException($"{Source} line {line}: '{key}' must be a list of {what}, got '{value}'"));
            }

            return result;
        }

        private bool TryGet(string key, out string value, out int line)
        {
            _used.Add(key);
            if (_entries.TryGetValue(key, out var entry))
            {
                (value, line) = entry;
                return true;
            }

            (value, line) = ("", Line);
            return false;
        }

        private int LineOf(string key) => _entries.TryGetValue(key, out var e) ? e.Line : Line;
    }
}
