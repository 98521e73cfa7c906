using ILGPU;
using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP statistics and replacement as ILGPU kernels over a flat parameter view. Unit state lives
/// on the accelerator. The minibatch activations are read where the forward pass left them (a fresh
/// tensor every minibatch, on the accelerator's device): one <see cref="ForeignMemory{T}"/> is pointed at
/// each in turn, so nothing is copied or allocated per minibatch.
/// </summary>
public sealed class IlgpuCbpKernels : ICbpKernels
{
    private readonly Accelerator _accelerator;
    private readonly ArrayView<float> _parameters;
    private readonly HiddenLayerLayout[] _layers;
    private readonly int[] _stateOffsets;
    private readonly IlgpuAgedAdam? _optimizer;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _age, _units;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _f, _u, _fhat, _uhat, _biasCorrection;
    private readonly MemoryBuffer1D<ulong, Stride1D.Dense> _keys;
    private ForeignMemory<float>? _activations;
    private readonly CbpScalars _scalars;

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HiddenLayerLayout, int, int, CbpScalars> _statistics;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
        ArrayView<int>, ArrayView<ulong>, ArrayView<int>, ArrayView<float>, ArrayView<float>, HiddenLayerLayout, int, float,
        CbpScalars> _incoming;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
        ArrayView<int>, ArrayView<float>, HiddenLayerLayout, int, int, CbpScalars> _outgoing;

