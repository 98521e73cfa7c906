using CbpGpu.Agent.Libtorch;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>Asking a Python for its torch, with shell scripts standing in for python3 (no PyTorch needed).</summary>
public sealed class PythonTorchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-python-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string FakePython(string body)
    {
        string path = Path.Combine(_dir, "python3");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void ReadsTheVersionAndTheLibraryFolder()
    {
        var torch = PythonTorch.Probe(FakePython("echo 2.11.0+cu130; echo /opt/venv/lib/python3.12/site-packages/torch/lib"));
        Assert.Equal(new PythonTorch("2.11.0+cu130", "/opt/venv/lib/python3.12/site-packages/torch/lib", null), torch);
    }

    [Fact]
    public void ImportErrorIsReportedByItsLastLine()
    {
        var torch = PythonTorch.Probe(FakePython(
            "echo 'Traceback (most recent call last):' >&2; echo \"ModuleNotFoundError: No module named 'torch'\" >&2; exit 1"));
        Assert.Null(torch.LibDir);
        Assert.EndsWith("-c 'import torch': ModuleNotFoundError: No module named 'torch'", torch.Problem);
    }

    [Fact]
    public void MissingPythonIsAProblemNotAnException()
    {
        var torch = PythonTorch.Probe(Path.Combine(_dir, "no-such-python"));
        Assert.Null(torch.LibDir);
        Assert.EndsWith("no-such-python not found on PATH", torch.Problem);
    }
}
