namespace CbpGpu.Agent.Settings;

/// <summary>How a run executes: seed, length, hardware, checkpointing, which Adam implementation. Not part of the experiment's science.</summary>
public sealed record RunSettings(
    ulong Seed,
    long TotalSteps,
    string Device,
    int TorchThreads,
    int EnvThreads,
    int CheckpointEveryUpdates,
    OptimizerImpl Optimizer = OptimizerImpl.Fused,
    double CheckpointMinutes = 10)
{
    /// <summary>Run lengths of the two protocols (docs/friction.md#protocols).</summary>
    public static long DefaultSteps(string preset) => preset == "seed2023" ? 100_000_000 : 20_000_000;
}
