using Lookout.Bench;

// Benchmarks report figures; they never fail on timing.
//   dotnet run -c Release --project bench/Lookout.Bench -- pipeline [iterations]
//   dotnet run -c Release --project bench/Lookout.Bench -- models [rounds [image [threads]]]   (YOLOX-Nano vs YOLOv8n fp32 / INT8)
//   dotnet run -c Release --project bench/Lookout.Bench -- http [rounds [requests-per-batch [server args…]]]
//   dotnet run -c Release --project bench/Lookout.Bench -- first [starts [server dll]]   (first request after /readyz)
//   dotnet run -c Release --project bench/Lookout.Bench -- darknet [runs [model [image]]]
//   dotnet run -c Release --project bench/Lookout.Bench -- soak [--seconds N] [--clients N]
//   dotnet run -c Release --project bench/Lookout.Bench -- enlarge IMAGES FACTOR OUT [COCO_JSON]   (bench/large-photos.sh)
//   dotnet run -c Release --project bench/Lookout.Bench -- batch [rounds]
//   dotnet run -c Release --project bench/Lookout.Bench -- int8 FLOAT.onnx=INT8.onnx [...] [--rounds N]
var mode = args.FirstOrDefault() ?? "pipeline";
return mode switch
{
    "pipeline" => await PipelineBench.RunAsync(args.Skip(1).ToArray()),
    "models" => await ModelsBench.RunAsync(args.Skip(1).ToArray()),
    "http" => await HttpBench.RunAsync(args.Skip(1).ToArray()),
    "darknet" => await DarknetBench.RunAsync(args.Skip(1).ToArray()),
    "soak" => await SoakBench.RunAsync(args.Skip(1).ToArray()),
    "enlarge" => EnlargeSet.Run(args.Skip(1).ToArray()),
    "batch" => await BatchBench.RunAsync(args.Skip(1).ToArray()),
    "int8" => await Int8Bench.RunAsync(args.Skip(1).ToArray()),
    "first" => await FirstRequestBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Lookout.Bench pipeline [iterations] | models [rounds [image [threads]]] | http [rounds [requests-per-batch [server args]]] | first [starts [server dll]] | darknet [runs [model [image]]] | soak [--seconds N] [--clients N] | enlarge IMAGES FACTOR OUT [COCO_JSON] | batch [rounds] | int8 FLOAT.onnx=INT8.onnx [...] [--rounds N]");
    return 1;
}
