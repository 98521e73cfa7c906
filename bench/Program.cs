using BenchmarkDotNet.Running;

namespace CbpGpu.Bench;

/// <summary>
/// BenchmarkDotNet suite: fused vs naive aged Adam, with and without CBP, real size and 10x
/// wider, CPU and CUDA (when present). `dotnet run -c Release --project bench -- --filter '*'`
/// runs everything; `-- cuda-check` compares the CUDA kernels with the CPU loops on a GPU machine.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "cuda-check") return CudaCheck.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
