using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Continual Backprop (docs/cbp.md#where-it-runs) with the statistics and replacements fused into a few passes over the flat
/// parameters (<see cref="ICbpKernels"/>, made by the same <see cref="IKernelBackend"/> as the optimizer whose
/// state they may reset), driven by <see cref="ContinualBackprop"/>. The kernels hold only the parameters' address; this
/// holds their owner, reachable until each step's kernels have run (src/Kernels/MEMORY.md#an-address-keeps-nothing-alive).
/// </summary>
internal sealed class FusedCbp : IContinualBackprop
{
    private readonly ICbpKernels _kernels;
    private readonly ContinualBackprop _engine;
    private readonly string _device;
    private readonly FlatParameters _parameters;

    /// <param name="seed">Seeds the replacement decisions and the fresh weights.</param>
    /// <param name="device">Where the kernels run ("cpu", "cuda"); the activations are read there, in place.</param>
    /// <param name="parameters">The parameters whose memory <paramref name="kernels"/> were made over.</param>
    public FusedCbp(ICbpKernels kernels, ulong seed, string device, FlatParameters parameters)
    {
        _kernels = kernels;
        _device = device;
        _parameters = parameters;
        _engine = new ContinualBackprop(kernels, new SplitMix64(seed));
    }

    public void AfterStep(IReadOnlyList<Tensor> hiddenActivations)
    {
        if (hiddenActivations.Count != _kernels.Layers.Count)
            throw new ArgumentException($"{hiddenActivations.Count} activation tensors for {_kernels.Layers.Count} hidden layers.");
        for (int l = 0; l < hiddenActivations.Count; l++)
        {
            var h = hiddenActivations[l];
            if (h.ndim != 2 || h.shape[1] != _kernels.Layers[l].Units)
                throw new ArgumentException($"Activations of layer {l} have shape [{string.Join(", ", h.shape)}], expected [batch, {_kernels.Layers[l].Units}].");
            _engine.Observe(l, TensorMemory.Of(h, $"the activations of hidden layer {l}", _device), (int)h.shape[0]);
        }
        _engine.GenerateAndTest();
        GC.KeepAlive(_parameters);
    }

    public long TotalReplaced(int layer) => _engine.TotalReplaced(layer);

    public void CopyAges(int layer, Span<int> destination) => _engine.Ages(layer).CopyTo(destination);

    public void Save(BinaryWriter writer)
    {
        var layers = new CbpState.Layer[_kernels.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            int n = _kernels.Layers[l].Units;
            layers[l] = new CbpState.Layer(_engine.Chooser.Accumulated[l], new int[n], new float[n], new float[n]);
            _kernels.ReadUnitState(l, layers[l].Age, layers[l].F, layers[l].U);
        }
        CbpState.Write(writer, _engine.Chooser.Random.State, layers);
    }

    public void Load(BinaryReader reader)
    {
        var (random, layers) = CbpState.Read(reader, _kernels.Layers);
        for (int l = 0; l < layers.Length; l++)
            _kernels.WriteUnitState(l, layers[l].Age, layers[l].F, layers[l].U);
        CbpState.Apply(_engine.Chooser, random, layers);
        _engine.ReloadAges();
    }

    public void Dispose() => _kernels.Dispose();
}
