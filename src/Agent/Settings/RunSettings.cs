namespace CbpGpu.Agent.Settings;

/// <summary>How a run executes: seed, length, hardware, checkpointing, which Adam implementation, which CPU kernels. Not part of the experiment's science.</summary>
/// <param name="CpuKernels">libtorch's CPU kernels; a config.json written before the setting existed reads as Native, what those builds ran.</param>
public sealed record RunSettings(
    ulong Seed,
    long TotalSteps,
    string Device,
    int TorchThreads,
    int EnvThreads,
    int CheckpointEveryUpdates,
    OptimizerImpl Optimizer = OptimizerImpl.Fused,
    double CheckpointMinutes = 10,
    CpuKernels CpuKernels = CpuKernels.Native)
{
    /// <summary>Run lengths of the two protocols (docs/friction.md#protocols).</summary>
    public static long DefaultSteps(string preset) => preset == "seed2023" ? 100_000_000 : 20_000_000;
}
