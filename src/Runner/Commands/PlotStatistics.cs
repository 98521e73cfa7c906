namespace CbpGpu.Runner.Commands;

/// <summary>One bin of a binned curve (episode returns, acting diagnostics): steps in (Start, End], the per-run means that went in, their mean and 95% bootstrap interval.</summary>
public sealed record CurveBin(long Start, long End, int Runs, double Mean, double Low, double High);

/// <summary>One evaluation step of a line: the runs evaluated there, the mean of their mean returns and its 95% bootstrap interval.</summary>
public sealed record EvalPoint(long Step, int Runs, double Mean, double Low, double High);

/// <summary>Episodes of one run that ended while one friction value was in effect: its order of appearance, the value, the mean return.</summary>
public sealed record FrictionPeriod(int Index, double Friction, int Episodes, double MeanReturn);

/// <summary>The numbers behind the figures of `Runner plot` (docs/sweeps.md#figures), free of any plotting.</summary>
public static class PlotStatistics
{
    /// <summary>Mean value of each bin of <paramref name="width"/> env steps, by the step of each point (the step an episode ended at); NaN where no point lies.</summary>
    public static double[] BinMeans(IReadOnlyList<(long Step, double Value)> points, long width, int bins)
    {
        var sum = new double[bins];
        var count = new int[bins];
        foreach (var (step, value) in points)
        {
            int b = (int)((step - 1) / width);   // bin k holds steps (k*width, (k+1)*width]
            if (b < 0 || b >= bins) continue;
            sum[b] += value;
            count[b]++;
        }
        return [.. Enumerable.Range(0, bins).Select(b => count[b] == 0 ? double.NaN : sum[b] / count[b])];
    }

