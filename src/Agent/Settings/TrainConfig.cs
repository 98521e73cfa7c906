using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CbpGpu.Kernels;
using CbpGpu.Physics;

namespace CbpGpu.Agent.Settings;

/// <summary>The full resolved configuration of a training run, one record per concern.</summary>
/// <param name="Cbp">Continual Backprop's settings: present exactly when <see cref="PpoSettings.Method"/> is Cbp.</param>
public sealed record TrainConfig(EnvSettings Env, PpoSettings Ppo, RunSettings Run, CbpSettings? Cbp = null)
{
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
        if ((Ppo.Method == PpoMethod.Cbp) != (Cbp is not null))
            return Cbp is null ? "method Cbp needs CBP settings" : $"CBP settings were given but the method is {Ppo.Method}";
        if (Cbp is not null)
        {
            try
            {
                Cbp.Validate();
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
            if (Cbp.AdamReset != AdamStateReset.None && Run.Optimizer == OptimizerImpl.Torch)
                return "resetting the Adam state of replaced units needs per-weight step counters, which TorchSharp's Adam lacks; use the fused or naive optimizer";
        }
        return null;
    }

    /// <summary>"N env(s) x S steps": how each update's batch is collected (docs/ppo.md#rollout); in config.json and every progress line.</summary>
    public string RolloutShape => $"{Env.NumEnvs} env{(Env.NumEnvs == 1 ? "" : "s")} x {Ppo.StepsPerEnv(Env.NumEnvs)} steps";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>A configuration as <see cref="ToJson"/> writes it, or as an earlier build wrote it (<see cref="ConfigMigration"/>).</summary>
    public static TrainConfig FromJson(string json)
    {
        if (JsonNode.Parse(json) is not JsonObject root) throw new JsonException("the configuration is not a JSON object");
        ConfigMigration.Upgrade(root);
        return root.Deserialize<TrainConfig>(Json) ?? throw new JsonException("empty configuration");
    }

    /// <summary>
    /// Settings that may change when a run is resumed: they do not change what is computed (evaluation runs off the
    /// training path, so it may be switched on, off or changed; docs/evaluation.md#resume). Torch's thread count is not
    /// one of them: libtorch splits its reductions by thread, so 1 and 2 threads round the update differently (measured:
    /// updates.csv differs from the first update on).
    /// </summary>
    public static readonly IReadOnlyList<string> ResumeMayChange = ["Run.TotalSteps", "Run.EnvThreads", "Run.CheckpointEveryUpdates", "Run.CheckpointMinutes", "Run.Device",
        "Eval.EveryEnvSteps", "Eval.Episodes"];

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
