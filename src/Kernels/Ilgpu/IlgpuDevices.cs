using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace CbpGpu.Kernels;

/// <summary>Creating ILGPU contexts and accelerators for the kernels.</summary>
public static class IlgpuDevices
{
    /// <summary>A context that knows the CPU simulator and any CUDA devices (none without a driver).</summary>
    public static Context CreateContext() =>
        Context.Create(builder => builder.CPU().Cuda().Optimize(OptimizationLevel.O1));

    /// <summary>ILGPU's CPU accelerator: a simulator for testing the kernel code, not for speed.</summary>
    public static Accelerator CreateCpuSimulator(Context context) => context.CreateCPUAccelerator(0);

    /// <summary>The first CUDA device, or null when there is none (no GPU or no libcuda).</summary>
    public static Accelerator? TryCreateCuda(Context context)
    {
        var devices = context.GetCudaDevices();
        return devices.Count == 0 ? null : devices[0].CreateCudaAccelerator(context);
    }
}
