using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CbpGpu.Tests.Agent;

/// <summary>The one-tensor parameter and gradient layout of both networks, their init, and Adam over it.</summary>
public sealed class FlatParametersTests
{
    [Fact]
    public void LayoutIsContiguousAlignedAndDescribesTheHiddenLayers()
    {
        var l = new ParameterLayout(111, 256, 8);
        long expectedEnd = 0;
        foreach (var p in l.Parameters)
        {
            Assert.Equal(0, p.Offset % ParameterLayout.Alignment);
            Assert.True(p.Offset >= expectedEnd, $"{p.Name} overlaps its predecessor");
            expectedEnd = p.Offset + p.Length;
        }
        Assert.True(l.TotalSize >= expectedEnd);
        Assert.Equal(
            ["policy.l1.weight", "policy.l1.bias", "policy.l2.weight", "policy.l2.bias", "policy.mean.weight", "policy.mean.bias",
             "policy.log_std", "value.l1.weight", "value.l1.bias", "value.l2.weight", "value.l2.bias", "value.out.weight", "value.out.bias"],
            l.Parameters.Select(p => p.Name));
        Assert.Equal([256L, 111L], l.PolicyW1.Shape);
        Assert.Equal([8L, 256L], l.PolicyW3.Shape);
        Assert.Equal([1L, 256L], l.ValueW3.Shape);

        Assert.Equal(["policy.h1", "policy.h2", "value.h1", "value.h2"], l.HiddenLayerNames);
        Assert.Equal(new HiddenLayerLayout((int)l.PolicyW1.Offset, 111, (int)l.PolicyB1.Offset, 256, (int)l.PolicyW2.Offset, 256, (int)l.PolicyB2.Offset), l.HiddenLayers[0]);
        Assert.Equal(new HiddenLayerLayout((int)l.PolicyW2.Offset, 256, (int)l.PolicyB2.Offset, 256, (int)l.PolicyW3.Offset, 8, (int)l.PolicyB3.Offset), l.HiddenLayers[1]);
        Assert.Equal(new HiddenLayerLayout((int)l.ValueW1.Offset, 111, (int)l.ValueB1.Offset, 256, (int)l.ValueW2.Offset, 256, (int)l.ValueB2.Offset), l.HiddenLayers[2]);
        Assert.Equal(new HiddenLayerLayout((int)l.ValueW2.Offset, 256, (int)l.ValueB2.Offset, 256, (int)l.ValueW3.Offset, 1, (int)l.ValueB3.Offset), l.HiddenLayers[3]);
    }

    [Fact]
    public void InitIsLeCunUniformWithZeroBiasesAndLogStd()
    {
        using var nets = new ActorCritic(111, 256, 8, CPU);
        using var g = new Generator(3);
        nets.Parameters.Initialize(g);
        float[] flat = nets.Parameters.ToArray();
        var l = nets.Layout;
        var covered = new bool[flat.Length];
        foreach (var p in l.Parameters)
        {
            var values = flat.AsSpan((int)p.Offset, (int)p.Length);
            for (long k = p.Offset; k < p.Offset + p.Length; k++) covered[k] = true;
            if (p.Shape.Length == 2)
            {
                double bound = Math.Sqrt(3.0 / p.Shape[1]);
                double max = 0, sumSq = 0;
                foreach (float w in values)
                {
                    Assert.InRange(w, -bound, bound);
                    max = Math.Max(max, Math.Abs(w));
                    sumSq += (double)w * w;
                }
                Assert.True(max > 0.95 * bound, $"{p.Name}: largest |w| {max} should approach the bound {bound}");
                if (p.Length >= 10_000)   // U(-b, b) has variance b^2 / 3 = 1 / fan_in
                    Assert.InRange(sumSq / p.Length * p.Shape[1], 0.97, 1.03);
            }
            else
            {
                foreach (float b in values) Assert.Equal(0f, b);   // biases and log_std
            }
        }
        for (int k = 0; k < flat.Length; k++)
            if (!covered[k]) Assert.Equal(0f, flat[k]);   // alignment padding
    }

