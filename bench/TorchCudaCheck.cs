using System.Diagnostics;
using CbpGpu.Agent;
using CbpGpu.Agent.Libtorch;
using CbpGpu.Agent.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// `torch-cuda-check`: finds and loads a CUDA libtorch the way `Runner train --device cuda` does (README.md#gpu),
/// says which, then runs a 512x512 matmul and tanh on the GPU and compares it with the CPU. The first TorchSharp
/// CUDA op of a machine, kept apart from training so a failure names the library, not the trainer.
/// Exit code 0 when they agree, 1 when not, 2 without a usable CUDA libtorch or GPU.
/// </summary>
public static class TorchCudaCheck
{
    public static int Run()
    {
        try
        {
            var libtorch = LibtorchLoader.Ensure(cuda: true, explicitDir: null);
            Console.WriteLine($"torch-cuda-check {libtorch.Describe()}");
            if (libtorch.VersionWarning() is string warning) Console.WriteLine($"torch-cuda-check {warning}");
            TorchRuntime.EnsureLoaded();
        }
        catch (TrainingException e)
        {
            Console.WriteLine($"torch-cuda-check: {e.Message}");
            return 2;
        }
        if (!cuda.is_available())
        {
            Console.WriteLine("torch-cuda-check: torch.cuda.is_available() is false (no GPU visible, or a driver older than the libtorch's CUDA)");
            return 2;
        }
        Console.WriteLine($"torch-cuda-check: {cuda.device_count()} CUDA device(s)");
        using var generator = new Generator(7);
        using var a = rand([512, 512], generator: generator);
        using var b = rand([512, 512], generator: generator);
        using var onCpu = a.matmul(b).tanh_();
        using var ga = a.cuda();
        using var gb = b.cuda();
        using var onGpu = ga.matmul(gb).tanh_().cpu();
        double worst = (onCpu - onGpu).abs().max().item<float>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++) ga.matmul(gb).Dispose();
        cuda.synchronize();
        Console.WriteLine($"torch-cuda-check: 512x512 matmul+tanh, worst |CPU - CUDA| {worst:E2}; 100 CUDA matmuls in {clock.Elapsed.TotalMilliseconds:F1} ms");
        bool ok = worst < 1e-3;
        Console.WriteLine(ok ? "torch-cuda-check: PASS" : "torch-cuda-check: FAIL");
        return ok ? 0 : 1;
    }
}
