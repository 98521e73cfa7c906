using ILGPU;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP statistics as an ILGPU kernel: one thread per unit i of one layer. Neighbouring threads
/// read neighbouring columns of the activations and of W_out, so those loads coalesce.
/// </summary>
public static class CbpStatisticsKernel
{
    public static void Run(
        Index1D unit,
        ArrayView<float> activations, ArrayView<float> p,
        ArrayView<int> age, ArrayView<float> f, ArrayView<float> u, ArrayView<float> fhat, ArrayView<float> uhat,
        ArrayView<float> biasCorrection, LayerArguments L, CbpScalars s)
    {
        int i = unit;
        float sumH = 0f, sumAbsH = 0f;
        for (int b = 0; b < L.Count; b++)
        {
            float x = activations[b * L.Units + i];
            sumH += x;
            sumAbsH += Math.Abs(x);
        }
        float sumAbsOut = 0f;
        for (int k = 0; k < L.NextOut; k++) sumAbsOut += Math.Abs(p[L.WeightOut + k * L.Units + i]);
        float sumAbsIn = 0f;
        int row = L.WeightIn + i * L.FanIn;
        for (int j = 0; j < L.FanIn; j++) sumAbsIn += Math.Abs(p[row + j]);

        int at = L.StateOffset + i;
        int c = CbpMath.AdvanceAge(ref age[at], s.LastTableIndex);
        CbpMath.UpdateUnit(ref f[at], ref u[at], out fhat[at], out uhat[at],
            sumH / L.Count, sumAbsH / L.Count, sumAbsOut, L.NextOut, sumAbsIn, biasCorrection[c], s);
    }
}
