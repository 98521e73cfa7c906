using CbpGpu.Agent.Training;

namespace CbpGpu.Agent.Libtorch;

/// <summary>
/// Finds the libtorch a device needs, in this order: the directory given with --libtorch; the app's own natives
/// (TorchSharp-cpu or TorchSharp-cuda-linux builds) when they serve the device; CBPGPU_LIBTORCH; the torch/lib of
/// the PyTorch that `python3 -c "import torch"` finds. A directory named explicitly (option or variable) is used or
/// refused, never skipped. When nothing serves, one message names every place looked at and the fix.
/// </summary>
/// <param name="appDir">The app's folder (AppContext.BaseDirectory).</param>
/// <param name="environmentDir">The value of <see cref="EnvironmentVariable"/>, or null when unset.</param>
/// <param name="python">Asks Python for its torch; called only when the earlier places did not serve.</param>
public sealed class LibtorchSearch(string appDir, string? environmentDir, Func<PythonTorch> python)
{
    public const string Option = "--libtorch", EnvironmentVariable = "CBPGPU_LIBTORCH";

    /// <summary>The search this process would do: its own folder, its environment, python3 on PATH.</summary>
    public static LibtorchSearch ForThisProcess() => new(
        AppContext.BaseDirectory, Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } d ? d : null,
        () => PythonTorch.Probe("python3"));

    /// <summary>Where the app carries libtorch: its folder (RID-specific publish) or runtimes/linux-x64/native (plain build); null for none.</summary>
    public static string? AppNatives(string appDir) =>
        new[] { appDir, Path.Combine(appDir, "runtimes", "linux-x64", "native") }.FirstOrDefault(LibtorchDirectory.HasCpu);

    /// <exception cref="TrainingException">Nothing serves the device, a named directory does not, or the one found cannot share the process with the app's own.</exception>
    public LibtorchChoice Find(bool cuda, string? explicitDir)
    {
        string device = cuda ? "--device cuda" : "--device cpu";
        string? own = AppNatives(appDir);
        var looked = new List<string>();
        var choice = explicitDir is not null
            ? Named(explicitDir, Option, cuda, device)
            : OwnFor(cuda, own, looked) ?? FromEnvironment(cuda, device, looked) ?? FromPython(cuda, looked);
        if (choice is null)
            throw new TrainingException($"{device}: no usable libtorch found; looked at {string.Join(", ", looked)}; fix: {Fix(cuda, own)}");
        if (choice.Preload && own is not null && !SameDirectory(own, choice.Dir))
            throw new TrainingException(
                $"{device}: libtorch {choice.Version ?? "of unknown version"} from {choice.Source} is in {choice.Dir}, but this build carries its own libtorch " +
                $"({own}) and one process cannot hold two; use a build that carries none (scripts/bundle.sh, or dotnet build " +
                $"-p:TorchBackend=external){(cuda ? ", or build with -p:TorchBackend=cuda (TorchSharp-cuda-linux, from nuget.org)" : $", or drop {Option}")}");
        return choice;
    }

    private LibtorchChoice? OwnFor(bool cuda, string? own, List<string> looked)
    {
        looked.Add($"{Option} (not given)");
        if (own is null)
        {
            looked.Add($"this app ({appDir.TrimEnd('/')}: no libtorch, a -p:TorchBackend=external build)");
            return null;
        }
        if (LibtorchDirectory.Missing(own, cuda).Count == 0)
            return new LibtorchChoice(own, "this app", LibtorchDirectory.ReadVersion(own), Preload: false);
        looked.Add($"this app ({own}: TorchSharp-cpu's libtorch, no {string.Join(", ", LibtorchDirectory.Missing(own, cuda))})");
        return null;
    }

    private LibtorchChoice? FromEnvironment(bool cuda, string device, List<string> looked)
    {
        if (environmentDir is null)
        {
            looked.Add($"{EnvironmentVariable} (not set)");
            return null;
        }
        return Named(environmentDir, EnvironmentVariable, cuda, device);
    }

    private LibtorchChoice? FromPython(bool cuda, List<string> looked)
    {
        var torch = python();
        if (torch.Problem is not null || torch.LibDir is null)
        {
            looked.Add($"python3 ({torch.Problem})");
            return null;
        }
        var missing = LibtorchDirectory.Missing(torch.LibDir, cuda);
        if (missing.Count > 0)
        {
            looked.Add($"python3 (PyTorch {torch.Version} in {torch.LibDir} has no {string.Join(", ", missing)}" +
                       (cuda ? ": a CPU-only build)" : ")"));
            return null;
        }
        return new LibtorchChoice(torch.LibDir, "python3's PyTorch", torch.Version, Preload: true);
    }

    /// <summary>A directory the user named: it serves the device or the run stops, naming what is wrong with it.</summary>
    private LibtorchChoice Named(string dir, string source, bool cuda, string device)
    {
        string where = source == Option ? $"{Option} {dir}" : $"{EnvironmentVariable}={dir}";
        if (!Directory.Exists(dir))
            throw new TrainingException($"{where}: no such directory; name a PyTorch install's torch/lib " +
                                        "(python3 -c \"import torch, os; print(os.path.dirname(torch.__file__))\" prints the torch folder) or an unpacked libtorch/lib");
        var missing = LibtorchDirectory.Missing(dir, cuda);
        if (missing.Count > 0)
            throw new TrainingException($"{where} has no {string.Join(", ", missing)}, which {device} needs; name a directory that has them " +
                                        (cuda ? "(a CUDA PyTorch's torch/lib or a CUDA libtorch/lib)" : "(a PyTorch's torch/lib or a libtorch/lib)"));
        string full = Path.GetFullPath(dir);
        string? own = AppNatives(appDir);
        return new LibtorchChoice(full, source, LibtorchDirectory.ReadVersion(full), Preload: own is null || !SameDirectory(own, full));
    }

    private static string Fix(bool cuda, string? own)
    {
        string where = cuda
            ? $"install a CUDA PyTorch for python3 (pip install torch), or pass {Option} DIR or set {EnvironmentVariable}=DIR to a directory with libtorch_cuda.so"
            : $"install PyTorch for python3 (pip install torch), or pass {Option} DIR or set {EnvironmentVariable}=DIR to a PyTorch's torch/lib or a libtorch/lib";
        return own is null
            ? where
            : $"{where}, and run a build that carries no libtorch (scripts/bundle.sh, or dotnet build -p:TorchBackend=external), " +
              "or build with -p:TorchBackend=cuda (TorchSharp-cuda-linux, from nuget.org)";
    }

    private static bool SameDirectory(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);
}
