using CbpGpu.Kernels;

namespace CbpGpu.Bench;

/// <summary>Whether ILGPU finds a CUDA device here (no GPU or no libcuda: false, never an exception).</summary>
public static class CudaProbe
{
    private static readonly Lazy<bool> Probe = new(() =>
    {
        try
        {
            using var context = IlgpuDevices.CreateContext();
            using var cuda = IlgpuDevices.TryCreateCuda(context);
            return cuda is not null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    });

    public static bool Available => Probe.Value;
}
