using System.Runtime.InteropServices;

namespace CbpGpu.Kernels;

/// <summary>
/// Zeroed, 64-byte aligned unmanaged memory that the GC never moves, so the CPU loops can keep a
/// raw pointer to it and ILGPU can wrap it without copying.
/// </summary>
public sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    private T* _pointer;

    public NativeBuffer(int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Length must be >= 0.");
        Length = length;
        nuint bytes = (nuint)Math.Max(1L, (long)length * sizeof(T));
        _pointer = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_pointer, bytes);
    }

    ~NativeBuffer() => Free();

    public int Length { get; }

    public NativeView<T> View
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return new NativeView<T>((nint)_pointer, Length);
        }
    }

    public Span<T> Span => View.AsSpan();

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_pointer == null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
