using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

public class CbpMathTests
{
    private static CbpScalars Scalars(UtilityKind kind) =>
        CbpScalars.From(CbpSettings.Nature2024 with { Utility = kind }, BiasCorrectionTable.LengthFor(0.99) - 1);

    [Fact]
    public void ContributionFirstStepByHand()
    {
        // h column [1, 3]: mean 2, mean|h| 2. W_out column [0.5, -1.5]: mean |.| 1. age 0 -> 1, 1 - eta = 0.01.
        // f = 0.01 * 2 = 0.02; y = 1 * 2 = 2; u = 0.02; fhat = uhat = 0.02 / 0.01 = 2.
        float f = 0, u = 0;
        int age = 0;
        var s = Scalars(UtilityKind.Contribution);
        int k = CbpMath.AdvanceAge(ref age, s.LastTableIndex);
        Assert.Equal(1, age);
        Assert.Equal(1, k);
        CbpMath.UpdateUnit(ref f, ref u, out float fhat, out float uhat, 2f, 2f, 2f, 2, 123f, BiasCorrectionTable.Plain(0.99)[k], s);
        Tolerance.Relative(0.02, f, 1e-6, "f");
        Tolerance.Relative(0.02, u, 1e-6, "u");
        Tolerance.Relative(2, fhat, 1e-6, "fhat");
        Tolerance.Relative(2, uhat, 1e-6, "uhat");
    }

    [Fact]
    public void AdaptableContributionUsesTheMeanBeforeThisStepsUpdate()
    {
        // Step 1 (age 1): fhat_before = 0 / 0.01 = 0, so y = sum|W_out| * |mean h| / (sum|W_in| + eps).
        // Step 2 (age 2): fhat_before = f1 / (1 - 0.99^2), the mean of step 1 only, not yet of step 2.
        var s = Scalars(UtilityKind.AdaptableContribution);
        var table = BiasCorrectionTable.Plain(0.99);
        float f = 0, u = 0;
        int age = 0;
        const float outSum = 3f, inSum = 1.5f;

        int k = CbpMath.AdvanceAge(ref age, s.LastTableIndex);
        CbpMath.UpdateUnit(ref f, ref u, out _, out float uhat1, 2f, 2f, outSum, 4, inSum, table[k], s);
        double f1 = 0.01 * 2, y1 = outSum * 2 / (inSum + 1e-8), u1 = 0.01 * y1;
        Tolerance.Relative(f1, f, 1e-6, "f after step 1");
        Tolerance.Relative(u1 / 0.01, uhat1, 1e-6, "uhat after step 1");

        k = CbpMath.AdvanceAge(ref age, s.LastTableIndex);
        CbpMath.UpdateUnit(ref f, ref u, out float fhat2, out float uhat2, 5f, 5f, outSum, 4, inSum, table[k], s);
        double c2 = 1 - 0.99 * 0.99;
        double fhatBefore = f1 / c2;
        double f2 = 0.99 * f1 + 0.01 * 5;
        double y2 = outSum * Math.Abs(5 - fhatBefore) / (inSum + 1e-8);
        double u2 = 0.99 * u1 + 0.01 * y2;
        Tolerance.Relative(f2, f, 1e-6, "f after step 2");
        Tolerance.Relative(f2 / c2, fhat2, 1e-6, "fhat after step 2");
        Tolerance.Relative(u2 / c2, uhat2, 1e-6, "uhat after step 2");
        // Had fhat been taken after the update, y2 would use |5 - f2/c2| = |5 - 3.5126| instead of |5 - 1.005|.
        double yAfter = outSum * Math.Abs(5 - f2 / c2) / (inSum + 1e-8);
        Assert.True(Math.Abs(uhat2 - (0.99 * u1 + 0.01 * yAfter) / c2) > 1e-3);
    }

    [Fact]
    public void AgeBeyondTheTableUsesACorrectionOfOne()
    {
        var s = Scalars(UtilityKind.Contribution);
        int age = 1_000_000;
        int k = CbpMath.AdvanceAge(ref age, s.LastTableIndex);
        Assert.Equal(1_000_001, age);
        Assert.Equal(s.LastTableIndex, k);
        Assert.Equal(1f, BiasCorrectionTable.Plain(0.99)[k]);
    }

