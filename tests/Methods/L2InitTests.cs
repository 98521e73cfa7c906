using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Training;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>L2 Init (docs/methods.md#l2init): its gradient term by hand and against the TorchSharp reference, and its runs.</summary>
public sealed class L2InitTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("l2init");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public void TheGradientGainsTwoLambdaTimesTheDriftFromTheStart()
    {
        float[] g = [0.5f, 0f, -1f];
        L2InitMethod.PullTowardInit(g, [1f, -1f, 0.25f], [0.5f, 0.5f, 0.25f], 2 * 0.25f);
        Assert.Equal([0.75f, -0.75f, -1f], g);   // 0.5 + 0.5 * 0.5; 0 + 0.5 * -1.5; no drift, no pull
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BeforeEachStepTheHookAddsThePullToTheFlatGradient(bool naive)
    {
        using var parameters = MethodRuns.Network(3);
        float[] theta0 = parameters.ToArray();
        using var hook = new L2InitMethod.Hook(parameters, new L2InitSettings(0.125), naive);
        using (var generator = new Generator(17))
        using (var noGrad = no_grad())
            parameters.Data.add_(rand(parameters.Data.shape, generator: generator).mul_(0.5));   // drift, padding too (it is not a parameter)
        float[] theta = parameters.ToArray();
        float[] g0 = GradientOf(parameters);
        hook.BeforeStep(default);
        float[] g = GradientOf(parameters);
        for (int i = 0; i < g.Length; i++)
            Tolerance.Within(g0[i] + 0.25 * ((double)theta[i] - theta0[i]), g[i], 2e-7 * (1 + Math.Abs(g0[i])), naive ? "naive pull" : "fused pull");
    }

    [Fact]
    public void FusedAndNaiveAgreeBitForBit()
    {
        using var a = MethodRuns.Network(5);
        using var b = MethodRuns.Network(5);
        using var fused = new L2InitMethod.Hook(a, new L2InitSettings(5e-4), false);
        using var naive = new L2InitMethod.Hook(b, new L2InitSettings(5e-4), true);
        using (var noGrad = no_grad())
        {
            a.Data.mul_(1.5);
            b.Data.mul_(1.5);
        }
        fused.BeforeStep(default);
        naive.BeforeStep(default);
        Tolerance.BitwiseEqual(GradientOf(b), GradientOf(a), "fused vs naive L2 Init gradient");
    }

    [Fact]
    public void ItTrainsAndResumesExactlyWithThetaZeroInItsBlock()
    {
        var rows = MethodRuns.TrainStraightAndSplit(_root, "l2init", "--l2init-lambda", "0.01");
        double[] drift = [.. rows.Select(r => MethodRuns.Number(r["l2init_mean_abs_drift"]))];
        Assert.True(drift[0] > 0 && drift[1] > drift[0], $"drift {string.Join(", ", drift)}");

        // theta_0 is in the block: the run's initial parameters, as a run of the same seed starts with them.
        using var file = File.OpenRead(Path.Combine(_root, "straight", RunDirectory.CheckpointFile));
        Assert.True(BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion).Has("l2init"));
    }

    private static float[] GradientOf(CbpGpu.Agent.Networks.FlatParameters parameters)
    {
        using var cpu = parameters.Grad.cpu();
        return cpu.data<float>().ToArray();
    }
}
