using ILGPU;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP statistics as an ILGPU kernel: one thread per unit i of one layer. Neighbouring threads
/// read neighbouring columns of the activations and of W_out, so those loads coalesce.
/// </summary>
public static class CbpStatisticsKernel
{
    /// <param name="stateOffset">Where the layer's units start in the unit-state buffers.</param>
    /// <param name="batch">Rows of the activation matrix.</param>
    public static void Run(
        Index1D unit,
        ArrayView<float> activations, ArrayView<float> p,
        ArrayView<int> age, ArrayView<float> f, ArrayView<float> u, ArrayView<float> fhat, ArrayView<float> uhat,
        ArrayView<float> biasCorrection, HiddenLayerLayout layer, int stateOffset, int batch, CbpScalars s)
    {
        int i = unit;
        float sumH = 0f, sumAbsH = 0f;
        for (int b = 0; b < batch; b++)
        {
            float x = activations[b * layer.Units + i];
            sumH += x;
            sumAbsH += Math.Abs(x);
        }
        float sumAbsOut = 0f;
        for (int k = 0; k < layer.NextOut; k++) sumAbsOut += Math.Abs(p[layer.OutgoingOffset(k, i)]);
        // Only the adaptable contribution reads sum_j |W_in[i,j]| (a row per thread: the one load pattern here that does
        // not coalesce); the contribution utility skips it (docs/speed.md#cbp-statistics).
        float sumAbsIn = 0f;
        if (s.Utility != (int)UtilityKind.Contribution)
        {
            int row = layer.WeightInOffset + i * layer.FanIn;
            for (int j = 0; j < layer.FanIn; j++) sumAbsIn += Math.Abs(p[row + j]);
        }

        int at = stateOffset + i;
        int c = CbpMath.AdvanceAge(ref age[at], s.LastTableIndex);
        CbpMath.UpdateUnit(ref f[at], ref u[at], out fhat[at], out uhat[at],
            sumH / batch, sumAbsH / batch, sumAbsOut, layer.NextOut, sumAbsIn, biasCorrection[c], s);
    }
}
