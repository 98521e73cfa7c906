namespace CbpGpu.Agent.Training;

/// <summary>
/// Unit ages (optimizer steps since a hidden unit was last (re)initialised) counted in fixed log-spaced bins, for
/// updates.csv. One PPO update is 160 optimizer steps and CBP's maturity threshold is 10k steps, so "lt1k" holds
/// units replaced in the last ~6 updates, "1k_10k" units not yet eligible for replacement, and the rest mature ones
/// (a 20M-step run is ~1.6M steps).
/// </summary>
public static class UnitAgeHistogram
{
    private static readonly int[] UpperBounds = [1_000, 10_000, 100_000, 1_000_000];

    public static readonly string[] BinNames = ["lt1k", "1k_10k", "10k_100k", "100k_1m", "ge1m"];

    public static int Bins => BinNames.Length;

    /// <summary>Adds each age to its bin of <paramref name="counts"/> (length <see cref="Bins"/>).</summary>
    public static void Count(ReadOnlySpan<int> ages, Span<long> counts)
    {
        foreach (int age in ages) counts[BinOf(age)]++;
    }

    public static int BinOf(long age)
    {
        int bin = 0;
        while (bin < UpperBounds.Length && age >= UpperBounds[bin]) bin++;
        return bin;
    }
}
