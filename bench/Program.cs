using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using CbpGpu.Agent;
using CbpGpu.Agent.Training;

namespace CbpGpu.Bench;

/// <summary>
/// BenchmarkDotNet suite: fused vs naive aged Adam, with and without CBP, real size and 10x
/// wider, CPU and CUDA (when present). `dotnet run -c Release --project bench -- --filter '*'`
/// runs everything; `-- cuda-check` compares the CUDA kernels with the CPU loops on a GPU machine; `-- torch-cuda-check`
/// runs a TorchSharp op on CUDA against the CPU.
/// </summary>
public static partial class Program
{
    public static int Main(string[] args)
    {
        // libtorch's OpenMP threads busy-wait between parallel ops by default. On a shared 2-core
        // machine a descheduled partner thread then stalls the other at every barrier: naive steps
        // of ~3 ms took ~300 ms in whole iterations. Sleeping waits keep the naive baseline at its
        // best. It must be in the native environment before libtorch loads (an explicit setting wins).
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            _ = SetEnvironment("OMP_WAIT_POLICY", "PASSIVE", 0);
        if (args.Length > 0 && args[0] == "cuda-check") return CudaCheck.Run(args[1..]);
        if (args.Length > 0 && args[0] == "torch-cuda-check") return TorchCudaCheck.Run();
        // In a build without libtorch (scripts/bundle.sh) this finds and loads one before any benchmark touches TorchSharp.
        try
        {
            TorchRuntime.EnsureLoaded();
        }
        catch (TrainingException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
