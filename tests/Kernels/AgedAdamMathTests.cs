using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

public class AgedAdamMathTests
{
    [Fact]
    public void FirstStepMovesEveryElementByTheLearningRateAgainstTheGradient()
    {
        // t = 1 from zero moments: m/(1-b1) = g and sqrt(v/(1-b2)) = |g|, so theta -= lr * g/(|g| + eps).
        var h = new AdamSettings(1e-3, 0.9, 0.999, 1e-8, 0.0);
        using var theta = new NativeBuffer<float>(3);
        using var grad = new NativeBuffer<float>(3);
        float[] start = [0.5f, -0.25f, 2f];
        float[] g = [0.25f, -4f, 1e-3f];
        start.CopyTo(theta.Span);
        g.CopyTo(grad.Span);
        using var adam = new CpuAgedAdam(theta.View, grad.View, h);
        adam.Step();
        for (int i = 0; i < 3; i++)
        {
            double expected = start[i] - 1e-3 * g[i] / (Math.Abs(g[i]) + 1e-8);
            Tolerance.Relative(expected, theta.Span[i], 1e-6, $"theta[{i}]");
        }
        var m = new float[3];
        var v = new float[3];
        var t = new int[3];
        adam.ReadState(m, v, t);
        Assert.Equal([1, 1, 1], t);
        for (int i = 0; i < 3; i++)
        {
            Tolerance.Relative(0.1 * g[i], m[i], 1e-6, $"m[{i}]");
            Tolerance.Relative(0.001 * g[i] * g[i], v[i], 1e-6, $"v[{i}]");
        }
    }

    [Fact]
    public void WeightDecayIsAddedToTheGradientNotToTheParameter()
    {
        // g' = g + wd*theta = -1 + 0.5*2 = 0, so m stays 0 and theta does not move; decoupled decay would shrink it.
        var h = new AdamSettings(1e-2, 0.9, 0.999, 1e-8, 0.5);
        using var theta = new NativeBuffer<float>(1);
        using var grad = new NativeBuffer<float>(1);
        theta.Span[0] = 2f;
        grad.Span[0] = -1f;
        using var adam = new CpuAgedAdam(theta.View, grad.View, h);
        adam.Step();
        Assert.Equal(2f, theta.Span[0]);
    }

    [Theory]
    [InlineData(0.9, 0.999, 0.0)]
    [InlineData(0.99, 0.99, 1e-4)]
    [InlineData(0.99, 0.99, 1e-3)]
    public void EachStepMatchesAFloat64ReferenceWithItsOwnCounterPerElement(double beta1, double beta2, double wd)
    {
        const int n = 4000;
        const int steps = 25;
        var h = new AdamSettings(3e-3, beta1, beta2, 1e-8, wd);
        var random = new Random(7);
        using var theta = new NativeBuffer<float>(n);
        using var grad = new NativeBuffer<float>(n);
        using var adam = new CpuAgedAdam(theta.View, grad.View, h);
        var m = new float[n];
        var v = new float[n];
        var t = new int[n];
        for (int i = 0; i < n; i++)
        {
            theta.Span[i] = (float)(random.NextDouble() * 2 - 1);
            m[i] = (float)(random.NextDouble() * 0.2 - 0.1);
            v[i] = (float)(random.NextDouble() * 0.01);
            // Counters from fresh to far past the end of the bias-correction tables.
            t[i] = random.Next(4) switch { 0 => 0, 1 => random.Next(1, 50), 2 => random.Next(50, 20_000), _ => random.Next(20_000, 1_000_000) };
        }
        adam.WriteState(m, v, t);

        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < n; i++) grad.Span[i] = (float)(random.NextDouble() * 2 - 1) * (i % 3 == 0 ? 1e-3f : 1f);
            float[] theta0 = theta.Span.ToArray();
            adam.ReadState(m, v, t);
            float[] m0 = (float[])m.Clone(), v0 = (float[])v.Clone();
            int[] t0 = (int[])t.Clone();

            adam.Step();
            adam.ReadState(m, v, t);

            for (int i = 0; i < n; i++)
            {
                // Float64 reference of docs/aged-adam.md#update, from the same float state.
                double g = grad.Span[i] + wd * theta0[i];
                double mr = beta1 * m0[i] + (1 - beta1) * g;
                double vr = beta2 * v0[i] + (1 - beta2) * g * g;
                int tr = t0[i] + 1;
                double stepSize = h.LearningRate * (mr / (1 - Math.Pow(beta1, tr))) / (Math.Sqrt(vr) / Math.Sqrt(1 - Math.Pow(beta2, tr)) + h.Eps);
                double thetaR = theta0[i] - stepSize;

                Assert.Equal(tr, t[i]);
                // Each float result is a handful of roundings away from the exact value of the same inputs.
                Tolerance.Within(mr, m[i], 1e-6 * (Math.Abs(beta1 * m0[i]) + Math.Abs((1 - beta1) * g)), "m", i, step);
                Tolerance.Relative(vr, v[i], 1e-6, "v", i, step);
                Tolerance.Within(thetaR, theta.Span[i], 1e-6 * (Math.Abs(theta0[i]) + Math.Abs(stepSize)) + ThetaFromMoment(mr, m[i], stepSize), "theta", i, step);
            }
        }
    }

    // A rounding in m (bounded above) carries into the step in proportion.
    private static double ThetaFromMoment(double mExact, float mFloat, double stepSize) =>
        mExact == 0 ? 0 : Math.Abs(stepSize) * Math.Abs((mFloat - mExact) / mExact);

    [Fact]
    public void RejectsBadHyperparametersWithTheFieldName()
    {
        using var theta = new NativeBuffer<float>(1);
        var e = Assert.Throws<ArgumentException>(() =>
            new CpuAgedAdam(theta.View, theta.View, new AdamSettings(1e-3, 1.0, 0.999, 1e-8, 0)));
        Assert.Contains("beta1", e.Message);
        using var other = new NativeBuffer<float>(2);
        Assert.Throws<ArgumentException>(() => new CpuAgedAdam(theta.View, other.View, new AdamSettings(1e-4, 0.9, 0.999, 1e-8, 0)));
    }
}
