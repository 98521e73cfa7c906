using CbpGpu.Agent;
using CbpGpu.Agent.Methods;
using CbpGpu.Kernels;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>UPGD (docs/methods.md#upgd): one step by hand, the loops against the TorchSharp reference, and its runs.</summary>
public sealed class UpgdTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("upgd");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void TheFirstStepGatesAdamsStepAndTheNoiseByOneMinusTheScaledUtility()
    {
        // w = (1, 2), g = (-1, 0.5), fresh state; beta_u = 0.5, beta1 = 0.5, beta2 = 0.75.
        float[] w = [1f, 2f], g = [-1f, 0.5f], u = new float[2], m = new float[2], v = new float[2];
        float max = UpgdMethod.Trace(w, g, u, m, v, 0.5f, 0.5f, 0.75f);
        Assert.Equal([0.5f, -0.5f], u);          // 0.5 * -(g w)
        Assert.Equal([-0.5f, 0.25f], m);         // 0.5 * g
        Assert.Equal([0.25f, 0.0625f], v);       // 0.25 * g^2
        Assert.Equal(0.5f, max);

        // t = 1: corrections 0.5, 0.5, 0.25, so u_hat / max = (2, -2), m_hat = (-1, 0.5), sqrt(v_hat) = (1, 0.5).
        // lr 0.5, wd 0.5: decay 0.75, 2 lr = 1; eps 0; sigma 0.25 with draws z = (2, -4).
        var k = new UpgdMethod.StepScalars(0.5f, 0.5f, 0.75f, 0.5f, 0.5f, 0.25f, 0.75f, 1f, 0f, 0.25f, max);
        double sum = UpgdMethod.Apply(w, u, m, v, [2f, -4f], k);
        // w1 = 0.75 - (1 - s(2)) (-1 / 1 + 2 * 0.25) = 0.75 + 0.5 s(-2); w2 = 1.5 - (1 - s(-2)) (0.5 / 0.5 - 4 * 0.25) = 1.5.
        Tolerance.Within(0.75 + 0.5 * Sigmoid(-2), w[0], 1e-7, "w1");
        Tolerance.Within(1.5, w[1], 1e-7, "w2");
        Tolerance.Within(1.0, sum, 1e-7, "s(2) + s(-2)");
    }

    [Fact]
    public void FusedAndNaiveAgreeOverSteps()
    {
        using var a = MethodRuns.Network(5);
        using var b = MethodRuns.Network(5);
        var adam = new AdamSettings(1e-2, 0.9, 0.999, 1e-5, 1e-3);   // a large rate, so that the steps move the weights visibly
        var settings = new UpgdSettings(0.9, 1e-2);
        using var fused = new UpgdMethod.Optimizer(a, adam, settings, false, 3);
        using var naive = new UpgdMethod.Optimizer(b, adam, settings, true, 3);
        float[] start = a.ToArray();
        using var generator = new Generator(21);
        for (int step = 0; step < 5; step++)
        {
            MethodRuns.RandomGradient(a, generator);
            using (var noGrad = no_grad()) b.Grad.copy_(a.Grad);
            ((IParameterOptimizer)fused).Step();
            ((IParameterOptimizer)naive).Step();
            float[] x = a.ToArray(), y = b.ToArray();
            for (int i = 0; i < x.Length; i++) Tolerance.Within(y[i], x[i], 2e-6 * (1 + Math.Abs(y[i])), "fused vs naive UPGD", i, step);
        }
        Assert.NotEqual(start, a.ToArray());
        var (cf, cn) = (new double[2], new double[2]);
        fused.WriteColumns(cf);
        naive.WriteColumns(cn);
        Tolerance.Relative(cn[0], cf[0], 1e-5, "mean scaled utility");
        Tolerance.Relative(cn[1], cf[1], 1e-6, "max utility");
        Assert.InRange(cf[0], 0.0, 1.0);
    }

    [Fact]
    public void ItTrainsAndResumesExactly()
    {
        var rows = MethodRuns.TrainStraightAndSplit(_root, "upgd");
        Assert.All(rows, r => Assert.InRange(MethodRuns.Number(r["upgd_mean_scaled_utility"]), 0.0, 1.0));
        Assert.All(rows, r => Assert.True(MethodRuns.Number(r["upgd_max_utility"]) > 0));
    }

    [Fact]
    public void TorchsAdamCannotRunIt()
    {
        var refused = CbpGpu.Tests.Runner.RunnerInvocation.Invoke("train", "--method", "upgd", "--out", Path.Combine(_root, "x"), "--optimizer-impl", "torch");
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("error: --optimizer-impl torch: UPGD is its own optimizer", refused.ErrorLine);
    }
}
