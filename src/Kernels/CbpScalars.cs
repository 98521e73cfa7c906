namespace CbpGpu.Kernels;

/// <summary>The float scalars of the CBP per-unit math, blittable for ILGPU kernels.</summary>
public struct CbpScalars
{
    public float Decay;
    public float OneMinusDecay;
    public float Epsilon;

    /// <summary>(int)<see cref="UtilityKind"/>.</summary>
    public int Utility;

    /// <summary>Index of the last entry of the 1 - eta^age table; older units use that entry.</summary>
    public int LastTableIndex;

    /// <summary>1 to zero Adam's moments and step counters of replaced weights.</summary>
    public int ResetOptimizerState;

    /// <summary>1 to add W_out[:,i] * fhat_i to the next layer's bias before zeroing W_out[:,i].</summary>
    public int NextBiasCorrection;

    public static CbpScalars From(CbpSettings s, int lastTableIndex) => new()
    {
        Decay = (float)s.Decay,
        OneMinusDecay = (float)(1.0 - s.Decay),
        Epsilon = (float)s.Epsilon,
        Utility = (int)s.Utility,
        LastTableIndex = lastTableIndex,
        ResetOptimizerState = s.ResetOptimizerState ? 1 : 0,
        NextBiasCorrection = s.NextBiasCorrection ? 1 : 0,
    };
}
