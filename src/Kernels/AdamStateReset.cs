namespace CbpGpu.Kernels;

/// <summary>
/// Which of aged Adam's per-element states CBP zeroes for the weights of a replaced unit (docs/cbp.md#adam-state):
/// W_in[i, :] and W_out[:, i] always, bias_i only when the bias itself is reset (<see cref="CbpSettings.ResetBias"/>).
/// </summary>
[Flags]
public enum AdamStateReset
{
    /// <summary>Nothing: the fresh weights inherit their positions' moments and counters (published RL runs).</summary>
    None = 0,

    /// <summary>The first and second moments m and v.</summary>
    Moments = 1,

    /// <summary>The per-element step counters t (the bias corrections restart at step 1).</summary>
    StepCounters = 2,

    /// <summary>m, v and t (the reproduction report).</summary>
    MomentsAndStepCounters = Moments | StepCounters,
}
