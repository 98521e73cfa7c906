namespace CbpGpu.Kernels;

/// <summary>A hidden layer's layout plus the per-call values the CBP kernels need, blittable.</summary>
public struct LayerArguments
{
    public int WeightIn;
    public int FanIn;
    public int Bias;
    public int Units;
    public int WeightOut;
    public int NextOut;
    public int NextBias;

    /// <summary>Where this layer's units start in the unit-state buffers (age, f, u, fhat, uhat).</summary>
    public int StateOffset;

    /// <summary>Rows of the activation matrix (statistics) or number of replaced units (replacement).</summary>
    public int Count;

    /// <summary>b = sqrt(3 / fan_in) for fresh incoming weights.</summary>
    public float InitBound;

    public static LayerArguments From(HiddenLayerLayout l, int stateOffset, int count) => new()
    {
        WeightIn = l.WeightInOffset,
        FanIn = l.FanIn,
        Bias = l.BiasOffset,
        Units = l.Units,
        WeightOut = l.WeightOutOffset,
        NextOut = l.NextOut,
        NextBias = l.NextBiasOffset,
        StateOffset = stateOffset,
        Count = count,
        InitBound = CbpMath.InitialBound(l.FanIn),
    };
}
