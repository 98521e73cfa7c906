using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// Continual Backprop's generate-and-test (docs/cbp.md#order-within-one-optimizer-step), run after every optimizer step. It rewrites the flat
/// parameters in place (and, with the reproduction's settings, the optimizer's per-weight state). Layers are
/// indexed in <see cref="Networks.ParameterLayout.HiddenLayers"/> order.
/// </summary>
public interface IContinualBackprop : IDisposable
{
    /// <summary>Activations of this minibatch after the nonlinearity (ReLU or Tanh), [batch x units] per hidden layer, in ParameterLayout.HiddenLayers order.</summary>
    void AfterStep(IReadOnlyList<Tensor> hiddenActivations);

    /// <summary>Units of this layer replaced since construction (a resumed run counts from its own start).</summary>
    long TotalReplaced(int layer);

    /// <summary>Optimizer steps since each unit of the layer was (re)initialised.</summary>
    void CopyAges(int layer, Span<int> destination);

    /// <summary>Everything needed to continue bit-for-bit (unit ages, running statistics, random state), payload only.</summary>
    void Save(BinaryWriter writer);

    /// <summary>Restores <see cref="Save"/>'s payload; throws <see cref="InvalidDataException"/> when it does not fit.</summary>
    void Load(BinaryReader reader);
}
