namespace CbpGpu.Kernels;

/// <summary>
/// The host-side decisions of generate-and-test (docs/cbp.md#replacement-count): how many units a layer replaces this
/// step and which ones, plus the one random key per replaced unit that seeds its new incoming
/// row (<see cref="CbpMath.InitialWeight"/>). Tiny and branchy, so it runs on the host; every
/// implementation (fused CPU, ILGPU, naive torch) calls it in the same order with the same
/// <see cref="SplitMix64"/> state so they make the same choices.
/// </summary>
public sealed class ReplacementChooser
{
    private readonly CbpSettings _settings;
    private readonly SplitMix64 _random;
    private readonly double[] _accumulated;

    public ReplacementChooser(CbpSettings settings, int layerCount, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        settings.Validate();
        _settings = settings;
        _random = random;
        _accumulated = new double[layerCount];
    }

    /// <summary>The random source (its state belongs in checkpoints).</summary>
    public SplitMix64 Random => _random;

    /// <summary>Fractional replacements carried over per layer (only the accumulate rule uses it); for checkpoints.</summary>
    public Span<double> Accumulated => _accumulated;

    /// <summary>Units with age &gt; maturity threshold.</summary>
    public static int CountEligible(ReadOnlySpan<int> ages, int maturityThreshold)
    {
        int n = 0;
        foreach (int age in ages)
            if (age > maturityThreshold) n++;
        return n;
    }

    /// <summary>
    /// How many units of a layer of <paramref name="units"/> units to replace now (docs/cbp.md#replacement-count). From
    /// n = rr * eligible, the published rule replaces one unit with probability n when n &lt; 1 and floor(n) otherwise
    /// (a coin only when it needs one, as gnt.py does); the accumulate rule carries the fraction. The report's layer
    /// coin replaces one unit with probability min(1, rr * units), whatever the number of eligible units, as long as
    /// there is one.
    /// </summary>
    public int DrawCount(int layer, int units, int eligibleCount)
    {
        if (eligibleCount == 0 || _settings.ReplacementRate == 0) return 0;
        switch (_settings.CountRule)
        {
            case ReplacementCountRule.Accumulate:
            {
                _accumulated[layer] += _settings.ReplacementRate * eligibleCount;
                int whole = (int)Math.Floor(_accumulated[layer]);
                _accumulated[layer] -= whole;
                return Math.Min(whole, eligibleCount);
            }
            case ReplacementCountRule.LayerCoin:
                return _random.NextDouble() < _settings.ReplacementRate * units ? 1 : 0;
            default:
            {
                double n = _settings.ReplacementRate * eligibleCount;
                if (n < 1) return _random.NextDouble() <= n ? 1 : 0;
                return (int)Math.Floor(n);
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="chosen"/> with the eligible units of smallest utility, ascending, ties
    /// to the lower index (NaN utilities last). chosen.Length must not exceed the eligible count.
    /// </summary>
    public static void SelectLowest(ReadOnlySpan<int> ages, ReadOnlySpan<float> utilities, int maturityThreshold, Span<int> chosen)
    {
        if (ages.Length != utilities.Length)
            throw new ArgumentException($"{ages.Length} ages but {utilities.Length} utilities.");
        for (int r = 0; r < chosen.Length; r++)
        {
            int best = -1;
            for (int i = 0; i < ages.Length; i++)
            {
                if (ages[i] <= maturityThreshold || chosen[..r].Contains(i)) continue;
                if (best < 0 || Before(utilities[i], utilities[best])) best = i;
            }
            if (best < 0)
                throw new ArgumentException($"Asked for {chosen.Length} units but only {r} are eligible.");
            chosen[r] = best;
        }
    }

    /// <summary>One key per replaced unit for <see cref="CbpMath.InitialWeight"/>.</summary>
    public void DrawKeys(Span<ulong> keys)
    {
        for (int r = 0; r < keys.Length; r++) keys[r] = _random.NextUInt64();
    }

    // Strictly smaller wins, so equal utilities keep the lower index; NaN never beats a number.
    private static bool Before(float candidate, float best) =>
        candidate < best || (float.IsNaN(best) && !float.IsNaN(candidate));
}
