using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace CbpGpu.Kernels;

/// <summary>
/// Host memory someone else owns (a TorchSharp CPU tensor's data) seen by an ILGPU accelerator
/// without copying. CPU accelerator: CPUMemoryBuffer.Create wraps the pointer. CUDA: the range
/// is page-locked and mapped into the device's address space (cuMemHostRegister via
/// Accelerator.CreatePageLockFromPinned), and the device address it yields is wrapped the same
/// way, which is how ILGPU's own PageLockedArray builds its views. Kernels then read and write
/// the tensor in place, across PCIe on a discrete GPU. See MEMORY.md.
/// </summary>
public sealed class ExternalMemory<T> : IDisposable where T : unmanaged
{
    private readonly MemoryBuffer _buffer;
    private readonly PageLockScope<T>? _pageLock;

    private ExternalMemory(MemoryBuffer buffer, PageLockScope<T>? pageLock, ArrayView<T> view)
    {
        _buffer = buffer;
        _pageLock = pageLock;
        View = view;
    }

    /// <summary>The accelerator-side view of the memory.</summary>
    public ArrayView<T> View { get; }

    /// <summary>Wraps <paramref name="length"/> elements at <paramref name="hostAddress"/>; the memory must stay alive and unmoved until disposal.</summary>
    public static unsafe ExternalMemory<T> Wrap(Accelerator accelerator, nint hostAddress, int length)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (hostAddress == 0 || length <= 0)
            throw new ArgumentException("External memory needs a non-null address and a positive length.");
        PageLockScope<T>? pageLock = null;
        nint deviceAddress = hostAddress;
        switch (accelerator.AcceleratorType)
        {
            case AcceleratorType.CPU:
                break;
            case AcceleratorType.Cuda:
                pageLock = accelerator.CreatePageLockFromPinned<T>(hostAddress, length);
                deviceAddress = pageLock.AddrOfLockedObject;
                break;
            default:
                throw new NotSupportedException(
                    $"Wrapping host memory is implemented for ILGPU's CPU and CUDA accelerators, not {accelerator.AcceleratorType}.");
        }
        var buffer = CPUMemoryBuffer.Create(accelerator, deviceAddress, length, sizeof(T));
        return new ExternalMemory<T>(buffer, pageLock, buffer.AsArrayView<T>(0, length));
    }

    public static ExternalMemory<T> Wrap(Accelerator accelerator, NativeView<T> memory) =>
        Wrap(accelerator, memory.Address, memory.Length);

    public void Dispose()
    {
        _buffer.Dispose();
        _pageLock?.Dispose();
    }
}
