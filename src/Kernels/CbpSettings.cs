namespace CbpGpu.Kernels;

/// <summary>
/// Continual Backprop's settings (docs/cbp.md#presets). Presets: <see cref="Nature2024"/> (the authors'
/// released RL setup) and <see cref="Seed2023"/> (the reproduction report's code).
/// </summary>
/// <param name="Utility">Instantaneous utility type.</param>
/// <param name="Decay">eta, decay of the running mean activation and utility; 0: this step's values alone (docs/cbp.md#instantaneous-utility).</param>
/// <param name="ReplacementRate">rr (the report's rho): see <paramref name="CountRule"/> for what it is a rate of.</param>
/// <param name="MaturityThreshold">mt: only units with age &gt; mt may be replaced.</param>
/// <param name="CountRule">How many units a layer replaces per step.</param>
/// <param name="NextBiasCorrection">Move the removed unit's mean output into the next layer's bias.</param>
/// <param name="AdamReset">Which of Adam's per-element states of the replaced weights are zeroed.</param>
/// <param name="Epsilon">Added to sum_j |W_in[i,j]| in the adaptable-contribution utility.</param>
/// <param name="ResetBias">Set the replaced unit's bias to 0 (and, with <paramref name="AdamReset"/>, its Adam state).</param>
/// <param name="NewRowBound">The bound of the fresh incoming weights.</param>
public sealed record CbpSettings(
    UtilityKind Utility,
    double Decay,
    double ReplacementRate,
    int MaturityThreshold,
    ReplacementCountRule CountRule,
    bool NextBiasCorrection,
    AdamStateReset AdamReset,
    double Epsilon = 1e-8,
    bool ResetBias = true,
    NewRowBound NewRowBound = NewRowBound.LecunUniform)
{
    /// <summary>Published RL runs: contribution utility, probabilistic count, Adam state untouched, bias reset, LeCun bound.</summary>
    public static CbpSettings Nature2024 { get; } = new(
        UtilityKind.Contribution, Decay: 0.99, ReplacementRate: 1e-4, MaturityThreshold: 10_000,
        ReplacementCountRule.Probabilistic, NextBiasCorrection: false, AdamStateReset.None);

    /// <summary>
    /// The reproduction report's CPPO as its figures ran it: adaptable-contribution utility, rho 1e-3, maturity 500, one unit
    /// with probability units * rho, fresh rows U(+-1/sqrt(fan_in)), bias untouched, Adam's m, v and t of W_in[i,:] and
    /// W_out[:,i] zeroed.
    /// </summary>
    public static CbpSettings Seed2023 { get; } = new(
        UtilityKind.AdaptableContribution, Decay: 0.99, ReplacementRate: 1e-3, MaturityThreshold: 500,
        ReplacementCountRule.LayerCoin, NextBiasCorrection: false, AdamStateReset.MomentsAndStepCounters,
        ResetBias: false, NewRowBound: NewRowBound.InverseSqrtFanIn);

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and its valid range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Utility))
            throw new ArgumentException($"CBP utility type {(int)Utility} is not one of {string.Join(", ", Enum.GetNames<UtilityKind>())}.");
        if (!Enum.IsDefined(CountRule))
            throw new ArgumentException($"CBP count rule {(int)CountRule} is not one of {string.Join(", ", Enum.GetNames<ReplacementCountRule>())}.");
        if (!Enum.IsDefined(AdamReset))
            throw new ArgumentException($"CBP Adam state reset {(int)AdamReset} is not one of {string.Join(", ", Enum.GetNames<AdamStateReset>())}.");
        if (!Enum.IsDefined(NewRowBound))
            throw new ArgumentException($"CBP new-row bound {(int)NewRowBound} is not one of {string.Join(", ", Enum.GetNames<NewRowBound>())}.");
        if (!(Decay >= 0 && Decay <= BiasCorrectionTable.MaxDecay))
            throw new ArgumentException($"CBP decay must be in [0, {BiasCorrectionTable.MaxDecay}], got {Decay}.");
        if (!(ReplacementRate >= 0 && ReplacementRate <= 1))
            throw new ArgumentException($"CBP replacement rate must be in [0, 1], got {ReplacementRate}.");
        if (MaturityThreshold < 0)
            throw new ArgumentException($"CBP maturity threshold must be >= 0, got {MaturityThreshold}.");
        if (!(Epsilon >= 0 && double.IsFinite(Epsilon)))
            throw new ArgumentException($"CBP epsilon must be finite and >= 0, got {Epsilon}.");
    }
}
