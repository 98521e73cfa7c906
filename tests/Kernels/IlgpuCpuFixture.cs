using CbpGpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace CbpGpu.Tests.Kernels;

/// <summary>One ILGPU context with its CPU accelerator (the simulator), shared by the kernel tests.</summary>
public sealed class IlgpuCpuFixture : IDisposable
{
    public IlgpuCpuFixture()
    {
        Context = IlgpuDevices.CreateContext();
        Accelerator = IlgpuDevices.CreateCpuSimulator(Context);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class IlgpuCpuCollection : ICollectionFixture<IlgpuCpuFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
