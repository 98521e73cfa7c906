namespace CbpGpu.Agent.Settings;

/// <summary>
/// Every setting of a train run that a flag sets, declared once next to its record (docs/extending.md#settings), by
/// config.json block; a method's own settings are its schema's (<see cref="Methods.MethodSettingsSchema"/>). train's
/// options, their --help defaults, --config, sweep grids, FlagsFor and plot labels all come from these.
/// </summary>
public static class TrainSettings
{
    /// <summary>One config.json block's settings and where the block sits in a configuration.</summary>
    public sealed record Block(string JsonKey, IReadOnlyList<Setting> Settings, Func<TrainConfig, object> Of);

    /// <summary>The learner's block: each setting left out takes the --learner preset's value (<see cref="PpoSettings.Learners"/>).</summary>
    public static Block Learner { get; } = new(nameof(TrainConfig.Ppo), PpoSettings.Flags.All, c => c.Ppo);

    /// <summary>In --help's order.</summary>
    public static IReadOnlyList<Block> Blocks { get; } =
    [
        new(nameof(TrainConfig.Env), EnvSettings.Flags.All, c => c.Env),
        new(nameof(TrainConfig.Run), RunSettings.Flags.All, c => c.Run),
        new(nameof(TrainConfig.Eval), EvalSettings.Flags.All, c => c.Eval),
        Learner,
    ];
}
