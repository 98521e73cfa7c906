using System.Globalization;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Training;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// The rows of each figure of `Runner plot` computed from runs (docs/sweeps.md#figures), handed to
/// <see cref="PlotCanvas"/>, which draws them and writes their CSVs. Figures of one updates.csv column per layer over
/// time are a table (<see cref="PlotCanvas.PerLayerFigures"/>): a new per-layer column gets its figure from one more entry.
/// </summary>
public sealed class PlotFigures(IReadOnlyList<PlotRun> runs, string outDir, TextWriter output)
{
    /// <summary>One line per configuration (<see cref="PlotLines"/>), in the order <see cref="PlotRun.Find"/> gives the runs.</summary>
    private readonly string[] _lines = [.. runs.Select(r => r.Line).Distinct()];

    private readonly PlotCanvas _canvas = new([.. runs.Select(r => r.Line).Distinct()], Context(runs), outDir, output);

    /// <summary>What the titles say beyond the rows, from the runs' config.json; the bin width and resamples as each figure is made.</summary>
    private static FigureContext Context(IReadOnlyList<PlotRun> runs)
    {
        var periods = runs.Select(r => r.Config.Env.Friction.ChangeEverySteps).Distinct().ToList();
        var evaluated = runs.Where(r => r.Evals.Count > 0).ToList();
        return new FigureContext(
            string.Join(", ", runs.Select(r => r.RolloutShape).Distinct()), null, null,
            periods.Count == 1 ? periods[0] : null, runs.Max(r => r.LastStep),
            evaluated.Count == 0 ? null : string.Join(", ", evaluated.Select(r => r.Config.Eval.Episodes).Distinct()));
    }

    /// <summary>Each figure written, by file name (without .png): its panels and legend as last rendered, for checking the layout.</summary>
    public Dictionary<string, PlotLayout.Figure> Written => _canvas.Written;

    /// <summary>What the titles said, for figures.json.</summary>
    public FigureContext FigureContext => _canvas.Context;

    /// <summary>Mean episode return per bin over seeds with a 95% bootstrap band, one line per configuration; runs.csv.</summary>
    public void Returns(long binWidth, int resamples, int seed)
    {
        _canvas.Context = _canvas.Context with { Resamples = resamples, BinWidth = binWidth };
        var rows = BinnedRows(runs, r => [.. r.Episodes.Select(e => (e.Step, e.Return))], binWidth, resamples, seed);
        if (rows.Count == 0) NoteUncovered("return bin", binWidth, "returns.png has no line");
        _canvas.Returns(rows);
        RunBins(binWidth);
    }

    /// <summary>Per configuration, the runs' points binned by step: mean over seeds and its 95% bootstrap band (<see cref="PlotStatistics.BinnedCurve"/>).</summary>
    private List<BinRow> BinnedRows(IReadOnlyList<PlotRun> group, Func<PlotRun, IReadOnlyList<(long, double)>> points, long binWidth, int resamples, int seed)
    {
        var rows = new List<BinRow>();
        foreach (string label in _lines)
        {
            var line = group.Where(r => r.Line == label).ToList();
            var curve = PlotStatistics.BinnedCurve([.. line.Select(r => (points(r), r.LastStep))], binWidth, resamples, seed);
            rows.AddRange(curve.Select(b => new BinRow(label, b.Start, b.End, b.Runs, b.Mean, b.Low, b.High)));
        }
        return rows;
    }

    /// <summary>
    /// runs.csv: per run and bin of episodes (by the step they ended at), their count, mean return and the friction in
    /// effect at the bin's last episode end (friction_changed 1 where the bin's episodes ran at two values). The per-run
    /// numbers behind returns.csv: a single `train` run reproduces its rows exactly (docs/sweeps.md#figures).
    /// </summary>
    private void RunBins(long binWidth)
    {
        var rows = new List<string>();
        foreach (var run in runs.OrderBy(r => Array.IndexOf(_lines, r.Line)).ThenBy(r => r.Seed))
        {
            int bins = (int)((run.LastStep + binWidth - 1) / binWidth);
            var sum = new double[bins];
            var count = new int[bins];
            var first = new double[bins];
            var last = new double[bins];
            foreach (var (step, ret, friction) in run.Episodes)
            {
                int b = (int)((step - 1) / binWidth);
                if (b < 0 || b >= bins) continue;
                if (count[b]++ == 0) first[b] = friction;
                last[b] = friction;
                sum[b] += ret;
            }
            for (int b = 0; b < bins; b++)
                rows.Add(count[b] == 0
                    ? $"{run.Line},{run.Seed},{b * binWidth},{(b + 1) * binWidth},0,,,"
                    : $"{run.Line},{run.Seed},{b * binWidth},{(b + 1) * binWidth},{count[b]},{PlotCsv.F(sum[b] / count[b])},{PlotCsv.F(last[b])},{(first[b] != last[b] ? 1 : 0)}");
        }
        _canvas.Table("runs", "line,seed,bin_start,bin_end,episodes,mean_return,friction,friction_changed", rows);
    }

