using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

/// <summary>After a replacement, exactly what docs/cbp.md#replacing-a-unit names has changed, on the CPU loops and in the ILGPU kernels.</summary>
[Collection(IlgpuCpuCollection.Name)]
public class ReplacementTests(IlgpuCpuFixture ilgpu)
{
    /// <summary>
    /// Each backend with: the published replacement (nothing reset but the bias), the former seed2023 one (everything
    /// reset, bias included), the reproduction report's (m, v, t of row and column, bias untouched, bound 1/sqrt(fan_in)),
    /// and mixes of the switches (only the moments, only the step counters, with and without the next-bias correction).
    /// </summary>
    public static TheoryData<bool, AdamStateReset, bool, NewRowBound, bool> Cases()
    {
        var data = new TheoryData<bool, AdamStateReset, bool, NewRowBound, bool>();
        foreach (bool onIlgpu in new[] { false, true })
        {
            data.Add(onIlgpu, AdamStateReset.None, true, NewRowBound.LecunUniform, false);
            data.Add(onIlgpu, AdamStateReset.MomentsAndStepCounters, true, NewRowBound.LecunUniform, true);
            data.Add(onIlgpu, AdamStateReset.MomentsAndStepCounters, false, NewRowBound.InverseSqrtFanIn, false);
            data.Add(onIlgpu, AdamStateReset.Moments, false, NewRowBound.LecunUniform, true);
            data.Add(onIlgpu, AdamStateReset.StepCounters, true, NewRowBound.InverseSqrtFanIn, false);
            data.Add(onIlgpu, AdamStateReset.None, false, NewRowBound.InverseSqrtFanIn, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReplacementChangesExactlyTheRowColumnStatesAndStatisticsListed(
        bool onIlgpu, AdamStateReset reset, bool resetBias, NewRowBound newRowBound, bool nextBiasCorrection)
    {
        using var net = new TestNetwork(input: 6, hidden1: 10, hidden2: 8, actions: 3, seed: 21);
        var settings = CbpSettings.Seed2023 with
        {
            AdamReset = reset, ResetBias = resetBias, NewRowBound = newRowBound, NextBiasCorrection = nextBiasCorrection,
        };
        var h = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4);
        using var backend = onIlgpu ? KernelBackend.Ilgpu(ilgpu.Accelerator, net, h, settings) : KernelBackend.Cpu(net, h, settings);
        var random = new Random(22);

        var m = new float[net.Length];
        var v = new float[net.Length];
        var t = new int[net.Length];
        for (int i = 0; i < net.Length; i++)
        {
            m[i] = (float)(random.NextDouble() - 0.5);
            v[i] = (float)random.NextDouble();
            t[i] = random.Next(1, 1000);
        }
        backend.Adam.WriteState(m, v, t);
        for (int l = 0; l < net.Layers.Length; l++)
        {
            int n = net.Layers[l].Units;
            var age = Enumerable.Range(0, n).Select(_ => random.Next(1, 500)).ToArray();
            var f = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var u = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            backend.Cbp.WriteUnitState(l, age, f, u);
            using var a = TestNetwork.Activations(n, 6, random);
            backend.Cbp.UpdateStatistics(l, a.View, 6);
        }

        foreach (var (layer, units) in new[] { (0, new[] { 7, 2 }), (3, new[] { 0 }), (1, new[] { 1, 6, 3 }) })
        {
            var L = net.Layers[layer];
            var keys = units.Select(_ => (ulong)random.NextInt64()).ToArray();
            float[] p0 = net.CopyParameters();
            float[] g0 = net.Gradients.Span.ToArray();
            var (m0, v0, t0) = backend.ReadAdam();
            var units0 = Enumerable.Range(0, net.Layers.Length).Select(backend.ReadUnits).ToArray();

            backend.Cbp.Replace(layer, units, keys);

            // What docs/cbp.md#replacing-a-unit says, written out element by element.
            float[] p = (float[])p0.Clone();
            float[] mExpected = (float[])m0.Clone(), vExpected = (float[])v0.Clone();
            int[] tExpected = (int[])t0.Clone();
            var changed = new List<int>();
            double bound = newRowBound == NewRowBound.InverseSqrtFanIn ? 1 / Math.Sqrt(L.FanIn) : Math.Sqrt(3.0 / L.FanIn);
            for (int r = 0; r < units.Length; r++)
            {
                // Row element j is U(-b, b) from the (j+1)-th output of SplitMix64 seeded with the unit's key:
                // its top 24 bits as u in [0, 1), w = (2u - 1) b (exact in double, then rounded once like the float product).
                var stream = new SplitMix64(keys[r]);
                for (int j = 0; j < L.FanIn; j++)
                {
                    int o = L.WeightInOffset + units[r] * L.FanIn + j;
                    double u = (stream.NextUInt64() >> 40) / 16777216.0;
                    p[o] = (float)((2 * u - 1) * (float)bound);
                    changed.Add(o);
                }
                if (resetBias)
                {
                    p[L.BiasOffset + units[r]] = 0f;
                    changed.Add(L.BiasOffset + units[r]);
                }
            }
            // The next bias gains W_out[k,i] * fhat_i, fhat = f / (1 - 0.99^age) of the statistics above (float64 here).
            var (age1Before, f1Before, _) = units0[layer];
            var nextBias = new double[L.NextOut];
            var nextBiasScale = new double[L.NextOut];
            for (int k = 0; k < L.NextOut; k++)
            {
                nextBias[k] = p0[L.NextBiasOffset + k];
                nextBiasScale[k] = Math.Abs(nextBias[k]);
                for (int r = 0; r < units.Length; r++)
                {
                    int o = L.WeightOutOffset + k * L.Units + units[r];
                    if (nextBiasCorrection)
                    {
                        double term = p0[o] * (f1Before[units[r]] / (1 - Math.Pow(0.99, age1Before[units[r]])));
                        nextBias[k] += term;
                        nextBiasScale[k] += Math.Abs(term);
                    }
                    p[o] = 0f;
                    changed.Add(o);
                }
            }
            foreach (int o in changed)
            {
                if (reset.HasFlag(AdamStateReset.Moments)) (mExpected[o], vExpected[o]) = (0f, 0f);
                if (reset.HasFlag(AdamStateReset.StepCounters)) tExpected[o] = 0;
            }

            string at = $"layer {layer} units [{string.Join(",", units)}]";
            var actual = net.Parameters.Span;
            for (int k = 0; k < L.NextOut; k++)
            {
                // A few float roundings of fhat and of the products and sums.
                Tolerance.Within(nextBias[k], actual[L.NextBiasOffset + k], 1e-6 * nextBiasScale[k], $"next bias [{k}] in " + at);
                p[L.NextBiasOffset + k] = actual[L.NextBiasOffset + k];
            }
            Tolerance.BitwiseEqual(p, actual, "parameters after replacement in " + at);
            Tolerance.BitwiseEqual(g0, net.Gradients.Span, "gradients after replacement in " + at);
            var (m1, v1, t1) = backend.ReadAdam();
            Tolerance.BitwiseEqual(mExpected, m1, "m " + at);
            Tolerance.BitwiseEqual(vExpected, v1, "v " + at);
            Tolerance.BitwiseEqual(tExpected, t1, "t " + at);
            for (int l = 0; l < net.Layers.Length; l++)
            {
                var (age0, f0, u0) = units0[l];
                if (l == layer)
                    foreach (int unit in units) { age0[unit] = 0; f0[unit] = 0f; u0[unit] = 0f; }
                var (age1, f1, u1) = backend.ReadUnits(l);
                Tolerance.BitwiseEqual(age0, age1, $"age of layer {l} after replacement in " + at);
                Tolerance.BitwiseEqual(f0, f1, $"f of layer {l} after replacement in " + at);
                Tolerance.BitwiseEqual(u0, u1, $"u of layer {l} after replacement in " + at);
            }

            // The fresh rows are draws from U(-b, b), not left-overs.
            foreach (int unit in units)
                for (int j = 0; j < L.FanIn; j++)
                {
                    float w = net.Parameters.Span[L.WeightInOffset + unit * L.FanIn + j];
                    Assert.InRange(w, -(float)bound, (float)bound);
                    Assert.NotEqual(p0[L.WeightInOffset + unit * L.FanIn + j], w);
                }
            if (nextBiasCorrection)
                Assert.NotEqual(p0[L.NextBiasOffset], net.Parameters.Span[L.NextBiasOffset]);
            // Without the bias reset (the report's rule) the bias and its Adam state stay as they were.
            if (!resetBias)
                foreach (int unit in units)
                {
                    int o = L.BiasOffset + unit;
                    Assert.Equal(p0[o], net.Parameters.Span[o]);
                    Assert.Equal((m0[o], v0[o], t0[o]), (m1[o], v1[o], t1[o]));
                }
        }
    }

    [Fact]
    public void RejectsDuplicateOrOutOfRangeUnitsAndMissingKeys()
    {
        using var net = new TestNetwork(4, 6, 5, 2, seed: 1);
        using var backend = KernelBackend.Cpu(net, new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4), CbpSettings.Seed2023);
        Assert.Throws<ArgumentException>(() => backend.Cbp.Replace(0, [1, 1], [1UL, 2UL]));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Cbp.Replace(0, [6], [1UL]));
        Assert.Throws<ArgumentException>(() => backend.Cbp.Replace(0, [1], []));
        using var thirteen = new NativeBuffer<float>(13);
        var e = Assert.Throws<ArgumentException>(() => backend.Cbp.UpdateStatistics(0, thirteen.View, 2));
        Assert.Contains("batch 2 x 6 units", e.Message);
    }

    [Fact]
    public void ResettingOptimizerStateNeedsAnOptimizer()
    {
        using var net = new TestNetwork(4, 6, 5, 2, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => new CpuCbpKernels(net.Parameters.View, net.Layers, CbpSettings.Seed2023));
        Assert.Contains("optimizer", e.Message);
    }
}
