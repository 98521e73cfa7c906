using CbpGpu.Kernels;

namespace CbpGpu.Agent.Settings;

/// <summary>The optimizer variants of docs/ppo.md#methods (PPO+CBP's CBP settings are <see cref="TrainConfig.Cbp"/>).</summary>
public enum PpoMethod { Standard, NsAdam, L2, Cbp }

/// <summary>PPO as in the published runs (docs/ppo.md#one-update); every field is what the update reads.</summary>
public sealed record PpoSettings(
    PpoMethod Method,
    AdamSettings Adam,
    int HiddenUnits = 256,
    int BatchSize = 2048,
    int Epochs = 10,
    int Minibatches = 16,
    double Clip = 0.2,
    double Gamma = 0.99,
    double GaeLambda = 0.95,
    double ValueCoefficient = 1.0,
    bool NormalizeAdvantages = true,
    bool BootstrapTruncation = false)
{
    public int MinibatchSize => BatchSize / Minibatches;

    /// <summary>Rollout length per env so that one update sees <see cref="BatchSize"/> transitions.</summary>
    public int StepsPerEnv(int numEnvs) => BatchSize / numEnvs;

    /// <summary>The table of docs/ppo.md#methods: Standard PPO, NS-Adam, PPO+L2, PPO+CBP (lr 1e-4, eps 1e-8 for all).</summary>
    public static PpoSettings For(PpoMethod method, bool bootstrapTruncation = false) => new(
        method,
        method switch
        {
            PpoMethod.Standard => new AdamSettings(1e-4, 0.9, 0.999, 1e-8, 0),
            PpoMethod.NsAdam => new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 0),
            PpoMethod.L2 => new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-3),
            PpoMethod.Cbp => new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        },
        BootstrapTruncation: bootstrapTruncation);

    /// <summary>Why these settings cannot run, or null.</summary>
    public string? Validate(int numEnvs)
    {
        if (BatchSize % numEnvs != 0) return $"the batch of {BatchSize} transitions must split evenly over {numEnvs} envs (use a divisor of {BatchSize})";
        if (BatchSize % Minibatches != 0) return $"the batch of {BatchSize} must split evenly into {Minibatches} minibatches";
        return null;
    }
}
