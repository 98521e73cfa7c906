using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Methods;

/// <summary>What a method is given to build its optimizer and hook (docs/extending.md#build).</summary>
/// <param name="Settings">The method's settings record (its <see cref="MethodSettingsSchema.Type"/>), or null for a method without.</param>
/// <param name="Seed">Seeds the method's own random decisions (derived from the run's seed).</param>
/// <param name="Kernels">Where the fused kernels run: the run's device's backend (src/Kernels/KernelBackends.cs).</param>
public sealed record MethodBuild(FlatParameters Parameters, AdamSettings Adam, OptimizerImpl Impl, ulong Seed, object? Settings,
    KernelBackendKind Kernels)
{
    /// <summary>How the run drew its weights (docs/ppo.md#initialisation), for a method that draws fresh ones.</summary>
    public NetworkSettings Network { get; init; } = NetworkSettings.Nature2024;

    /// <summary>The run's optimizer alone (Adam with its coupled L2, on the run's implementation and kernel backend), no hook.</summary>
    public OptimizerPair PlainOptimizer() => OptimizerPair.Create(Parameters, Adam, null, Impl, Seed, Kernels);
}

/// <summary>
/// A method's settings (docs/extending.md#settings): a record of its own, named presets, one flag per field, its
/// config.json block. Methods may share one (CBP's variants).
/// </summary>
public sealed class MethodSettingsSchema
{
    /// <summary>How help and messages name it ("CBP": "CBP: ..." in each flag's help).</summary>
    public required string Title { get; init; }

    /// <summary>config.json's key of the block ("Cbp").</summary>
    public required string JsonKey { get; init; }

    public required Type Type { get; init; }

    /// <summary>The flag that picks a preset ("--cbp-preset"); each field's flag overrides the preset's value.</summary>
    public required string PresetFlag { get; init; }

    public required string PresetHelp { get; init; }

    /// <summary>Named presets; the Runner's help shows each field's default from each one.</summary>
    public required IReadOnlyList<(string Word, object Value)> Presets { get; init; }

    /// <summary>The preset a run takes when <see cref="PresetFlag"/> is not given, from the run's --preset.</summary>
    public required Func<string, string> DefaultPreset { get; init; }

    /// <summary>One per field a flag sets, in the order of the flags in --help.</summary>
    public required IReadOnlyList<Setting> Settings { get; init; }

    /// <summary>Why these settings cannot run, or null.</summary>
    public Func<object, string?> Validate { get; init; } = _ => null;

    /// <summary>Rewrites the block as an earlier build wrote it into today's shape (docs/formats.md#older-configjson); throws JsonException naming a value it cannot read.</summary>
    public Action<System.Text.Json.Nodes.JsonObject> Upgrade { get; init; } = _ => { };

    /// <summary>
    /// config.json files written before methods were registered hold this block as null in runs of every other method;
    /// kept so that those runs' files stay byte-identical (docs/extending.md#configjson).
    /// </summary>
    public bool NullInOtherMethodsConfig { get; init; }

    public object Preset(string word)
    {
        foreach (var (w, value) in Presets)
            if (w == word) return value;
        throw new ArgumentException($"{PresetFlag}: no preset {word}", nameof(word));
    }
}

/// <summary>
/// A plasticity method as the registry holds it (docs/extending.md): its name, its optimizer presets, its settings,
/// how it is built, its checkpoint block and what the figures do with it. One file per method declares one and
/// registers it (<see cref="MethodRegistry.Register"/>).
/// </summary>
public sealed class PlasticityMethod
{
    /// <summary>--method's word, the run directory's and the figures' label: "cbp".</summary>
    public required string Word { get; init; }

    /// <summary>config.json's Ppo.Method.</summary>
    public required PpoMethod Id { get; init; }

    /// <summary>--method's help for it.</summary>
    public required string Summary { get; init; }

    /// <summary>Adam (betas, eps, coupled L2 as the authors' wd) under the nature2024 learner.</summary>
    public required AdamSettings Nature2024Adam { get; init; }

    /// <summary>Adam under the seed2023 learner (the reproduction report's).</summary>
    public required AdamSettings Seed2023Adam { get; init; }

    /// <summary>Place in --method's list, sweeps and figures (and so the method's colour).</summary>
    public required double Order { get; init; }

    /// <summary>null: the method has no settings of its own.</summary>
    public MethodSettingsSchema? Settings { get; init; }

    /// <summary>The checkpoint block its hook's state goes to, with its format version; null: no hook.</summary>
    public (string Name, int Version)? CheckpointBlock { get; init; }

    /// <summary>The optimizer and hook of a run.</summary>
    public Func<MethodBuild, OptimizerPair> Build { get; init; } = b => b.PlainOptimizer();

    /// <summary>Why a configuration cannot run this method (beyond its settings' own validation), or null.</summary>
    public Func<TrainConfig, string?> Validate { get; init; } = _ => null;

    /// <summary>
    /// Why the command line's choices cannot run this method (its settings, the optimizer implementation, the device),
    /// as the one `error:` line train prints, or null; checked before the rest of the configuration is read.
    /// </summary>
    public Func<object?, OptimizerImpl, string, string?> UsageProblem { get; init; } = (_, _, _) => null;

    /// <summary>It re-initialises units (its hook is <see cref="IUnitReplacing"/>): `plot` draws its unit ages.</summary>
    public bool ReplacesUnits { get; init; }

    /// <summary>`train` runs it when --method is not given.</summary>
    public bool IsDefault { get; init; }

    /// <summary>
    /// How this method takes a preset of its settings schema, which it may share with another method (a variant that
    /// changes one field of every preset); identity by default.
    /// </summary>
    public Func<object, object> TakePreset { get; init; } = static s => s;

    /// <summary>The settings a run of this method starts from under --preset <paramref name="envPreset"/>, or null.</summary>
    public object? DefaultSettings(string envPreset) => Settings is null ? null : TakePreset(Settings.Preset(Settings.DefaultPreset(envPreset)));
}