    /// <summary>
    /// Runs with activity.csv: the authors' Fig. 4b diagnostics from the acting steps (docs/ppo.md#acting-diagnostics),
    /// binned like the returns (per run the mean of its rows in the bin, then mean over seeds and 95% bootstrap band),
    /// one line per configuration: dormant_share (fraction of policy hidden units) and stable_rank (% of the last hidden
    /// layer's width).
    /// </summary>
    public void ActingActivity(long binWidth, int resamples, int seed)
    {
        var logged = runs.Where(r => r.Activity.Count > 0).ToList();
        if (logged.Count == 0)
        {
            output.WriteLine("note: no run has an activity.csv, so no dormant-share or stable-rank figure");
            return;
        }
        _canvas.Binned("dormant_share", BinnedRows(logged, r => [.. r.Activity.Select(a => (a.Step, a.DormantShare))], binWidth, resamples, seed));
        _canvas.Binned("stable_rank", BinnedRows(logged,
            r => [.. r.Activity.Where(a => !double.IsNaN(a.StableRankPercent)).Select(a => (a.Step, a.StableRankPercent))], binWidth, resamples, seed));
    }

    /// <summary>
    /// One panel per layer: the updates.csv column (prefix + layer) binned like the returns, mean over seeds, one line
    /// per configuration (<see cref="BinnedOverSeeds"/>).
    /// </summary>
    public void PerLayer(string prefix, string name, long binWidth)
    {
        var layers = runs.SelectMany(r => r.Columns).Where(c => c.StartsWith(prefix, StringComparison.Ordinal)).Distinct().ToList();
        if (layers.Count == 0) return;
        var rows = new List<LayerRow>();
        foreach (string column in layers)
            foreach (string label in _lines)
                foreach (var (step, n, mean) in BinnedOverSeeds(runs.Where(r => r.Line == label), column, binWidth))
                    rows.Add(new LayerRow(label, column[prefix.Length..], step, n, mean));
        if (NoBinCovered(rows.Count, name, binWidth)) return;
        _canvas.PerLayer(name, rows);
    }

    /// <summary>Whether a binned figure has no row (no run has covered half a bin yet): then a note says so and suggests a --bin.</summary>
    private bool NoBinCovered(int rows, string name, long binWidth)
    {
        if (rows > 0) return false;
        NoteUncovered("bin", binWidth, $"no {name}.png");
        return true;
    }

