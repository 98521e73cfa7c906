using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace CbpGpu.Kernels;

/// <summary>
/// ILGPU's CUDA accelerator running in the device's primary context, the one libtorch (the CUDA runtime) uses, so
/// that kernels may read and write libtorch's device pointers (memory belongs to a context; another context on the same
/// device cannot address it). ILGPU 1.5.3's CudaAccelerator always creates a context of its own (cuCtxCreate) and binds
/// whatever its native pointer names (cuCtxSetCurrent), with no option for the primary one. So: create it, retain the
/// primary context (cuDevicePrimaryCtxRetain), put that in the accelerator's native pointer and make it current before
/// any kernel is loaded or memory allocated; on disposal put ILGPU's own context back so that ILGPU destroys that one, and
/// release the primary (src/Kernels/MEMORY.md#cuda). cuCtxSynchronize on the primary context (the accelerator's
/// Synchronize) then also waits for libtorch's streams.
/// </summary>
public sealed partial class PrimaryContextCuda : IDisposable
{
    // ILGPU 1.5.3: Accelerator's private field behind NativePtr (tests/Kernels/PrimaryContextTests.cs checks it exists).
    public static readonly FieldInfo NativePointerField =
        typeof(Accelerator).GetField("nativePtr", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException(typeof(Accelerator).FullName, "nativePtr");

    private readonly Context _context;
    private readonly nint _ownContext;
    private readonly int _device;
    private bool _disposed;

    private PrimaryContextCuda(Context context, Accelerator accelerator, nint ownContext, int device)
    {
        _context = context;
        Accelerator = accelerator;
        _ownContext = ownContext;
        _device = device;
    }

    public Accelerator Accelerator { get; }

    /// <summary>CUDA device <paramref name="ordinal"/> (libtorch's cuda:N) in its primary context.</summary>
    public static PrimaryContextCuda Open(int ordinal)
    {
        var context = IlgpuDevices.CreateContext();
        Accelerator? accelerator = null;
        try
        {
            var devices = context.GetCudaDevices();
            if (ordinal < 0 || ordinal >= devices.Count)
                throw new InvalidOperationException($"ILGPU finds {devices.Count} CUDA devices, not device {ordinal} (is the NVIDIA driver's libcuda.so.1 present?)");
            accelerator = devices[ordinal].CreateCudaAccelerator(context);
            Check(CuDeviceGet(out int device, ordinal), "cuDeviceGet");
            Check(CuDevicePrimaryCtxRetain(out nint primary, device), "cuDevicePrimaryCtxRetain");
            nint own = accelerator.NativePtr;
            NativePointerField.SetValue(accelerator, primary);
            // Bind() returns early for the accelerator already current on this thread (the constructor bound it), so
            // make the primary context current here; other threads bind it through NativePtr.
            Check(CuCtxSetCurrent(primary), "cuCtxSetCurrent");
            accelerator.Bind();
            return new PrimaryContextCuda(context, accelerator, own, device);
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Accelerator.Synchronize();
        NativePointerField.SetValue(Accelerator, _ownContext);
        Accelerator.Dispose();
        _ = CuDevicePrimaryCtxRelease(_device);
        _context.Dispose();
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed with CUresult {result}");
    }

    [LibraryImport("libcuda.so.1", EntryPoint = "cuDeviceGet")]
    private static partial int CuDeviceGet(out int device, int ordinal);

    [LibraryImport("libcuda.so.1", EntryPoint = "cuDevicePrimaryCtxRetain")]
    private static partial int CuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport("libcuda.so.1", EntryPoint = "cuCtxSetCurrent")]
    private static partial int CuCtxSetCurrent(nint context);

    [LibraryImport("libcuda.so.1", EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    private static partial int CuDevicePrimaryCtxRelease(int device);
}
