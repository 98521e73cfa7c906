using System.Runtime.CompilerServices;
using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// The fused kernels as ILGPU kernels over memory the accelerator addresses directly: libtorch's device memory on
/// CUDA (the tensors' data_ptr, in the primary context libtorch uses: <see cref="PrimaryContextCuda"/>), host memory
/// on ILGPU's CPU accelerator, which is how the tests run this same class over TorchSharp CPU tensors. Only where the
/// addresses come from differs; the views are <see cref="ForeignMemory{T}"/> either way (src/Kernels/MEMORY.md).
/// Ordering with libtorch's stream: every launch waits for the context to be idle first (the backward pass wrote the
/// gradients, the forward pass the activations) and every call waits for its own launches before returning (the
/// next forward pass reads the parameters), so no stream is shared.
/// </summary>
public sealed class CudaKernelBackend : IKernelBackend
{
    private readonly Accelerator _accelerator;
    private readonly ForeignMemory<float> _parameters;
    private readonly ForeignMemory<float> _gradients;
    private readonly IDisposable? _owned;

    /// <param name="owned">What made <paramref name="accelerator"/> for this backend alone, disposed with it; null when the accelerator stays the caller's.</param>
    public CudaKernelBackend(Accelerator accelerator, NativeView<float> parameters, NativeView<float> gradients, IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (parameters.Length != gradients.Length)
            throw new ArgumentException($"{parameters.Length} parameters but {gradients.Length} gradients.");
        _accelerator = accelerator;
        _parameters = new ForeignMemory<float>(accelerator, parameters);
        _gradients = new ForeignMemory<float>(accelerator, gradients);
        _owned = owned;
    }

    public string Device => $"ILGPU {_accelerator.AcceleratorType} ({_accelerator.Name})";

    public (IAgedAdam Adam, ICbpKernels? Cbp) CreateAgedAdam(AdamSettings adam, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings? cbp)
    {
        var optimizer = new IlgpuAgedAdam(_accelerator, _parameters.View, _gradients.View, adam);
        try
        {
            return (optimizer, cbp is null ? null : new IlgpuCbpKernels(_accelerator, _parameters.View, layers, cbp, optimizer));
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    public ICbpKernels CreateCbp(IReadOnlyList<HiddenLayerLayout> layers, CbpSettings cbp) =>
        new IlgpuCbpKernels(_accelerator, _parameters.View, layers, cbp);

    public void Synchronize() => _accelerator.Synchronize();

    public void Dispose()
    {
        _gradients.Dispose();
        _parameters.Dispose();
        _owned?.Dispose();
    }

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any backend is looked up
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => KernelBackends.Register(new KernelBackendKind
    {
        Name = "cuda", Device = "cuda", IsDeviceDefault = true,
        Summary = "ILGPU kernels on CUDA over libtorch's device memory, in its primary context",
        Create = memory =>
        {
            var cuda = PrimaryContextCuda.Open(memory.DeviceIndex);
            try
            {
                return new CudaKernelBackend(cuda.Accelerator, memory.Parameters, memory.Gradients, cuda);
            }
            catch
            {
                cuda.Dispose();
                throw;
            }
        },
    });
}
