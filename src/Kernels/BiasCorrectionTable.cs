namespace CbpGpu.Kernels;

/// <summary>
/// Bias corrections of exponential averages, 1 - d^t, tabulated per step count t in double and
/// rounded to float. Counters are per element (aged Adam) or per unit (CBP), so each element
/// would otherwise need its own pow per step, which costs more than the whole Adam update on CPU.
/// The table ends at the first t whose correction rounds to exactly 1 in float; from there on
/// every larger t rounds to 1 as well, so clamping t to the last index loses nothing.
/// Entry 0 belongs to t = 0, which no update reads (counters are advanced first); it is 0.
/// </summary>
public static class BiasCorrectionTable
{
    /// <summary>Largest decay accepted; the tables hold about 21/(1-d) entries.</summary>
    public const double MaxDecay = 0.99999;

    /// <summary>Entries (float)(1 / (1 - d^t)).</summary>
    public static float[] Inverse(double decay, int minLength = 0) =>
        Build(decay, minLength, static c => 1.0 / c);

    /// <summary>Entries (float)sqrt(1 - d^t).</summary>
    public static float[] SquareRoot(double decay, int minLength = 0) =>
        Build(decay, minLength, Math.Sqrt);

    /// <summary>Entries (float)(1 - d^t).</summary>
    public static float[] Plain(double decay, int minLength = 0) =>
        Build(decay, minLength, static c => c);

    /// <summary>Number of entries <see cref="Plain"/> etc. need for this decay (before padding).</summary>
    public static int LengthFor(double decay)
    {
        if (!(decay >= 0 && decay <= MaxDecay))
            throw new ArgumentException($"decay must be in [0, {MaxDecay}], got {decay}.");
        // 1 - d^t rounds to 1f once d^t < 2^-25; 1/x and sqrt(x) of it round to 1f no later.
        int t = 1;
        double power = decay;
        while ((float)(1.0 - power) != 1f || (float)(1.0 / (1.0 - power)) != 1f || (float)Math.Sqrt(1.0 - power) != 1f)
        {
            t++;
            power = Math.Pow(decay, t);
        }
        return t + 1;
    }

    private static float[] Build(double decay, int minLength, Func<double, double> map)
    {
        int length = Math.Max(LengthFor(decay), minLength);
        var table = new float[length];
        for (int t = 1; t < length; t++)
            table[t] = (float)map(1.0 - Math.Pow(decay, t));
        return table;
    }
}
