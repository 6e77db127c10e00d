using Microsoft.ML.OnnxRuntime;

namespace Lookout.Detection.Tests.Darknet;

internal static class OnnxRunner
{
    public static Dictionary<string, Blob> Run(byte[] model, float[] input, int[] shape)
    {
        using var session = new InferenceSession(model);
        return Run(session, input, shape);
    }

    public static Dictionary<string, Blob> Run(InferenceSession session, float[] input, int[] shape)
    {
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape.Select(d => (long)d).ToArray());
        var names = session.OutputNames.ToArray();
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["images"], [inputValue], names);
        var result = new Dictionary<string, Blob>();
        for (int i = 0; i < names.Length; i++)
        {
            var info = outputs[i].GetTensorTypeAndShape();
            result[names[i]] = new Blob(info.Shape.Select(d => (int)d).ToArray(), outputs[i].GetTensorDataAsSpan<float>().ToArray());
        }

        return result;
    }
}
