using CbpGpu.Agent.Methods;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// The learner: PPO (docs/ppo.md#one-update) and its networks; every field is what the update reads. Two presets
/// (docs/learners.md): <see cref="For"/> (the authors' published runs) and <see cref="Seed2023"/> (the reproduction
/// report's Stable-Baselines3 PPO).
/// </summary>
/// <param name="BatchSize">Transitions per update: envs x steps per env (the rollout shape, with EnvSettings.NumEnvs).</param>
/// <param name="MaxGradNorm">The global gradient norm is clipped to this before every optimizer step; null: no clipping.</param>
public sealed record PpoSettings(
    PpoMethod Method,
    AdamSettings Adam,
    NetworkSettings Network,
    int HiddenUnits = 256,
    int BatchSize = 2048,
    int Epochs = 10,
    int Minibatches = 16,
    double Clip = 0.2,
    double Gamma = 0.99,
    double GaeLambda = 0.95,
    double ValueCoefficient = 1.0,
    AdvantageNormalization Advantages = AdvantageNormalization.Batch,
    bool BootstrapTruncation = false,
    double? MaxGradNorm = null)
{
    /// <summary>Envs of the report's learner: 4 x 1024 steps per update (the authors' learner: EnvSettings.DefaultEnvs).</summary>
    public const int Seed2023Envs = 4;

    public int MinibatchSize => BatchSize / Minibatches;

    /// <summary>Rollout length per env so that one update sees <see cref="BatchSize"/> transitions.</summary>
    public int StepsPerEnv(int numEnvs) => BatchSize / numEnvs;

    /// <summary>The authors' learner with <paramref name="method"/>'s Adam (the table of docs/ppo.md#methods; each method's file declares its row).</summary>
    public static PpoSettings For(PpoMethod method, bool bootstrapTruncation = false) => new(
        method,
        MethodRegistry.AdamFor(method, seed2023: false),
        NetworkSettings.Nature2024,
        BootstrapTruncation: bootstrapTruncation);

    /// <summary>
    /// The reproduction report's learner (docs/learners.md): Stable-Baselines3 PPO with Tanh networks, orthogonal init,
    /// Adam betas (0.9, 0.999) and eps 1e-5 for every method but NS-Adam, value coefficient 0.5, gradient norm clipped to
    /// 0.5, advantages normalised per minibatch, batch 4096 (with <see cref="Seed2023Envs"/> envs x 1024 steps) in 32
    /// minibatches of 128. L2 1e-3 for PPO+L2 (the report also ran 1e-4, 1e-5 and 1e-6); none for CBP (CPPO).
    /// </summary>
    public static PpoSettings Seed2023(PpoMethod method, bool bootstrapTruncation = false) => new(
        method,
        MethodRegistry.AdamFor(method, seed2023: true),
        NetworkSettings.Seed2023,
        BatchSize: 4096,
        Minibatches: 32,
        ValueCoefficient: 0.5,
        Advantages: AdvantageNormalization.Minibatch,
        BootstrapTruncation: bootstrapTruncation,
        MaxGradNorm: 0.5);

    /// <summary>Why these settings cannot run, or null.</summary>
    public string? Validate(int numEnvs)
    {
        if (BatchSize % numEnvs != 0) return $"the batch of {BatchSize} transitions must split evenly over {numEnvs} envs (use a divisor of {BatchSize})";
        if (BatchSize % Minibatches != 0) return $"the batch of {BatchSize} must split evenly into {Minibatches} minibatches";
        if (Advantages == AdvantageNormalization.Minibatch && MinibatchSize < 2)
            return "per-minibatch advantage normalisation needs minibatches of at least 2 samples";
        if (MaxGradNorm is double clip && !(clip > 0 && double.IsFinite(clip))) return $"the gradient norm limit must be finite and > 0, got {clip}";
        if (!(ValueCoefficient >= 0 && double.IsFinite(ValueCoefficient))) return $"the value coefficient must be finite and >= 0, got {ValueCoefficient}";
        return Network is null ? "the network settings are missing" : Network.Validate();
    }
}
