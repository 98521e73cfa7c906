namespace CbpGpu.Agent.Networks;

/// <summary>The nonlinearity after each hidden Linear of both networks (docs/ppo.md#networks).</summary>
public enum Activation
{
    /// <summary>max(0, x): the authors' networks.</summary>
    Relu,

    /// <summary>tanh(x): Stable-Baselines3's default, the reproduction report's networks.</summary>
    Tanh,
}
