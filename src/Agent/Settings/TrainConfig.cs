using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CbpGpu.Agent.Methods;
using CbpGpu.Physics;

namespace CbpGpu.Agent.Settings;

/// <summary>The full resolved configuration of a training run, one record per concern.</summary>
/// <param name="MethodSettings">
/// The method's own settings (its <see cref="MethodSettingsSchema.Type"/>): present exactly when the method has some.
/// config.json holds them as a block named by the method's <see cref="MethodSettingsSchema.JsonKey"/>, after Run.
/// </param>
public sealed record TrainConfig(EnvSettings Env, PpoSettings Ppo, RunSettings Run, [property: JsonIgnore] object? MethodSettings = null)
{
    /// <summary>The method's settings as <typeparamref name="T"/>, or null when the run's method has none of that type.</summary>
    public T? SettingsOf<T>() where T : class => MethodSettings as T;

    /// <summary>Evaluation during training (docs/evaluation.md); a config.json written before it existed reads as off.</summary>
    public EvalSettings Eval { get; init; } = EvalSettings.Off;

    /// <summary>
    /// config.json's serialization. A setting without a default must be present: a file that lacks one was written by
    /// a build whose shape <see cref="ConfigMigration"/> does not know, and is refused rather than read with zeros.
    /// </summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Why this configuration cannot run, or null.</summary>
    public string? Validate()
    {
        if (Ppo.Validate(Env.NumEnvs) is string problem) return problem;
        try
        {
            Env.Ant.Validate();
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        if (Eval is null) return "the evaluation settings are missing";
        if (Eval.Validate() is string evalProblem) return evalProblem;
        if (Env.Friction.Table is double[] table)
        {
            if (Env.Friction.Protocol == FrictionProtocol.Constant) return "a friction table applies only to presets whose friction changes";
            int needed = FrictionTable.ValuesNeeded(Env.Friction, Run.TotalSteps);
            if (table.Length < needed)
                return $"the friction table has {table.Length} values but {Run.TotalSteps:N0} steps with a change every {Env.Friction.ChangeEverySteps:N0} need {needed}";
        }
        return MethodRegistry.Validate(this);
    }

    /// <summary>"N env(s) x S steps": how each update's batch is collected (docs/ppo.md#rollout); in config.json and every progress line.</summary>
    public string RolloutShape => $"{Env.NumEnvs} env{(Env.NumEnvs == 1 ? "" : "s")} x {Ppo.StepsPerEnv(Env.NumEnvs)} steps";

    /// <summary>
    /// config.json: Env, Ppo, Run, the method's settings block, Eval. Each settings block a build before the method
    /// registry wrote as null in every run (<see cref="MethodSettingsSchema.NullInOtherMethodsConfig"/>) still is, so
    /// those runs' files are byte-identical.
    /// </summary>
    public string ToJson()
    {
        var root = JsonSerializer.SerializeToNode(this, Json)!.AsObject();
        var method = MethodRegistry.Find(Ppo.Method);
        var blocks = new List<(string, JsonNode?)>();
        if (method?.Settings is { } own && MethodSettings is not null)
            blocks.Add((own.JsonKey, JsonSerializer.SerializeToNode(MethodSettings, own.Type, Json)));
        foreach (var schema in MethodRegistry.Schemas)
            if (schema.NullInOtherMethodsConfig && schema != method?.Settings) blocks.Add((schema.JsonKey, null));
        var ordered = new JsonObject();
        foreach (var (key, value) in root.ToList())
        {
            root.Remove(key);
            ordered[key] = value;
            if (key == nameof(Run))
                foreach (var (blockKey, block) in blocks) ordered[blockKey] = block;
        }
        return ordered.ToJsonString(Json);
    }

    /// <summary>
    /// The first key <see cref="ToJson"/> writes that <paramref name="file"/> lacks, other than a key that earlier
    /// builds did not write (docs/formats.md#older-configjson), a computed one, or a null settings block: null when none.
    /// </summary>
    public string? FirstMissingKey(JsonObject file) => FirstMissing("", file, JsonNode.Parse(ToJson())!.AsObject());

    private static string? FirstMissing(string path, JsonObject file, JsonObject written)
    {
        foreach (var (key, value) in written)
        {
            string at = path.Length == 0 ? key : $"{path}.{key}";
            if (value is null || ConfigMigration.AddedLater.Contains(at) || ConfigMigration.Computed.Contains(at)) continue;
            if (!file.TryGetPropertyValue(key, out var given)) return at;
            if (value is JsonObject inner && given is JsonObject givenInner && FirstMissing(at, givenInner, inner) is string missing) return missing;
        }
        return null;
    }

    /// <summary>A configuration as <see cref="ToJson"/> writes it, or as an earlier build wrote it (<see cref="ConfigMigration"/>).</summary>
    public static TrainConfig FromJson(string json)
    {
        if (JsonNode.Parse(json) is not JsonObject root) throw new JsonException("the configuration is not a JSON object");
        ConfigMigration.Upgrade(root);
        return FromJsonObject(root, Json);
    }

    /// <summary>
    /// <paramref name="root"/> read with <paramref name="options"/>: the method's settings block by the method's own
    /// type, the rest as this record. A block of another registered method is refused, naming it; a method that is not
    /// registered is refused naming the registered ones.
    /// </summary>
    public static TrainConfig FromJsonObject(JsonObject root, JsonSerializerOptions options)
    {
        string? name = (root["Ppo"] as JsonObject)?["Method"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        var method = name is null ? null : MethodRegistry.Find(new PpoMethod(name));
        if (name is not null && method is null)
            throw new JsonException($"Ppo.Method {name} is not a registered method (methods: {string.Join(", ", MethodRegistry.All.Select(m => m.Id))})", "$.Ppo.Method", null, null);
        object? settings = null;
        foreach (var schema in MethodRegistry.Schemas)
        {
            if (!root.Remove(schema.JsonKey, out var block)) continue;
            if (schema == method?.Settings)
            {
                try
                {
                    settings = block?.Deserialize(schema.Type, options);
                }
                catch (JsonException e)
                {
                    throw new JsonException(e.Message, "$." + schema.JsonKey + (e.Path is { Length: > 1 } p ? p[1..] : ""), e.LineNumber, e.BytePositionInLine, e);
                }
            }
            else if (block is not null)
                throw new JsonException($"{schema.JsonKey} holds settings of another method than {name}", "$." + schema.JsonKey, null, null);
        }
        var config = root.Deserialize<TrainConfig>(options) ?? throw new JsonException("empty configuration");
        return config with { MethodSettings = settings };
    }

    /// <summary>
    /// Settings that may change when a run is resumed: they do not change what is computed (evaluation runs off the
    /// training path, so it may be switched on, off or changed; docs/evaluation.md#resume). Torch's thread count is not
    /// one of them: libtorch splits its reductions by thread, so 1 and 2 threads round the update differently (measured:
    /// updates.csv differs from the first update on).
    /// </summary>
    public static readonly IReadOnlyList<string> ResumeMayChange = ["Run.TotalSteps", "Run.EnvThreads", "Run.CheckpointEveryUpdates", "Run.CheckpointMinutes", "Run.Device",
        "Eval.EveryEnvSteps", "Eval.Episodes", "Eval.VideoEveryEnvSteps"];

    /// <summary>The first setting (dotted path) where a resumed run would differ from the checkpoint's, or null.</summary>
    public string? FirstResumeConflict(TrainConfig checkpoint)
    {
        foreach (var d in Differences(checkpoint))
            if (!ResumeMayChange.Contains(d.Split(' ')[0])) return d;
        return null;
    }

    /// <summary>The settings a resume changes, "Run.TotalSteps (checkpoint 100, now 200); ...", or "" when none.</summary>
    public string ResumeChanges(TrainConfig checkpoint) => string.Join("; ", Differences(checkpoint));

    private List<string> Differences(TrainConfig checkpoint)
    {
        var diffs = new List<string>();
        Diff("", JsonNode.Parse(checkpoint.ToJson()), JsonNode.Parse(ToJson()), diffs);
        return diffs;
    }

    private static void Diff(string path, JsonNode? a, JsonNode? b, List<string> diffs)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var (key, va) in oa)
                Diff(path.Length == 0 ? key : $"{path}.{key}", va, ob[key], diffs);
            foreach (var (key, vb) in ob)
                if (!oa.ContainsKey(key)) Diff(path.Length == 0 ? key : $"{path}.{key}", null, vb, diffs);
            return;
        }
        string sa = a?.ToJsonString() ?? "null", sb = b?.ToJsonString() ?? "null";
        if (sa != sb) diffs.Add($"{path} (checkpoint {sa}, now {sb})");
    }
}
