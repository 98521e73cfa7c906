using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>The report's networks (docs/ppo.md#initialisation, docs/ppo.md#networks): orthogonal weights with SB3's gains, Tanh.</summary>
public sealed class NetworkInitTests
{
    /// <summary>
    /// Every weight W [rows x cols] is gain times a matrix with orthonormal rows (rows &lt;= cols) or columns: W W^T or
    /// W^T W is gain^2 I, checked in float64 (float32 entries: 1e-5 of gain^2 allowed). Gains sqrt 2 for the four hidden
    /// Linears, 0.01 for the action mean, 1 for the value; biases and log_std 0.
    /// </summary>
    [Fact]
    public void OrthogonalInitIsOrthogonalWithTheStatedGains()
    {
        using var nets = new ActorCritic(111, 256, 8, CPU, Activation.Tanh);
        using var g = new Generator(3);
        nets.Parameters.Initialize(g, NetworkSettings.Seed2023);
        float[] flat = nets.Parameters.ToArray();
        var l = nets.Layout;
        var gains = new Dictionary<ParameterSlice, double>
        {
            [l.PolicyW1] = Math.Sqrt(2), [l.PolicyW2] = Math.Sqrt(2), [l.PolicyW3] = 0.01,
            [l.ValueW1] = Math.Sqrt(2), [l.ValueW2] = Math.Sqrt(2), [l.ValueW3] = 1.0,
        };
        foreach (var p in l.Parameters)
        {
            var values = flat.AsSpan((int)p.Offset, (int)p.Length);
            if (p.Shape.Length == 1)
            {
                Assert.All(values.ToArray(), v => Assert.Equal(0f, v));
                continue;
            }
            int rows = (int)p.Shape[0], cols = (int)p.Shape[1];
            double gain2 = gains[p] * gains[p];
            bool wide = rows <= cols;
            int n = wide ? rows : cols, inner = wide ? cols : rows;
            double worst = 0;
            for (int a = 0; a < n; a++)
                for (int b = 0; b <= a; b++)
                {
                    double dot = 0;
                    for (int k = 0; k < inner; k++)
                        dot += wide
                            ? (double)values[a * cols + k] * values[b * cols + k]
                            : (double)values[k * cols + a] * values[k * cols + b];
                    worst = Math.Max(worst, Math.Abs(dot - (a == b ? gain2 : 0)));
                }
            Assert.True(worst <= 1e-5 * gain2, $"{p.Name}: |W W^T - gain^2 I| up to {worst:E2}, gain^2 {gain2}");
        }
    }

    [Fact]
    public void TwoDrawsFromDifferentSeedsDiffer()
    {
        using var g1 = new Generator(1);
        using var g2 = new Generator(2);
        using var a = FlatParameters.Orthogonal(5, 9, g1);
        using var b = FlatParameters.Orthogonal(5, 9, g2);
        Assert.False(a.allclose(b));
        Assert.Equal([5L, 9L], a.shape);
    }

    [Fact]
    public void LecunInitWithGainOneIsThePublishedInit()
    {
        using var published = new ActorCritic(27, 16, 8, CPU);
        using var viaSettings = new ActorCritic(27, 16, 8, CPU);
        using (var g = new Generator(4)) published.Parameters.Initialize(g);
        using (var g = new Generator(4)) viaSettings.Parameters.Initialize(g, NetworkSettings.Nature2024);
        Assert.Equal(published.Parameters.ToArray(), viaSettings.Parameters.ToArray());
    }

    /// <summary>With Tanh the hidden outputs handed to CBP are tanh(W x + b), by hand in float64.</summary>
    [Fact]
    public void TanhNetworksPassTheirTanhOutputsOn()
    {
        using var nets = new ActorCritic(3, 4, 2, CPU, Activation.Tanh);
        using (var g = new Generator(5)) nets.Parameters.Initialize(g, NetworkSettings.Seed2023);
        using (no_grad()) nets.Parameters[nets.Layout.PolicyB1].copy_(tensor(new[] { 0.5f, -0.25f, 0.1f, 2f }));
        float[] x = [0.3f, -1.2f, 0.7f];
        using var scope = NewDisposeScope();
        var output = nets.Policy(tensor(x).view(1, 3));
        float[] h1 = output.H1.data<float>().ToArray();
        float[] w = nets.Parameters[nets.Layout.PolicyW1].data<float>().ToArray();
        float[] b = nets.Parameters[nets.Layout.PolicyB1].data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            double z = b[i];
            for (int j = 0; j < 3; j++) z += (double)w[i * 3 + j] * x[j];
            Assert.Equal(Math.Tanh(z), h1[i], 1e-6);
        }
    }
}
