using ILGPU;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP replacement as two ILGPU kernels over <see cref="CbpMath"/>'s per-element replacement.
/// Incoming: one thread per (replaced unit, element of its W_in row or its bias). Outgoing: one
/// thread per row k of W_out, looping over the replaced units, so the next-bias correction adds
/// into next_bias[k] from a single thread (no atomics) and in the same order as the CPU loop.
/// </summary>
public static class CbpReplacementKernels
{
    /// <param name="stateOffset">Where the layer's units start in the unit-state buffers.</param>
    /// <param name="bound">b of the fresh incoming weights (<see cref="CbpMath.InitialBound"/>).</param>
    public static void Incoming(
        Index1D index,
        ArrayView<float> p, ArrayView<float> m, ArrayView<float> v, ArrayView<int> t,
        ArrayView<int> units, ArrayView<ulong> keys,
        ArrayView<int> age, ArrayView<float> f, ArrayView<float> u,
        HiddenLayerLayout layer, int stateOffset, float bound, CbpScalars s)
    {
        int span = layer.FanIn + 1;
        int r = index / span;
        int j = index - r * span;
        int unit = units[r];
        int o = layer.IncomingOffset(unit, j);
        CbpMath.ReplaceIncoming(ref p[o], keys[r], j, layer.FanIn, bound, s);
        if (CbpMath.ResetsIncomingState(j, layer.FanIn, s)) CbpMath.ResetOptimizerState(ref m[o], ref v[o], ref t[o], s);
        if (j == layer.FanIn) CbpMath.ResetUnit(ref age[stateOffset + unit], ref f[stateOffset + unit], ref u[stateOffset + unit]);
    }

    /// <param name="count">Number of replaced units in <paramref name="units"/>.</param>
    public static void Outgoing(
        Index1D k,
        ArrayView<float> p, ArrayView<float> m, ArrayView<float> v, ArrayView<int> t,
        ArrayView<int> units, ArrayView<float> fhat, HiddenLayerLayout layer, int stateOffset, int count, CbpScalars s)
    {
        for (int r = 0; r < count; r++)
        {
            int unit = units[r];
            int o = layer.OutgoingOffset(k, unit);
            CbpMath.RemoveOutgoing(ref p[o], ref p[layer.NextBiasOffset + k], fhat[stateOffset + unit], s);
            if (s.AdamReset != 0) CbpMath.ResetOptimizerState(ref m[o], ref v[o], ref t[o], s);
        }
    }
}
