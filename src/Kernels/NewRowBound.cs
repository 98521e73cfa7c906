namespace CbpGpu.Kernels;

/// <summary>The bound b of a replaced unit's fresh incoming weights U[-b, b) (docs/cbp.md#fresh-incoming-weights).</summary>
public enum NewRowBound
{
    /// <summary>b = sqrt(3 / fan_in): LeCun uniform, the bound of the initial weights of the published runs.</summary>
    LecunUniform = 0,

    /// <summary>b = 1 / sqrt(fan_in): PyTorch's default Linear bound, what the reproduction report drew from.</summary>
    InverseSqrtFanIn = 1,
}
