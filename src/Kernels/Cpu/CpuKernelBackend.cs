using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>The fused kernels as parallel SIMD loops on the CPU, straight over the caller's memory.</summary>
public sealed class CpuKernelBackend(NativeView<float> parameters, NativeView<float> gradients, int maxDegreeOfParallelism = 0)
    : IKernelBackend
{
    public string Device => $"CPU loops ({Environment.ProcessorCount} threads)";

    public (IAgedAdam Adam, ICbpKernels? Cbp) CreateAgedAdam(AdamSettings adam, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings? cbp)
    {
        var optimizer = new CpuAgedAdam(parameters, gradients, adam, maxDegreeOfParallelism);
        try
        {
            return (optimizer, cbp is null ? null : new CpuCbpKernels(parameters, layers, cbp, optimizer, maxDegreeOfParallelism));
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    public ICbpKernels CreateCbp(IReadOnlyList<HiddenLayerLayout> layers, CbpSettings cbp) =>
        new CpuCbpKernels(parameters, layers, cbp, optimizer: null, maxDegreeOfParallelism);

    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any backend is looked up
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => KernelBackends.Register(new KernelBackendKind
    {
        Name = "cpu-loops", Device = "cpu", IsDeviceDefault = true,
        Summary = "parallel SIMD loops on the CPU over the tensors' host memory",
        Create = memory => new CpuKernelBackend(memory.Parameters, memory.Gradients),
    });
}
