using CbpGpu.Agent;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>docs/ppo.md#gradient-clipping: g *= min(1, max / (||g|| + 1e-6)) over all parameters at once, by hand in float64.</summary>
public sealed class GradientClippingTests
{
    [Theory]
    [InlineData(0.5, 1.0)]     // norm ~ 18: scaled down to 0.5
    [InlineData(1e3, 1.0)]     // norm below the limit: unchanged
    [InlineData(0.5, 1e-4)]    // tiny gradient: unchanged
    public void ClippingEqualsTheHandComputation(double maxNorm, double scale)
    {
        var random = new Random(7);
        float[] g = Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        double norm = Math.Sqrt(g.Sum(x => (double)x * x));
        double coefficient = Math.Min(1.0, maxNorm / (norm + 1e-6));

        using var gradient = tensor(g);
        using var before = PpoUpdate.ClipGradientNorm(gradient, maxNorm);
        float[] clipped = gradient.data<float>().ToArray();

        Assert.Equal(norm, before.item<float>(), norm * 1e-6);
        for (int i = 0; i < g.Length; i++)
            Assert.Equal(g[i] * coefficient, clipped[i], Math.Abs(g[i] * coefficient) * 1e-6 + 1e-30);
        double after = Math.Sqrt(clipped.Sum(x => (double)x * x));
        Assert.Equal(Math.Min(norm, maxNorm), after, Math.Min(norm, maxNorm) * 1e-5);
        if (coefficient == 1.0) Assert.Equal(g, clipped);
    }
}
