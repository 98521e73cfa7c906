using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>Shrink &amp; Perturb (docs/methods.md#snp): its loops against hand values and the TorchSharp reference, and its runs.</summary>
public sealed class ShrinkPerturbTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("snp");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public void PerturbAndShrinkGiveHandDerivedValues()
    {
        float[] w = [0.5f, -0.25f, 3f];
        ShrinkPerturbMethod.Perturb(w, [1f, -2f, 0.5f], 0.125f);
        Assert.Equal([0.625f, -0.5f, 3.0625f], w);

        float[] v = [1f, -0.5f, 0f];
        ShrinkPerturbMethod.ShrinkToward(v, [0.25f, 0.5f, -1f], 0.5f, 0.25f);
        Assert.Equal([0.5625f, -0.125f, -0.25f], v);   // 0.5 * 1 + 0.25 * 0.25; 0.5 * -0.5 + 0.25 * 0.5; 0 + 0.25 * -1
    }

    [Fact]
    public void GaussianDrawsAreBoxMullerPairsOfTheStream()
    {
        var rng = new Rng(42, 7);
        var copy = new Rng(42, 7);
        var z = new float[5];
        GaussianNoise.Fill(ref rng, z);
        for (int i = 0; i < 4; i += 2)
        {
            double r = Math.Sqrt(-2 * Math.Log(1 - copy.NextDouble())), a = 2 * Math.PI * copy.NextDouble();
            Assert.Equal((float)(r * Math.Cos(a)), z[i]);
            Assert.Equal((float)(r * Math.Sin(a)), z[i + 1]);
        }
        Assert.Equal((float)copy.NextGaussian(), z[4]);
        Assert.Equal(copy.NextUInt64(), rng.NextUInt64());   // the stream is where the draws left it
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AfterEachStepEveryWeightAndBiasGainsSigmaTimesTheStreamsDraws(bool naive)
    {
        using var parameters = MethodRuns.Network(3);
        float[] before = parameters.ToArray();
        const ulong seed = 99;
        var settings = new ShrinkPerturbSettings(0.01, 0, 1, 0);
        using (var hook = new ShrinkPerturbMethod.Hook(parameters, settings, NetworkSettings.Nature2024, naive, seed))
            hook.AfterStep(default);
        float[] after = parameters.ToArray();

        // The float64 reference: the method's stream (seed, 0x5A9), slice by slice in layout order, log_std left alone.
        var rng = new Rng(seed, 0x5A9);
        var layout = parameters.Layout;
        var expected = (float[])before.Clone();
        foreach (var slice in layout.Parameters)
        {
            if (ReferenceEquals(slice, layout.LogStd)) continue;
            var z = new float[slice.Length];
            GaussianNoise.Fill(ref rng, z);
            for (int i = 0; i < z.Length; i++) expected[slice.Offset + i] = (float)(before[slice.Offset + i] + (double)(0.01f * z[i]));
        }
        Tolerance.BitwiseEqual(expected, after, naive ? "naive S&P" : "fused S&P");
    }

    [Fact]
    public void FusedAndNaiveAgreeBitForBitOverStepsAndShrinks()
    {
        using var fusedParameters = MethodRuns.Network(5);
        using var naiveParameters = MethodRuns.Network(5);
        var settings = new ShrinkPerturbSettings(1e-3, 2, 0.4, 0.1);
        using var fused = new ShrinkPerturbMethod.Hook(fusedParameters, settings, NetworkSettings.Nature2024, false, 11);
        using var naive = new ShrinkPerturbMethod.Hook(naiveParameters, settings, NetworkSettings.Nature2024, true, 11);
        for (int update = 1; update <= 4; update++)
        {
            for (int step = 0; step < 3; step++)
            {
                fused.AfterStep(default);
                naive.AfterStep(default);
            }
            fused.AfterUpdate(update);
            naive.AfterUpdate(update);
        }
        Tolerance.BitwiseEqual(naiveParameters.ToArray(), fusedParameters.ToArray(), "fused vs naive S&P");
        var columns = new double[3];
        fused.WriteColumns(columns);
        Assert.Equal(2, columns[2]);   // updates 2 and 4
    }

    [Fact]
    public void TheShrinkMovesEachWeightTowardAFreshLecunDraw()
    {
        // With lambda 0 and p 1 the weights become the fresh draw: inside each weight's LeCun bound, biases 0, log_std kept.
        using var parameters = MethodRuns.Network(8);
        using (var noGrad = no_grad()) parameters[parameters.Layout.LogStd].fill_(0.5f);
        float[] before = parameters.ToArray();
        using (var hook = new ShrinkPerturbMethod.Hook(parameters, new ShrinkPerturbSettings(0, 1, 0, 1), NetworkSettings.Nature2024, false, 4))
            hook.AfterUpdate(1);
        float[] after = parameters.ToArray();
        var layout = parameters.Layout;
        foreach (var slice in layout.Parameters)
        {
            var values = after.AsSpan((int)slice.Offset, (int)slice.Length);
            if (ReferenceEquals(slice, layout.LogStd)) Assert.All(values.ToArray(), x => Assert.Equal(0.5f, x));
            else if (layout.Weights.Contains(slice))
            {
                double bound = Math.Sqrt(3.0 / slice.Shape[1]);
                Assert.All(values.ToArray(), x => Assert.True(Math.Abs(x) <= bound, $"{slice.Name}: {x} outside +-{bound}"));
                Assert.NotEqual(before.AsSpan((int)slice.Offset, (int)slice.Length).ToArray(), values.ToArray());
            }
            else Assert.All(values.ToArray(), x => Assert.Equal(0f, x));
        }
    }

    [Fact]
    public void BothFormsTrainAndResumeExactly()
    {
        var rows = MethodRuns.TrainStraightAndSplit(_root, "snp", "--snp-sigma", "1e-4", "--snp-interval", "1", "--snp-shrink", "0.9", "--snp-perturb", "0.1");
        Assert.Equal(["1", "2"], rows.Select(r => r["snp_shrinks"]));
        Assert.All(rows, r => Assert.Equal(1e-4 / MethodRuns.Number(r["snp_mean_abs_w"]), MethodRuns.Number(r["snp_noise_ratio"]), 1e-12));
    }
}
