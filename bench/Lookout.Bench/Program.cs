using Lookout.Bench;

// Benchmarks report figures; they never fail on timing.
//   dotnet run -c Release --project bench/Lookout.Bench -- pipeline [iterations]
//   dotnet run -c Release --project bench/Lookout.Bench -- http [requests-per-level]
//   dotnet run -c Release --project bench/Lookout.Bench -- darknet [runs [model [image]]]
//   dotnet run -c Release --project bench/Lookout.Bench -- soak [--seconds N] [--clients N]
//   dotnet run -c Release --project bench/Lookout.Bench -- int8 FLOAT.onnx=INT8.onnx [...] [--rounds N]
var mode = args.FirstOrDefault() ?? "pipeline";
return mode switch
{
    "pipeline" => await PipelineBench.RunAsync(args.Skip(1).ToArray()),
    "http" => await HttpBench.RunAsync(args.Skip(1).ToArray()),
    "darknet" => await DarknetBench.RunAsync(args.Skip(1).ToArray()),
    "soak" => await SoakBench.RunAsync(args.Skip(1).ToArray()),
    "int8" => await Int8Bench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Lookout.Bench pipeline [iterations] | http [requests-per-level] | darknet [runs [model [image]]] | soak [--seconds N] [--clients N] | int8 FLOAT.onnx=INT8.onnx [...] [--rounds N]");
    return 1;
}
