namespace CbpGpu.Kernels;

/// <summary>
/// A tiny deterministic random source for CBP's host decisions whose whole state is one
/// <see cref="State"/> word, so a checkpoint can save it and a resumed run continues exactly.
/// (System.Random's seeded sequence is stable too, but its state cannot be read back.)
/// </summary>
public sealed class SplitMix64
{
    public SplitMix64(ulong seed) => State = seed;

    public ulong State { get; set; }

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform on [0, 1) in steps of 2^-53.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
