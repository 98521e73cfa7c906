using ILGPU;
using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// Memory someone else allocated and owns (a TorchSharp tensor's data: libtorch's device memory on CUDA, host memory
/// on ILGPU's CPU accelerator), seen by an accelerator's kernels without copying. ILGPU 1.5.3 has no "wrap this device
/// pointer" call, so this is a <see cref="MemoryBuffer"/> whose native pointer is that address (src/Kernels/MEMORY.md):
/// a kernel argument is a view's address and length, which is all the kernels take from it. It frees nothing, and
/// ILGPU's copies and fills are refused (the kernels read and write it; the owner copies it).
/// One buffer may be pointed at another range of the same size or smaller (<see cref="Retarget"/>), so a fresh
/// activation tensor every minibatch costs no allocation here.
/// </summary>
public sealed class ForeignMemory<T> : MemoryBuffer where T : unmanaged
{
    /// <summary>Wraps <paramref name="memory"/>, which must stay alive and unmoved while kernels use it.</summary>
    public unsafe ForeignMemory(Accelerator accelerator, NativeView<T> memory)
        : base(accelerator, Math.Max(1, memory.Length), sizeof(T))
    {
        if (memory.Address == 0 || memory.Length == 0)
            throw new ArgumentException("Foreign memory needs a non-null address and a positive length.", nameof(memory));
        if (accelerator.AcceleratorType is not (AcceleratorType.CPU or AcceleratorType.Cuda))
            throw new NotSupportedException(
                $"Foreign memory is implemented for ILGPU's CPU and CUDA accelerators, not {accelerator.AcceleratorType}.");
        Retarget(memory);
    }

    /// <summary>Elements of the current range.</summary>
    public int Count { get; private set; }

    /// <summary>The accelerator's view of the current range.</summary>
    public ArrayView<T> View => AsArrayView<T>(0, Count);

    /// <summary>Points this buffer at another range of at most its capacity (the length it was made with).</summary>
    public void Retarget(NativeView<T> memory)
    {
        if (memory.Address == 0 && memory.Length > 0) throw new ArgumentException("A non-empty range needs an address.", nameof(memory));
        if (memory.Length > Length)
            throw new ArgumentException($"{memory.Length} elements do not fit a foreign buffer of {Length}; make a larger one.", nameof(memory));
        NativePtr = memory.Address;
        Count = memory.Length;
    }

    protected override void MemSet(AcceleratorStream stream, byte value, in ArrayView<byte> targetView) =>
        throw new NotSupportedException("Foreign memory is written by kernels only; its owner fills it.");

    protected override void CopyFrom(AcceleratorStream stream, in ArrayView<byte> sourceView, in ArrayView<byte> targetView) =>
        throw new NotSupportedException("Foreign memory is written by kernels only; its owner copies into it.");

    protected override void CopyTo(AcceleratorStream stream, in ArrayView<byte> sourceView, in ArrayView<byte> targetView) =>
        throw new NotSupportedException("Foreign memory is read by kernels only; its owner copies out of it.");

    // The memory is the owner's: nothing to free.
    protected override void DisposeAcceleratorObject(bool disposing) => NativePtr = IntPtr.Zero;
}
