using static TorchSharp.torch;

namespace CbpGpu.Agent.Networks;

/// <summary>
/// Post-ReLU outputs of the four hidden layers on one minibatch, [batch x units] each, in the order of
/// <see cref="ParameterLayout.HiddenLayers"/>. Owned by the minibatch's dispose scope: read them, don't keep them.
/// </summary>
public readonly record struct HiddenActivations(Tensor PolicyH1, Tensor PolicyH2, Tensor ValueH1, Tensor ValueH2)
{
    public Tensor this[int layer] => layer switch
    {
        0 => PolicyH1,
        1 => PolicyH2,
        2 => ValueH1,
        3 => ValueH2,
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "hidden layers are 0..3"),
    };
}