    [Theory]
    [InlineData(UtilityKind.Contribution)]
    [InlineData(UtilityKind.AdaptableContribution)]
    public void StatisticsOfEveryUnitMatchAFloat64Reference(UtilityKind kind)
    {
        using var net = new TestNetwork(input: 9, hidden1: 24, hidden2: 20, actions: 3, seed: 3);
        var settings = CbpSettings.Nature2024 with { Utility = kind };
        using var cbp = new CpuCbpKernels(net.Parameters.View, net.Layers, settings, maxDegreeOfParallelism: 2);
        var random = new Random(11);
        const int batch = 32;
        for (int step = 0; step < 12; step++)
        {
            for (int l = 0; l < net.Layers.Length; l++)
            {
                var L = net.Layers[l];
                using var activations = TestNetwork.Activations(L.Units, batch, random);
                ReadOnlySpan<float> h = activations.Span;
                var age0 = new int[L.Units];
                var f0 = new float[L.Units];
                var u0 = new float[L.Units];
                cbp.ReadUnitState(l, age0, f0, u0);

                cbp.UpdateStatistics(l, activations.View, batch);

                var age = new int[L.Units];
                var f = new float[L.Units];
                var u = new float[L.Units];
                var uhat = new float[L.Units];
                cbp.ReadUnitState(l, age, f, u);
                cbp.ReadUtilities(l, uhat);
                var p = net.Parameters.Span;
                for (int i = 0; i < L.Units; i++)
                {
                    double mean = 0, meanAbs = 0, outSum = 0, inSum = 0;
                    for (int b = 0; b < batch; b++) { mean += h[b * L.Units + i]; meanAbs += Math.Abs(h[b * L.Units + i]); }
                    mean /= batch;
                    meanAbs /= batch;
                    for (int k = 0; k < L.NextOut; k++) outSum += Math.Abs(p[L.WeightOutOffset + k * L.Units + i]);
                    for (int j = 0; j < L.FanIn; j++) inSum += Math.Abs(p[L.WeightInOffset + i * L.FanIn + j]);
                    int a = age0[i] + 1;
                    double c = 1 - Math.Pow(0.99, a);
                    double fhatBefore = f0[i] / c;
                    double fr = 0.99 * f0[i] + 0.01 * mean;
                    double y = kind == UtilityKind.Contribution
                        ? outSum / L.NextOut * meanAbs
                        : outSum * Math.Abs(mean - fhatBefore) / (inSum + 1e-8);
                    double ur = 0.99 * u0[i] + 0.01 * y;

                    string at = $"layer {l} unit {i} step {step}";
                    Assert.Equal(a, age[i]);
                    Tolerance.Relative(fr, f[i], 1e-6, "f " + at);
                    // The sums are exact (grid values); what remains is a few roundings, plus, for the
                    // adaptable utility, the rounding of fhat_before carried through |mean - fhat_before|.
                    double carried = kind == UtilityKind.Contribution ? 0 : 0.01 * outSum / inSum * 4e-7 * Math.Abs(fhatBefore);
                    Tolerance.Within(ur, u[i], 1e-6 * Math.Abs(ur) + carried, "u " + at);
                    Tolerance.Within(ur / c, uhat[i], 1e-6 * Math.Abs(ur / c) + carried / c, "uhat " + at);
                }
            }
        }
    }

    [Fact]
    public void InitialWeightsAreUniformWithinTheBoundAndDeterministic()
    {
        const float bound = 0.25f;
        const int n = 200_000;
        double sum = 0, sumSq = 0;
        for (int j = 0; j < n; j++)
        {
            float w = CbpMath.InitialWeight(0xDEADBEEFUL, j, bound);
            Assert.InRange(w, -bound, bound);
            sum += w;
            sumSq += w * w;
        }
        // U(-b, b): mean 0, variance b^2/3; 5-sigma bounds for n draws.
        double mean = sum / n, variance = sumSq / n - mean * mean;
        double sigmaMean = bound / Math.Sqrt(3 * n);
        Assert.InRange(mean, -5 * sigmaMean, 5 * sigmaMean);
        double var0 = bound * bound / 3, sigmaVar = bound * bound * Math.Sqrt(4.0 / 45 / n);
        Assert.InRange(variance, var0 - 5 * sigmaVar, var0 + 5 * sigmaVar);
        Assert.Equal(CbpMath.InitialWeight(42, 7, 1f), CbpMath.InitialWeight(42, 7, 1f));
        Assert.NotEqual(CbpMath.InitialWeight(42, 7, 1f), CbpMath.InitialWeight(43, 7, 1f));
        Assert.NotEqual(CbpMath.InitialWeight(42, 7, 1f), CbpMath.InitialWeight(42, 8, 1f));
    }

    [Fact]
    public void InitialBoundIsLeCunUniform() => Tolerance.Relative(Math.Sqrt(3.0 / 111), CbpMath.InitialBound(111), 1e-7, "b");
}