    /// <summary>The note for a binned figure no run has covered half a bin of: what follows, and a --bin that the runs cover.</summary>
    private void NoteUncovered(string what, long binWidth, string consequence)
    {
        long reached = runs.Max(r => r.LastStep);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"note: no {what} of {binWidth:N0} steps is covered yet (the runs reach step {reached:N0}), so {consequence}; give a smaller --bin, like --bin {Math.Max(1, reached / 4)}"));
    }

    /// <summary>
    /// A column's values binned by their update's step (bins of <paramref name="binWidth"/>, as the returns): per run
    /// the mean of its updates in the bin, then the mean over the runs that have the bin (<see
    /// cref="PlotStatistics.RunBinMeans"/>); each bin at its middle step, with the runs that went in.
    /// </summary>
    private static IEnumerable<(double Step, int Runs, double Mean)> BinnedOverSeeds(IEnumerable<PlotRun> group, string column, long binWidth)
    {
        var series = new List<(IReadOnlyList<(long, double)>, long)>();
        foreach (var run in group)
        {
            var (steps, values) = run.Column(column);
            if (steps.Length > 0) series.Add(([.. steps.Zip(values, (step, value) => ((long)step, value))], run.LastStep));
        }
        return PlotStatistics.RunBinMeans(series, binWidth).Select(b => ((b.Start + b.End) / 2.0, b.Values.Count, b.Values.Average()));
    }

    /// <summary>Runs of methods that replace units (CBP): per configuration and hidden layer, units per age bin over time, binned like the returns (mean over seeds).</summary>
    public void UnitAges(long binWidth)
    {
        var replacing = runs.Where(r => MethodRegistry.FindWord(r.Method)!.ReplacesUnits).ToList();
        if (replacing.Count == 0)
        {
            output.WriteLine($"note: no runs of a method that replaces units ({string.Join(", ", MethodRegistry.All.Where(m => m.ReplacesUnits).Select(m => m.Word))}), so no unit-age figure");
            return;
        }
        string[] bins = UnitAgeHistogram.BinNames;
        var layers = replacing.SelectMany(r => r.Columns).Where(c => c.StartsWith($"age_{bins[0]}_", StringComparison.Ordinal))
            .Select(c => c[$"age_{bins[0]}_".Length..]).Distinct().ToList();
        if (layers.Count == 0)
        {
            output.WriteLine("note: the runs of methods that replace units have no age_ columns in updates.csv, so no unit-age figure");
            return;
        }
        var rows = new List<AgeRow>();
        foreach (string line in _lines.Where(line => replacing.Any(r => r.Line == line)))
            foreach (string layer in layers)
            {
                var group = replacing.Where(r => r.Line == line).ToList();
                foreach (string bin in bins)
                    foreach (var (step, n, mean) in BinnedOverSeeds(group, $"age_{bin}_{layer}", binWidth))
                        rows.Add(new AgeRow(line, layer, bin, step, n, mean));
            }
        if (NoBinCovered(rows.Count, "unit_ages", binWidth)) return;
        _canvas.UnitAges(rows);
    }

    /// <summary>Per configuration: each run's mean return in each friction period against that period's friction, from eval.csv where a run has one, else its episodes.</summary>
    public void ReturnAgainstFriction()
    {
        var rows = new List<FrictionRow>();
        foreach (string line in _lines)
            foreach (var run in runs.Where(r => r.Line == line))
                foreach (var p in PlotStatistics.FrictionPeriods(run.ReturnsAtFriction))
                    rows.Add(new FrictionRow(line, run.Seed, p.Index, p.Friction, p.Episodes, p.MeanReturn, run.Evals.Count > 0 ? "eval" : "episodes"));
        _canvas.ReturnAgainstFriction(rows);
    }

    /// <summary>
    /// periods.csv: per configuration and friction period (by index: seed k's period i ran at its own friction), the mean
    /// over the seeds that have finished the period (<see cref="PlotStatistics.CompletedPeriods"/>) of each seed's mean
    /// training return in it (every episode that ended at the period's friction), and the same over those of them with
    /// evaluations at that friction. The README's table of returns per friction period (docs/sweeps.md#figures).
    /// </summary>
    public void Periods()
    {
        var rows = new List<string>();
        foreach (string line in _lines)
        {
            var perRun = runs.Where(r => r.Line == line).Select(r => PlotStatistics.CompletedPeriods(r.Episodes, r.Evals, !r.Partial)).ToList();
            for (int i = 0; perRun.Any(p => p.Count > i); i++)
            {
                var train = perRun.Where(p => p.Count > i).Select(p => p[i].Training.MeanReturn).ToList();
                var eval = perRun.Where(p => p.Count > i && !double.IsNaN(p[i].EvalMean)).Select(p => p[i].EvalMean).ToList();
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{line},{i},{train.Count},{PlotCsv.F(train.Average())},{eval.Count},{(eval.Count == 0 ? "" : PlotCsv.F(eval.Average()))}"));
            }
        }
        _canvas.Table("periods", "line,period,runs,mean_return,eval_runs,eval_mean_return", rows);
    }

    /// <summary>
    /// periods_by_seed.csv: what periods.csv averages, per run: each friction period of its training episodes, the one
    /// under way too (complete 0), with its friction, episodes, mean training return and mean evaluation return at that
    /// friction (empty without). The per-seed table of docs/results/fig3 (docs/sweeps.md#figures).
    /// </summary>
    public void PeriodsBySeed()
    {
        var rows = new List<string>();
        foreach (string line in _lines)
            foreach (var run in runs.Where(r => r.Line == line))
                foreach (var (p, evalMean, complete) in PlotStatistics.RunPeriods(run.Episodes, run.Evals, !run.Partial))
                    rows.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{line},{run.Seed},{p.Index},{PlotCsv.F(p.Friction)},{p.Episodes},{PlotCsv.F(p.MeanReturn)},{(double.IsNaN(evalMean) ? "" : PlotCsv.F(evalMean))},{(complete ? 1 : 0)}"));
        _canvas.Table("periods_by_seed", "line,seed,period,friction,episodes,mean_return,eval_mean_return,complete", rows);
    }

    /// <summary>
    /// Runs with eval.csv: the evaluations' mean return (mean action at training env 0's friction) at each evaluation
    /// step, mean over seeds with a 95% bootstrap band, one line per configuration.
    /// </summary>
    public void EvalReturns(int resamples, int seed)
    {
        var evaluated = runs.Where(r => r.Evals.Count > 0).ToList();
        if (evaluated.Count == 0)
        {
            output.WriteLine("note: no run has an eval.csv, so no evaluation figure");
            return;
        }
        var rows = new List<EvalRow>();
        foreach (string label in _lines)
        {
            var group = evaluated.Where(r => r.Line == label).ToList();
            if (group.Count == 0) continue;
            var curve = PlotStatistics.EvalCurve([.. group.Select(r => r.Evals.Select(e => (e.Step, e.Return)).ToList())], resamples, seed);
            rows.AddRange(curve.Select(p => new EvalRow(label, p.Step, p.Runs, p.Mean, p.Low, p.High)));
        }
        _canvas.EvalReturns(rows);
    }
}
