using CbpGpu.Agent.Networks;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// The networks' nonlinearity and initialisation (docs/ppo.md#networks, docs/ppo.md#initialisation). Each Linear weight is
/// drawn by <paramref name="Init"/> and scaled by its gain: <paramref name="HiddenGain"/> for the four hidden Linears,
/// <paramref name="PolicyOutputGain"/> for the action mean, <paramref name="ValueOutputGain"/> for V(s).
/// </summary>
public sealed record NetworkSettings(
    Activation Activation, InitScheme Init, double HiddenGain, double PolicyOutputGain, double ValueOutputGain)
{
    /// <summary>The authors' networks: ReLU, LeCun uniform, no gains.</summary>
    public static NetworkSettings Nature2024 { get; } = new(Activation.Relu, InitScheme.LecunUniform, 1.0, 1.0, 1.0);

    /// <summary>Stable-Baselines3's networks as the report ran them: Tanh, orthogonal with gains sqrt 2, 0.01 and 1.</summary>
    public static NetworkSettings Seed2023 { get; } = new(Activation.Tanh, InitScheme.Orthogonal, Math.Sqrt(2), 0.01, 1.0);

    /// <summary>Why these settings cannot run, or null.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Activation)) return $"activation {(int)Activation} is not one of {string.Join(", ", Enum.GetNames<Activation>())}";
        if (!Enum.IsDefined(Init)) return $"initialisation {(int)Init} is not one of {string.Join(", ", Enum.GetNames<InitScheme>())}";
        foreach (var (name, gain) in new[] { ("hidden", HiddenGain), ("policy output", PolicyOutputGain), ("value output", ValueOutputGain) })
            if (!(gain > 0 && double.IsFinite(gain))) return $"the {name} gain must be finite and > 0, got {gain}";
        return null;
    }
}
