using CbpGpu.Agent.Libtorch;
using CbpGpu.Agent.Training;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// Where libtorch is looked for and what a failed search says, over scratch layouts (empty files named like the
/// libraries) and a stand-in for python3, so no GPU, PyTorch or environment variable is needed.
/// </summary>
public sealed class LibtorchSearchTests : IDisposable
{
    private static readonly PythonTorch NoTorch = new(null, null, "python3 -c 'import torch': ModuleNotFoundError: No module named 'torch'");
    private readonly LibtorchLayout _layout = new();
    private int _pythonCalls;

    public void Dispose() => _layout.Dispose();

    /// <summary>A search from an app folder that carries TorchSharp-cpu's libtorch (a default build) or none (an external build).</summary>
    private LibtorchSearch Search(bool appCarriesLibtorch, string? environmentDir = null, PythonTorch? python = null)
    {
        string app = _layout.Folder("app");
        if (appCarriesLibtorch) _layout.Folder("app/runtimes/linux-x64/native", LibtorchLayout.Cpu);
        return new LibtorchSearch(app, environmentDir, () =>
        {
            _pythonCalls++;
            return python ?? NoTorch;
        });
    }

    private static string FailureOf(Action find)
    {
        string message = Assert.Throws<TrainingException>(find).Message;
        Assert.DoesNotContain('\n', message);
        return message;
    }

    [Fact]
    public void DefaultBuildOnCpuUsesItsOwnLibtorchWithoutAskingPython()
    {
        var choice = Search(appCarriesLibtorch: true).Find(cuda: false, explicitDir: null);
        Assert.Equal(Path.Combine(_layout.Root, "app/runtimes/linux-x64/native"), choice.Dir);
        Assert.False(choice.Preload);
        Assert.Equal(0, _pythonCalls);
    }

    [Fact]
    public void CudaInTheDefaultBuildWithNothingFoundNamesEveryPlaceAndTheFix()
    {
        string message = FailureOf(() => Search(appCarriesLibtorch: true).Find(cuda: true, explicitDir: null));
        Assert.StartsWith("--device cuda: no usable libtorch found; looked at --libtorch (not given), this app (", message);
        Assert.Contains("TorchSharp-cpu's libtorch, no libc10_cuda.so, libtorch_cuda.so", message);
        Assert.Contains("CBPGPU_LIBTORCH (not set)", message);
        Assert.Contains("python3 (python3 -c 'import torch': ModuleNotFoundError: No module named 'torch')", message);
        Assert.Contains("pip install torch", message);
        Assert.Contains("scripts/bundle.sh", message);
        Assert.Contains("-p:TorchBackend=cuda", message);
    }

    [Fact]
    public void ExternalBuildFindsPythonsCudaPyTorch()
    {
        string lib = _layout.PyTorch("2.11.0+cu130", LibtorchLayout.Cuda);
        var choice = Search(appCarriesLibtorch: false, python: new PythonTorch("2.11.0+cu130", lib, null)).Find(cuda: true, explicitDir: null);
        Assert.Equal((lib, "python3's PyTorch", "2.11.0+cu130", true), (choice.Dir, choice.Source, choice.Version, choice.Preload));
        Assert.Equal($"libtorch: {lib} (2.11.0+cu130, from python3's PyTorch)", choice.Describe());
    }

    [Fact]
    public void CpuOnlyPyTorchDoesNotServeCuda()
    {
        string lib = _layout.PyTorch("2.11.0+cpu", LibtorchLayout.Cpu);
        string message = FailureOf(() => Search(appCarriesLibtorch: false, python: new PythonTorch("2.11.0+cpu", lib, null)).Find(cuda: true, explicitDir: null));
        Assert.Contains($"python3 (PyTorch 2.11.0+cpu in {lib} has no libc10_cuda.so, libtorch_cuda.so: a CPU-only build)", message);
        Assert.Contains("this app (", message);
        Assert.DoesNotContain("scripts/bundle.sh", message);
    }

