using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>
/// The per-unit math of Continual Backprop (docs/cbp.md#per-unit-statistics), shared by the CPU loops and the ILGPU
/// kernels. Per unit and step: age += 1; f = eta f + (1-eta) mean_batch(h);
/// u = eta u + (1-eta) y; fhat = f/(1-eta^age); uhat = u/(1-eta^age).
///
/// Which fhat the adaptable-contribution utility y subtracts: the reproduction report's code
/// (chripp/Continual-Backprop, cbp.py: _hook_calcs) computes fhat = f / (1 - eta^age) with the
/// age already advanced but f not yet updated, i.e. the running mean of the earlier minibatches,
/// and only then folds in this minibatch. That utility comes from that code, so it is followed
/// here: y uses fhat_before = f_old / (1 - eta^age_new) (0 for a unit on its first step). The
/// published gnt.py computes its fhat after the update, but it has no such utility in the RL runs.
/// Corrections divide by (1 - eta^age) as both codes do, rather than multiply by an inverse,
/// so ties and near-ties between units order the same as in a torch implementation.
/// </summary>
public static class CbpMath
{
    /// <summary>age += 1 and returns the index into the 1 - eta^age table for the new age.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AdvanceAge(ref int age, int lastTableIndex)
    {
        age += 1;
        return age < lastTableIndex ? age : lastTableIndex;
    }

    /// <summary>
    /// Updates the running mean activation f and utility u of one unit from this minibatch.
    /// </summary>
    /// <param name="meanActivation">mean_batch h_i.</param>
    /// <param name="meanAbsActivation">mean_batch |h_i|.</param>
    /// <param name="outgoingAbsSum">sum_k |W_out[k,i]| with the weights after this step.</param>
    /// <param name="nextOut">Number of rows k of W_out.</param>
    /// <param name="incomingAbsSum">sum_j |W_in[i,j]|.</param>
    /// <param name="biasCorrection">1 - eta^age for the already advanced age.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UpdateUnit(
        ref float f, ref float u, out float fhat, out float uhat,
        float meanActivation, float meanAbsActivation, float outgoingAbsSum, int nextOut,
        float incomingAbsSum, float biasCorrection, CbpScalars s)
    {
        float fhatBefore = f / biasCorrection;
        f = s.Decay * f + s.OneMinusDecay * meanActivation;
        float y = s.Utility == (int)UtilityKind.Contribution
            ? outgoingAbsSum / nextOut * meanAbsActivation
            : outgoingAbsSum * Math.Abs(meanActivation - fhatBefore) / (incomingAbsSum + s.Epsilon);
        u = s.Decay * u + s.OneMinusDecay * y;
        fhat = f / biasCorrection;
        uhat = u / biasCorrection;
    }

    /// <summary>
    /// A fresh incoming weight U(-bound, bound), element <paramref name="index"/> of the row drawn
    /// with <paramref name="key"/>. Counter-based (SplitMix64's finaliser over key + index), so a
    /// GPU thread per element, a CPU loop and a torch reference all produce the same row from the
    /// one key the host draws per replaced unit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float InitialWeight(ulong key, int index, float bound)
    {
        ulong z = key + (ulong)(index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        // 24 random bits: exactly representable, uniform on [0, 1) in steps of 2^-24.
        float unit = (int)(z >> 40) * (1f / 16777216f);
        return (2f * unit - 1f) * bound;
    }

    /// <summary>
    /// Element j of a replaced unit's incoming row from its key (j &lt; fanIn); j == fanIn is its bias, which restarts at
    /// 0 when the settings reset it and is otherwise left as it is (docs/cbp.md#replacing-a-unit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReplaceIncoming(ref float p, ulong key, int j, int fanIn, float bound, CbpScalars s)
    {
        if (j < fanIn) p = InitialWeight(key, j, bound);
        else if (s.ResetBias != 0) p = 0f;
    }

    /// <summary>
    /// Whether Adam's state of incoming element j (j == fanIn: the bias) is zeroed: a weight's whenever any state is
    /// reset, the bias's only when the bias itself is reset.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ResetsIncomingState(int j, int fanIn, CbpScalars s) =>
        s.AdamReset != 0 && (j < fanIn || s.ResetBias != 0);

    /// <summary>
    /// Removes a replaced unit's outgoing weight W_out[k,i]; with the correction its mean output
    /// W_out[k,i] * fhat_i first moves into the next layer's bias, so the next layer's input keeps its mean.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RemoveOutgoing(ref float weight, ref float nextBias, float fhat, CbpScalars s)
    {
        if (s.NextBiasCorrection != 0) nextBias += weight * fhat;
        weight = 0f;
    }

    /// <summary>
    /// A replaced weight starts over in aged Adam too (docs/cbp.md#adam-state): no moments and/or step count 0, as
    /// <see cref="CbpScalars.AdamReset"/> says. Call only when some state is reset (the buffers may be absent otherwise).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ResetOptimizerState(ref float m, ref float v, ref int t, CbpScalars s)
    {
        if ((s.AdamReset & (int)AdamStateReset.Moments) != 0)
        {
            m = 0f;
            v = 0f;
        }
        if ((s.AdamReset & (int)AdamStateReset.StepCounters) != 0) t = 0;
    }

    /// <summary>A replaced unit starts with no history: age, running mean activation and utility 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ResetUnit(ref int age, ref float f, ref float u)
    {
        age = 0;
        f = 0f;
        u = 0f;
    }

    /// <summary>
    /// b of the fresh incoming weights (docs/cbp.md#fresh-incoming-weights): sqrt(3 / fan_in), the LeCun-uniform bound of
    /// docs/ppo.md#initialisation, or 1 / sqrt(fan_in), the reproduction report's.
    /// </summary>
    public static float InitialBound(int fanIn, NewRowBound kind = NewRowBound.LecunUniform) =>
        kind == NewRowBound.InverseSqrtFanIn ? (float)(1.0 / Math.Sqrt(fanIn)) : (float)Math.Sqrt(3.0 / fanIn);
}
