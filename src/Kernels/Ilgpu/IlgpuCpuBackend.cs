using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>
/// <see cref="CudaKernelBackend"/> on ILGPU's CPU accelerator over host memory: the CUDA backend's code path with
/// the pointers a CPU tensor has, for tests and for trying the CUDA path's code without a GPU (a simulator, not fast).
/// </summary>
internal static class IlgpuCpuBackend
{
    private sealed class Owned(ILGPU.Context context, ILGPU.Runtime.Accelerator accelerator) : IDisposable
    {
        public void Dispose()
        {
            accelerator.Dispose();
            context.Dispose();
        }
    }

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any backend is looked up
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => KernelBackends.Register(new KernelBackendKind
    {
        Name = "ilgpu-cpu", Device = "cpu", IsDeviceDefault = false,
        Summary = "the CUDA backend's ILGPU kernels on ILGPU's CPU accelerator over host memory (tests)",
        Create = memory =>
        {
            var context = IlgpuDevices.CreateContext();
            var accelerator = IlgpuDevices.CreateCpuSimulator(context);
            var owned = new Owned(context, accelerator);
            try
            {
                return new CudaKernelBackend(accelerator, memory.Parameters, memory.Gradients, owned);
            }
            catch
            {
                owned.Dispose();
                throw;
            }
        },
    });
}