    /// <param name="optimizer">The optimizer over the same parameters on the same accelerator; required when the settings reset its state.</param>
    public IlgpuCbpKernels(Accelerator accelerator, ArrayView<float> parameters, IReadOnlyList<HiddenLayerLayout> layers,
        CbpSettings settings, IlgpuAgedAdam? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.AdamReset != AdamStateReset.None && optimizer is null)
            throw new ArgumentException("CBP settings reset the optimizer state, but no optimizer was given.");
        if (optimizer is not null && (optimizer.Length != parameters.Length || optimizer.Accelerator != accelerator))
            throw new ArgumentException("The optimizer must run on the same accelerator over the same parameters.");
        _accelerator = accelerator;
        _parameters = parameters;
        _layers = layers.ToArray();
        _optimizer = optimizer;
        Settings = settings;
        _stateOffsets = HiddenLayerLayout.UnitStateOffsets(_layers, parameters.Length, out int units, out int maxUnits);
        _age = accelerator.Allocate1D<int>(units);
        _f = accelerator.Allocate1D<float>(units);
        _u = accelerator.Allocate1D<float>(units);
        _fhat = accelerator.Allocate1D<float>(units);
        _uhat = accelerator.Allocate1D<float>(units);
        _units = accelerator.Allocate1D<int>(maxUnits);
        _keys = accelerator.Allocate1D<ulong>(maxUnits);
        _age.MemSetToZero();
        _f.MemSetToZero();
        _u.MemSetToZero();
        _fhat.MemSetToZero();
        _uhat.MemSetToZero();
        float[] table = BiasCorrectionTable.Plain(settings.Decay);
        _biasCorrection = accelerator.Allocate1D(table);
        _scalars = CbpScalars.From(settings, table.Length - 1);
        _statistics = KernelLoader.Load<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HiddenLayerLayout, int, int,
            CbpScalars>>(accelerator, KernelLoader.Kernel(typeof(CbpStatisticsKernel), nameof(CbpStatisticsKernel.Run)));
        _incoming = KernelLoader.Load<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, ArrayView<int>, ArrayView<ulong>, ArrayView<int>, ArrayView<float>, ArrayView<float>, HiddenLayerLayout,
            int, float, CbpScalars>>(accelerator, KernelLoader.Kernel(typeof(CbpReplacementKernels), nameof(CbpReplacementKernels.Incoming)));
        _outgoing = KernelLoader.Load<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, ArrayView<int>, ArrayView<float>, HiddenLayerLayout, int, int, CbpScalars>>(
            accelerator, KernelLoader.Kernel(typeof(CbpReplacementKernels), nameof(CbpReplacementKernels.Outgoing)));
        accelerator.Synchronize();
    }

    public IReadOnlyList<HiddenLayerLayout> Layers => _layers;

    public CbpSettings Settings { get; }

    public void UpdateStatistics(int layer, NativeView<float> activations, int batchSize)
    {
        var L = _layers[layer];
        CbpArguments.CheckActivations(L, activations.Length, batchSize);
        // The forward pass that wrote the activations (libtorch's stream) is done before the kernel reads them.
        _accelerator.Synchronize();
        if (_activations is null || _activations.Length < activations.Length)
        {
            _activations?.Dispose();
            _activations = new ForeignMemory<float>(_accelerator, activations);
        }
        else
        {
            _activations.Retarget(activations);
        }
        _statistics(_accelerator.DefaultStream, L.Units, _activations.View, _parameters, _age.View, _f.View, _u.View, _fhat.View, _uhat.View,
            _biasCorrection.View, L, _stateOffsets[layer], batchSize, _scalars);
        // The caller may free the activations as soon as this returns.
        _accelerator.Synchronize();
    }

    public void Replace(int layer, ReadOnlySpan<int> units, ReadOnlySpan<ulong> noiseKeys)
    {
        var L = _layers[layer];
        CbpArguments.CheckReplacement(L, units, noiseKeys);
        if (units.Length == 0) return;
        _accelerator.Synchronize();
        _units.View.AsContiguous().SubView(0, units.Length).CopyFromCPU(units);
        _keys.View.AsContiguous().SubView(0, noiseKeys.Length).CopyFromCPU(noiseKeys);
        int stateOffset = _stateOffsets[layer];
        var m = _optimizer?.M ?? ArrayView<float>.Empty;
        var v = _optimizer?.V ?? ArrayView<float>.Empty;
        var t = _optimizer?.T ?? ArrayView<int>.Empty;
        _incoming(_accelerator.DefaultStream, units.Length * (L.FanIn + 1), _parameters, m, v, t, _units.View, _keys.View, _age.View, _f.View, _u.View,
            L, stateOffset, CbpMath.InitialBound(L.FanIn, Settings.NewRowBound), _scalars);
        _outgoing(_accelerator.DefaultStream, L.NextOut, _parameters, m, v, t, _units.View, _fhat.View, L, stateOffset, units.Length, _scalars);
        // The host (TorchSharp) reads the parameters next.
        _accelerator.Synchronize();
    }

    public void ReadUtilities(int layer, Span<float> destination) => Read(_uhat, layer, destination);

    public void ReadAges(int layer, Span<int> destination) => Read(_age, layer, destination);

    public void ReadUnitState(int layer, Span<int> age, Span<float> f, Span<float> u)
    {
        Read(_age, layer, age);
        Read(_f, layer, f);
        Read(_u, layer, u);
    }

    public void WriteUnitState(int layer, ReadOnlySpan<int> age, ReadOnlySpan<float> f, ReadOnlySpan<float> u)
    {
        CbpArguments.CheckUnitState(_layers[layer], age.Length, f.Length, u.Length);
        _accelerator.Synchronize();
        Slice(_age, layer).CopyFromCPU(age);
        Slice(_f, layer).CopyFromCPU(f);
        Slice(_u, layer).CopyFromCPU(u);
    }

    public void Dispose()
    {
        _age.Dispose();
        _units.Dispose();
        _f.Dispose();
        _u.Dispose();
        _fhat.Dispose();
        _uhat.Dispose();
        _biasCorrection.Dispose();
        _keys.Dispose();
        _activations?.Dispose();
    }

    private void Read<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int layer, Span<T> destination) where T : unmanaged
    {
        _accelerator.Synchronize();
        Slice(buffer, layer).CopyToCPU(destination[.._layers[layer].Units]);
    }

    private ArrayView<T> Slice<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int layer) where T : unmanaged =>
        buffer.View.AsContiguous().SubView(_stateOffsets[layer], _layers[layer].Units);
}
