using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// The fused kernels (CPU loops, and ILGPU kernels on ILGPU's CPU accelerator) against the naive
/// op-by-op TorchSharp reference over 100 optimizer steps with CBP replacements, same seeds, both
/// built by <see cref="OptimizerPair"/> over the Agent's flat parameters.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public class FusedVersusNaiveTests(IlgpuCpuFixture ilgpu, ITestOutputHelper output)
{
    // Float32 results of the same math in a different op order drift apart by roundings of the
    // parameters and of each change made to them (Adam updates, next-bias corrections). So: 1e-6
    // relative to the parameter's magnitude plus the total distance it has moved so far, which
    // is what a parameter near zero (a bias that started at 0, or one a correction moved away and
    // back) carries its roundings from.
    private const double Relative = 1e-6;

    /// <summary>
    /// Backend (ILGPU or CPU loops), utility, which Adam states are reset, next-bias correction, and whether the
    /// reproduction report's rule is used (layer coin, fresh rows U(+-1/sqrt(fan_in)), bias left alone) instead of the
    /// published one (probabilistic count, LeCun bound, bias reset).
    /// </summary>
    public static TheoryData<bool, UtilityKind, AdamStateReset, bool, bool> Cases() => new()
    {
        { false, UtilityKind.Contribution, AdamStateReset.None, false, false },
        { false, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, false, false },
        { false, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, true, false },
        { false, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, false, true },
        { false, UtilityKind.Contribution, AdamStateReset.Moments, true, true },
        { false, UtilityKind.AdaptableContribution, AdamStateReset.StepCounters, false, true },
        { true, UtilityKind.Contribution, AdamStateReset.None, false, false },
        { true, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, true, false },
        { true, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, false, true },
        { false, UtilityKind.AdaptableContribution, AdamStateReset.MomentsAndStepCounters, true, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedEqualsNaiveOverOneHundredStepsWithReplacements(
        bool onIlgpu, UtilityKind utility, AdamStateReset reset, bool correct, bool reportRule)
    {
        var h = new AdamSettings(1e-3, 0.99, 0.99, 1e-8, 1e-4);
        var settings = new CbpSettings(utility, 0.99, ReplacementRate: 0.02, MaturityThreshold: 10,
            reportRule ? ReplacementCountRule.LayerCoin : ReplacementCountRule.Probabilistic, correct, reset,
            ResetBias: !reportRule, NewRowBound: reportRule ? NewRowBound.InverseSqrtFanIn : NewRowBound.LecunUniform);
        var layout = new ParameterLayout(observationSize: 17, hiddenUnits: 32, actionSize: 4);
        using var fusedNet = Network(layout);
        using var naiveNet = Network(layout);
        using var fused = onIlgpu
            ? OptimizerPair.CreateFused(fusedNet, h, settings, 77, "cpu", m => new CudaKernelBackend(ilgpu.Accelerator, m.Parameters, m.Gradients))
            : OptimizerPair.Create(fusedNet, h, settings, OptimizerImpl.Fused, 77);
        using var naive = OptimizerPair.Create(naiveNet, h, settings, OptimizerImpl.Naive, 77);

        var data = new Random(3);
        int length = (int)layout.TotalSize;
        var moved = new double[length];
        float[] previous = TensorSpan.Of(naiveNet.Data).ToArray();
        int layers = layout.HiddenLayers.Count;
        var fusedAges = new int[layout.HiddenUnits];
        var naiveAges = new int[layout.HiddenUnits];
        double worst = 0;
        for (int step = 0; step < 100; step++)
        {
            FillGradients(fusedNet, data);
            TensorSpan.Of(fusedNet.Grad).CopyTo(TensorSpan.Of(naiveNet.Grad));
            var activations = layout.HiddenLayers
                .Select(l => tensor(TestNetwork.ActivationValues(l.Units, 16, data)).view(16, l.Units))
                .ToArray();

            fused.Optimizer.Step();
            naive.Optimizer.Step();
            fused.Cbp!.AfterStep(activations);
            naive.Cbp!.AfterStep(activations);
            foreach (var a in activations) a.Dispose();

            for (int l = 0; l < layers; l++)
            {
                Assert.Equal(naive.Cbp.TotalReplaced(l), fused.Cbp.TotalReplaced(l));
                // Ages drop to 0 exactly where a unit was replaced: equal ages, same units chosen.
                fused.Cbp.CopyAges(l, fusedAges);
                naive.Cbp.CopyAges(l, naiveAges);
                Assert.Equal(naiveAges, fusedAges);
            }
            var now = TensorSpan.Of(naiveNet.Data);
            for (int i = 0; i < moved.Length; i++) moved[i] += Math.Abs(now[i] - previous[i]);
            now.CopyTo(previous);
            worst = Math.Max(worst, AssertClose(now, TensorSpan.Of(fusedNet.Data), moved, Relative, 0, $"parameters at step {step}"));
        }
        long replaced = Enumerable.Range(0, layers).Sum(l => fused.Cbp!.TotalReplaced(l));
        output.WriteLine($"{replaced} replacements; worst |fused - naive| / (|naive| + distance moved) = {worst:E2}");
        Assert.True(replaced >= 20, $"only {replaced} replacements; the run should exercise replacement");

        var (naiveRandom, naiveUnits) = OptimizerState.ReadCbp(naive.Cbp!);
        var (fusedRandom, fusedUnits) = OptimizerState.ReadCbp(fused.Cbp!);
        Assert.Equal(naiveRandom, fusedRandom);
        for (int l = 0; l < layers; l++)
        {
            Assert.Equal(naiveUnits[l].Age, fusedUnits[l].Age);
            AssertClose(naiveUnits[l].F, fusedUnits[l].F, null, Relative, 0, $"f of layer {l}");
            AssertClose(naiveUnits[l].U, fusedUnits[l].U, null, Relative, 0, $"u of layer {l}");
        }

        var (nm, nv, nt) = OptimizerState.ReadAdam(naive.Optimizer);
        var (fm, fv, ft) = OptimizerState.ReadAdam(fused.Optimizer);
        Assert.Equal(length, fm.Length);
        Assert.Equal(length, nm.Length);
        // Only the parameters: the fused pass also counts steps of the alignment padding, which nothing reads.
        foreach (var s in layout.Parameters)
        {
            var range = new Range((int)s.Offset, (int)(s.Offset + s.Length));
            Assert.Equal(nt[range], ft[range]);
            // m = 0.99 m + 0.01 g is rounded differently each step in the two op orders (about 2^-23 of
            // |m| + 0.01 |g|, |g| <= 1) and remembers each rounding for ~100 steps: 1e-5 of that scale
            // (1.7e-8 at |m| = 2.4e-3 measured, against 1.2e-7 allowed there).
            AssertClose(nm[range], fm[range], null, 1e-5, 1e-5 * 0.01, $"m of {s.Name}");
            AssertClose(nv[range], fv[range], null, Relative, 0, $"v of {s.Name}");
        }
        Assert.Contains(fm, m => m != 0);
    }

    private static FlatParameters Network(ParameterLayout layout)
    {
        var parameters = new FlatParameters(layout, CPU);
        using var generator = new TorchSharp.torch.Generator(1);
        parameters.Initialize(generator);
        return parameters;
    }

    private static void FillGradients(FlatParameters net, Random random)
    {
        var g = TensorSpan.Of(net.Grad);
        foreach (var s in net.Layout.Parameters)
            for (long i = s.Offset; i < s.Offset + s.Length; i++)
                g[(int)i] = (float)(random.NextDouble() * 2 - 1) * (i % 7 == 0 ? 1e-3f : 1f);
    }

    private static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double[]? moved, double relative, double absolute, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Abs(expected[i]) + (moved?[i] ?? 0);
            double error = Math.Abs(actual[i] - expected[i]);
            if (error > relative * scale + absolute + 1e-30)
                Assert.Fail($"{what}[{i}]: naive {expected[i]:R}, fused {actual[i]:R}, error {error:E3} > {relative} * {scale:E3} + {absolute:E1}");
            if (scale > 0) worst = Math.Max(worst, error / scale);
        }
        return worst;
    }
}