    /// <summary>
    /// The mean of <paramref name="values"/> and its 95% percentile bootstrap interval: <paramref name="resamples"/>
    /// times, as many values drawn with replacement, their mean; the 2.5th and 97.5th percentiles of those means
    /// (linear interpolation between order statistics). The draws come from <paramref name="rng"/> (seeded by the caller).
    /// </summary>
    public static (double Mean, double Low, double High) Bootstrap(IReadOnlyList<double> values, int resamples, Random rng)
    {
        int n = values.Count;
        if (n == 0) return (double.NaN, double.NaN, double.NaN);
        double mean = values.Average();
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += values[rng.Next(n)];
            means[r] = s / n;
        }
        Array.Sort(means);
        return (mean, Percentile(means, 2.5), Percentile(means, 97.5));
    }

    /// <summary>The p-th percentile of sorted values, interpolating linearly between order statistics (numpy's default).</summary>
    public static double Percentile(double[] sorted, double p)
    {
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /// <summary>
    /// Per-configuration curve of binned points (episode returns; activity.csv's rows): each run's bin means, then per
    /// bin the mean over the runs that have it and its bootstrap interval over runs (seeds) (<see cref="RunBinMeans"/>).
    /// </summary>
    public static List<CurveBin> BinnedCurve(IReadOnlyList<(IReadOnlyList<(long Step, double Value)> Points, long LastStep)> runs, long width, int resamples, int seed)
    {
        var rng = new Random(seed);
        var curve = new List<CurveBin>();
        foreach (var (start, end, values) in RunBinMeans(runs, width))
        {
            var (mean, low, high) = Bootstrap(values, resamples, rng);
            curve.Add(new CurveBin(start, end, values.Count, mean, low, high));
        }
        return curve;
    }

    /// <summary>
    /// Per bin of <paramref name="width"/> steps, in step order, each run's mean of its points in the bin (the runs that
    /// have it, in the order given). A bin counts for a run once the run has covered at least half of it (its last
    /// step), so a run's final, barely begun bin (a 5,001,216-step run's last 1,216 steps: one or two episodes) does not
    /// put a point of noise at the end of a curve. Bins no run has are left out.
    /// </summary>
    public static IEnumerable<(long Start, long End, List<double> Values)> RunBinMeans(
        IReadOnlyList<(IReadOnlyList<(long Step, double Value)> Points, long LastStep)> runs, long width)
    {
        long lastStep = runs.Count == 0 ? 0 : runs.Max(r => r.LastStep);
        int bins = (int)((lastStep + width - 1) / width);
        var perRun = runs.Select(r => BinMeans(r.Points, width, bins)).ToList();
        for (int b = 0; b < bins; b++)
        {
            var values = perRun.Where((_, i) => CoversHalf(runs[i].LastStep, b, width)).Select(r => r[b]).Where(v => !double.IsNaN(v)).ToList();
            if (values.Count > 0) yield return (b * width, (b + 1) * width, values);
        }
    }

    private static bool CoversHalf(long lastStep, int bin, long width) => 2 * (lastStep - bin * width) >= width;

    /// <summary>
    /// Evaluation curve over runs (seeds): at each step some run was evaluated at, the mean over the runs evaluated
    /// there and its bootstrap interval, in step order. Runs with the same settings are evaluated at the same steps
    /// (docs/evaluation.md#when), so each point holds one evaluation of each seed.
    /// </summary>
    public static List<EvalPoint> EvalCurve(IReadOnlyList<IReadOnlyList<(long Step, double Return)>> runs, int resamples, int seed)
    {
        var rng = new Random(seed);
        var curve = new List<EvalPoint>();
        foreach (long step in runs.SelectMany(r => r.Select(e => e.Step)).Distinct().Order())
        {
            var values = runs.SelectMany(r => r.Where(e => e.Step == step).Select(e => e.Return)).ToList();
            var (mean, low, high) = Bootstrap(values, resamples, rng);
            curve.Add(new EvalPoint(step, values.Count, mean, low, high));
        }
        return curve;
    }

    /// <summary>
    /// Groups a run's episodes, in the order they ended, by the friction in effect: a new period starts whenever the
    /// friction differs from the previous episode's and has not been seen before (under nature2024 envs adopt a new
    /// value at their own episode ends, so old-value episodes still end after a change and stay in their period).
    /// </summary>
    public static List<FrictionPeriod> FrictionPeriods(IReadOnlyList<(long Step, double Return, double Friction)> episodes)
    {
        var order = new List<double>();
        var sums = new Dictionary<double, (double Sum, int Count)>();
        foreach (var (_, ret, friction) in episodes)
        {
            if (!sums.TryGetValue(friction, out var acc))
            {
                order.Add(friction);
                acc = (0, 0);
            }
            sums[friction] = (acc.Sum + ret, acc.Count + 1);
        }
        return [.. order.Select((f, i) => new FrictionPeriod(i, f, sums[f].Count, sums[f].Sum / sums[f].Count))];
    }

    /// <summary>
    /// A run's friction periods (<see cref="FrictionPeriods"/> of its training episodes), each with the mean of the run's
    /// evaluation returns at that period's friction (NaN where it has none) and whether it is over: every period but the
    /// last, and the last too once the run has reached its budget. What periods_by_seed.csv lists.
    /// </summary>
    public static List<(FrictionPeriod Training, double EvalMean, bool Complete)> RunPeriods(
        IReadOnlyList<(long Step, double Return, double Friction)> episodes, IReadOnlyList<(long Step, double Return, double Friction)> evals, bool reachedBudget)
    {
        var periods = FrictionPeriods(episodes);
        int complete = reachedBudget ? periods.Count : Math.Max(0, periods.Count - 1);
        var evalMeans = FrictionPeriods(evals).ToDictionary(p => p.Friction, p => p.MeanReturn);
        return [.. periods.Select(p => (p, evalMeans.GetValueOrDefault(p.Friction, double.NaN), p.Index < complete))];
    }

    /// <summary>The periods of <see cref="RunPeriods"/> that are over. What periods.csv averages over seeds.</summary>
    public static List<(FrictionPeriod Training, double EvalMean)> CompletedPeriods(
        IReadOnlyList<(long Step, double Return, double Friction)> episodes, IReadOnlyList<(long Step, double Return, double Friction)> evals, bool reachedBudget) =>
        [.. RunPeriods(episodes, evals, reachedBudget).Where(p => p.Complete).Select(p => (p.Training, p.EvalMean))];
}
