namespace CbpGpu.Kernels;

/// <summary>
/// Adam's settings (docs/ppo.md#methods, docs/aged-adam.md#update). <see cref="WeightDecay"/> is L2 added to the gradient
/// (g += wd * theta), as torch's Adam does, not AdamW's decoupled decay.
/// </summary>
public sealed record AdamSettings(double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and its valid range.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0 && double.IsFinite(LearningRate)))
            throw new ArgumentException($"Adam learning rate must be finite and >= 0, got {LearningRate}.");
        // The bias-correction tables grow like 1/(1-beta); 0.99999 keeps them under ~2M entries.
        if (!(Beta1 >= 0 && Beta1 <= BiasCorrectionTable.MaxDecay))
            throw new ArgumentException($"Adam beta1 must be in [0, {BiasCorrectionTable.MaxDecay}], got {Beta1}.");
        if (!(Beta2 >= 0 && Beta2 <= BiasCorrectionTable.MaxDecay))
            throw new ArgumentException($"Adam beta2 must be in [0, {BiasCorrectionTable.MaxDecay}], got {Beta2}.");
        if (!(Eps > 0 && double.IsFinite(Eps)))
            throw new ArgumentException($"Adam eps must be finite and > 0, got {Eps}.");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay)))
            throw new ArgumentException($"Adam weight decay must be finite and >= 0, got {WeightDecay}.");
    }
}
