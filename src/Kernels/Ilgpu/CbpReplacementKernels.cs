using ILGPU;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP replacement as two ILGPU kernels. Incoming: one thread per (replaced unit, element of
/// W_in row or its bias). Outgoing: one thread per row k of W_out, looping over the replaced
/// units, so the next-bias correction adds into next_bias[k] from a single thread (no atomics)
/// and in the same order as the CPU loop.
/// </summary>
public static class CbpReplacementKernels
{
    public static void Incoming(
        Index1D index,
        ArrayView<float> p, ArrayView<float> m, ArrayView<float> v, ArrayView<int> t,
        ArrayView<int> units, ArrayView<ulong> keys,
        ArrayView<int> age, ArrayView<float> f, ArrayView<float> u,
        LayerArguments L, CbpScalars s)
    {
        int span = L.FanIn + 1;
        int r = index / span;
        int j = index - r * span;
        int unit = units[r];
        int o = j < L.FanIn ? L.WeightIn + unit * L.FanIn + j : L.Bias + unit;
        p[o] = j < L.FanIn ? CbpMath.InitialWeight(keys[r], j, L.InitBound) : 0f;
        if (s.ResetOptimizerState != 0)
        {
            m[o] = 0f;
            v[o] = 0f;
            t[o] = 0;
        }
        if (j == L.FanIn)
        {
            age[L.StateOffset + unit] = 0;
            f[L.StateOffset + unit] = 0f;
            u[L.StateOffset + unit] = 0f;
        }
    }

    public static void Outgoing(
        Index1D k,
        ArrayView<float> p, ArrayView<float> m, ArrayView<float> v, ArrayView<int> t,
        ArrayView<int> units, ArrayView<float> fhat, LayerArguments L, CbpScalars s)
    {
        for (int r = 0; r < L.Count; r++)
        {
            int unit = units[r];
            int o = L.WeightOut + k * L.Units + unit;
            if (s.NextBiasCorrection != 0) p[L.NextBias + k] += p[o] * fhat[L.StateOffset + unit];
            p[o] = 0f;
            if (s.ResetOptimizerState != 0)
            {
                m[o] = 0f;
                v[o] = 0f;
                t[o] = 0;
            }
        }
    }
}
