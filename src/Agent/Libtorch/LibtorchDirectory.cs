using System.Text.RegularExpressions;

namespace CbpGpu.Agent.Libtorch;

/// <summary>
/// A directory of libtorch's shared libraries: a PyTorch install's torch/lib, an unpacked libtorch/lib, a
/// libtorch-* NuGet package's runtimes/linux-x64/native, or the natives next to this app. Knows which files a
/// device needs, the order to load them in, and how to read the libtorch version from the layout around it.
/// </summary>
public static partial class LibtorchDirectory
{
    /// <summary>The libtorch release TorchSharp 0.107's libLibTorchSharp.so was built against (its RUNPATH names libtorch-shared-with-deps-2.10.0).</summary>
    public const string ExpectedVersion = "2.10";

    private const string C10 = "libc10.so", TorchCpu = "libtorch_cpu.so", Torch = "libtorch.so";
    private const string C10Cuda = "libc10_cuda.so", TorchCuda = "libtorch_cuda.so";

    /// <summary>The files that hold CPU libtorch; libLibTorchSharp.so links to exactly these three.</summary>
    public static bool HasCpu(string dir) => File.Exists(Path.Combine(dir, TorchCpu));

    /// <summary>The device's libraries that <paramref name="dir"/> lacks (empty when it can serve the device).</summary>
    public static IReadOnlyList<string> Missing(string dir, bool cuda) =>
        [.. LoadOrder(cuda).Where(name => !File.Exists(Path.Combine(dir, name)))];

    /// <summary>
    /// Each library before the ones that link to it, so that every later load, TorchSharp's own included, finds
    /// its dependencies already in the process under their sonames instead of searching for them.
    /// </summary>
    public static IReadOnlyList<string> LoadOrder(bool cuda) =>
        cuda ? [C10, C10Cuda, TorchCpu, TorchCuda, Torch] : [C10, TorchCpu, Torch];

    /// <summary>
    /// The libtorch version the layout around <paramref name="dir"/> records, or null: PyTorch's torch/version.py
    /// next to torch/lib, libtorch's build-version next to libtorch/lib, or the version folder of a NuGet package
    /// (libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native).
    /// </summary>
    public static string? ReadVersion(string dir)
    {
        string full = Path.GetFullPath(dir);
        string? parent = Path.GetDirectoryName(full.TrimEnd('/'));
        if (parent is null) return null;
        string versionPy = Path.Combine(parent, "version.py");
        if (File.Exists(versionPy))
            foreach (string line in File.ReadLines(versionPy))
                if (PythonVersionLine().Match(line) is { Success: true } m) return m.Groups[1].Value;
        string buildVersion = Path.Combine(parent, "build-version");
        if (File.Exists(buildVersion)) return File.ReadLines(buildVersion).FirstOrDefault()?.Trim() is { Length: > 0 } v ? v : null;
        return NuGetLayout().Match(full) is { Success: true } n ? n.Groups[1].Value : null;
    }

    /// <summary>Whether <paramref name="version"/> (e.g. 2.10.0+cu128) is the release TorchSharp expects.</summary>
    public static bool IsExpected(string version) =>
        version == ExpectedVersion || version.StartsWith(ExpectedVersion + ".", StringComparison.Ordinal) ||
        version.StartsWith(ExpectedVersion + "+", StringComparison.Ordinal);

    [GeneratedRegex(@"^__version__\s*=\s*['""]([^'""]+)['""]")]
    private static partial Regex PythonVersionLine();

    [GeneratedRegex(@"/libtorch-[^/]+/([0-9][^/]*)/runtimes/[^/]+/native/?$")]
    private static partial Regex NuGetLayout();
}
