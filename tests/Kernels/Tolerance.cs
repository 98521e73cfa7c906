using Xunit;

namespace CbpGpu.Tests.Kernels;

internal static class Tolerance
{
    /// <summary>|actual - expected| &lt;= bound, with a message naming what and where.</summary>
    public static void Within(double expected, double actual, double bound, string what)
    {
        double error = Math.Abs(actual - expected);
        if (!(error <= bound)) Assert.Fail($"{what}: expected {expected:R}, got {actual:R}, error {error:E3} > bound {bound:E3}");
    }

    /// <summary>As <see cref="Within(double, double, double, string)"/>, formatting the message only on failure (hot loops).</summary>
    public static void Within(double expected, double actual, double bound, string what, int index, int step)
    {
        if (!(Math.Abs(actual - expected) <= bound)) Within(expected, actual, bound, $"{what}[{index}] at step {step}");
    }

    /// <summary>|actual - expected| &lt;= relative * |expected| (plus a floor for exact zeros).</summary>
    public static void Relative(double expected, double actual, double relative, string what) =>
        Within(expected, actual, relative * Math.Abs(expected) + 1e-30, what);

    public static void Relative(double expected, double actual, double relative, string what, int index, int step) =>
        Within(expected, actual, relative * Math.Abs(expected) + 1e-30, what, index, step);

    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static void BitwiseEqual(ReadOnlySpan<int> expected, ReadOnlySpan<int> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i]) Assert.Fail($"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
