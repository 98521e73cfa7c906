using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>With every step counter equal, aged Adam is TorchSharp's torch.optim.Adam.</summary>
[Collection(IlgpuCpuCollection.Name)]
public class AgedAdamVersusTorchAdamTests(IlgpuCpuFixture ilgpu)
{
    public enum Implementation { FusedCpuLoops, FusedIlgpuKernel, Naive }

    public static TheoryData<Implementation, double, double, double> Cases()
    {
        var data = new TheoryData<Implementation, double, double, double>();
        foreach (var impl in Enum.GetValues<Implementation>())
        {
            data.Add(impl, 0.9, 0.999, 0.0);   // Standard PPO
            data.Add(impl, 0.99, 0.99, 1e-3);  // PPO+L2
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchAdamOverOneHundredSteps(Implementation impl, double beta1, double beta2, double weightDecay)
    {
        const double lr = 1e-3;
        var h = new AdamSettings(lr, beta1, beta2, 1e-8, weightDecay);
        var random = new Random(17);
        using var net = new FlatParameters(new ParameterLayout(13, 24, 3), CPU);
        var layout = net.Layout;
        int n = (int)layout.TotalSize;
        var data = TensorSpan.Of(net.Data);
        foreach (var s in layout.Parameters)
            for (long i = s.Offset; i < s.Offset + s.Length; i++) data[(int)i] = (float)(random.NextDouble() * 2 - 1);
        float[] initial = data.ToArray();

        using var torchData = tensor(initial);
        // A Parameter takes over the handle it is given, so give it a view and keep the tensor.
        using var torchParameter = new Parameter(torchData.view(n), requires_grad: true);
        using var torchGrad = zeros(n);
        torchParameter.grad = torchGrad;
        using var torchAdam = optim.Adam([torchParameter], lr, beta1, beta2, 1e-8, weightDecay);

        using var pair = impl switch
        {
            Implementation.FusedIlgpuKernel => OptimizerPair.CreateFused(net, h, null, 0, "cpu", m => new CudaKernelBackend(ilgpu.Accelerator, m.Parameters, m.Gradients)),
            Implementation.FusedCpuLoops => OptimizerPair.Create(net, h, null, OptimizerImpl.Fused, 0),
            _ => OptimizerPair.Create(net, h, null, OptimizerImpl.Naive, 0),
        };
        Assert.Null(pair.Cbp);

        var moved = new double[n];
        float[] previous = (float[])initial.Clone();
        for (int step = 0; step < 100; step++)
        {
            pair.Optimizer.ZeroGrad();
            var g = TensorSpan.Of(net.Grad);
            foreach (var s in layout.Parameters)
                for (long i = s.Offset; i < s.Offset + s.Length; i++)
                    g[(int)i] = (float)(random.NextDouble() * 2 - 1) * (i % 5 == 0 ? 1e-4f : 1f);
            g.CopyTo(TensorSpan.Of(torchGrad));

            torchAdam.step();
            pair.Optimizer.Step();

            var expected = TensorSpan.Of(torchParameter);
            var actual = TensorSpan.Of(net.Data);
            for (int i = 0; i < n; i++)
            {
                moved[i] += Math.Abs(expected[i] - previous[i]);
                // 1e-6 of the parameter, plus of the distance its updates have covered (see FusedVersusNaiveTests).
                Tolerance.Within(expected[i], actual[i], 1e-6 * (Math.Abs(expected[i]) + moved[i]), "parameter", i, step);
            }
            expected.CopyTo(previous);
        }
        // Adam moves every element by about lr per step: the comparison is not vacuous.
        Assert.True(moved[layout.PolicyW1.Offset] > 10 * lr);
    }
}
