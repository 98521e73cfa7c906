using System.Numerics;
using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>
/// The per-element math of Adam with one step counter per element (docs/aged-adam.md#update), shared by the CPU
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

    /// <summary>The lane-wise <see cref="AdvanceStep"/> of the SIMD CPU loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> AdvanceSteps(ref Vector<int> steps, Vector<int> lastTableIndex)
    {
        steps += Vector<int>.One;
        return Vector.Min(steps, lastTableIndex);
    }

    /// <summary>
    /// One Adam update of one element (or of each lane); updates the moments and returns the new
    /// parameter. inverseBias1 = 1/(1 - b1^t), sqrtBias2 = sqrt(1 - b2^t) for the advanced t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Update<T>(T theta, T grad, ref T m, ref T v, T inverseBias1, T sqrtBias2, AdamScalars s)
        where T : struct, IFloatLanes<T>
    {
        T g = grad + T.Broadcast(s.WeightDecay) * theta;
        m = T.Broadcast(s.Beta1) * m + T.Broadcast(s.OneMinusBeta1) * g;
        v = T.Broadcast(s.Beta2) * v + T.Broadcast(s.OneMinusBeta2) * g * g;
        // Same grouping as torch: denom = sqrt(v)/sqrt(bc2) + eps; theta += -(lr/bc1) * m/denom.
        T denominator = T.Sqrt(v) / sqrtBias2 + T.Broadcast(s.Epsilon);
        T stepSize = T.Broadcast(s.LearningRate) * inverseBias1;
        return theta - stepSize * m / denominator;
    }

    /// <summary>The scalar form of <see cref="Update{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Update(float theta, float grad, ref float m, ref float v, float inverseBias1, float sqrtBias2, AdamScalars s)
    {
        var mm = new OneLane(m);
        var vv = new OneLane(v);
        float result = Update(new OneLane(theta), new OneLane(grad), ref mm, ref vv, new OneLane(inverseBias1), new OneLane(sqrtBias2), s).Value;
        m = mm.Value;
        v = vv.Value;
        return result;
    }
}
