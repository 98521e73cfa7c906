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

    [Theory]
    [InlineData("std", "fused", "--optimizer-impl fused")]
    [InlineData("cbp", "torch", "CBP next to --optimizer-impl torch")]
    public void CudaWithKernelsThatReadCpuMemoryIsRefused(string method, string impl, string what)
    {
        var outcome = Invoke("--method", method, "--out", _out, "--device", "cuda", "--optimizer-impl", impl);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --device cuda runs {what} on CPU memory only (no CUDA kernel backend yet, see src/Kernels/MEMORY.md); " +
                     "add --optimizer-impl naive", outcome.ErrorLine);
    }
}
