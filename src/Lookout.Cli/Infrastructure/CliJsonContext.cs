using System.Text.Json.Serialization;
using Lookout.Cli.Commands;

namespace Lookout.Cli.Infrastructure;

/// <summary>Source-generated JSON for the CLI's own reports (models list, eval); snake_case like the result JSON.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ModelListReport))]
[JsonSerializable(typeof(EvalReport))]
public sealed partial class CliJsonContext : JsonSerializerContext;
