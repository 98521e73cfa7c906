using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Kernels;

public class BiasCorrectionTableTests
{
    [Theory]
    [InlineData(0.9)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void EntriesAreTheDoubleFormulaRoundedToFloat(double decay)
    {
        var inverse = BiasCorrectionTable.Inverse(decay);
        var root = BiasCorrectionTable.SquareRoot(decay);
        var plain = BiasCorrectionTable.Plain(decay);
        for (int t = 1; t < inverse.Length; t++)
        {
            double c = 1.0 - Math.Pow(decay, t);
            Assert.Equal((float)(1.0 / c), inverse[t]);
            Assert.Equal((float)Math.Sqrt(c), root[t]);
            Assert.Equal((float)c, plain[t]);
        }
    }

    [Theory]
    [InlineData(0.9)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void TableEndsWhereEveryLaterCorrectionRoundsToOne(double decay)
    {
        int length = BiasCorrectionTable.LengthFor(decay);
        int last = length - 1;
        Assert.Equal(1f, BiasCorrectionTable.Inverse(decay)[last]);
        Assert.Equal(1f, BiasCorrectionTable.Plain(decay)[last]);
        // One step earlier at least one form still differs from 1, so the table is no longer than needed.
        double c = 1.0 - Math.Pow(decay, last - 1);
        Assert.True((float)c != 1f || (float)(1.0 / c) != 1f || (float)Math.Sqrt(c) != 1f);
        // Well beyond the end (where lookups clamp) the exact values still round to 1.
        foreach (int t in new[] { last + 1, 2 * last, 50 * last })
        {
            double later = 1.0 - Math.Pow(decay, t);
            Assert.Equal(1f, (float)later);
            Assert.Equal(1f, (float)(1.0 / later));
        }
    }

    [Fact]
    public void AdamTableLengthFor0999IsAbout17Thousand()
    {
        // 0.999^t < 2^-25 from t = ln(2^-25)/ln(0.999) = 17,319 on.
        int length = BiasCorrectionTable.LengthFor(0.999);
        Assert.InRange(length, 17_000, 17_700);
    }

    [Fact]
    public void RejectsDecayOutsideRange()
    {
        Assert.Throws<ArgumentException>(() => BiasCorrectionTable.LengthFor(1.0));
        Assert.Throws<ArgumentException>(() => BiasCorrectionTable.LengthFor(-0.1));
    }
}
