namespace CbpGpu.Physics;

/// <summary>
/// xoshiro256** with a SplitMix64 seeder: small, fast, and its whole state is four ulongs, so a run can be saved
/// and resumed bit for bit (System.Random's state cannot be saved).
/// </summary>
public struct Rng
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Independent streams from one seed: stream i of seed s never depends on how other streams were used.</summary>
    public Rng(ulong seed, ulong stream)
    {
        ulong sm = SplitMix64(seed) ^ SplitMix64(stream + 0x632BE59BD9B4E019UL);
        _s0 = SplitMix64(sm += 0x9E3779B97F4A7C15UL);
        _s1 = SplitMix64(sm += 0x9E3779B97F4A7C15UL);
        _s2 = SplitMix64(sm += 0x9E3779B97F4A7C15UL);
        _s3 = SplitMix64(sm += 0x9E3779B97F4A7C15UL);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1; // the all-zero state is a fixed point
    }

    /// <summary>The SplitMix64 output function: a good 64-bit mixer on its own.</summary>
    public static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Standard normal by Box-Muller; the second value is dropped so the state stays four ulongs.</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]: log stays finite
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public readonly void Write(BinaryWriter w)
    {
        w.Write(_s0); w.Write(_s1); w.Write(_s2); w.Write(_s3);
    }

    public static Rng Read(BinaryReader r)
    {
        var g = new Rng { _s0 = r.ReadUInt64(), _s1 = r.ReadUInt64(), _s2 = r.ReadUInt64(), _s3 = r.ReadUInt64() };
        if ((g._s0 | g._s1 | g._s2 | g._s3) == 0) throw new InvalidDataException("saved RNG state is all zero; the state file is corrupt");
        return g;
    }
}
