using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The fused acting forward (docs/ppo.md#acting-forward) against TorchSharp's forward in float64, with a bound derived
/// from float32 rounding; rows computed alike whatever the batch; and the rollout's actions distributed as the Gaussian
/// policy says.
/// </summary>
public sealed class ActingForwardTests
{
    private const double U = 1.0 / (1 << 24) + 1.0 / (1L << 53);   // float32 unit roundoff, plus float64's for the reference

    private static double Gamma(int n) => n * U / (1 - n * U);

    /// <summary>Networks of the paper's size with nonzero biases and a log_std per action dimension.</summary>
    private static ActorCritic Networks(Activation activation, int observationSize = 111, int hidden = 256)
    {
        var nets = new ActorCritic(observationSize, hidden, IAnt.Actuators, CPU, activation);
        using var g = new Generator(17);
        nets.Parameters.Initialize(g);
        using var noGrad = no_grad();
        var l = nets.Layout;
        foreach (var b in new[] { l.PolicyB1, l.PolicyB2, l.PolicyB3, l.ValueB1, l.ValueB2, l.ValueB3 })
            nets.Parameters[b].uniform_(-0.5, 0.5, g);
        nets.Parameters[l.LogStd].copy_(tensor(new float[] { -1.5f, -1f, -0.5f, 0f, 0.25f, 0.5f, -0.25f, -2f }));
        return nets;
    }

    private static float[] Observations(int rows, int size, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * size];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
        return x;
    }

    /// <summary>
    /// One Linear (+ nonlinearity) in float64 from the float32 weights, and the bound on the float32 result's error: the
    /// input's error carried through |W|, plus gamma_(n+1) (|W| (|x| + e) + |b|) for the dot product of n terms and the bias
    /// (every output's chain of roundings is at most n + 1 long), plus one rounding for tanh.
    /// </summary>
    private static (Tensor Y, Tensor Error) Layer(ActorCritic nets, ParameterSlice w, ParameterSlice b, Tensor x, Tensor xError, Activation? activation)
    {
        var p = nets.Parameters;
        var w64 = p[w].detach().to(ScalarType.Float64);
        var b64 = p[b].detach().to(ScalarType.Float64);
        var y = F.linear(x, w64, b64);
        var error = F.linear(xError, w64.abs()) + Gamma((int)w.Shape[1] + 1) * (F.linear(x.abs() + xError, w64.abs()) + b64.abs());
        if (activation == Activation.Relu) y = y.relu();
        if (activation == Activation.Tanh)
        {
            y = y.tanh();
            error = error + U * y.abs();
        }
        return (y, error);
    }

    private static void AssertWithin(Tensor expected, float[] actual, Tensor bound, string what)
    {
        var e = expected.contiguous().data<double>().ToArray();
        var b = bound.contiguous().data<double>().ToArray();
        Assert.Equal(e.Length, actual.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(actual[i] - e[i]) <= b[i], $"{what}[{i}]: {actual[i]} vs float64 {e[i]}, bound {b[i]:E3}");
    }

    [Theory]
    [InlineData(Activation.Relu, 1)]
    [InlineData(Activation.Relu, 5)]
    [InlineData(Activation.Tanh, 3)]
    public void MatchesTorchSharpsForwardInFloat64WithinFloat32Rounding(Activation activation, int rows)
    {
        using var nets = Networks(activation);
        var l = nets.Layout;
        int o = l.ObservationSize, h = l.HiddenUnits, a = l.ActionSize;
        var parameters = nets.Parameters.ToArray();
        var obs = Observations(rows, o, seed: rows);
        var noise = Observations(rows, a, seed: 100 + rows);
        var acting = new ActingForward(l, activation, rows);
        float[] actions = new float[rows * a], logProbs = new float[rows], h1 = new float[rows * h], h2 = new float[rows * h], values = new float[rows];
        acting.Policy(parameters, obs, rows, noise, actions, logProbs, h1, h2);
        acting.Value(parameters, obs, rows, values);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(obs, [rows, o]).to(ScalarType.Float64);
        var zero = zeros_like(x);
        var (ph1, eh1) = Layer(nets, l.PolicyW1, l.PolicyB1, x, zero, activation);
        var (ph2, eh2) = Layer(nets, l.PolicyW2, l.PolicyB2, ph1, eh1, activation);
        var (mean, emean) = Layer(nets, l.PolicyW3, l.PolicyB3, ph2, eh2, null);
        var (vh1, evh1) = Layer(nets, l.ValueW1, l.ValueB1, x, zero, activation);
        var (vh2, evh2) = Layer(nets, l.ValueW2, l.ValueB2, vh1, evh1, activation);
        var (value, evalue) = Layer(nets, l.ValueW3, l.ValueB3, vh2, evh2, null);
        AssertWithin(ph1, h1, eh1, "policy h1");
        AssertWithin(ph2, h2, eh2, "policy h2");
        AssertWithin(value.squeeze(-1), values, evalue.squeeze(-1), "value");

        // a = mean + exp(log_std) * noise: the mean's error, exp rounded once, then a product and a sum.
        var std = nets.Parameters[l.LogStd].detach().to(ScalarType.Float64).exp();
        var z = tensor(noise, [rows, a]).to(ScalarType.Float64);
        var expectedActions = mean + std * z;
        var actionBound = emean + 3 * U * (std * z).abs() + U * expectedActions.abs();
        AssertWithin(expectedActions, actions, actionBound, "action");

        // log N(a; mean, std) of the action as sampled, in float64 from the reference mean: z moves by at most dz.
        var logStd = nets.Parameters[l.LogStd].detach().to(ScalarType.Float64);
        var fusedActions = tensor(actions, [rows, a]).to(ScalarType.Float64);
        var referenceZ = (fusedActions - mean) / std;
        var expectedLogProbs = (-0.5 * referenceZ.square() - logStd - 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        var dz = (actionBound + emean) / std + U * z.abs();
        var logProbBound = (z.abs() * dz + 0.5 * dz.square()).sum(-1)
            + Gamma(a + 3) * (0.5 * z.square() + logStd.abs() + 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        AssertWithin(expectedLogProbs, logProbs, logProbBound, "log-probability");

        // The update's float32 forward (TorchSharp, the same weights) lies within the same bounds: two roundings of one function.
        var torch32 = nets.Policy(tensor(obs, [rows, o]));
        AssertWithin(ph2, torch32.H2.data<float>().ToArray(), eh2, "TorchSharp policy h2");
        AssertWithin(mean, torch32.Mean.data<float>().ToArray(), emean, "TorchSharp mean");
        AssertWithin(value.squeeze(-1), nets.Value(tensor(obs, [rows, o])).Value.data<float>().ToArray(), evalue.squeeze(-1), "TorchSharp value");
    }

    [Fact]
    public void EveryRowIsComputedAsIfAlone()
    {
        // 30 inputs and 13 units: the SIMD part, its scalar tail and the units after the last group of four all in play.
        using var nets = Networks(Activation.Relu, observationSize: 30, hidden: 13);
        var l = nets.Layout;
        int rows = 7, o = l.ObservationSize, h = l.HiddenUnits, a = l.ActionSize;
        var parameters = nets.Parameters.ToArray();
        var obs = Observations(rows, o, seed: 3);
        var noise = Observations(rows, a, seed: 4);
        var acting = new ActingForward(l, Activation.Relu, rows);
        float[] actions = new float[rows * a], logProbs = new float[rows], h1 = new float[rows * h], h2 = new float[rows * h], values = new float[rows];
        acting.Policy(parameters, obs, rows, noise, actions, logProbs, h1, h2);
        acting.Value(parameters, obs, rows, values);
        for (int r = 0; r < rows; r++)
        {
            float[] a1 = new float[a], lp1 = new float[1], h11 = new float[h], h21 = new float[h], v1 = new float[1];
            acting.Policy(parameters, obs.AsSpan(r * o, o), 1, noise.AsSpan(r * a, a), a1, lp1, h11, h21);
            acting.Value(parameters, obs.AsSpan(r * o, o), 1, v1);
            Assert.Equal(actions.AsSpan(r * a, a).ToArray(), a1);
            Assert.Equal(logProbs[r], lp1[0]);
            Assert.Equal(h1.AsSpan(r * h, h).ToArray(), h11);
            Assert.Equal(h2.AsSpan(r * h, h).ToArray(), h21);
            Assert.Equal(values[r], v1[0]);
        }
    }

    /// <summary>
    /// A one-env rollout on the real Ant: z = (a - mean(s)) / std, with mean(s) from TorchSharp's forward, must be
    /// N(0, 1) in every dimension and over all (Kolmogorov-Smirnov at the 0.1% level, mean and variance within 4.5
    /// standard errors), and the recorded log-probability the Gaussian's log-density of the recorded action.
    /// </summary>
    [Fact]
    public void RolloutActionsAreDistributedAsTheGaussianPolicySays()
    {
        const int Steps = 2048;
        using var env = new VectorEnv(1, new EnvConfig(), FrictionConfig.Constant(1.0), seed: 5, threads: 1);
        using var nets = Networks(Activation.Relu, env.ObservationSize, hidden: 64);
        using var generator = new Generator(123);
        using var rollout = new Rollout(Steps, 1, env.ObservationSize, env.ActionSize, 64);
        rollout.Collect(env, nets, generator, CPU, false, _ => { });

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var policy = nets.Policy(rollout.Observations.view(Steps, -1));
        var mean = policy.Mean.to(ScalarType.Float64);
        var logStd = policy.LogStd.to(ScalarType.Float64);
        var actions = rollout.Actions.view(Steps, -1).to(ScalarType.Float64);
        var z = (actions - mean) / logStd.exp();
        int a = env.ActionSize;
        var zs = z.contiguous().data<double>().ToArray();
        for (int k = 0; k < a; k++)
        {
            var column = new double[Steps];
            for (int t = 0; t < Steps; t++) column[t] = zs[t * a + k];
            AssertStandardNormal(column, $"dimension {k}");
        }
        AssertStandardNormal(zs, "all dimensions");

        var expected = (-0.5 * z.square() - logStd - 0.5 * Math.Log(2 * Math.PI)).sum(-1).data<double>().ToArray();
        var recorded = rollout.LogProbs.view(Steps).data<float>().ToArray();
        for (int t = 0; t < Steps; t++)
            Assert.True(Math.Abs(expected[t] - recorded[t]) <= 1e-4 * Math.Max(1, Math.Abs(expected[t])), $"log-probability {t}: {recorded[t]} vs {expected[t]}");
    }

    private static void AssertStandardNormal(double[] x, string what)
    {
        int n = x.Length;
        double mean = x.Average();
        double variance = x.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        Assert.True(Math.Abs(mean) <= 4.5 / Math.Sqrt(n), $"{what}: mean {mean}");
        Assert.True(Math.Abs(variance - 1) <= 4.5 * Math.Sqrt(2.0 / (n - 1)), $"{what}: variance {variance}");
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double cdf = NormalCdf(sorted[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / n - cdf, cdf - (double)i / n));
        }
        Assert.True(d <= 1.949 / Math.Sqrt(n), $"{what}: Kolmogorov-Smirnov D = {d} over {n} samples");
    }

    /// <summary>Phi(x) = erfc(-x / sqrt 2) / 2.</summary>
    private static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>erfc by the continued fraction for |x| >= 2.5 and the Taylor series of erf below: accurate to ~1e-14.</summary>
    private static double Erfc(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (ax < 2.5)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int k = 1; k < 200; k++)
            {
                term *= -x2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17) break;
            }
            result = 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + k / 2.0 / f;
            result = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x >= 0 ? result : 2 - result;
    }
}
