using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

internal static class TensorSpan
{
    /// <summary>A contiguous float32 CPU tensor's data, in place.</summary>
    public static Span<float> Of(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
