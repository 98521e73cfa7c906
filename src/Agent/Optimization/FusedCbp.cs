using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Continual Backprop (SPEC §4) with the statistics and replacements fused into a few passes over the flat
/// parameters (<see cref="ICbpKernels"/>, made by the same <see cref="IKernelBackend"/> as the optimizer whose
/// state they may reset), driven by <see cref="ContinualBackprop"/>.
/// </summary>
internal sealed class FusedCbp : IContinualBackprop
{
    /// <param name="seed">Seeds the replacement decisions and the fresh weights.</param>
    public FusedCbp(ICbpKernels kernels, ulong seed)
    {
        Kernels = kernels;
        Engine = new ContinualBackprop(kernels, new SplitMix64(seed));
    }

    public ICbpKernels Kernels { get; }

    public ContinualBackprop Engine { get; }

    public void AfterStep(IReadOnlyList<Tensor> hiddenActivations)
    {
        if (hiddenActivations.Count != Kernels.Layers.Count)
            throw new ArgumentException($"{hiddenActivations.Count} activation tensors for {Kernels.Layers.Count} hidden layers.");
        for (int l = 0; l < hiddenActivations.Count; l++)
        {
            var h = hiddenActivations[l];
            if (h.ndim != 2 || h.shape[1] != Kernels.Layers[l].Units)
                throw new ArgumentException($"Activations of layer {l} have shape [{string.Join(", ", h.shape)}], expected [batch, {Kernels.Layers[l].Units}].");
            var view = TensorMemory.Of(h, $"the activations of hidden layer {l}");
            Engine.Observe(l, view.AsSpan(), (int)h.shape[0]);
        }
        Engine.GenerateAndTest();
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
        var (random, layers) = CbpState.Read(reader, Kernels.Layers);
        for (int l = 0; l < layers.Length; l++)
            Kernels.WriteUnitState(l, layers[l].Age, layers[l].F, layers[l].U);
        CbpState.Apply(Engine.Chooser, random, layers);
        Engine.ReloadAges();
    }

    public void Dispose() => Kernels.Dispose();
}
