using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

public class SplitMix64Tests
{
    [Fact]
    public void MatchesTheReferenceSequence()
    {
        // Reference values of Vigna's splitmix64.c seeded with 0.
        var random = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
    }

    [Fact]
    public void StateRoundTripsAndDoublesAreOnTheUnitIntervalsGrid()
    {
        var a = new SplitMix64(123);
        for (int i = 0; i < 10; i++) a.NextDouble();
        var b = new SplitMix64(0) { State = a.State };
        double max = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double x = a.NextDouble();
            // [0, 1) in steps of 2^-53: x * 2^53 is an integer below 2^53 (exact in double).
            double k = x * 9007199254740992.0;
            Assert.True(k == Math.Floor(k) && k >= 0 && k < 9007199254740992.0, $"draw {i}: {x:R} is not k * 2^-53 with 0 <= k < 2^53");
            Assert.Equal(x, b.NextDouble());
            max = Math.Max(max, x);
        }
        // The top 53 bits of the output, not fewer: 1e5 draws come within 1e-4 of 1.
        Assert.True(max > 0.9999, $"largest of 100k draws {max:R}");
    }

    [Fact]
    public void NextDoubleIsTheTop53BitsOfTheNextOutput()
    {
        var a = new SplitMix64(42);
        var b = new SplitMix64(42);
        for (int i = 0; i < 100; i++)
            Assert.Equal((double)(b.NextUInt64() >> 11) / 9007199254740992.0, a.NextDouble());
    }
}
