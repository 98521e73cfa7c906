using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// The ILGPU kernels (run on ILGPU's CPU accelerator) and the CPU loops call the same per-element
/// math with the same summation order, so whole training-like runs agree bit for bit.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public class CpuLoopsVersusIlgpuKernelsTests(IlgpuCpuFixture ilgpu)
{
    [Theory]
    [InlineData(UtilityKind.Contribution, false, false, false)]
    [InlineData(UtilityKind.AdaptableContribution, true, true, false)]
    [InlineData(UtilityKind.AdaptableContribution, true, false, true)]
    public void OptimizerStepsWithReplacementsAgreeBitForBit(UtilityKind utility, bool reset, bool correct, bool reportRule)
    {
        // reportRule: the reproduction report's layer coin, bound 1/sqrt(fan_in) and untouched bias.
        var settings = new CbpSettings(utility, 0.99, ReplacementRate: 0.05, MaturityThreshold: 5,
            reportRule ? ReplacementCountRule.LayerCoin : ReplacementCountRule.Probabilistic, correct,
            reset ? AdamStateReset.MomentsAndStepCounters : AdamStateReset.None,
            ResetBias: !reportRule, NewRowBound: reportRule ? NewRowBound.InverseSqrtFanIn : NewRowBound.LecunUniform);
        var h = new AdamSettings(1e-2, 0.99, 0.99, 1e-8, 1e-4);
        using var cpuNet = new TestNetwork(input: 7, hidden1: 12, hidden2: 10, actions: 3, seed: 5);
        using var gpuNet = new TestNetwork(input: 7, hidden1: 12, hidden2: 10, actions: 3, seed: 5);
        using var cpu = KernelBackend.Cpu(cpuNet, h, settings);
        using var gpu = KernelBackend.Ilgpu(ilgpu.Accelerator, gpuNet, h, settings);
        var cpuCbp = new ContinualBackprop(cpu.Cbp, new SplitMix64(9));
        var gpuCbp = new ContinualBackprop(gpu.Cbp, new SplitMix64(9));
        var data = new Random(10);
        int replaced = 0;
        for (int step = 0; step < 40; step++)
        {
            cpuNet.FillGradients(data);
            cpuNet.Gradients.Span.CopyTo(gpuNet.Gradients.Span);
            cpu.Adam.Step();
            gpu.Adam.Step();
            for (int l = 0; l < cpuNet.Layers.Length; l++)
            {
                var a = TestNetwork.Activations(cpuNet.Layers[l].Units, 8, data);
                cpuCbp.Observe(l, a, 8);
                gpuCbp.Observe(l, a, 8);
            }
            int n = cpuCbp.GenerateAndTest();
            Assert.Equal(n, gpuCbp.GenerateAndTest());
            replaced += n;
            Tolerance.BitwiseEqual(cpuNet.Parameters.Span, gpuNet.Parameters.Span, $"parameters at step {step}");
        }
        Assert.True(replaced >= 10, $"only {replaced} replacements in 40 steps; the run should exercise replacement");
        var (mc, vc, tc) = cpu.ReadAdam();
        var (mg, vg, tg) = gpu.ReadAdam();
        Tolerance.BitwiseEqual(mc, mg, "m");
        Tolerance.BitwiseEqual(vc, vg, "v");
        Tolerance.BitwiseEqual(tc, tg, "t");
        for (int l = 0; l < cpuNet.Layers.Length; l++)
        {
            var (ac, fc, uc) = cpu.ReadUnits(l);
            var (ag, fg, ug) = gpu.ReadUnits(l);
            Tolerance.BitwiseEqual(ac, ag, $"age {l}");
            Tolerance.BitwiseEqual(fc, fg, $"f {l}");
            Tolerance.BitwiseEqual(uc, ug, $"u {l}");
            Tolerance.BitwiseEqual(ac, cpuCbp.Ages(l), $"host mirror of ages {l}");
        }
    }
}
