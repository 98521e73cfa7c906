namespace CbpGpu.Kernels;

/// <summary>
/// The float scalars one aged-Adam step needs, blittable so ILGPU kernels can take it by value.
/// The (1 - beta) terms are rounded from double, as TorchSharp's Adam passes them, rather than
/// computed in float (1f - 0.9f is 2.4e-7 away from 0.1f).
/// </summary>
public struct AdamScalars
{
    public float LearningRate;
    public float Beta1;
    public float OneMinusBeta1;
    public float Beta2;
    public float OneMinusBeta2;
    public float Epsilon;
    public float WeightDecay;

    /// <summary>Index of the last bias-correction table entry; every step count beyond it uses that entry.</summary>
    public int LastTableIndex;

    public static AdamScalars From(AdamSettings h, int lastTableIndex) => new()
    {
        LearningRate = (float)h.LearningRate,
        Beta1 = (float)h.Beta1,
        OneMinusBeta1 = (float)(1.0 - h.Beta1),
        Beta2 = (float)h.Beta2,
        OneMinusBeta2 = (float)(1.0 - h.Beta2),
        Epsilon = (float)h.Eps,
        WeightDecay = (float)h.WeightDecay,
        LastTableIndex = lastTableIndex,
    };
}
