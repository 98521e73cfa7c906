using CbpGpu.Physics;

namespace CbpGpu.Agent.Methods;

/// <summary>Standard normal draws for the methods that add noise (docs/methods.md#random-numbers), from a method's own saved stream.</summary>
internal static class GaussianNoise
{
    /// <summary>
    /// Fills <paramref name="destination"/> with N(0, 1) draws, two per Box-Muller pair of uniforms (cos then sin), in
    /// order; an odd last element takes <see cref="Rng.NextGaussian"/>.
    /// </summary>
    public static void Fill(ref Rng rng, Span<float> destination)
    {
        int i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));   // 1 - u in (0, 1]: the log stays finite
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * rng.NextDouble());
            destination[i] = (float)(radius * cos);
            destination[i + 1] = (float)(radius * sin);
        }
        if (i < destination.Length) destination[i] = (float)rng.NextGaussian();
    }
}
