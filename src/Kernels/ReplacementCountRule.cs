namespace CbpGpu.Kernels;

/// <summary>How many units a layer replaces after one step, from n = rr * |eligible| (docs/cbp.md#replacement-count).</summary>
public enum ReplacementCountRule
{
    /// <summary>Published rule: if n &lt; 1 replace one unit with probability n, else floor(n).</summary>
    Probabilistic = 0,

    /// <summary>Accumulate n across steps and replace the integer part whenever it reaches 1.</summary>
    Accumulate = 1,
}
