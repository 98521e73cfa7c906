using System.Text.Json;
using System.Text.Json.Nodes;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// Reads config.json files (and checkpoints' copies of them) written by earlier builds as this build's configuration,
/// so long runs resume and old runs plot across upgrades (docs/formats.md#older-configjson). Each step rewrites one
/// shape that an earlier build wrote into the setting that computes the same thing today. A setting added later with
/// a default equal to what earlier builds did needs no step here: a record parameter's default fills it. A setting
/// whose old value has no equivalent today is refused with its name, never guessed.
/// </summary>
internal static class ConfigMigration
{
    /// <summary>
    /// Keys (dotted paths) that files of earlier builds lack because the setting came later, each read as what those
    /// builds ran (docs/formats.md#older-configjson): a --config file may leave these out, and no other key.
    /// </summary>
    public static readonly IReadOnlyList<string> AddedLater =
    [
        "Ppo.Network", "Ppo.MaxGradNorm", "Ppo.Advantages", "Cbp.ResetBias", "Cbp.NewRowBound",   // 6cbb553
        "Env.Ant.Engine",                                                                          // 3026aa6
        "Eval",                                                                                    // 9d2e39e
        "Run.CheckpointMinutes",                                                                   // a73e1b9
        "Run.CpuKernels",                                                                          // 6e3b9f8
    ];

    /// <summary>Keys config.json holds that are computed from others (written for readers, never read).</summary>
    public static readonly IReadOnlyList<string> Computed = ["RolloutShape", "Ppo.MinibatchSize", "Env.Ant.ObservationSize"];

    /// <summary>Upgrades <paramref name="root"/> in place; throws JsonException naming a setting that cannot be read.</summary>
    public static void Upgrade(JsonObject root)
    {
        if (root["Ppo"] is JsonObject ppo)
        {
            // Before the report's learner (6cbb553): advantages were normalised over the whole batch or not at all, and
            // the networks were the authors' (ReLU, LeCun-uniform init, gains 1).
            if (ppo.Remove("NormalizeAdvantages", out var normalize))
            {
                if (normalize?.GetValueKind() != JsonValueKind.True)
                    throw new JsonException("Ppo.NormalizeAdvantages is false: runs without advantage normalisation are no longer supported (Ppo.Advantages is Batch or Minibatch)");
                ppo.TryAdd("Advantages", nameof(AdvantageNormalization.Batch));
            }
            if (!ppo.ContainsKey("Network"))
                ppo["Network"] = JsonSerializer.SerializeToNode(NetworkSettings.Nature2024, TrainConfig.Json);
        }
        // Each method's settings block, by the method's own steps.
        foreach (var schema in Methods.MethodRegistry.Schemas)
            if (root[schema.JsonKey] is JsonObject block) schema.Upgrade(block);
    }
}
