using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using ILGPU.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// The ILGPU kernels (run on ILGPU's CPU accelerator) and the CPU loops call the same per-element
/// math with the same summation order, so whole training-like runs agree bit for bit. The ILGPU side is
/// <see cref="CudaKernelBackend"/>, the class a CUDA run uses; only where its addresses come from differs.
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
                using var a = TestNetwork.Activations(cpuNet.Layers[l].Units, 8, data);
                cpuCbp.Observe(l, a.View, 8);
                gpuCbp.Observe(l, a.View, 8);
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

    /// <summary>
    /// The statistics alone at widths that take every path of the CPU loops (issue 26): 32-unit register blocks, single
    /// vectors and scalar tails of the column sums (100 = 3 x 32 + 4 units, 45 = 32 + 8 + 5), and for sum |W_in| two
    /// and one groups of 8 transposed rows, a scalar row tail and a column tail (fan-in 37 = 4 x 8 + 5, 100 = 12 x 8 + 4).
    /// Unlike <see cref="TestNetwork"/>'s grid values, weights and activations here use every mantissa bit, so a sum
    /// taken in another order than the ILGPU kernel's would show in the last bits.
    /// </summary>
    [Theory]
    [InlineData(UtilityKind.Contribution)]
    [InlineData(UtilityKind.AdaptableContribution)]
    public void StatisticsAgreeBitForBitOnFullPrecisionValuesAtWidthsThatTakeEveryPath(UtilityKind utility)
    {
        var settings = CbpSettings.Nature2024 with { Utility = utility };
        var h = new AdamSettings(1e-2, 0.99, 0.99, 1e-8, 1e-4);
        using var cpuNet = new TestNetwork(input: 37, hidden1: 100, hidden2: 45, actions: 3, seed: 6);
        using var gpuNet = new TestNetwork(input: 37, hidden1: 100, hidden2: 45, actions: 3, seed: 6);
        var values = new Random(13);
        var p = cpuNet.Parameters.Span;
        for (int i = 0; i < p.Length; i++) p[i] = (float)(values.NextDouble() * 2 - 1) * 0.3f;
        p.CopyTo(gpuNet.Parameters.Span);
        using var cpu = KernelBackend.Cpu(cpuNet, h, settings);
        using var gpu = KernelBackend.Ilgpu(ilgpu.Accelerator, gpuNet, h, settings);
        const int batch = 9;
        for (int step = 0; step < 3; step++)
        {
            for (int l = 0; l < cpuNet.Layers.Length; l++)
            {
                using var a = new NativeBuffer<float>(cpuNet.Layers[l].Units * batch);
                var s = a.Span;
                for (int i = 0; i < s.Length; i++) s[i] = values.Next(4) == 0 ? 0f : (float)values.NextDouble() * 3f;
                cpu.Cbp.UpdateStatistics(l, a.View, batch);
                gpu.Cbp.UpdateStatistics(l, a.View, batch);
            }
        }
        for (int l = 0; l < cpuNet.Layers.Length; l++)
        {
            var (_, fc, uc) = cpu.ReadUnits(l);
            var (_, fg, ug) = gpu.ReadUnits(l);
            Tolerance.BitwiseEqual(fc, fg, $"f {l}");
            Tolerance.BitwiseEqual(uc, ug, $"u {l}");
            var uhatCpu = new float[cpuNet.Layers[l].Units];
            var uhatGpu = new float[cpuNet.Layers[l].Units];
            cpu.Cbp.ReadUtilities(l, uhatCpu);
            gpu.Cbp.ReadUtilities(l, uhatGpu);
            Tolerance.BitwiseEqual(uhatCpu, uhatGpu, $"utility {l}");
            Assert.Contains(uhatCpu, x => x > 0);
        }
    }

    /// <summary>
    /// The run's path end to end on TorchSharp CPU tensors: <see cref="OptimizerPair"/> with the registered "ilgpu-cpu"
    /// backend (the CUDA backend's class over the tensors' data_ptr, on ILGPU's CPU accelerator) against the default
    /// "cpu-loops" one, activations handed over as tensors, over a training-like sequence with replacements.
    /// </summary>
    [Fact]
    public void CudaBackendOverTorchTensorsEqualsTheCpuLoopsBitForBit()
    {
        Assert.Equal("cpu-loops", KernelBackends.ForDevice("cpu").Name);
        Assert.Equal("cuda", KernelBackends.ForDevice("cuda").Name);
        var settings = new CbpSettings(UtilityKind.AdaptableContribution, 0.99, ReplacementRate: 0.05, MaturityThreshold: 5,
            ReplacementCountRule.Probabilistic, NextBiasCorrection: true, AdamStateReset.MomentsAndStepCounters);
        var h = new AdamSettings(1e-3, 0.99, 0.99, 1e-8, 1e-4);
        var layout = new ParameterLayout(observationSize: 17, hiddenUnits: 24, actionSize: 4);
        using var loopsNet = Network(layout);
        using var ilgpuNet = Network(layout);
        using var loops = OptimizerPair.Create(loopsNet, h, settings, OptimizerImpl.Fused, 21, KernelBackends.ForDevice("cpu"));
        using var ilgpuPair = OptimizerPair.Create(ilgpuNet, h, settings, OptimizerImpl.Fused, 21, KernelBackends.Get("ilgpu-cpu"));
        var data = new Random(4);
        long replaced = 0;
        for (int step = 0; step < 40; step++)
        {
            var g = TensorSpan.Of(loopsNet.Grad);
            for (int i = 0; i < g.Length; i++) g[i] = (float)(data.NextDouble() * 2 - 1);
            g.CopyTo(TensorSpan.Of(ilgpuNet.Grad));
            var activations = layout.HiddenLayers
                .Select(l => tensor(TestNetwork.ActivationValues(l.Units, 16, data)).view(16, l.Units))
                .ToArray();
            loops.Optimizer.Step();
            ilgpuPair.Optimizer.Step();
            loops.Cbp!.AfterStep(activations);
            ilgpuPair.Cbp!.AfterStep(activations);
            foreach (var a in activations) a.Dispose();
            Tolerance.BitwiseEqual(TensorSpan.Of(loopsNet.Data), TensorSpan.Of(ilgpuNet.Data), $"parameters at step {step}");
        }
        for (int l = 0; l < layout.HiddenLayers.Count; l++)
        {
            Assert.Equal(loops.Cbp!.TotalReplaced(l), ilgpuPair.Cbp!.TotalReplaced(l));
            replaced += loops.Cbp.TotalReplaced(l);
        }
        Assert.True(replaced >= 10, $"only {replaced} replacements in 40 steps; the run should exercise replacement");
        var (lm, lv, lt) = OptimizerState.ReadAdam(loops.Optimizer);
        var (im, iv, it) = OptimizerState.ReadAdam(ilgpuPair.Optimizer);
        Tolerance.BitwiseEqual(lm, im, "m");
        Tolerance.BitwiseEqual(lv, iv, "v");
        Tolerance.BitwiseEqual(lt, it, "t");
        var (lr, lu) = OptimizerState.ReadCbp(loops.Cbp!);
        var (ir, iu) = OptimizerState.ReadCbp(ilgpuPair.Cbp!);
        Assert.Equal(lr, ir);
        for (int l = 0; l < lu.Length; l++)
        {
            Tolerance.BitwiseEqual(lu[l].Age, iu[l].Age, $"age {l}");
            Tolerance.BitwiseEqual(lu[l].F, iu[l].F, $"f {l}");
            Tolerance.BitwiseEqual(lu[l].U, iu[l].U, $"u {l}");
        }
    }

    /// <summary>The kernels read tensors on their own device only: a CPU tensor handed to the CUDA backend is refused by name.</summary>
    [Fact]
    public void TensorsOnAnotherDeviceThanTheBackendsAreRefused()
    {
        using var net = Network(new ParameterLayout(observationSize: 5, hiddenUnits: 8, actionSize: 2));
        var e = Assert.Throws<ArgumentException>(() =>
            OptimizerPair.Create(net, new AdamSettings(1e-3, 0.9, 0.999, 1e-8, 0), null, OptimizerImpl.Fused, 1, KernelBackends.ForDevice("cuda")));
        Assert.Equal("the parameter tensor is on cpu; these kernels run on cuda.", e.Message);
    }

    /// <summary>
    /// <see cref="PrimaryContextCuda"/> runs ILGPU's CUDA accelerator in libtorch's primary context by setting the
    /// accelerator's private native-pointer field (ILGPU 1.5.3 creates a context of its own): that field must be what
    /// NativePtr returns, and setting it must change it. Checked here on the CPU accelerator, whose field is the same.
    /// </summary>
    [Fact]
    public void TheAcceleratorsContextPointerIsTheFieldThePrimaryContextBindingSets()
    {
        using var context = IlgpuDevices.CreateContext();
        using var accelerator = IlgpuDevices.CreateCpuSimulator(context);
        var field = PrimaryContextCuda.NativePointerField;
        nint original = accelerator.NativePtr;
        Assert.Equal(original, (nint)field.GetValue(accelerator)!);
        field.SetValue(accelerator, (nint)0x1234);
        Assert.Equal((nint)0x1234, accelerator.NativePtr);
        field.SetValue(accelerator, original);
        Assert.Equal(original, accelerator.NativePtr);
    }

    /// <summary>One <see cref="ForeignMemory{T}"/> pointed at a fresh range every minibatch: its address and length follow, a larger range and ILGPU copies are refused.</summary>
    [Fact]
    public void ForeignMemoryFollowsItsRange()
    {
        using var a = new NativeBuffer<float>(8);
        using var b = new NativeBuffer<float>(6);
        using var c = new NativeBuffer<float>(9);
        for (int i = 0; i < 8; i++) a.Span[i] = i;
        for (int i = 0; i < 6; i++) b.Span[i] = 10 + i;
        using var buffer = new ForeignMemory<float>(ilgpu.Accelerator, a.View);
        Assert.Equal(a.View.Address, buffer.NativePtr);
        buffer.Retarget(b.View);
        Assert.Equal(6, buffer.View.Length);
        Assert.Equal(b.View.Address, buffer.NativePtr);
        Assert.Throws<ArgumentException>(() => buffer.Retarget(c.View));
        Assert.Throws<NotSupportedException>(() => buffer.View.CopyToCPU(new float[6]));
    }

    private static FlatParameters Network(ParameterLayout layout)
    {
        var parameters = new FlatParameters(layout, CPU);
        using var generator = new TorchSharp.torch.Generator(1);
        parameters.Initialize(generator);
        return parameters;
    }
}
