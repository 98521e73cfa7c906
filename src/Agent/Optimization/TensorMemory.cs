using System.Runtime.InteropServices;
using CbpGpu.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// A TorchSharp tensor's data as the address the kernels read, without copying (src/Kernels/MEMORY.md), on any
/// device: host memory of a CPU tensor (Tensor.bytes, a Span over what THSTensor_data = at::Tensor::data_ptr points
/// to, storage offset included), libtorch's device memory of a CUDA tensor (its storage's data_ptr plus the storage
/// offset). libtorch's allocators never move a block, so the address stays valid while the tensor (and its storage)
/// lives. The caller keeps the tensor alive.
/// </summary>
internal static class TensorMemory
{
    /// <param name="device">The device the kernels run on ("cpu", "cuda": <see cref="KernelBackendKind.Device"/>); a tensor elsewhere is refused.</param>
    public static NativeView<float> Of(Tensor tensor, string what, string device)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!DeviceName(tensor.device_type).Equals(device, StringComparison.Ordinal))
            throw new ArgumentException($"{what} is on {tensor.device}; these kernels run on {device}.");
        if (tensor.dtype != ScalarType.Float32)
            throw new ArgumentException($"{what} is {tensor.dtype}; the fused kernels need float32.");
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{what} is not contiguous; pass the flat tensor itself or call .contiguous().");
        if (tensor.device_type == DeviceType.CPU)
            return NativeView<float>.OfFixed(MemoryMarshal.Cast<byte, float>(tensor.bytes));
        long length = tensor.numel();
        if (length > int.MaxValue) throw new ArgumentException($"{what} has {length} elements; the kernels take at most {int.MaxValue}.");
        nint address = tensor.storage<float>().data_ptr() + (nint)(tensor.storage_offset() * sizeof(float));
        return new NativeView<float>(address, (int)length);
    }

    /// <summary>A CPU tensor's floats as a span, for per-element loops on the host; refused as <see cref="Of(Tensor, string, string)"/> refuses.</summary>
    public static Span<float> OnHost(Tensor tensor, string what) => Of(tensor, what, "cpu").AsSpan();

    /// <summary>A copy of a tensor's elements on the host, from any device (the naive references' reads of their state).</summary>
    public static T[] ToArray<T>(Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type == DeviceType.CPU) return tensor.data<T>().ToArray();
        using var host = tensor.cpu();
        return host.data<T>().ToArray();
    }

    /// <summary>The flat parameters and gradients of <paramref name="parameters"/> for a backend on <paramref name="device"/>.</summary>
    public static KernelMemory Of(Networks.FlatParameters parameters, string device) => new(
        Of(parameters.Data, "the parameter tensor", device), Of(parameters.Grad, "the gradient tensor", device),
        parameters.Data.device_type == DeviceType.CPU ? 0 : parameters.Data.device_index);

    /// <summary>torch's name of a device type, as <see cref="KernelBackendKind.Device"/> names it.</summary>
    public static string DeviceName(DeviceType type) => type switch
    {
        DeviceType.CPU => "cpu",
        DeviceType.CUDA => "cuda",
        _ => type.ToString().ToLowerInvariant(),
    };
}
