using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// The fused kernels on an ILGPU accelerator (ILGPU's CPU simulator in tests; CUDA on a GPU),
/// which sees the caller's parameter and gradient memory through <see cref="ExternalMemory{T}"/>
/// without copying. The accelerator stays the caller's.
/// </summary>
public sealed class IlgpuKernelBackend : IKernelBackend
{
    private readonly Accelerator _accelerator;
    private readonly ExternalMemory<float> _parameters;
    private readonly ExternalMemory<float> _gradients;

    public IlgpuKernelBackend(Accelerator accelerator, NativeView<float> parameters, NativeView<float> gradients)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _accelerator = accelerator;
        _parameters = ExternalMemory<float>.Wrap(accelerator, parameters);
        try
        {
            _gradients = ExternalMemory<float>.Wrap(accelerator, gradients);
        }
        catch
        {
            _parameters.Dispose();
            throw;
        }
    }

    public string Device => _accelerator.Name;

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
    }
}
