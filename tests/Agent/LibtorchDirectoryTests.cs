using CbpGpu.Agent.Libtorch;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>What a libtorch directory can serve and which version the layout around it records.</summary>
public sealed class LibtorchDirectoryTests : IDisposable
{
    private readonly LibtorchLayout _layout = new();

    public void Dispose() => _layout.Dispose();

    [Fact]
    public void CpuOnlyDirectoryServesCpuButLacksTheCudaLibraries()
    {
        string dir = _layout.Folder("lib", LibtorchLayout.Cpu);
        Assert.Empty(LibtorchDirectory.Missing(dir, cuda: false));
        Assert.Equal(["libc10_cuda.so", "libtorch_cuda.so"], LibtorchDirectory.Missing(dir, cuda: true));
        Assert.Equal(LibtorchLayout.Cpu.Order(), LibtorchDirectory.Missing(_layout.Folder("empty"), cuda: false).Order());
    }

    [Fact]
    public void LoadOrderPutsEachLibraryAfterTheOnesItLinksTo()
    {
        var order = LibtorchDirectory.LoadOrder(cuda: true).ToList();
        Assert.True(order.IndexOf("libc10.so") < order.IndexOf("libtorch_cpu.so"));
        Assert.True(order.IndexOf("libc10_cuda.so") < order.IndexOf("libtorch_cuda.so"));
        Assert.True(order.IndexOf("libtorch_cpu.so") < order.IndexOf("libtorch_cuda.so"));
        Assert.Equal("libtorch.so", order[^1]);
        Assert.DoesNotContain("libtorch_cuda.so", LibtorchDirectory.LoadOrder(cuda: false));
    }

    [Fact]
    public void VersionComesFromPyTorchsVersionFile() =>
        Assert.Equal("2.11.0+cu130", LibtorchDirectory.ReadVersion(_layout.PyTorch("2.11.0+cu130", LibtorchLayout.Cuda)));

    [Fact]
    public void VersionComesFromLibtorchsBuildVersionFile()
    {
        string lib = _layout.Folder("libtorch/lib", LibtorchLayout.Cpu);
        File.WriteAllText(Path.Combine(_layout.Root, "libtorch/build-version"), "2.10.0+cu128\n");
        Assert.Equal("2.10.0+cu128", LibtorchDirectory.ReadVersion(lib));
    }

    [Fact]
    public void VersionComesFromANuGetPackagesFolder() =>
        Assert.Equal("2.10.0", LibtorchDirectory.ReadVersion(_layout.Folder("libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native", LibtorchLayout.Cpu)));

    [Fact]
    public void VersionIsUnknownWithoutAnyOfThose() =>
        Assert.Null(LibtorchDirectory.ReadVersion(_layout.Folder("somewhere/lib", LibtorchLayout.Cpu)));

    [Theory]
    [InlineData("2.10", true)]
    [InlineData("2.10.0", true)]
    [InlineData("2.10.0+cu128", true)]
    [InlineData("2.11.0+cu130", false)]
    [InlineData("2.1.0", false)]
    [InlineData("2.100.0", false)]
    public void ExpectedVersionIsTwoPointTen(string version, bool expected) =>
        Assert.Equal(expected, LibtorchDirectory.IsExpected(version));

    [Fact]
    public void ChoiceWarnsInOneLineAboutAnotherVersionOnly()
    {
        Assert.Null(new LibtorchChoice("/x", "python3's PyTorch", "2.10.0+cu128", true).VersionWarning());
        string warning = new LibtorchChoice("/x", "python3's PyTorch", "2.11.0+cu130", true).VersionWarning()!;
        Assert.StartsWith("warning: libtorch 2.11.0+cu130 in /x is not 2.10", warning);
        Assert.DoesNotContain('\n', warning);
        Assert.Contains("unknown version", new LibtorchChoice("/x", "--libtorch", null, true).VersionWarning());
    }
}