    [Fact]
    public void BackwardAccumulatesIntoTheFlatGradient()
    {
        using var nets = new ActorCritic(5, 16, 3, CPU);
        using var g = new Generator(11);
        nets.Parameters.Initialize(g);
        var p = nets.Parameters;
        var l = nets.Layout;
        using var scope = NewDisposeScope();
        var obs = randn([7, 5], generator: g);
        var act = randn([7, 3], generator: g);

        // Reference: the same networks as independent leaves, gradients by plain autograd.
        var refs = l.Parameters.Select(s => p[s].detach().clone().requires_grad_(true)).ToArray();
        Tensor R(ParameterSlice s) => refs[l.Parameters.ToList().IndexOf(s)];
        var rh = F.relu(F.linear(F.relu(F.linear(obs, R(l.PolicyW1), R(l.PolicyB1))), R(l.PolicyW2), R(l.PolicyB2)));
        var rMean = F.linear(rh, R(l.PolicyW3), R(l.PolicyB3));
        var rv = F.linear(F.relu(F.linear(F.relu(F.linear(obs, R(l.ValueW1), R(l.ValueB1))), R(l.ValueW2), R(l.ValueB2))), R(l.ValueW3), R(l.ValueB3));
        (GaussianPolicy.LogProb(act, rMean, R(l.LogStd)).sum() + rv.square().sum()).backward();

        Tensor Loss()
        {
            var pol = nets.Policy(obs);
            return GaussianPolicy.LogProb(act, pol.Mean, pol.LogStd).sum() + nets.Value(obs).Value.square().sum();
        }
        p.ZeroGrad();
        Loss().backward();
        float[] grad = p.Grad.data<float>().ToArray();
        for (int i = 0; i < refs.Length; i++)
        {
            var s = l.Parameters[i];
            float[] expected = refs[i].grad!.data<float>().ToArray();
            Assert.True(expected.Any(x => x != 0), $"{s.Name} got no gradient in the reference");
            for (int k = 0; k < expected.Length; k++)
                Assert.Equal(expected[k], grad[s.Offset + k], 5);
        }

        // Zeroing in place keeps the views attached: a second backward gives the same flat gradient, not double.
        p.ZeroGrad();
        Loss().backward();
        Assert.Equal(grad, p.Grad.data<float>().ToArray());
        // And a parameter's .grad still aliases the flat gradient.
        p.Grad.fill_(7f);
        Assert.All(p[l.ValueB2].grad!.data<float>().ToArray(), x => Assert.Equal(7f, x));
    }

    public static TheoryData<PpoMethod> Methods => new() { PpoMethod.Standard, PpoMethod.NsAdam, PpoMethod.L2 };

    [Theory]
    [MemberData(nameof(Methods))]
    public void AdamStepsEqualTheTextbookFormula(PpoMethod method)
    {
        // g += wd * theta; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
        // theta -= lr * (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps), in float64, three steps.
        var s = PpoSettings.For(method).Adam;
        using var nets = new ActorCritic(3, 4, 2, CPU);
        var p = nets.Parameters;
        int n = (int)p.Layout.TotalSize;
        using var pair = OptimizerPair.Create(p, s, null, OptimizerImpl.Torch, 0);
        var adam = pair.Optimizer;
        var theta = new double[n];
        var m = new double[n];
        var v = new double[n];
        var rng = new Random(5);
        var start = new float[n];
        for (int k = 0; k < n; k++) theta[k] = start[k] = (float)(rng.NextDouble() * 2 - 1);
        p.CopyFrom(start);
        for (int t = 1; t <= 3; t++)
        {
            var g = new float[n];
            for (int k = 0; k < n; k++) g[k] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-4, 1)));
            adam.ZeroGrad();
            using (var gt = tensor(g)) p.Grad.add_(gt);
            adam.Step();
            for (int k = 0; k < n; k++)
            {
                double gk = g[k] + s.WeightDecay * theta[k];
                m[k] = s.Beta1 * m[k] + (1 - s.Beta1) * gk;
                v[k] = s.Beta2 * v[k] + (1 - s.Beta2) * gk * gk;
                theta[k] -= s.LearningRate * (m[k] / (1 - Math.Pow(s.Beta1, t))) / (Math.Sqrt(v[k]) / Math.Sqrt(1 - Math.Pow(s.Beta2, t)) + s.Eps);
            }
            float[] got = p.ToArray();
            for (int k = 0; k < n; k++)
                Assert.True(Math.Abs(got[k] - theta[k]) <= 2e-7 * Math.Max(1, Math.Abs(theta[k])), $"step {t}, element {k}: {got[k]} vs {theta[k]}");
        }
        // Adam's first step moves every element by about lr, far more than the tolerance: the check is not vacuous.
        float[] end = p.ToArray();
        Assert.True(Enumerable.Range(0, n).Count(k => Math.Abs(end[k] - start[k]) > 0.5 * s.LearningRate) > n / 2);
    }
}
