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

    /// <summary>(int)<see cref="AdamStateReset"/>: which of Adam's states of replaced weights are zeroed.</summary>
    public int AdamReset;

    /// <summary>1 to set a replaced unit's bias to 0 (and reset its Adam state with the rest).</summary>
    public int ResetBias;

    /// <summary>1 to add W_out[:,i] * fhat_i to the next layer's bias before zeroing W_out[:,i].</summary>
    public int NextBiasCorrection;

    public static CbpScalars From(CbpSettings s, int lastTableIndex) => new()
    {
        Decay = (float)s.Decay,
        OneMinusDecay = (float)(1.0 - s.Decay),
        Epsilon = (float)s.Epsilon,
        Utility = (int)s.Utility,
        LastTableIndex = lastTableIndex,
        AdamReset = (int)s.AdamReset,
        ResetBias = s.ResetBias ? 1 : 0,
        NextBiasCorrection = s.NextBiasCorrection ? 1 : 0,
    };
}
