using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
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

    /// <summary>The two learner presets (train --learner, docs/learners.md), each for a method: its words and settings.</summary>
    public static IReadOnlyList<(string Word, Func<PpoMethod, PpoSettings> Preset)> Learners { get; } =
        [("nature2024", m => For(m)), ("seed2023", m => Seed2023(m))];

    /// <summary>The learner's settings a flag sets, declared once (docs/extending.md#settings); each left out takes the --learner's value.</summary>
    public static class Flags
    {
        public static readonly Setting Activation = Setting<PpoSettings>.Choice(
            "--activation", "nonlinearity of the hidden layers", "Network.Activation",
            [("relu", Networks.Activation.Relu), ("tanh", Networks.Activation.Tanh)],
            p => p.Network.Activation, (p, v) => p with { Network = p.Network with { Activation = v } });

        public static readonly Setting Init = Setting<PpoSettings>.Choice(
            "--init", "initial Linear weights: lecun-uniform or orthogonal, times the layer's gain", "Network.Init",
            [("lecun-uniform", InitScheme.LecunUniform), ("orthogonal", InitScheme.Orthogonal)],
            p => p.Network.Init, (p, v) => p with { Network = p.Network with { Init = v } });

        public static readonly Setting HiddenGain = Gain("--hidden-gain", "the four hidden Linears", nameof(NetworkSettings.HiddenGain),
            n => n.HiddenGain, (n, v) => n with { HiddenGain = v });

        public static readonly Setting PolicyOutputGain = Gain("--policy-output-gain", "the action-mean Linear", nameof(NetworkSettings.PolicyOutputGain),
            n => n.PolicyOutputGain, (n, v) => n with { PolicyOutputGain = v });

        public static readonly Setting ValueOutputGain = Gain("--value-output-gain", "the value Linear", nameof(NetworkSettings.ValueOutputGain),
            n => n.ValueOutputGain, (n, v) => n with { ValueOutputGain = v });

        public static readonly Setting LearningRate = Setting<PpoSettings>.Real(
            "--lr", "LR", "Adam's learning rate", "Adam.LearningRate", 0, 1,
            p => p.Adam.LearningRate, (p, v) => p with { Adam = p.Adam with { LearningRate = v } }) with { PerMethod = true };

        public static readonly Setting AdamEps = Setting<PpoSettings>.Real(
            "--adam-eps", "E", "Adam's epsilon", "Adam.Eps", 1e-12, 1,
            p => p.Adam.Eps, (p, v) => p with { Adam = p.Adam with { Eps = v } });

        public static readonly Setting WeightDecay = Setting<PpoSettings>.Real(
            "--weight-decay", "W", "L2 added to the gradient (Adam weight_decay)", "Adam.WeightDecay", 0, 1,
            p => p.Adam.WeightDecay, (p, v) => p with { Adam = p.Adam with { WeightDecay = v } }) with { PerMethod = true };

        public static readonly Setting ValueCoefficient = Setting<PpoSettings>.Real(
            "--value-coef", "C", "loss = policy loss + C x value MSE", nameof(PpoSettings.ValueCoefficient), 0, 1e6,
            p => p.ValueCoefficient, (p, v) => p with { ValueCoefficient = v });

        public static readonly Setting MaxGradNorm = Setting<PpoSettings>.OffOrReal(
            "--max-grad-norm", "clip the global gradient norm to N before every optimizer step, or off", nameof(PpoSettings.MaxGradNorm),
            p => p.MaxGradNorm, (p, v) => p with { MaxGradNorm = v });

        public static readonly Setting AdvantageNorm = Setting<PpoSettings>.Choice(
            "--advantage-norm", "normalise advantages over the whole batch or in each minibatch", nameof(PpoSettings.Advantages),
            [("batch", AdvantageNormalization.Batch), ("minibatch", AdvantageNormalization.Minibatch)],
            p => p.Advantages, (p, v) => p with { Advantages = v });

        /// <summary>The minibatch size stays the preset's (or --minibatch-size's, applied after it; the command checks it divides).</summary>
        public static readonly Setting BatchSize = Setting<PpoSettings>.Count(
            "--batch-size", "N", "transitions per update (envs x steps per env)", nameof(PpoSettings.BatchSize), 2, 1 << 24,
            p => p.BatchSize, (p, v) => p with { BatchSize = v, Minibatches = v / p.MinibatchSize });

        public static readonly Setting MinibatchSize = Setting<PpoSettings>.Count(
            "--minibatch-size", "N", "transitions per minibatch; must divide --batch-size", nameof(PpoSettings.MinibatchSize), 1, 1 << 24,
            p => p.MinibatchSize, (p, v) => p with { Minibatches = p.BatchSize / v });

        public static readonly Setting BootstrapTruncation = Setting<PpoSettings>.Switch(
            "--bootstrap-truncation", "bootstrap V(last obs) when an episode hits the time limit (the paper presets treat truncation like termination)",
            nameof(PpoSettings.BootstrapTruncation), p => p.BootstrapTruncation, (p, v) => p with { BootstrapTruncation = v }) with { Default = false };

        /// <summary>A Linear's initial gain (docs/ppo.md#initialisation), a field of the networks' settings.</summary>
        private static Setting Gain(string flag, string linear, string json, Func<NetworkSettings, double> get, Func<NetworkSettings, double, NetworkSettings> with) =>
            Setting<PpoSettings>.Real(flag, "G", $"initial gain of {linear}", $"{nameof(Network)}.{json}", 1e-6, 1e6,
                p => get(p.Network), (p, v) => p with { Network = with(p.Network, v) });

        /// <summary>In --help's order: those a preset gives (activation to minibatch size), then the rest.</summary>
        public static IReadOnlyList<Setting> All { get; } =
        [
            Activation, Init, HiddenGain, PolicyOutputGain, ValueOutputGain, LearningRate, AdamEps, WeightDecay, ValueCoefficient, MaxGradNorm,
            AdvantageNorm, BatchSize, MinibatchSize, BootstrapTruncation,
        ];
    }

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
