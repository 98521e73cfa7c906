using CbpGpu.Agent.Methods;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// Continual Backprop's generate-and-test (docs/cbp.md#order-within-one-optimizer-step), run after every optimizer step. It rewrites the flat
/// parameters in place (and, with the reproduction's settings, the optimizer's per-weight state). Layers are
/// indexed in <see cref="Networks.ParameterLayout.HiddenLayers"/> order.
/// </summary>
public interface IContinualBackprop : IPlasticityHook, IUnitReplacing
{
    /// <summary>Activations of this minibatch after the nonlinearity (ReLU or Tanh), [batch x units] per hidden layer, in ParameterLayout.HiddenLayers order.</summary>
    void AfterStep(IReadOnlyList<Tensor> hiddenActivations);

    void IPlasticityHook.AfterStep(in StepView step) => AfterStep(step.HiddenActivations);
}
