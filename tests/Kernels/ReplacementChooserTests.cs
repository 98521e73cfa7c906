using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

public class ReplacementChooserTests
{
    [Fact]
    public void SelectsTheLowestUtilityAmongMatureUnitsOnly()
    {
        int[] ages = [5, 11, 10, 12, 30, 11];
        float[] uhat = [0.01f, 0.5f, 0.02f, 0.3f, 0.7f, 0.3f];
        var chosen = new int[1];
        ReplacementChooser.SelectLowest(ages, uhat, maturityThreshold: 10, chosen);
        // Units 0 (age 5) and 2 (age 10, at the threshold) have lower utility but are not eligible.
        Assert.Equal(3, chosen[0]);

        chosen = new int[3];
        ReplacementChooser.SelectLowest(ages, uhat, 10, chosen);
        // 3 and 5 tie at 0.3: the lower index first; then 1 (0.5).
        Assert.Equal([3, 5, 1], chosen);

        Assert.Throws<ArgumentException>(() => ReplacementChooser.SelectLowest(ages, uhat, 10, new int[5]));
    }

    [Fact]
    public void NaNUtilitiesAreChosenLast()
    {
        int[] ages = [20, 20, 20];
        float[] uhat = [float.NaN, 0.4f, float.NaN];
        var chosen = new int[3];
        ReplacementChooser.SelectLowest(ages, uhat, 10, chosen);
        Assert.Equal([1, 0, 2], chosen);
    }

    [Fact]
    public void CountsEligibleStrictlyAboveTheThreshold() =>
        Assert.Equal(2, ReplacementChooser.CountEligible([10, 11, 9, 10_000, 0], 10));

    [Fact]
    public void PublishedRuleReplacesOneUnitWithProbabilityRrTimesEligible()
    {
        // rr 1e-4 with 256 eligible: p = 0.0256; over 100k steps the rate's std is
        // sqrt(p(1-p)/1e5) = 0.0005; accept within 5 sigma.
        var chooser = new ReplacementChooser(CbpSettings.Nature2024, 1, new SplitMix64(1));
        const int trials = 100_000;
        int replaced = 0;
        for (int s = 0; s < trials; s++)
        {
            int n = chooser.DrawCount(0, 256, 256);
            Assert.InRange(n, 0, 1);
            replaced += n;
        }
        double rate = (double)replaced / trials;
        double sigma = Math.Sqrt(0.0256 * (1 - 0.0256) / trials);
        Assert.InRange(rate, 0.0256 - 5 * sigma, 0.0256 + 5 * sigma);
    }

    [Fact]
    public void PublishedRuleFloorsCountsOfOneOrMore()
    {
        var chooser = new ReplacementChooser(CbpSettings.Nature2024 with { ReplacementRate = 0.01 }, 1, new SplitMix64(1));
        Assert.Equal(2, chooser.DrawCount(0, 256, 256)); // 2.56
        Assert.Equal(1, chooser.DrawCount(0, 256, 100)); // exactly 1
        Assert.Equal(0, chooser.DrawCount(0, 256, 0));
    }

    [Fact]
    public void AccumulateRuleCarriesTheFraction()
    {
        var settings = CbpSettings.Nature2024 with { CountRule = ReplacementCountRule.Accumulate, ReplacementRate = 0.25 };
        var chooser = new ReplacementChooser(settings, 2, new SplitMix64(1));
        // 0.25 * 3 = 0.75 per step: 0, 1 (1.5), 0 (0.5+0.75=1.25 -> 1), ...
        int[] expected = [0, 1, 1, 1, 0, 1, 1, 1];
        for (int s = 0; s < expected.Length; s++) Assert.Equal(expected[s], chooser.DrawCount(0, 3, 3));
        Assert.Equal(0, chooser.Accumulated[1]);
        // rr 1e-4 with 256 eligible: exactly floor(0.0256 * steps) units, no randomness.
        var slow = new ReplacementChooser(CbpSettings.Nature2024 with { CountRule = ReplacementCountRule.Accumulate }, 1, new SplitMix64(1));
        int total = 0;
        for (int s = 0; s < 1000; s++) total += slow.DrawCount(0, 256, 256);
        Assert.Equal(25, total);
    }

    /// <summary>
    /// The reproduction report's rule (docs/cbp.md#replacement-count): one unit with probability p = units x rho, however
    /// many units are eligible (as long as one is). 256 units, rho 1e-3: p = 0.256. Over N = 100k steps the count is
    /// Binomial(N, p), so the observed rate has std sqrt(p (1 - p) / N) = 0.0014; accepted within 5 std (a correct rule
    /// fails with probability below 1e-6). With 10 eligible units the rate is still 0.256, not 10 x rho = 0.01.
    /// </summary>
    [Theory]
    [InlineData(256)]
    [InlineData(10)]
    public void LayerCoinReplacesOneUnitWithProbabilityUnitsTimesRho(int eligible)
    {
        var chooser = new ReplacementChooser(CbpSettings.Seed2023, 1, new SplitMix64(2));
        const int trials = 100_000;
        const double p = 256 * 1e-3;
        int replaced = 0;
        for (int s = 0; s < trials; s++)
        {
            int n = chooser.DrawCount(0, 256, eligible);
            Assert.InRange(n, 0, 1);
            replaced += n;
        }
        double rate = (double)replaced / trials;
        double sigma = Math.Sqrt(p * (1 - p) / trials);
        Assert.InRange(rate, p - 5 * sigma, p + 5 * sigma);
    }

