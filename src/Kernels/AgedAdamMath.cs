using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>
/// The per-element math of Adam with one step counter per element (SPEC §4), shared by the CPU
/// loops and the ILGPU kernels so both run exactly the same arithmetic:
///   g += wd*theta; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; t += 1;
///   theta -= lr * (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// With all counters equal this is torch's (and TorchSharp's) Adam.
/// </summary>
public static class AgedAdamMath
{
    /// <summary>
    /// t += 1 and returns the index into the bias-correction tables for the new t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AdvanceStep(ref int step, int lastTableIndex)
    {
        step += 1;
        return step < lastTableIndex ? step : lastTableIndex;
    }

    /// <summary>
    /// One Adam update of one element; updates the moments and returns the new parameter.
    /// inverseBias1 = 1/(1 - b1^t), sqrtBias2 = sqrt(1 - b2^t) for the already advanced t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Update(
        float theta, float grad, ref float m, ref float v,
        float inverseBias1, float sqrtBias2, AdamScalars s)
    {
        float g = grad + s.WeightDecay * theta;
        m = s.Beta1 * m + s.OneMinusBeta1 * g;
        v = s.Beta2 * v + s.OneMinusBeta2 * g * g;
        // Same grouping as torch: denom = sqrt(v)/sqrt(bc2) + eps; theta += -(lr/bc1) * m/denom.
        float denominator = MathF.Sqrt(v) / sqrtBias2 + s.Epsilon;
        float stepSize = s.LearningRate * inverseBias1;
        return theta - stepSize * m / denominator;
    }
}
