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
    public void StateRoundTripsAndDoublesStayInTheUnitInterval()
    {
        var a = new SplitMix64(123);
        for (int i = 0; i < 10; i++) a.NextDouble();
        var b = new SplitMix64(0) { State = a.State };
        for (int i = 0; i < 1000; i++)
        {
            double x = a.NextDouble();
            Assert.InRange(x, 0.0, 1.0 - 1e-17);
            Assert.Equal(x, b.NextDouble());
        }
    }
}
