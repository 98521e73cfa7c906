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
        // The methods that will run: --method's (train), --methods' (sweep), else the file's.
        var runMethods = RunMethods(rest, sweep, train) ?? [config.Ppo.Method];
        var otherMethods = runMethods.Where(m => m != config.Ppo.Method).ToList();
        if (otherMethods.Count > 0) CheckOptimizerUntuned(path, config, otherMethods, given);
        var expanded = new List<string> { args[0] };
        foreach (var (option, values) in flags)
        {
            if (given.Contains(option.Name)) continue;
            // A sweep names its own methods and seeds; another preset or method given drops what only the file's applies to.
            if (sweep && (option.Name == "--method" || option.Name == RunSettings.Flags.Seed.Flag)) continue;
            if (gridFlags.Contains(option.Name)) continue;
            if (given.Contains("--preset") && PresetOwn.Contains(option.Name)) continue;
            // Another method brings its own optimizer and settings (issue 25): the file's L2 is left out, and so are its
            // method's settings unless a method run takes them (a sweep then passes them to that method's runs only).
            if (otherMethods.Count > 0 && (option.Name == MethodDependentFlag || !runMethods.Any(m => train.AppliesTo(option, m)))) continue;
            // Evaluation switched off on the command line drops the file's episode count, which needs it on.
            if (option.Name == EvalSettings.Flags.Episodes.Flag && EvaluationSwitchedOff(rest)) continue;
            expanded.Add(option.Name);
            expanded.AddRange(values);
        }
        expanded.AddRange(rest);
        return [.. expanded];
    }

    /// <summary>The flags a sweep's --grid or --grid-file names (docs/sweeps.md#grids), read without checking them.</summary>
    /// <summary>The one optimizer setting a flag sets that each method's preset chooses (Adam's betas follow --method and --learner).</summary>
    private static readonly string MethodDependentFlag = PpoSettings.Flags.WeightDecay.Flag;

    /// <summary>The env settings that only the file's preset takes: another --preset given drops them.</summary>
    private static readonly string[] PresetOwn = [EnvSettings.Flags.Friction.Flag, EnvSettings.Flags.ChangeEvery.Flag, EnvSettings.Flags.Frictions.Flag];

    /// <summary>--method's method (train) or --methods' (sweep) when given and all known (else the parser reports them), or null.</summary>
    private static List<CbpGpu.Agent.Settings.PpoMethod>? RunMethods(string[] rest, bool sweep, TrainCommand train)
    {
        int at = Array.IndexOf(rest, sweep ? "--methods" : "--method");
        if (at < 0 || at + 1 >= rest.Length) return null;
        var methods = rest[at + 1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(train.MethodOf).ToList();
        return methods.Count == 0 || methods.Any(m => m is null) ? null : [.. methods.Select(m => m!.Value)];
    }

    /// <summary>
    /// A file of one method given to another (issue 25): the other takes its own optimizer (and its own settings block,
    /// the file's is left out), so an L2 the file changed from its method's preset would be silently lost; it is refused
    /// naming the key, unless the command line sets it.
    /// </summary>
    private static void CheckOptimizerUntuned(string path, TrainConfig config, List<CbpGpu.Agent.Settings.PpoMethod> others, HashSet<string> given)
    {
        var method = CbpGpu.Agent.Methods.MethodRegistry.Get(config.Ppo.Method);
        var preset = TrainCommand.IsSeed2023Learner(config.Ppo) ? method.Seed2023Adam : method.Nature2024Adam;
        var tuned = new List<string>();
        if (config.Ppo.Adam.WeightDecay != preset.WeightDecay && !given.Contains(MethodDependentFlag)) tuned.Add($"{TrainSettings.Learner.JsonKey}.{PpoSettings.Flags.WeightDecay.JsonName}");
        if (tuned.Count == 0) return;
        string names = string.Join(", ", others.Select(m => CbpGpu.Agent.Methods.MethodRegistry.Get(m).Word));
        throw new UsageException($"{Name} {path}: {string.Join(", ", tuned)} {(tuned.Count == 1 ? "is" : "are")} {method.Word}'s own setting{(tuned.Count == 1 ? "" : "s")}, " +
            $"changed from its preset, and {names} bring{(others.Count == 1 ? "s" : "")} {(others.Count == 1 ? "its" : "their")} own; give the flag for it or drop the other method");
    }

    private static IEnumerable<string> GridFlags(string[] args)
    {
        int grid = Array.IndexOf(args, SweepCommand.GridName), file = Array.IndexOf(args, SweepCommand.GridFileName);
        if (grid >= 0 && grid + 1 < args.Length) return SweepGrid.FlagsNamed(args[grid + 1]);
        if (file >= 0 && file + 1 < args.Length) return SweepGrid.FlagsNamed(SweepCommand.ReadGridFile(args[file + 1]));
        return [];
    }

    private static bool EvaluationSwitchedOff(string[] args)
    {
        int at = Array.LastIndexOf(args, EvalSettings.Flags.Every.Flag);
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
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            // Not JSON at all (a wrong file, a torn copy): say where the reader stopped, not which key is wrong.
            throw new UsageException($"{Name} {path}: is not JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1} of the line): give a run's {CbpGpu.Agent.Training.RunDirectory.ConfigFile}; see docs/formats.md#configjson");
        }
        if (node is not JsonObject root)
            throw new UsageException($"{Name} {path}: is JSON but not an object ({{ ... }}); give a run's {CbpGpu.Agent.Training.RunDirectory.ConfigFile}; see docs/formats.md#configjson");
        try
        {
            var config = TrainConfig.FromJsonObject((JsonObject)root.DeepClone(), Strict);
            // Every key a run writes, but those older builds did not (docs/sweeps.md#config, issue 25).
            if (config.FirstMissingKey(root) is string missing) throw new UsageException($"{Name} {path}: missing key {missing}; see docs/formats.md#configjson");
            return config;
        }
        catch (JsonException e) when (e.Message.Contains("registered method", StringComparison.Ordinal) || e.Message.Contains("another method", StringComparison.Ordinal))
        {
            throw new UsageException($"{Name} {path}: {e.Message}; see docs/formats.md#configjson");
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
        var file = JsonNode.Parse(config.ToJson())!.AsObject();
        // Derived values are never asked of the user (issue 25): a constant friction's log10 range is log10 of it.
        if (config.Env.Friction.Protocol == CbpGpu.Physics.FrictionProtocol.Constant && file["Env"]?["Friction"] is JsonObject friction)
            foreach (string derived in new[] { "Log10Min", "Log10Max" }) friction.Remove(derived);
        if (FirstDifference("", file, JsonNode.Parse(fromFlags.ToJson())) is string key)
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
