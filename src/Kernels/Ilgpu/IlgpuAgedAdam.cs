using ILGPU;
using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// Aged Adam as one ILGPU kernel launch per step over flat parameter and gradient views
/// (see <see cref="ForeignMemory{T}"/> for handing it TorchSharp's memory); moments, counters
/// and bias-correction tables live on the accelerator.
/// </summary>
public sealed class IlgpuAgedAdam : IAgedAdam
{
    private readonly Accelerator _accelerator;
    private readonly ArrayView<float> _parameters;
    private readonly ArrayView<float> _gradients;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _m, _v, _inverseBias1, _sqrtBias2;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _t;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<int>, ArrayView<float>, ArrayView<float>, AdamScalars> _kernel;
    private readonly AdamScalars _scalars;

    public IlgpuAgedAdam(Accelerator accelerator, ArrayView<float> parameters, ArrayView<float> gradients, AdamSettings hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        hyperparameters.Validate();
        if (parameters.Length != gradients.Length)
            throw new ArgumentException($"{parameters.Length} parameters but {gradients.Length} gradients.");
        if (parameters.Length > int.MaxValue)
            throw new ArgumentException($"At most {int.MaxValue} parameters, got {parameters.Length}.");
        _accelerator = accelerator;
        _parameters = parameters;
        _gradients = gradients;
        int n = (int)parameters.Length;
        _m = accelerator.Allocate1D<float>(n);
        _v = accelerator.Allocate1D<float>(n);
        _t = accelerator.Allocate1D<int>(n);
        _m.MemSetToZero();
        _v.MemSetToZero();
        _t.MemSetToZero();
        int tableLength = Math.Max(
            BiasCorrectionTable.LengthFor(hyperparameters.Beta1), BiasCorrectionTable.LengthFor(hyperparameters.Beta2));
        _inverseBias1 = accelerator.Allocate1D(BiasCorrectionTable.Inverse(hyperparameters.Beta1, tableLength));
        _sqrtBias2 = accelerator.Allocate1D(BiasCorrectionTable.SquareRoot(hyperparameters.Beta2, tableLength));
        _scalars = AdamScalars.From(hyperparameters, tableLength - 1);
        _kernel = KernelLoader.Load<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AdamScalars>>(
            accelerator, KernelLoader.Kernel(typeof(AgedAdamKernel), nameof(AgedAdamKernel.Run)));
        accelerator.Synchronize();
    }

    public int Length => (int)_parameters.Length;

    internal Accelerator Accelerator => _accelerator;

    internal ArrayView<float> M => _m.View;

    internal ArrayView<float> V => _v.View;

    internal ArrayView<int> T => _t.View;

    /// <summary>
    /// Waits for what the context has in flight (libtorch's backward pass writing the gradients), launches the step and
    /// waits for it, so the host and the next forward pass see the new parameters.
    /// </summary>
    public void Step()
    {
        _accelerator.Synchronize();
        _kernel(_accelerator.DefaultStream, Length, _parameters, _gradients, _m.View, _v.View, _t.View, _inverseBias1.View, _sqrtBias2.View, _scalars);
        _accelerator.Synchronize();
    }

    public void ReadState(Span<float> m, Span<float> v, Span<int> t)
    {
        _accelerator.Synchronize();
        _m.View.AsContiguous().CopyToCPU(m[..Length]);
        _v.View.AsContiguous().CopyToCPU(v[..Length]);
        _t.View.AsContiguous().CopyToCPU(t[..Length]);
    }

    public void WriteState(ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<int> t)
    {
        if (m.Length != Length || v.Length != Length || t.Length != Length)
            throw new ArgumentException($"Optimizer state of {Length} parameters expected, got m {m.Length}, v {v.Length}, t {t.Length}.");
        _accelerator.Synchronize();
        _m.View.AsContiguous().CopyFromCPU(m);
        _v.View.AsContiguous().CopyFromCPU(v);
        _t.View.AsContiguous().CopyFromCPU(t);
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        _t.Dispose();
        _inverseBias1.Dispose();
        _sqrtBias2.Dispose();
    }
}
