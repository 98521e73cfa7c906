using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CbpGpu.Kernels;

/// <summary>
/// A non-owning view of unmanaged memory the GC never moves: a TorchSharp tensor's data, a
/// <see cref="NativeBuffer{T}"/>. Whoever hands one out keeps the memory's owner reachable while it is used: the view
/// itself keeps nothing alive (src/Kernels/MEMORY.md#an-address-keeps-nothing-alive).
/// The address is where the kernels that take it run: host memory for the CPU loops (where
/// <see cref="AsSpan"/> and <see cref="Pointer"/> may be used), a device address for an accelerator's kernels
/// (src/Kernels/MEMORY.md), which the host must not dereference.
/// </summary>
public readonly unsafe struct NativeView<T> where T : unmanaged
{
    public NativeView(nint address, int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Length must be >= 0.");
        if (address == 0 && length > 0) throw new ArgumentException("A non-empty view needs a non-null address.", nameof(address));
        Address = address;
        Length = length;
    }

    public nint Address { get; }
    public int Length { get; }

    /// <summary>The raw pointer, for parallel loops (a Span cannot be captured by a lambda).</summary>
    public T* Pointer => (T*)Address;

    public Span<T> AsSpan() => new((void*)Address, Length);

    public NativeView<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) is outside [0, {Length}).");
        return new NativeView<T>(Address + (nint)start * sizeof(T), length);
    }

    /// <summary>A view of memory that is already fixed (native memory behind a span, e.g. a tensor's bytes), valid while its owner is reachable.</summary>
    public static NativeView<T> OfFixed(Span<T> span) =>
        new((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)), span.Length);
}
