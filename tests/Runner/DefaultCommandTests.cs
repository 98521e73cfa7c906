using CbpGpu.Tests;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`Runner` with options but no command trains (cbp with the paper preset unless told otherwise); `Runner` alone and `Runner --help` still show the usage.</summary>
public class DefaultCommandTests
{
    /// <summary>
    /// The user's command as written: train with the defaults (cbp, the paper preset, a directory named after them, the
    /// fused kernels on CUDA), which in this TorchSharp-cpu build stops at the libtorch search with the one line a
    /// user on a GPU machine without a CUDA libtorch sees, before any directory is made.
    /// </summary>
    [Fact]
    public void TheUsersCommandAsWrittenTrainsCbpWithThePaperPresetAndStopsAtTheLibtorchSearch()
    {
        Assert.Null(Environment.GetEnvironmentVariable("CBPGPU_LIBTORCH"));
        string defaultOut = Path.Combine(Environment.CurrentDirectory, "runs", "cbp-nature2024-seed-0");
        bool existed = Directory.Exists(defaultOut);
        var outcome = Invoke("--device", "cuda", "--envs", "64");
        Assert.Equal(1, outcome.ExitCode);
        Assert.StartsWith("error: --device cuda: ", outcome.ErrorLine);
        Assert.Contains("libtorch", outcome.ErrorLine);
        Assert.DoesNotContain("--optimizer-impl", outcome.Output);
        Assert.Contains("note: no --out given; the run's directory is runs/cbp-nature2024-seed-0", outcome.Output);
        Assert.Equal(existed, Directory.Exists(defaultOut));

        var request = ReadTrain("--device", "cuda", "--envs", "64");
        Assert.Equal(PpoMethod.Cbp, request.Config.Ppo.Method);
        Assert.Equal("nature2024", request.Config.Env.Preset);
        Assert.Equal(CbpSettings.Nature2024, request.Config.Cbp());
        Assert.Equal(64, request.Config.Env.NumEnvs);
        Assert.Equal(OptimizerImpl.Fused, request.Config.Run.Optimizer);
        Assert.Equal(CpuKernels.Native, request.Config.Run.CpuKernels);
        Assert.Equal(Path.Combine("runs", "cbp-nature2024-seed-0"), request.OutDir);
        // On CPU the defaults keep the fused optimizer and say nothing about it.
        var cpu = ReadTrain("--seed", "4", "--preset", "constant", "--steps", "4096");
        Assert.Equal(OptimizerImpl.Fused, cpu.Config.Run.Optimizer);
        Assert.Equal(Path.Combine("runs", "cbp-constant-seed-4"), cpu.OutDir);
        Assert.Equal(["note: no --out given; the run's directory is runs/cbp-constant-seed-4"], cpu.Notes);
    }

    [Fact]
    public void TrainsOwnChecksRunWithoutTheCommandWord()
    {
        var outcome = Invoke("--method", "std", "--out", "/dev/null/never", "--friction", "2");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: --friction only applies to --preset constant", outcome.ErrorLine);
    }

    [Fact]
    public void HelpStaysTheRunnersHelp()
    {
        var outcome = Invoke("--help");
        Assert.Equal(0, outcome.ExitCode);
        foreach (var command in new[] { "train", "replay", "bench-env" }) Assert.Contains(command, outcome.Output);
    }

    [Fact]
    public void AWordThatIsNotACommandIsStillAnUnknownCommand()
    {
        var outcome = Invoke("trian", "--device", "cuda");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("unknown command 'trian'", outcome.ErrorLine);
    }
}
