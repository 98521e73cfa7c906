using System.Runtime.InteropServices;

namespace CbpGpu.Agent;

/// <summary>One closed window of <see cref="ActingActivity"/>, as activity.csv records it (docs/formats.md#activitycsv).</summary>
/// <param name="Step">Acting steps (env steps summed over envs) when the window closed: a multiple of <see cref="ActingActivity.Window"/>.</param>
/// <param name="DormantShare">Fraction of the policy's hidden units, both layers pooled, active (&gt; 0) on at most 1% of the window's steps.</param>
/// <param name="StableRank">At multiples of <see cref="ActingActivity.RankEvery"/>: the window's last-hidden-layer stable rank; NaN at the other steps.</param>
/// <param name="StableRankPercent"><paramref name="StableRank"/> as a percentage of the layer width; NaN with it.</param>
public readonly record struct ActivityRow(long Step, double DormantShare, double StableRank, double StableRankPercent);

/// <summary>
/// The authors' Fig. 4b diagnostics (docs/ppo.md#acting-diagnostics) from the policy's hidden activations on the acting
/// steps: a window of the last <see cref="Window"/> acting steps (every env's row of a vector step counts as one, in env
/// order), closed at every multiple of <see cref="Window"/> summed env steps into a dormant share and, at multiples of
/// <see cref="RankEvery"/>, a stable rank. Per step it only counts and copies into preallocated arrays.
/// </summary>
public sealed class ActingActivity
{
    /// <summary>Acting steps per window: a dormant share every this many env steps.</summary>
    public const int Window = 1000;

    /// <summary>Env steps between stable ranks (each over the window closing then).</summary>
    public const int RankEvery = 10_000;

    /// <summary>A unit active on at most this many of a window's steps (1%) is dormant.</summary>
    public const int DormantMaxActive = Window / 100;

    private readonly int _units;
    private readonly int[] _active;   // [2 * units]: steps of the window on which each unit of h1, then of h2, was > 0
    private readonly float[] _last;   // [Window * units]: h2 of the window's steps, row = step % Window
    private long _steps;
    private int _filled;              // steps of the current window seen: below its position only after a resume that lacked them

    /// <param name="units">Width of each of the two policy hidden layers.</param>
    /// <param name="steps">Acting steps taken so far (the run's env steps); a window already begun counts as incomplete until <see cref="Load"/> restores it.</param>
    public ActingActivity(int units, long steps)
    {
        _units = units;
        _active = new int[2 * units];
        _last = new float[Window * units];
        _steps = steps;
    }

    /// <summary>
    /// Records acting steps in order, one row of post-activation values (a layer's width) per step in
    /// <paramref name="h1"/> and <paramref name="h2"/>; appends the row of every window that closes to
    /// <paramref name="closed"/>. A window not seen whole (begun before a resume from a checkpoint without it) closes
    /// without a row.
    /// </summary>
    public void Add(ReadOnlySpan<float> h1, ReadOnlySpan<float> h2, List<ActivityRow> closed)
    {
        int units = _units;
        int rows = h1.Length / units;
        var active1 = _active.AsSpan(0, units);
        var active2 = _active.AsSpan(units, units);
        for (int r = 0; r < rows; r++)
        {
            var a = h1.Slice(r * units, units);
            var b = h2.Slice(r * units, units);
            for (int u = 0; u < units; u++)
            {
                active1[u] += a[u] > 0 ? 1 : 0;
                active2[u] += b[u] > 0 ? 1 : 0;
            }
            b.CopyTo(_last.AsSpan((int)(_steps % Window) * units, units));
            _steps++;
            _filled++;
            if (_steps % Window != 0) continue;
            if (_filled == Window) closed.Add(Close());
            Array.Clear(_active);
            _filled = 0;
        }
    }

    private ActivityRow Close()
    {
        int dormant = 0;
        foreach (int n in _active)
            if (n <= DormantMaxActive) dormant++;
        double share = dormant / (double)_active.Length;
        if (_steps % RankEvery != 0) return new ActivityRow(_steps, share, double.NaN, double.NaN);
        int rank = HiddenRepresentation.StableRank(HiddenRepresentation.SingularValues(_last, Window, _units));
        return new ActivityRow(_steps, share, rank, 100.0 * rank / _units);
    }

    /// <summary>The open window (docs/formats.md#checkpointbin, block activity-window): step count, steps seen, per-unit counts, h2 rows so far.</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(_steps);
        w.Write(_units);
        w.Write(_filled);
        foreach (int n in _active) w.Write(n);
        w.Write(MemoryMarshal.AsBytes(_last.AsSpan(0, (int)(_steps % Window) * _units)));
    }

    /// <summary>Restores what <see cref="Save"/> wrote at the same step; anything else is an <see cref="InvalidDataException"/>.</summary>
    public void Load(BinaryReader r)
    {
        long steps = r.ReadInt64();
        int units = r.ReadInt32(), filled = r.ReadInt32();
        int position = (int)(_steps % Window);
        if (steps != _steps) throw new InvalidDataException($"its window ends at step {steps:N0}, the run is at step {_steps:N0}");
        if (units != _units) throw new InvalidDataException($"{units} units per layer, this policy has {_units}");
        if (filled < 0 || filled > position) throw new InvalidDataException($"{filled} steps seen of a window at position {position}");
        for (int i = 0; i < _active.Length; i++)
        {
            int n = r.ReadInt32();
            if (n < 0 || n > filled) throw new InvalidDataException($"unit {i} active on {n} of {filled} steps");
            _active[i] = n;
        }
        var rows = MemoryMarshal.AsBytes(_last.AsSpan(0, position * _units));
        if (r.Read(rows) != rows.Length) throw new EndOfStreamException();
        _filled = filled;
    }
}
