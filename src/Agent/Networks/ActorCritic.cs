using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CbpGpu.Agent.Networks;

/// <summary>Policy output: action mean [B x A], state-independent log-std [A], hidden activations [B x H].</summary>
public readonly record struct PolicyOutput(Tensor Mean, Tensor LogStd, Tensor H1, Tensor H2);

/// <summary>Value output: V(s) [B], hidden activations [B x H].</summary>
public readonly record struct ValueOutput(Tensor Value, Tensor H1, Tensor H2);

/// <summary>
/// The policy (obs -> H -> act -> H -> act -> A mean, plus log_std) and the separate value network
/// (obs -> H -> act -> H -> act -> 1) of docs/ppo.md#networks, act being ReLU or Tanh, both reading their weights from one
/// <see cref="FlatParameters"/>. The hidden outputs H1, H2 are taken after the nonlinearity: they are what Continual
/// Backprop scores (docs/cbp.md#where-it-runs).
/// </summary>
public sealed class ActorCritic : IDisposable
{
    private readonly Func<Tensor, Tensor> _activation;

    public ActorCritic(int observationSize, int hiddenUnits, int actionSize, Device device, Activation activation = Activation.Relu)
    {
        Parameters = new FlatParameters(new ParameterLayout(observationSize, hiddenUnits, actionSize), device);
        Activation = activation;
        _activation = activation switch
        {
            Activation.Relu => x => F.relu(x),
            Activation.Tanh => x => F.tanh(x),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
        };
    }

    public FlatParameters Parameters { get; }

    /// <summary>The nonlinearity after each hidden Linear.</summary>
    public Activation Activation { get; }
    public ParameterLayout Layout => Parameters.Layout;

    public PolicyOutput Policy(Tensor obs)
    {
        var p = Parameters;
        var l = Layout;
        var h1 = _activation(F.linear(obs, p[l.PolicyW1], p[l.PolicyB1]));
        var h2 = _activation(F.linear(h1, p[l.PolicyW2], p[l.PolicyB2]));
        var mean = F.linear(h2, p[l.PolicyW3], p[l.PolicyB3]);
        return new PolicyOutput(mean, p[l.LogStd], h1, h2);
    }

    public ValueOutput Value(Tensor obs)
    {
        var p = Parameters;
        var l = Layout;
        var h1 = _activation(F.linear(obs, p[l.ValueW1], p[l.ValueB1]));
        var h2 = _activation(F.linear(h1, p[l.ValueW2], p[l.ValueB2]));
        var v = F.linear(h2, p[l.ValueW3], p[l.ValueB3]).squeeze(-1);
        return new ValueOutput(v, h1, h2);
    }

    public void Dispose() => Parameters.Dispose();
}
