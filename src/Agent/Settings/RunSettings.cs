using CbpGpu.Agent.Training;

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

    /// <summary>What each flag left out gives (--help shows these); the run length is the preset's (<see cref="DefaultSteps"/>).</summary>
    public static RunSettings Defaults { get; } = new(0, 0, "cpu", TorchThreads: 1, EnvThreads: Environment.ProcessorCount, CheckpointEveryUpdates: 100);

    /// <summary>How a run executes, a flag per setting, declared once (docs/extending.md#settings).</summary>
    public static class Flags
    {
        public static readonly Setting Steps = Setting<RunSettings>.LongCount(
            "--steps", "N", "env steps in total, rounded up to whole updates of --batch-size transitions", nameof(TotalSteps), 1L, 10_000_000_000L,
            r => r.TotalSteps, (r, v) => r with { TotalSteps = v }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: the preset's run length: nature2024 {DefaultSteps("nature2024"):N0}, nature2024-ant {DefaultSteps("nature2024-ant"):N0}, " +
                $"seed2023 {DefaultSteps("seed2023"):N0}, constant {DefaultSteps("constant"):N0})",
        };

        public static readonly Setting Seed = Fixed(Setting<RunSettings>.LongCount(
            "--seed", "S", "seed for envs, weights and sampling", nameof(Seed), 0L, long.MaxValue, r => (long)r.Seed, (r, v) => r with { Seed = (ulong)v }));

        public static readonly Setting Device = Fixed(Setting<RunSettings>.Choice(
            "--device", "where torch and the fused kernels run (cuda: ILGPU kernels over libtorch's device memory, src/Kernels/MEMORY.md)", nameof(Device),
            [("cpu", "cpu"), ("cuda", "cuda")], r => r.Device, (r, v) => r with { Device = v }));

        public static readonly Setting CpuKernels = Fixed(Setting<RunSettings>.Choice(
            "--cpu-kernels",
            "native: libtorch's fastest kernels for this CPU (the same seed gives the same files on this machine); portable: pinned " +
            "kernels that give the same files on any x86-64-v3 CPU, Intel or AMD, 1.25-1.55x the wall time (docs/formats.md#reproducibility)",
            nameof(CpuKernels), [("native", Settings.CpuKernels.Native), ("portable", Settings.CpuKernels.Portable)],
            r => r.CpuKernels, (r, v) => r with { CpuKernels = v }));

        public static readonly Setting EnvThreads = Fixed(Setting<RunSettings>.Count(
            "--threads", "N", "threads for MuJoCo stepping (default: this machine's core count)", nameof(EnvThreads), 1, 256,
            r => r.EnvThreads, (r, v) => r with { EnvThreads = v }));

        public static readonly Setting TorchThreads = Fixed(Setting<RunSettings>.Count(
            "--torch-threads", "N", "threads for torch (see Threads below)", nameof(TorchThreads), 1, 256,
            r => r.TorchThreads, (r, v) => r with { TorchThreads = v }));

        public static readonly Setting CheckpointEvery = Fixed(Setting<RunSettings>.Count(
            "--checkpoint-every", "K", $"write {RunDirectory.CheckpointFile} every K updates (0: not by count) and at the end", nameof(CheckpointEveryUpdates), 0, int.MaxValue,
            r => r.CheckpointEveryUpdates, (r, v) => r with { CheckpointEveryUpdates = v }));

        public static readonly Setting CheckpointMinutes = Fixed(Setting<RunSettings>.Real(
            "--checkpoint-minutes", "M", "also write it when M minutes of wall time have passed since the last one (0: not by time)", nameof(CheckpointMinutes),
            0, double.PositiveInfinity, r => r.CheckpointMinutes, (r, v) => r with { CheckpointMinutes = v }));

        public static readonly Setting Optimizer = Fixed(Setting<RunSettings>.Choice(
            "--optimizer-impl",
            "fused: aged Adam and CBP in a few fused passes over all parameters; naive: the same math as TorchSharp ops " +
            "per tensor (the slow reference); torch: TorchSharp's Adam (only with --reset-adam-state none)", nameof(Optimizer),
            [("fused", OptimizerImpl.Fused), ("naive", OptimizerImpl.Naive), ("torch", OptimizerImpl.Torch)],
            r => r.Optimizer, (r, v) => r with { Optimizer = v }));

        /// <summary>In --help's order.</summary>
        public static IReadOnlyList<Setting> All { get; } =
            [Steps, Seed, Device, CpuKernels, EnvThreads, TorchThreads, CheckpointEvery, CheckpointMinutes, Optimizer];

        private static Setting Fixed(Setting s) => s with { Default = s.Get(Defaults) };
    }
}
