using System.Runtime.InteropServices;
using CbpGpu.Agent.Training;

namespace CbpGpu.Agent.Libtorch;

/// <summary>
/// Makes the libtorch that <see cref="LibtorchSearch"/> chose the one TorchSharp binds to, once per process.
/// TorchSharp 0.107 (torch.LoadNativeBackend) loads "torch_cpu" or "torch_cuda" and then "LibTorchSharp" by name
/// through NativeLibrary.TryLoad: the app's folders first, then the system's dlopen search. libLibTorchSharp.so
/// links to libtorch.so, libc10.so and libtorch_cpu.so by soname, and glibc's loader satisfies a soname from a
/// library already in the process before it searches any path. So loading a directory's libraries by full path,
/// dependencies first, before TorchSharp's first call makes every later by-name load (TorchSharp's and the
/// linker's) bind to them, with no LD_LIBRARY_PATH. Their own dependencies (PyTorch's libgomp, the nvidia-* CUDA
/// libraries of a pip install) come through their RPATHs. This only works when the app carries no libtorch of
/// its own, which TorchSharp would load a second copy of; <see cref="LibtorchSearch"/> refuses that case.
/// </summary>
public static class LibtorchLoader
{
    private static readonly Lock Gate = new();
    private static LibtorchChoice? _loaded;
    private static bool _loadedCuda;

    /// <summary>The libtorch this process uses, once <see cref="Ensure"/> has run.</summary>
    public static LibtorchChoice? Current
    {
        get
        {
            lock (Gate) return _loaded;
        }
    }

    /// <summary>Finds and, where needed, loads the libtorch the device needs; a later call for a device it already serves returns the same.</summary>
    /// <param name="explicitDir">The --libtorch directory, or null to search.</param>
    /// <exception cref="TrainingException">None found, or its libraries did not load.</exception>
    public static LibtorchChoice Ensure(bool cuda, string? explicitDir)
    {
        lock (Gate)
        {
            if (_loaded is not null && (!cuda || _loadedCuda) && (explicitDir is null || Path.GetFullPath(explicitDir) == _loaded.Dir))
                return _loaded;
            if (_loaded is { Preload: true } && explicitDir is not null && Path.GetFullPath(explicitDir) != _loaded.Dir)
                throw new TrainingException($"{LibtorchSearch.Option} {explicitDir}: this process already uses the libtorch in {_loaded.Dir}");
            var choice = LibtorchSearch.ForThisProcess().Find(cuda, explicitDir);
            if (choice.Preload) Preload(choice, cuda);
            _loaded = choice;
            _loadedCuda = cuda;
            return choice;
        }
    }

    private static void Preload(LibtorchChoice choice, bool cuda)
    {
        foreach (string name in LibtorchDirectory.LoadOrder(cuda))
        {
            string path = Path.Combine(choice.Dir, name);
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                string detail = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
                throw new TrainingException(
                    $"libtorch from {choice.Source} did not load: {path}: {detail}; a pip PyTorch finds its CUDA libraries (nvidia-* " +
                    "packages) itself, an unpacked libtorch needs CUDA's lib folder on LD_LIBRARY_PATH", e);
            }
        }
    }
}
