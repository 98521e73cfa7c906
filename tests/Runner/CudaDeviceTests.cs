using CbpGpu.Agent.Settings;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// train's --libtorch and --device cuda in this (TorchSharp-cpu) build: refused in one `error:` line before a run
/// directory is made. Search details: tests/Agent/LibtorchSearchTests.cs.
/// </summary>
public sealed class CudaDeviceTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "cbpgpu-libtorch-run-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, true);
    }

    [Fact]
    public void LibtorchDirectoryThatDoesNotExistIsRefused()
    {
        var outcome = Invoke("train", "--method", "std", "--out", _out, "--steps", "2048", "--libtorch", "/nonexistent/torch/lib");
        Assert.Equal(1, outcome.ExitCode);
        Assert.StartsWith("error: --libtorch /nonexistent/torch/lib: no such directory", outcome.ErrorLine);
        Assert.False(Directory.Exists(_out));
    }

    [Fact]
    public void CudaInThisBuildSaysWhereItLookedAndHowToGetOne()
    {
        Assert.Null(Environment.GetEnvironmentVariable("CBPGPU_LIBTORCH"));
        var outcome = Invoke("--method", "std", "--out", _out, "--steps", "2048", "--device", "cuda", "--optimizer-impl", "naive");
        Assert.Equal(1, outcome.ExitCode);
        string line = outcome.ErrorLine;
        Assert.StartsWith("error: --device cuda: ", line);
        Assert.Contains("scripts/bundle.sh", line);
        Assert.Contains("-p:TorchBackend=cuda", line);
        Assert.False(Directory.Exists(_out));
    }

    /// <summary>
    /// --device cuda takes the fused kernels on CUDA by default, and CBP next to TorchSharp's Adam runs on them too: in
    /// this build each stops at the libtorch search with its one line (exit 1, no directory), not at a refusal of the
    /// fused path, because the kernels need no more than the CUDA libtorch the search looks for.
    /// </summary>
    [Theory]
    [InlineData("cbp", null)]
    [InlineData("std", "fused")]
    [InlineData("cbp", "torch")]
    public void CudaWithTheFusedKernelsStopsAtTheLibtorchSearch(string method, string? impl)
    {
        Assert.Null(Environment.GetEnvironmentVariable("CBPGPU_LIBTORCH"));
        string[] implArgs = impl is null ? [] : ["--optimizer-impl", impl];
        string[] extra = method == "cbp" && impl == "torch" ? ["--reset-adam-state", "none"] : [];
        var outcome = Invoke(["--method", method, "--out", _out, "--steps", "2048", "--device", "cuda", .. implArgs, .. extra]);
        Assert.Equal(1, outcome.ExitCode);
        Assert.StartsWith("error: --device cuda: ", outcome.ErrorLine);
        Assert.Contains("scripts/bundle.sh", outcome.ErrorLine);
        Assert.DoesNotContain("CPU memory only", outcome.Output + outcome.ErrorLine);
        Assert.False(Directory.Exists(_out));
        Assert.Equal(impl == "torch" ? OptimizerImpl.Torch : OptimizerImpl.Fused,
            ReadTrain(["--method", method, "--device", "cuda", .. implArgs, .. extra]).Config.Run.Optimizer);
    }
}
