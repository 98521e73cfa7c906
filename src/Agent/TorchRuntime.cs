using System.Runtime.InteropServices;
using CbpGpu.Agent.Libtorch;
using CbpGpu.Agent.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>Loading TorchSharp's native side, picking the device and the number of torch threads, with clear errors.</summary>
public static partial class TorchRuntime
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>
    /// Hands memory that libtorch freed back to the OS. glibc keeps freed blocks in its heaps, and the resident size
    /// of a long run crept up in steps of 10-20 MB (measured 447 -> 496 MB between 200k and 640k steps) without
    /// any live growth; trimming now and then keeps it flat. Takes a few milliseconds.
    /// </summary>
    public static void ReleaseFreedNativeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): nothing to do.
        }
    }

    /// <summary>
    /// Makes libtorch's OpenMP threads sleep instead of spin while they wait for work, unless the user chose a
    /// policy. Spinning threads steal the cores that the MuJoCo workers and other processes need: on this 2-core
    /// machine, with other processes running, a training run measured 133-173 steps/s with the default policy and
    /// 1,100-1,650 with PASSIVE. libgomp reads the variable once, when libtorch loads, so this must run first;
    /// .NET's Environment.SetEnvironmentVariable does not reach native getenv, hence setenv.
    /// </summary>
    private static void PreferSleepingOpenMpThreads()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    /// <summary>Touches libtorch once so that a load failure becomes one readable line instead of a type-initializer trace.</summary>
    public static void EnsureLoaded()
    {
        PreferSleepingOpenMpThreads();
        var libtorch = LibtorchLoader.Ensure(cuda: false, explicitDir: null);
        try
        {
            using var probe = ones(1);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            string detail = (e.InnerException ?? e).Message.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
            if (libtorch.Preload)
                throw new TrainingException(
                    $"TorchSharp's glue library libLibTorchSharp.so failed to load against the libtorch in {libtorch.Dir} (from {libtorch.Source}): " +
                    $"{detail}. TorchSharp 0.107 is built against libtorch {LibtorchDirectory.ExpectedVersion}; scripts/gpu-check.sh lists the " +
                    "symbols another version lacks", e);
            throw new TrainingException(
                "TorchSharp's native libraries (libLibTorchSharp.so, libtorch_cpu.so from the TorchSharp-cpu package) failed to load: " +
                $"{detail}. Rebuild with 'dotnet build' (on Debian 12 the build marks GLIBCXX_3.4.32 weak, see Directory.Build.targets) " +
                "or install libstdc++6 from GCC >= 13.", e);
        }
    }

    /// <summary>"cpu" or "cuda"/"cuda:N"; CUDA must actually be usable.</summary>
    public static Device ResolveDevice(string name)
    {
        // A CUDA libtorch found outside the app must be in the process before TorchSharp's first call.
        bool isCuda = name.StartsWith("cuda", StringComparison.Ordinal);
        var libtorch = LibtorchLoader.Ensure(isCuda, explicitDir: null);
        EnsureLoaded();
        if (name == "cpu") return CPU;
        if (isCuda)
        {
            if (!cuda.is_available())
                throw new TrainingException(
                    $"--device {name}: torch.cuda.is_available() is false with the CUDA libtorch in {libtorch.Dir} (from {libtorch.Source}): " +
                    "no NVIDIA GPU is visible or its driver is older than that libtorch's CUDA (nvidia-smi shows both)");
            return new Device(name);
        }
        throw new TrainingException($"unknown device '{name}'; use cpu or cuda");
    }

    /// <summary>Intra-op threads for libtorch (these small networks use no inter-op parallelism).</summary>
    public static void SetThreads(int threads)
    {
        EnsureLoaded();
        set_num_threads(threads);
    }
}
