namespace CbpGpu.Kernels;

/// <summary>The instantaneous utility of a hidden unit (docs/cbp.md#utility).</summary>
public enum UtilityKind
{
    /// <summary>mean_k |W_out[k,i]| * mean_batch |h_i| (published RL runs).</summary>
    Contribution = 0,

    /// <summary>sum_k |W_out[k,i]| * |mean_batch h_i - fhat_i| / (sum_j |W_in[i,j]| + eps) (reproduction report).</summary>
    AdaptableContribution = 1,
}
