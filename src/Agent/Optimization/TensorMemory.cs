using System.Runtime.InteropServices;
using CbpGpu.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Zero-copy access to a TorchSharp CPU tensor's data for the kernels. Tensor.bytes returns a
/// Span over the memory that THSTensor_data (at::Tensor::data_ptr, storage offset included)
/// points to; libtorch's allocator never moves it, so its address stays valid while the tensor
/// (and its storage) lives. The caller keeps the tensor alive.
/// </summary>
internal static class TensorMemory
{
    public static NativeView<float> Of(Tensor tensor, string what)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"{what} is on {tensor.device}; the fused kernels read CPU tensors (TorchSharp-cpu).");
        if (tensor.dtype != ScalarType.Float32)
            throw new ArgumentException($"{what} is {tensor.dtype}; the fused kernels need float32.");
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{what} is not contiguous; pass the flat tensor itself or call .contiguous().");
        return NativeView<float>.OfFixed(MemoryMarshal.Cast<byte, float>(tensor.bytes));
    }
}
