using System.Runtime.InteropServices;
using CbpGpu.Agent.Libtorch;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>Loading TorchSharp's native side, picking the device and the number of torch threads, with clear errors.</summary>
public static partial class TorchRuntime
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

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

    /// <summary>
    /// The variables that pin libtorch's CPU kernels (<see cref="CpuKernels.Portable"/>): aten's scalar kernels instead of
    /// the AVX2/AVX-512 ones it picks by CPU, MKL's conditional-numerical-reproducibility branch (SSE2 code that MKL
    /// documents as giving the same results on Intel and non-Intel CPUs) instead of the branch it picks by CPU and
    /// vendor, and oneDNN's SSE4.1 code for whatever libtorch hands it. Each is read once, when libtorch first needs it.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Value)> PortableKernelVariables =
        [("ATEN_CPU_CAPABILITY", "default"), ("MKL_CBWR", "COMPATIBLE"), ("ONEDNN_MAX_CPU_ISA", "SSE41")];

    private static readonly Lock KernelsGate = new();
    private static CpuKernels? _kernels;
    private static bool _pinnedHere;

    /// <summary>
    /// Makes libtorch in this process use <paramref name="kernels"/>. The kernels are the process's: the first call (or
    /// the first load of libtorch) fixes them, before libtorch reads the variables; a later call for other kernels is
    /// refused, since libtorch would silently keep the first. Portable sets the variables (over the environment's
    /// values); native leaves the environment as it is.
    /// </summary>
    /// <exception cref="TrainingException">This process already runs libtorch with other kernels.</exception>
    public static void UseCpuKernels(CpuKernels kernels)
    {
        lock (KernelsGate)
        {
            // libtorch loaded before anything chose (a direct TorchSharp call) runs on what the environment said.
            if (_kernels is null && LibtorchInProcess()) _kernels = EnvironmentKernels();
            if (_kernels is CpuKernels current)
            {
                if ((kernels == CpuKernels.Portable && current != CpuKernels.Portable) || (kernels == CpuKernels.Native && _pinnedHere))
                    throw new TrainingException(
                        $"--cpu-kernels {Word(kernels)}: this process already runs libtorch with {Word(current)} CPU kernels, which libtorch " +
                        "reads once per process; run it in a process of its own (as the Runner command line does)");
                return;
            }
            if (kernels == CpuKernels.Portable)
            {
                foreach (var (name, value) in PortableKernelVariables)
                    SetEnv(name, value, 1);
                _pinnedHere = true;
            }
            _kernels = EnvironmentKernels();
        }
    }

    /// <summary>The kernels libtorch runs with in this process (fixed by the first <see cref="UseCpuKernels"/> or libtorch load), or null before.</summary>
    public static CpuKernels? CurrentCpuKernels
    {
        get
        {
            lock (KernelsGate) return _kernels ?? (LibtorchInProcess() ? EnvironmentKernels() : null);
        }
    }

    /// <summary>The flag's word for <paramref name="kernels"/> (--cpu-kernels native|portable).</summary>
    public static string Word(CpuKernels kernels) => kernels == CpuKernels.Portable ? "portable" : "native";

    /// <summary>Portable when the process's environment (as libtorch's getenv sees it) holds every pinning variable.</summary>
    private static CpuKernels EnvironmentKernels() =>
        PortableKernelVariables.All(v => NativeEnvironment(v.Name) == v.Value) ? CpuKernels.Portable : CpuKernels.Native;

    private static string? NativeEnvironment(string name) => GetEnv(name) is var p && p != IntPtr.Zero ? Marshal.PtrToStringUTF8(p) : null;

    /// <summary>Whether libtorch_cpu is mapped into this process already (from /proc/self/maps; false where there is none).</summary>
    private static bool LibtorchInProcess()
    {
        try
        {
            return File.ReadLines("/proc/self/maps").Any(l => l.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Touches libtorch once so that a load failure becomes one readable line instead of a type-initializer trace.</summary>
    public static void EnsureLoaded()
    {
        PreferSleepingOpenMpThreads();
        lock (KernelsGate) _kernels ??= EnvironmentKernels();
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
