using CbpGpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Aged Adam (SPEC §4) as one fused pass per step over the Agent's flat parameter and gradient
/// tensors, without copying them: on the CPU loops by default, or as an ILGPU kernel on a given
/// accelerator (CUDA when there is a GPU; ILGPU's CPU simulator in tests).
/// </summary>
public sealed class FusedAgedAdam : IParameterOptimizer
{
    private readonly Tensor _parameters;
    private readonly Tensor _gradients;
    private readonly ExternalMemory<float>? _parameterMemory;
    private readonly ExternalMemory<float>? _gradientMemory;

    /// <param name="parameters">The flat float32 CPU parameter tensor (updated in place).</param>
    /// <param name="gradients">The flat gradient tensor, same length.</param>
    /// <param name="accelerator">null for the CPU loops, else the ILGPU accelerator to run the kernel on.</param>
    public FusedAgedAdam(Tensor parameters, Tensor gradients, AdamHyperparameters hyperparameters, Accelerator? accelerator = null)
    {
        var p = TensorMemory.Of(parameters, "the parameter tensor");
        var g = TensorMemory.Of(gradients, "the gradient tensor");
        if (p.Length != g.Length)
            throw new ArgumentException($"{p.Length} parameters but {g.Length} gradients; pass tensors of the same layout.");
        _parameters = parameters;
        _gradients = gradients;
        Parameters = p;
        Accelerator = accelerator;
        if (accelerator is null)
        {
            Engine = new CpuAgedAdam(p, g, hyperparameters);
        }
        else
        {
            _parameterMemory = ExternalMemory<float>.Wrap(accelerator, p);
            _gradientMemory = ExternalMemory<float>.Wrap(accelerator, g);
            Engine = new IlgpuAgedAdam(accelerator, _parameterMemory.View, _gradientMemory.View, hyperparameters);
        }
    }

    public IAgedAdam Engine { get; }

    /// <summary>null when running on the CPU loops.</summary>
    public Accelerator? Accelerator { get; }

    /// <summary>The parameters as the CPU loops see them.</summary>
    public NativeView<float> Parameters { get; }

    /// <summary>The parameters as the accelerator sees them (only with an accelerator).</summary>
    public ArrayView<float> ParameterView =>
        _parameterMemory?.View ?? throw new InvalidOperationException("This optimizer runs on the CPU loops; it has no accelerator view.");

    public void ZeroGrad() => _gradients.zero_();

    public void Step() => Engine.Step();

    public void Save(BinaryWriter writer)
    {
        int n = Engine.Length;
        var m = new float[n];
        var v = new float[n];
        var t = new int[n];
        Engine.ReadState(m, v, t);
        AgedAdamState.Write(writer, m, v, t);
    }

    public void Load(BinaryReader reader)
    {
        var (m, v, t) = AgedAdamState.Read(reader, Engine.Length);
        Engine.WriteState(m, v, t);
    }

    public void Dispose()
    {
        Engine.Dispose();
        _parameterMemory?.Dispose();
        _gradientMemory?.Dispose();
        GC.KeepAlive(_parameters);
    }
}
