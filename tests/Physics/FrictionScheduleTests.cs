using Xunit;
using CbpGpu.Physics;

namespace CbpGpu.Tests.Physics;

public class FrictionScheduleTests
{
    [Fact]
    public void ValuesRepeatForASeedAndDifferAcrossSeeds()
    {
        var a = new FrictionSchedule(FrictionConfig.Nature2024, 42);
        var b = new FrictionSchedule(FrictionConfig.Nature2024, 42);
        var c = new FrictionSchedule(FrictionConfig.Nature2024, 43);
        for (int k = 0; k < 50; k++)
        {
            Assert.Equal(a.ValueAt(k), b.ValueAt(k));
            Assert.NotEqual(a.ValueAt(k), c.ValueAt(k));
        }
        Assert.NotEqual(a.ValueAt(0), a.ValueAt(1));
        Assert.Equal(2.5, new FrictionSchedule(FrictionConfig.Constant(2.5), 1).ValueAt(7));
    }

    /// <summary>
    /// 4000 draws must stay inside the range, and their log10 must look uniform: the Kolmogorov-Smirnov distance to the
    /// uniform CDF must stay below 1.63/sqrt(n) (the 1% critical value; the draws are fixed by the seed, so this
    /// either always passes or always fails).
    /// </summary>
    [Theory]
    [InlineData(FrictionProtocol.Nature2024)]
    [InlineData(FrictionProtocol.Seed2023)]
    public void ValuesStayInRangeAndAreLogUniform(FrictionProtocol protocol)
    {
        var config = protocol == FrictionProtocol.Nature2024 ? FrictionConfig.Nature2024 : FrictionConfig.Seed2023;
        var (lo, hi) = protocol == FrictionProtocol.Nature2024 ? (0.02, 2.0) : (1e-4, 1e4);
        Assert.Equal(Math.Log10(lo), config.Log10Min, 14);
        Assert.Equal(Math.Log10(hi), config.Log10Max, 14);
        var s = new FrictionSchedule(config, 2024);
        const int n = 4000;
        var u = new double[n];
        for (int k = 0; k < n; k++)
        {
            double f = s.ValueAt(k);
            Assert.InRange(f, lo, hi);
            u[k] = (Math.Log10(f) - config.Log10Min) / (config.Log10Max - config.Log10Min);
        }
        Array.Sort(u);
        double d = 0;
        for (int k = 0; k < n; k++) d = Math.Max(d, Math.Max((k + 1.0) / n - u[k], u[k] - (double)k / n));
        Assert.True(d < 1.63 / Math.Sqrt(n), $"KS distance {d:F4} >= {1.63 / Math.Sqrt(n):F4}");
        // And not uniform in f itself: under log-uniform [0.02, 2] half the values lie below 0.2 (the geometric mean).
        if (protocol == FrictionProtocol.Nature2024)
            Assert.InRange(Enumerable.Range(0, n).Count(k => s.ValueAt(k) < 0.2) / (double)n, 0.47, 0.53);
    }

    [Fact]
    public void Seed2023ChangesAtExactMultiplesOfTheInterval()
    {
        var s = new FrictionSchedule(FrictionConfig.Seed2023, 1);
        Assert.False(s.Advance(0, 64));
        Assert.False(s.Advance(9_999_936, 10_000_000));
        Assert.Equal(0, s.Generation);
        Assert.True(s.Advance(10_000_000, 10_000_064)); // the first step starting at the boundary uses the new value
        Assert.Equal(1, s.Generation);
        Assert.Equal(10_000_000, s.LastChangeStep);
        Assert.False(s.Advance(10_000_064, 10_000_128));
        Assert.True(s.Advance(20_000_010, 20_000_074)); // boundaries stay on multiples even when steps straddle them
        Assert.Equal(20_000_000, s.LastChangeStep);
    }

    [Fact]
    public void Nature2024DrawsOnceTwoMillionStepsHavePassedSinceTheLastDraw()
    {
        var s = new FrictionSchedule(FrictionConfig.Nature2024, 1);
        Assert.False(s.Advance(1_999_872, 1_999_936));
        Assert.True(s.Advance(1_999_936, 2_000_000));
        Assert.Equal(2_000_000, s.LastChangeStep);
        Assert.False(s.Advance(3_999_936, 3_999_999));
        Assert.True(s.Advance(3_999_999, 4_000_063));
        Assert.Equal(2, s.Generation);
        Assert.Equal(4_000_063, s.LastChangeStep);
    }

    [Fact]
    public void OneEnvChangesAtTheFirstEpisodeEndMoreThanThePeriodPastThePreviousChangesStepIndex()
    {
        // The authors' loop: `if done and step - previous_change_time > change_time: previous_change_time = step`, with
        // step the 0-based index of the step just taken (stepsAfter - 1) and previous_change_time 0 at the start.
        var s = new FrictionSchedule(FrictionConfig.Nature2024, 1);
        Assert.False(s.EpisodeEnded(2_000_001));          // index 2,000,000: exactly the period, not more
        Assert.Equal(0, s.Generation);
        Assert.True(s.EpisodeEnded(2_000_002));           // index 2,000,001
        Assert.Equal(1, s.Generation);
        Assert.Equal(2_000_001, s.LastChangeStep);
        Assert.False(s.EpisodeEnded(4_000_002));          // 4,000,001 - 2,000,001 = the period
        Assert.True(s.EpisodeEnded(4_000_003));
        Assert.Equal(2, s.Generation);
        Assert.Equal(4_000_002, s.LastChangeStep);
        Assert.False(new FrictionSchedule(FrictionConfig.Seed2023, 1).EpisodeEnded(50_000_000)); // mid-episode protocols ignore it
    }

    [Fact]
    public void TheAuthorsTableIsTheirPickledArrayRowBySeed()
    {
        // Values read off lop/rl/cfg/frictions (shibhansh/loss-of-plasticity) with a pickle reader: [0][0..2], [99][49].
        var row0 = FrictionTable.ReadRow(FrictionTable.Authors, 0, 50);
        Assert.Equal(50, row0.Length);
        Assert.Equal([0.2960884225146193, 0.2399197539967471, 0.038678322001718814], row0[..3]);
        var row99 = FrictionTable.ReadRow(FrictionTable.Authors, 99, 50);
        Assert.Equal(0.4817959831235436, row99[49]);
        Assert.All(row0.Concat(row99), f => Assert.InRange(f, 0.02, 2.0));
        Assert.Contains("none for seed 100", Assert.Throws<FormatException>(() => FrictionTable.ReadRow(FrictionTable.Authors, 100, 1)).Message);
        // Configurations compare tables by value.
        Assert.Equal(FrictionConfig.Nature2024 with { Table = [.. row0], TableSource = "a" }, FrictionConfig.Nature2024 with { Table = [.. row0], TableSource = "a" });
        Assert.NotEqual(FrictionConfig.Nature2024 with { Table = [.. row0] }, FrictionConfig.Nature2024 with { Table = [.. row0[..49]] });
        Assert.Contains("has 50 values but this run needs 51", Assert.Throws<FormatException>(() => FrictionTable.ReadRow(FrictionTable.Authors, 3, 51)).Message);
    }
}
