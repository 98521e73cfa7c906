using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// The fused kernels (CPU loops, and ILGPU kernels on ILGPU's CPU accelerator) against the naive
/// op-by-op TorchSharp reference over 100 optimizer steps with CBP replacements, same seeds.
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

    public static TheoryData<bool, UtilityKind, bool, bool> Cases() => new()
    {
        { false, UtilityKind.Contribution, false, false },
        { false, UtilityKind.AdaptableContribution, true, false },
        { false, UtilityKind.AdaptableContribution, true, true },
        { true, UtilityKind.Contribution, false, false },
        { true, UtilityKind.AdaptableContribution, true, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedEqualsNaiveOverOneHundredStepsWithReplacements(bool onIlgpu, UtilityKind utility, bool reset, bool correct)
    {
        var h = AdamHyperparameters.Cbp(learningRate: 1e-3);
        var settings = new CbpSettings(utility, 0.99, ReplacementRate: 0.02, MaturityThreshold: 10,
            ReplacementCountRule.Probabilistic, correct, reset);
        using var fusedNet = new TorchNetwork(input: 17, hidden1: 32, hidden2: 24, actions: 4, seed: 1);
        using var naiveNet = new TorchNetwork(input: 17, hidden1: 32, hidden2: 24, actions: 4, seed: 1);
        using var fusedAdam = new FusedAgedAdam(fusedNet.Data, fusedNet.Grad, h, onIlgpu ? ilgpu.Accelerator : null);
        using var fusedCbp = new FusedCbp(fusedAdam, fusedNet.Layers, settings, seed: 77);
        using var naiveAdam = new NaiveAgedAdam(naiveNet.Parameters.ToArray(), h);
        using var naiveCbp = new NaiveCbp(naiveNet.HiddenLayers, settings, naiveAdam, seed: 77);

        var data = new Random(3);
        var moved = new double[fusedNet.Length];
        float[] previous = TorchNetwork.Span(naiveNet.Data).ToArray();
        int replaced = 0;
        double worst = 0;
        for (int step = 0; step < 100; step++)
        {
            fusedNet.FillGradients(data);
            TorchNetwork.Span(fusedNet.Grad).CopyTo(TorchNetwork.Span(naiveNet.Grad));
            var activations = fusedNet.Layers
                .Select(l => tensor(TestNetwork.Activations(l.Units, 16, data)).view(16, l.Units))
                .ToArray();

            fusedAdam.Step();
            naiveAdam.Step();
            int n = fusedCbp.AfterStep(activations);
            Assert.Equal(n, naiveCbp.AfterStep(activations));
            foreach (var a in activations) a.Dispose();
            replaced += n;

            for (int l = 0; l < fusedNet.Layers.Length; l++)
                Assert.Equal(naiveCbp.LastReplaced(l), fusedCbp.Engine.LastReplaced(l).ToArray());
            var now = TorchNetwork.Span(naiveNet.Data);
            for (int i = 0; i < moved.Length; i++) moved[i] += Math.Abs(now[i] - previous[i]);
            now.CopyTo(previous);
            worst = Math.Max(worst, AssertClose(now, TorchNetwork.Span(fusedNet.Data), moved, $"parameters at step {step}"));
        }
        output.WriteLine($"{replaced} replacements; worst |fused - naive| / (|naive| + distance moved) = {worst:E2}");
        Assert.True(replaced >= 20, $"only {replaced} replacements; the run should exercise replacement");

        for (int l = 0; l < fusedNet.Layers.Length; l++)
        {
            var (age, f, u) = naiveCbp.UnitState(l);
            int units = fusedNet.Layers[l].Units;
            var fusedAge = new int[units];
            var fusedF = new float[units];
            var fusedU = new float[units];
            fusedCbp.Kernels.ReadUnitState(l, fusedAge, fusedF, fusedU);
            Assert.Equal(age.data<int>().ToArray(), fusedAge);
            AssertClose(f.data<float>().ToArray(), fusedF, null, $"f of layer {l}");
            AssertClose(u.data<float>().ToArray(), fusedU, null, $"u of layer {l}");
        }
        var (m, v, t) = (new float[fusedNet.Length], new float[fusedNet.Length], new int[fusedNet.Length]);
        fusedAdam.Engine.ReadState(m, v, t);
        foreach (var p in naiveNet.Parameters)
        {
            var (nm, nv, nt) = naiveAdam.StateOf(p);
            long offset = OffsetOf(naiveNet, p);
            int length = (int)p.numel();
            Assert.Equal(nt.data<int>().ToArray(), t.AsSpan((int)offset, length).ToArray());
            AssertClose(nv.data<float>().ToArray(), v.AsSpan((int)offset, length), null, "v");
        }
    }

    private static long OffsetOf(TorchNetwork net, TorchSharp.Modules.Parameter p) =>
        (p.storage_offset() - net.Data.storage_offset());

    private static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double[]? moved, string what)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Abs(expected[i]) + (moved?[i] ?? 0);
            double error = Math.Abs(actual[i] - expected[i]);
            if (error > Relative * scale + 1e-30)
                Assert.Fail($"{what}[{i}]: naive {expected[i]:R}, fused {actual[i]:R}, error {error:E3} > {Relative} * {scale:E3}");
            if (scale > 0) worst = Math.Max(worst, error / scale);
        }
        return worst;
    }
}