    [Fact]
    public void LayerCoinReplacesNothingWithoutEligibleUnitsAndOneWhenTheProbabilityReachesOne()
    {
        var chooser = new ReplacementChooser(CbpSettings.Seed2023, 1, new SplitMix64(2));
        ulong state = chooser.Random.State;
        Assert.Equal(0, chooser.DrawCount(0, 256, 0));
        Assert.Equal(state, chooser.Random.State);
        var certain = new ReplacementChooser(CbpSettings.Seed2023 with { ReplacementRate = 1.0 / 256 }, 1, new SplitMix64(2));
        for (int s = 0; s < 1000; s++) Assert.Equal(1, certain.DrawCount(0, 256, 3));
    }

    public static TheoryData<ReplacementCountRule, double, double> Rules => new()
    {
        // The published rule: rr 1e-4 x 256 eligible = 0.0256 per step (std 0.0005 over 1e5 steps).
        { ReplacementCountRule.Probabilistic, 1e-4, 0.0256 },
        // The report's: 256 units x rho 1e-3 = 0.256 per step (std 0.0014).
        { ReplacementCountRule.LayerCoin, 1e-3, 0.256 },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void EndToEndReplacementRateAndChoicesOverOneHundredThousandSteps(ReplacementCountRule rule, double rate, double expected)
    {
        // One layer of 256 units; with mt 0 every observed unit is eligible at every choice; within 5 std of the rate.
        var layers = new[] { new HiddenLayerLayout(0, 1, 256, 256, 512, 1, 768) };
        using var parameters = new NativeBuffer<float>(769);
        var settings = CbpSettings.Nature2024 with { MaturityThreshold = 0, CountRule = rule, ReplacementRate = rate };
        using var kernels = new CpuCbpKernels(parameters.View, layers, settings, maxDegreeOfParallelism: 1);
        var cbp = new ContinualBackprop(kernels, new SplitMix64(5));
        var random = new Random(6);
        using var activations = new NativeBuffer<float>(256);
        var h = activations.Span;
        for (int i = 0; i < 256; i++) parameters.Span[512 + i] = 1f; // W_out: contribution = mean|h|
        var uhat = new float[256];
        const int steps = 100_000;
        long replaced = 0;
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < 256; i++) h[i] = random.Next(16) / 16f;
            cbp.Observe(0, activations.View, 1);
            kernels.ReadUtilities(0, uhat);
            int n = cbp.GenerateAndTest();
            replaced += n;
            if (n == 1)
            {
                int unit = cbp.LastReplaced(0)[0];
                for (int i = 0; i < 256; i++)
                    if (!(uhat[unit] <= uhat[i])) Assert.Fail($"step {s}: replaced {unit} but {i} has lower utility");
                Assert.Equal(0, cbp.Ages(0)[unit]);
            }
        }
        double observed = (double)replaced / steps;
        double sigma = Math.Sqrt(expected * (1 - expected) / steps);
        Assert.InRange(observed, expected - 5 * sigma, expected + 5 * sigma);
        Assert.Equal(replaced, cbp.TotalReplaced(0));
    }

    [Fact]
    public void UnitsAtOrBelowTheMaturityThresholdAreNeverReplaced()
    {
        // A high rate so that replacements happen most steps; every replaced unit must be older than mt.
        using var net = new TestNetwork(input: 5, hidden1: 16, hidden2: 12, actions: 2, seed: 2);
        var settings = CbpSettings.Nature2024 with { MaturityThreshold = 7, ReplacementRate = 0.2 };
        using var kernels = new CpuCbpKernels(net.Parameters.View, net.Layers, settings);
        var cbp = new ContinualBackprop(kernels, new SplitMix64(3));
        var random = new Random(4);
        long total = 0;
        for (int s = 0; s < 300; s++)
        {
            var before = new int[net.Layers.Length][];
            for (int l = 0; l < net.Layers.Length; l++)
            {
                using (var a = TestNetwork.Activations(net.Layers[l].Units, 4, random))
                    cbp.Observe(l, a.View, 4);
                before[l] = cbp.Ages(l).ToArray();
            }
            total += cbp.GenerateAndTest();
            for (int l = 0; l < net.Layers.Length; l++)
                foreach (int unit in cbp.LastReplaced(l))
                    Assert.True(before[l][unit] > 7, $"step {s} layer {l}: unit {unit} of age {before[l][unit]} replaced");
        }
        Assert.True(total > 100, $"only {total} replacements; the test would prove little");
    }
}
