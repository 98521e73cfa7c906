namespace CbpGpu.Kernels;

/// <summary>
/// Continual Backprop's settings (docs/cbp.md#presets). Presets: <see cref="Nature2024"/> (the authors'
/// released RL setup) and <see cref="Seed2023"/> (the reproduction report).
/// </summary>
/// <param name="Utility">Instantaneous utility type.</param>
/// <param name="Decay">eta, decay of the running mean activation and utility.</param>
/// <param name="ReplacementRate">rr: fraction of eligible units replaced per step.</param>
/// <param name="MaturityThreshold">mt: only units with age &gt; mt may be replaced.</param>
/// <param name="CountRule">How a fractional count becomes a whole number of units.</param>
/// <param name="NextBiasCorrection">Move the removed unit's mean output into the next layer's bias.</param>
/// <param name="ResetOptimizerState">Zero Adam's moments and step counters of the replaced weights.</param>
/// <param name="Epsilon">Added to sum_j |W_in[i,j]| in the adaptable-contribution utility.</param>
public sealed record CbpSettings(
    UtilityKind Utility,
    double Decay,
    double ReplacementRate,
    int MaturityThreshold,
    ReplacementCountRule CountRule,
    bool NextBiasCorrection,
    bool ResetOptimizerState,
    double Epsilon = 1e-8)
{
    /// <summary>Published RL runs: contribution utility, probabilistic count, Adam state untouched.</summary>
    public static CbpSettings Nature2024 { get; } = new(
        UtilityKind.Contribution, Decay: 0.99, ReplacementRate: 1e-4, MaturityThreshold: 10_000,
        ReplacementCountRule.Probabilistic, NextBiasCorrection: false, ResetOptimizerState: false);

    /// <summary>Reproduction report: adaptable-contribution utility, Adam state of replaced weights zeroed.</summary>
    public static CbpSettings Seed2023 { get; } = new(
        UtilityKind.AdaptableContribution, Decay: 0.99, ReplacementRate: 1e-4, MaturityThreshold: 10_000,
        ReplacementCountRule.Probabilistic, NextBiasCorrection: false, ResetOptimizerState: true);

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and its valid range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Utility))
            throw new ArgumentException($"CBP utility type {(int)Utility} is not one of {string.Join(", ", Enum.GetNames<UtilityKind>())}.");
        if (!Enum.IsDefined(CountRule))
            throw new ArgumentException($"CBP count rule {(int)CountRule} is not one of {string.Join(", ", Enum.GetNames<ReplacementCountRule>())}.");
        if (!(Decay > 0 && Decay <= BiasCorrectionTable.MaxDecay))
            throw new ArgumentException($"CBP decay must be in (0, {BiasCorrectionTable.MaxDecay}], got {Decay}.");
        if (!(ReplacementRate >= 0 && ReplacementRate <= 1))
            throw new ArgumentException($"CBP replacement rate must be in [0, 1], got {ReplacementRate}.");
        if (MaturityThreshold < 0)
            throw new ArgumentException($"CBP maturity threshold must be >= 0, got {MaturityThreshold}.");
        if (!(Epsilon >= 0 && double.IsFinite(Epsilon)))
            throw new ArgumentException($"CBP epsilon must be finite and >= 0, got {Epsilon}.");
    }
}
