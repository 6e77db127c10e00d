using Google.Protobuf;

namespace Lookout.Detection.Darknet;

public static class DarknetImporter
{
    public static DarknetModel Import(string cfgPath, string weightsPath, string? namesPath = null, DarknetImportOptions? options = null)
    {
        var config = DarknetConfigParser.ParseFile(cfgPath);
        var shapes = DarknetShapes.Infer(config);
        var weights = DarknetWeightsReader.Read(weightsPath, config, shapes);
        var names = namesPath is null ? null : ReadNames(namesPath, config);
        var model = DarknetOnnxBuilder.Build(config, shapes, weights, options, names);
        return new DarknetModel(model.ToByteArray(), config.Width, config.Height, config.ClassCount, names);
    }

    private static List<string> ReadNames(string path, DarknetConfig config)
    {
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (names.Count != config.ClassCount)
        {
            throw new DarknetFormatException($"{Path.GetFileName(path)} has {names.Count} class names, but {config.SourceName} has {config.ClassCount} classes.");
        }

        return names;
    }
}