    [Fact]
    public void EnvironmentVariableComesBeforePython()
    {
        string dir = _layout.Folder("libtorch/lib", LibtorchLayout.Cuda);
        var choice = Search(appCarriesLibtorch: false, environmentDir: dir).Find(cuda: true, explicitDir: null);
        Assert.Equal(("CBPGPU_LIBTORCH", true), (choice.Source, choice.Preload));
        Assert.Equal(0, _pythonCalls);
    }

    [Fact]
    public void EnvironmentVariableNamingAnUnusableDirectoryStopsTheSearch()
    {
        string dir = _layout.Folder("cpu-only", LibtorchLayout.Cpu);
        string message = FailureOf(() => Search(appCarriesLibtorch: false, environmentDir: dir).Find(cuda: true, explicitDir: null));
        Assert.StartsWith($"CBPGPU_LIBTORCH={dir} has no libc10_cuda.so, libtorch_cuda.so, which --device cuda needs", message);
        Assert.Equal(0, _pythonCalls);
    }

    [Fact]
    public void GivenDirectoryThatDoesNotExistIsRefused()
    {
        string message = FailureOf(() => Search(appCarriesLibtorch: false).Find(cuda: false, explicitDir: "/nonexistent/torch/lib"));
        Assert.StartsWith("--libtorch /nonexistent/torch/lib: no such directory; name a PyTorch install's torch/lib", message);
    }

    [Fact]
    public void GivenDirectoryWinsOverEverythingElse()
    {
        string given = _layout.Folder("given", LibtorchLayout.Cuda);
        string environment = _layout.Folder("environment", LibtorchLayout.Cuda);
        var choice = Search(appCarriesLibtorch: false, environmentDir: environment).Find(cuda: true, explicitDir: given);
        Assert.Equal((given, "--libtorch"), (choice.Dir, choice.Source));
        Assert.Equal(0, _pythonCalls);
    }

    [Fact]
    public void GivenDirectoryInABuildThatCarriesAnotherLibtorchIsRefused()
    {
        string given = _layout.Folder("given", LibtorchLayout.Cpu);
        string message = FailureOf(() => Search(appCarriesLibtorch: true).Find(cuda: false, explicitDir: given));
        Assert.Contains($"is in {given}, but this build carries its own libtorch", message);
        Assert.Contains("one process cannot hold two", message);
        Assert.Contains("-p:TorchBackend=external", message);
    }

    [Fact]
    public void GivenDirectoryThatIsTheAppsOwnNeedsNoPreload()
    {
        var search = Search(appCarriesLibtorch: true);
        var choice = search.Find(cuda: false, explicitDir: Path.Combine(_layout.Root, "app/runtimes/linux-x64/native"));
        Assert.False(choice.Preload);
    }

    [Fact]
    public void PythonsCudaPyTorchInTheDefaultBuildIsRefusedWithTheWayOut()
    {
        string lib = _layout.PyTorch("2.11.0+cu130", LibtorchLayout.Cuda);
        string message = FailureOf(() => Search(appCarriesLibtorch: true, python: new PythonTorch("2.11.0+cu130", lib, null)).Find(cuda: true, explicitDir: null));
        Assert.StartsWith($"--device cuda: libtorch 2.11.0+cu130 from python3's PyTorch is in {lib}, but this build carries its own libtorch", message);
        Assert.Contains("scripts/bundle.sh", message);
        Assert.Contains("-p:TorchBackend=cuda", message);
    }

    [Fact]
    public void CudaBuildUsesItsOwnCudaLibtorch()
    {
        string app = _layout.Folder("app");
        _layout.Folder("app/runtimes/linux-x64/native", LibtorchLayout.Cuda);
        var choice = new LibtorchSearch(app, null, () => throw new InvalidOperationException("python asked")).Find(cuda: true, explicitDir: null);
        Assert.Equal(("this app", false), (choice.Source, choice.Preload));
    }
}
