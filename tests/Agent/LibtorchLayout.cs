namespace CbpGpu.Tests.Agent;

/// <summary>A scratch folder with empty files named like libtorch's libraries, laid out as the places libtorch is found in.</summary>
public sealed class LibtorchLayout : IDisposable
{
    public static readonly string[] Cpu = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];
    public static readonly string[] Cuda = [.. Cpu, "libc10_cuda.so", "libtorch_cuda.so"];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "cbpgpu-libtorch-" + Guid.NewGuid().ToString("N"));

    /// <summary>Creates <paramref name="relative"/> under the root with these library files in it, and returns its full path.</summary>
    public string Folder(string relative, params string[] libraries)
    {
        string dir = Path.Combine(Root, relative);
        Directory.CreateDirectory(dir);
        foreach (string name in libraries) File.WriteAllBytes(Path.Combine(dir, name), []);
        return dir;
    }

    /// <summary>A PyTorch install: torch/lib with these libraries and torch/version.py saying <paramref name="version"/>; returns torch/lib.</summary>
    public string PyTorch(string version, params string[] libraries)
    {
        string lib = Folder("site-packages/torch/lib", libraries);
        File.WriteAllText(Path.Combine(Root, "site-packages/torch/version.py"), $"from typing import Optional\n__version__ = '{version}'\ncuda: Optional[str] = '13.0'\n");
        return lib;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, true);
    }
}
