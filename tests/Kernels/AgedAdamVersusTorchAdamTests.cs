using CbpGpu.Agent.Optimization;
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
        const int n = 3000;
        const double lr = 1e-3;
        var h = new AdamHyperparameters(lr, beta1, beta2, 1e-8, weightDecay);
        var random = new Random(17);
        var initial = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        using var torchData = tensor(initial);
        // A Parameter takes over the handle it is given, so give it a view and keep the tensor.
        using var torchParameter = new Parameter(torchData.view(n), requires_grad: true);
        using var torchGrad = zeros(n);
        torchParameter.grad = torchGrad;
        using var torchAdam = optim.Adam([torchParameter], lr, beta1, beta2, 1e-8, weightDecay);

        using var data = tensor(initial);
        using var grad = zeros(n);
        using var naiveParameter = new Parameter(data.view(n), requires_grad: true);
        naiveParameter.grad = grad;
        using var fused = impl == Implementation.Naive ? null
            : new FusedAgedAdam(data, grad, h, impl == Implementation.FusedIlgpuKernel ? ilgpu.Accelerator : null);
        using var naive = impl == Implementation.Naive ? new NaiveAgedAdam([naiveParameter], h) : null;

        var moved = new double[n];
        float[] previous = (float[])initial.Clone();
        for (int step = 0; step < 100; step++)
        {
            var g = TorchNetwork.Span(grad);
            for (int i = 0; i < n; i++) g[i] = (float)(random.NextDouble() * 2 - 1) * (i % 5 == 0 ? 1e-4f : 1f);
            g.CopyTo(TorchNetwork.Span(torchGrad));

            torchAdam.step();
            if (fused is not null) fused.Step();
            else naive!.Step();

            var expected = TorchNetwork.Span(torchParameter);
            var actual = TorchNetwork.Span(data);
            for (int i = 0; i < n; i++)
            {
                moved[i] += Math.Abs(expected[i] - previous[i]);
                // 1e-6 of the parameter, plus of the distance its updates have covered (see FusedVersusNaiveTests).
                Tolerance.Within(expected[i], actual[i], 1e-6 * (Math.Abs(expected[i]) + moved[i]), "parameter", i, step);
            }
            expected.CopyTo(previous);
        }
    }
}
