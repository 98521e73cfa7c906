namespace CbpGpu.Kernels;

/// <summary>How many units a layer replaces after one step (docs/cbp.md#replacement-count).</summary>
public enum ReplacementCountRule
{
    /// <summary>Published rule, from n = rr * |eligible|: if n &lt; 1 replace one unit with probability n, else floor(n).</summary>
    Probabilistic = 0,

    /// <summary>Accumulate n = rr * |eligible| across steps and replace the integer part whenever it reaches 1.</summary>
    Accumulate = 1,

    /// <summary>The reproduction report's rule: with probability min(1, units in the layer * rr) replace one eligible unit.</summary>
    LayerCoin = 2,
}
