using ILGPU;

namespace CbpGpu.Kernels;

/// <summary>The fused aged-Adam step as an ILGPU kernel: one thread per parameter.</summary>
public static class AgedAdamKernel
{
    public static void Run(
        Index1D i,
        ArrayView<float> theta, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, ArrayView<int> t,
        ArrayView<float> inverseBias1, ArrayView<float> sqrtBias2, AdamScalars s)
    {
        int k = AgedAdamMath.AdvanceStep(ref t[i], s.LastTableIndex);
        theta[i] = AgedAdamMath.Update(theta[i], grad[i], ref m[i], ref v[i], inverseBias1[k], sqrtBias2[k], s);
    }
}
