using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CbpGpu.Agent.Settings;
using CbpGpu.Runner.Commands;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// `train --config FILE` and `sweep --config FILE` (docs/sweeps.md#config): the config.json becomes the flags that ask
/// for it, placed before the command line's own, and flags given on the command line win. So a config file can say
/// exactly what flags can, and is checked by the same code: unknown keys, wrong types and settings no flag can
/// produce are usage errors naming the key.
/// </summary>
public static class ConfigArguments
{
    public const string Name = "--config";

    private static readonly JsonSerializerOptions Strict = new()
    {
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>The option as help shows it; <see cref="Expand"/> replaces it before parsing.</summary>
    public static System.CommandLine.Option<string> Option() => OptionFactory.Text(
        Name, "FILE", "start from this config.json (one a run wrote, or by hand); flags given here override it (default: none)", required: false);

    public static string[] Expand(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("train" or "sweep")) return args;
        int at = Array.IndexOf(args, Name);
        if (at < 0) return args;
        if (at + 1 >= args.Length || args[at + 1].StartsWith("--", StringComparison.Ordinal))
            throw new UsageException($"{Name} needs a FILE: a config.json written by train, or one like it");
        if (Array.IndexOf(args, Name, at + 1) >= 0) throw new UsageException($"{Name} is given twice; give it once");
        string path = args[at + 1];
        var config = Load(path);
        var train = new TrainCommand();
        var flags = train.FlagsFor(config).ToList();
        CheckEveryKeyHasAFlag(path, config, flags);

        string[] rest = [.. args.Where((_, i) => i != 0 && i != at && i != at + 1)];
        var given = rest.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
        bool sweep = args[0] == "sweep";
        // A sweep's grid sets its flags per run: the file's values of them are left out, not reported as given twice.
        var gridFlags = sweep ? GridFlags(args).ToHashSet() : [];
        int method = Array.IndexOf(rest, "--method");
        bool otherMethod = !sweep && method >= 0 && method + 1 < rest.Length && !string.Equals(rest[method + 1], "cbp", StringComparison.OrdinalIgnoreCase);
        var expanded = new List<string> { args[0] };
        foreach (var (option, values) in flags)
        {
            if (given.Contains(option.Name)) continue;
            // A sweep names its own methods and seeds; another preset or method given drops what only the file's applies to.
            if (sweep && option.Name is "--method" or "--seed") continue;
            if (gridFlags.Contains(option.Name)) continue;
            if (given.Contains("--preset") && option.Name is "--friction" or "--change-every" or "--frictions") continue;
            if (otherMethod && train.CbpOnlyOptions.Contains(option)) continue;
            // Evaluation switched off on the command line drops the file's episode count, which needs it on.
            if (option.Name == "--eval-episodes" && EvaluationSwitchedOff(rest)) continue;
            expanded.Add(option.Name);
            expanded.AddRange(values);
        }
        expanded.AddRange(rest);
        return [.. expanded];
    }

    /// <summary>The flags a sweep's --grid or --grid-file names (docs/sweeps.md#grids), read without checking them.</summary>
    private static IEnumerable<string> GridFlags(string[] args)
    {
        int grid = Array.IndexOf(args, SweepCommand.GridName), file = Array.IndexOf(args, SweepCommand.GridFileName);
        if (grid >= 0 && grid + 1 < args.Length) return SweepGrid.FlagsNamed(args[grid + 1]);
        if (file >= 0 && file + 1 < args.Length) return SweepGrid.FlagsNamed(SweepCommand.ReadGridFile(args[file + 1]));
        return [];
    }

    private static bool EvaluationSwitchedOff(string[] args)
    {
        int at = Array.LastIndexOf(args, "--eval-every");
        return at >= 0 && at + 1 < args.Length && ScaledNumber.TryParse(args[at + 1], out double every) && every == 0;
    }

    private static TrainConfig Load(string path)
    {
        string text;
        if (Directory.Exists(path))
            throw new UsageException($"{Name} {path}: is a directory; give the {CbpGpu.Agent.Training.RunDirectory.ConfigFile} inside it ({System.IO.Path.Combine(path, CbpGpu.Agent.Training.RunDirectory.ConfigFile)})");
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{Name} {path}: cannot read it: {e.Message}");
        }
        try
        {
            return JsonSerializer.Deserialize<TrainConfig>(text, Strict) ?? throw new JsonException("the file holds null", "$", null, null);
        }
        catch (JsonException e)
        {
            string key = e.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "(top level)";
            string what = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? $"unknown key {key}"
                : e.Message.Contains("missing required properties", StringComparison.Ordinal)
                    ? $"missing key {(key == "(top level)" ? "" : key + ".")}{e.Message[(e.Message.LastIndexOf(": ", StringComparison.Ordinal) + 2)..].Trim('\'', '.')}"
                : $"key {key} has the wrong type or value";
            throw new UsageException($"{Name} {path}: {what}; see docs/formats.md#configjson");
        }
    }

    /// <summary>Settings without a flag (learning rate, network width, ...) must be what the flags give, or the run would silently differ from the file.</summary>
    private static void CheckEveryKeyHasAFlag(string path, TrainConfig config, List<(System.CommandLine.Option Option, string[] Values)> flags)
    {
        string[] args = ["train", .. flags.SelectMany(f => new[] { f.Option.Name }.Concat(f.Values)), "--out", "."];
        var parsed = RunnerCommandLine.Create().Parse(args);
        TrainConfig fromFlags;
        try
        {
            if (parsed.Errors.Count > 0) throw new UsageException(ParseErrorMessage.Describe(parsed));
            fromFlags = ((TrainCommand)parsed.CommandResult.Command).Read(parsed).Config;
        }
        catch (UsageException e)
        {
            throw new UsageException($"{Name} {path}: its settings cannot run: {e.Message}");
        }
        if (FirstDifference("", JsonNode.Parse(config.ToJson()), JsonNode.Parse(fromFlags.ToJson())) is string key)
            throw new UsageException($"{Name} {path}: {key}; no flag sets it, so change it back");
    }

    private static string? FirstDifference(string path, JsonNode? file, JsonNode? flags)
    {
        if (file is JsonObject a && flags is JsonObject b)
        {
            foreach (var (key, value) in a)
                if (FirstDifference(path.Length == 0 ? key : $"{path}.{key}", value, b[key]) is string d) return d;
            return null;
        }
        string fa = file?.ToJsonString() ?? "null", fb = flags?.ToJsonString() ?? "null";
        return fa == fb ? null : $"{path} is {fa} where the flags give {fb}";
    }
}
