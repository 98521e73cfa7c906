using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Continual Backprop (SPEC §4) after every optimizer step, with the statistics and replacements
/// fused into a few passes over the flat parameter tensor, on the same backend as the given
/// <see cref="FusedAgedAdam"/> (whose moments it zeroes when the settings say so).
/// </summary>
public sealed class FusedCbp : IContinualBackpropHook, IDisposable
{
    private readonly Tensor? _parameters;   // the memory the CPU kernels write to must outlive them

    /// <param name="layers">The hidden layers in network order (policy h1, h2, value h1, h2).</param>
    /// <param name="seed">Seeds the replacement decisions and the fresh weights.</param>
    public FusedCbp(FusedAgedAdam optimizer, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings settings, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Kernels = optimizer.Accelerator is null
            ? new CpuCbpKernels(optimizer.Parameters, layers, settings, (CpuAgedAdam)optimizer.Engine)
            : new IlgpuCbpKernels(optimizer.Accelerator, optimizer.ParameterView, layers, settings, (IlgpuAgedAdam)optimizer.Engine);
        Engine = new ContinualBackprop(Kernels, new SplitMix64(seed));
    }

    /// <summary>
    /// CBP on the CPU loops next to an optimizer that keeps no per-weight state CBP could reset
    /// (TorchSharp's Adam); settings that reset optimizer state are refused.
    /// </summary>
    /// <param name="parameters">The flat float32 CPU parameter tensor (rewritten in place on replacement).</param>
    public FusedCbp(Tensor parameters, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings settings, ulong seed)
    {
        Kernels = new CpuCbpKernels(TensorMemory.Of(parameters, "the parameter tensor"), layers, settings);
        _parameters = parameters;
        Engine = new ContinualBackprop(Kernels, new SplitMix64(seed));
    }

    public ICbpKernels Kernels { get; }

    public ContinualBackprop Engine { get; }

    /// <summary>
    /// Generate-and-test from this minibatch's post-ReLU activations, one [batch x units] tensor per
    /// hidden layer in layer order. Returns the number of units replaced.
    /// </summary>
    public int AfterStep(IReadOnlyList<Tensor> activations)
    {
        if (activations.Count != Kernels.Layers.Count)
            throw new ArgumentException($"{activations.Count} activation tensors for {Kernels.Layers.Count} hidden layers.");
        for (int l = 0; l < activations.Count; l++) Observe(l, activations[l]);
        return Engine.GenerateAndTest();
    }

    /// <summary>The trainer's hook: the four hidden layers' activations of this minibatch.</summary>
    public void AfterStep(in HiddenActivations activations)
    {
        if (Kernels.Layers.Count != 4)
            throw new InvalidOperationException($"This CBP has {Kernels.Layers.Count} hidden layers; the PPO networks have 4.");
        for (int l = 0; l < 4; l++) Observe(l, activations[l]);
        Engine.GenerateAndTest();
    }

    private void Observe(int l, Tensor h)
    {
        if (h.ndim != 2 || h.shape[1] != Kernels.Layers[l].Units)
            throw new ArgumentException($"Activations of layer {l} have shape [{string.Join(", ", h.shape)}], expected [batch, {Kernels.Layers[l].Units}].");
        var view = TensorMemory.Of(h, $"the activations of hidden layer {l}");
        Engine.Observe(l, view.AsSpan(), (int)h.shape[0]);
    }

    public long TotalReplaced(int layer) => Engine.TotalReplaced(layer);

    public void CopyAges(int layer, Span<int> destination) => Engine.Ages(layer).CopyTo(destination);

    public void Save(BinaryWriter writer)
    {
        var layers = new CbpState.Layer[Kernels.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            int n = Kernels.Layers[l].Units;
            layers[l] = new CbpState.Layer(Engine.Chooser.Accumulated[l], new int[n], new float[n], new float[n]);
            Kernels.ReadUnitState(l, layers[l].Age, layers[l].F, layers[l].U);
        }
        CbpState.Write(writer, Engine.Chooser.Random.State, layers);
    }

    public void Load(BinaryReader reader)
    {
        var (random, layers) = CbpState.Read(reader, Kernels.Layers.Select(x => x.Units).ToArray());
        for (int l = 0; l < layers.Length; l++)
            Kernels.WriteUnitState(l, layers[l].Age, layers[l].F, layers[l].U);
        CbpState.Apply(Engine.Chooser, random, layers);
        Engine.ReloadAges();
    }

    public void Dispose()
    {
        Kernels.Dispose();
        GC.KeepAlive(_parameters);
    }
}
