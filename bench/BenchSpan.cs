using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

internal static class BenchSpan
{
    /// <summary>A contiguous float32 CPU tensor's data, in place.</summary>
    public static Span<float> Of(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
