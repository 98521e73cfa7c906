namespace CbpGpu.Agent;

/// <summary>
/// An <see cref="IAfterStepHook"/> that replaces hidden units (Continual Backprop), with what the trainer logs
/// per update: replacements and unit ages of each hidden layer, in the order of
/// <see cref="Networks.ParameterLayout.HiddenLayers"/>.
/// </summary>
public interface IContinualBackpropHook : IAfterStepHook
{
    /// <summary>Units of this layer replaced since this hook was built (not counting earlier sessions of a resumed run).</summary>
    long TotalReplaced(int layer);

    /// <summary>Optimizer steps since each unit of the layer was (re)initialised.</summary>
    void CopyAges(int layer, Span<int> destination);
}
