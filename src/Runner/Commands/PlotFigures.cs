using System.Globalization;
using System.Text;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Training;
using ScottPlot;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// The figures of `Runner plot` (docs/sweeps.md#figures), each a PNG and the CSV of exactly what it shows. Figures of
/// one updates.csv column per layer over time are a table (<see cref="PerLayerFigures"/>): a new per-layer column
/// (e.g. dormant_(hidden)) gets its figure from one more entry.
/// </summary>
public sealed class PlotFigures(IReadOnlyList<PlotRun> runs, string outDir, TextWriter output)
{
    private const int Width = 1200, Height = 700;

    /// <summary>updates.csv column prefix -> file name, title, y label: one panel per layer, one line per configuration (mean over seeds).</summary>
    public static readonly (string Prefix, string File, string Title, string YLabel)[] PerLayerFigures =
    [
        ("abs_w_", "weights", "Mean |w| per layer", "mean |w|"),
        ("dormant_", "dormant", "Dormant units", "fraction of units"),
        ("eff_rank_", "effective-rank", "Effective rank", "effective rank"),
    ];

    /// <summary>One line per configuration (<see cref="PlotLines"/>), in the order <see cref="PlotRun.Find"/> gives the runs.</summary>
    private readonly string[] _lines = [.. runs.Select(r => r.Line).Distinct()];

    private string Shape => string.Join(", ", runs.Select(r => r.RolloutShape).Distinct());

    /// <summary>Whether some method has several lines (a grid), whose labels are long.</summary>
    private bool SeveralPerMethod => _lines.Length > runs.Select(r => r.Method).Distinct().Count();

    /// <summary>A method's own colour while each method is one line; with a grid's several lines per method, the lines' colours in turn.</summary>
    private Color ColorOf(string line)
    {
        var palette = new ScottPlot.Palettes.Category10();
        return !SeveralPerMethod
            ? palette.GetColor(MethodRegistry.All.ToList().FindIndex(m => m.Word == runs.First(r => r.Line == line).Method))
            : palette.GetColor(Array.IndexOf(_lines, line));
    }

    /// <summary>Each figure written, by file name (without .png): its panels and legend as last rendered, for checking the layout.</summary>
    public Dictionary<string, PlotLayout.Figure> Written { get; } = [];

    /// <summary>One configuration's mean over seeds as a line, with its band when there is more than one seed; its legend entry.</summary>
    private void AddMeanWithBand(Plot plot, List<LegendEntry> legend, string label, int seeds, double[] xs, double[] mean, double[] low, double[] high)
    {
        var color = ColorOf(label);
        if (seeds > 1)
        {
            var band = plot.Add.FillY(xs, low, high);
            band.FillColor = color.WithAlpha(0.2);
            band.LineColor = Colors.Transparent;
        }
        var line = plot.Add.Scatter(xs, mean);
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 4;
        legend.Add(new LegendEntry($"{label} ({seeds} seed{(seeds == 1 ? "" : "s")})", color));
    }

    /// <summary>Writes the panels, in rows of <paramref name="columns"/>, with the legend beside them (<see cref="PlotLayout"/>).</summary>
    private void Save(string name, IReadOnlyList<Plot> panels, IReadOnlyList<LegendEntry> legend, int columns = 1, int panelWidth = Width, int panelHeight = Height)
    {
        var figure = PlotLayout.Compose(panels, columns, panelWidth, panelHeight, legend);
        string path = Path.Combine(outDir, name + ".png");
        RunDirectory.Guard(path, "write", () => figure.Multiplot.SavePng(path, figure.Width, figure.Height));
        Written[name] = figure;
        output.WriteLine($"wrote {path} and {name}.csv");
    }

    private void WriteCsv(string name, string header, IEnumerable<string> rows)
    {
        string path = Path.Combine(outDir, name + ".csv");
        var sb = new StringBuilder(header).Append('\n');
        foreach (string row in rows) sb.Append(row).Append('\n');
        RunDirectory.Guard(path, "write", () => File.WriteAllText(path, sb.ToString()));
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Mean episode return per bin over seeds with a 95% bootstrap band, one line per configuration; friction changes dashed.</summary>
    public void Returns(long binWidth, int resamples, int seed)
    {
        var plot = new Plot();
        var legend = new List<LegendEntry>();
        var rows = new List<string>();
        bool allPositive = true;
        foreach (string label in _lines)
        {
            var group = runs.Where(r => r.Line == label).ToList();
            var curve = PlotStatistics.BinnedCurve(
                [.. group.Select(r => ((IReadOnlyList<(long, double)>)[.. r.Episodes.Select(e => (e.Step, e.Return))], r.LastStep))], binWidth, resamples, seed);
            if (curve.Count == 0) continue;
            AddMeanWithBand(plot, legend, label, group.Count, [.. curve.Select(b => (b.Start + b.End) / 2.0)],
                [.. curve.Select(b => b.Mean)], [.. curve.Select(b => b.Low)], [.. curve.Select(b => b.High)]);
            allPositive &= curve.All(b => b.Low >= 0);
            rows.AddRange(curve.Select(b => $"{label},{b.Start},{b.End},{b.Runs},{F(b.Mean)},{F(b.Low)},{F(b.High)}"));
        }
        if (rows.Count == 0)
        {
            long reached = runs.Max(r => r.LastStep);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"note: no return bin of {binWidth:N0} steps is covered yet (the runs reach step {reached:N0}), so returns.png has no line; " +
                $"give a smaller --bin, like --bin {Math.Max(1, reached / 4)}"));
        }
        MarkFrictionChanges(plot);
        plot.Title($"Episode return, mean over seeds, 95% bootstrap CI ({resamples} resamples), bins of {binWidth:N0} steps; {Shape}");
        plot.XLabel("env steps");
        plot.YLabel("episode return");
        plot.Axes.AutoScale();
        if (allPositive) plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top);
        WriteCsv("returns", "line,bin_start,bin_end,runs,mean_return,ci_low,ci_high", rows);
        Save("returns", [plot], legend);
        RunBins(binWidth);
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
                    : $"{run.Line},{run.Seed},{b * binWidth},{(b + 1) * binWidth},{count[b]},{F(sum[b] / count[b])},{F(last[b])},{(first[b] != last[b] ? 1 : 0)}");
        }
        WriteCsv("runs", "line,seed,bin_start,bin_end,episodes,mean_return,friction,friction_changed", rows);
        output.WriteLine($"wrote {Path.Combine(outDir, "runs.csv")}");
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
        BinnedFigure(logged, r => [.. r.Activity.Select(a => (a.Step, a.DormantShare))], binWidth, resamples, seed, "dormant_share",
            "Dormant share (acting steps)", "policy units active on <= 1% of 1,000 steps (fraction)", top: null);
        BinnedFigure(logged, r => [.. r.Activity.Where(a => !double.IsNaN(a.StableRankPercent)).Select(a => (a.Step, a.StableRankPercent))], binWidth, resamples, seed,
            "stable_rank", "Stable rank (acting steps)", "policy h2 stable rank on 1,000 steps (% of width)", top: 100);
    }

    /// <summary>
    /// One line per configuration of per-run points binned by step, mean over seeds with the 95% bootstrap band; friction
    /// changes dashed; y from 0 to <paramref name="top"/> (null: the data's).
    /// </summary>
    private void BinnedFigure(List<PlotRun> group, Func<PlotRun, IReadOnlyList<(long, double)>> points, long binWidth, int resamples, int seed,
        string name, string title, string yLabel, double? top)
    {
        var plot = new Plot();
        var legend = new List<LegendEntry>();
        var rows = new List<string>();
        foreach (string label in _lines)
        {
            var line = group.Where(r => r.Line == label).ToList();
            var curve = PlotStatistics.BinnedCurve([.. line.Select(r => (points(r), r.LastStep))], binWidth, resamples, seed);
            if (curve.Count == 0) continue;
            AddMeanWithBand(plot, legend, label, line.Count, [.. curve.Select(b => (b.Start + b.End) / 2.0)],
                [.. curve.Select(b => b.Mean)], [.. curve.Select(b => b.Low)], [.. curve.Select(b => b.High)]);
            rows.AddRange(curve.Select(b => $"{label},{b.Start},{b.End},{b.Runs},{F(b.Mean)},{F(b.Low)},{F(b.High)}"));
        }
        MarkFrictionChanges(plot);
        plot.Title($"{title}, mean over seeds, 95% bootstrap CI, bins of {binWidth:N0}; {Shape}");
        plot.XLabel("env steps");
        plot.YLabel(yLabel);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, top ?? plot.Axes.GetLimits().Top);
        WriteCsv(name, "line,bin_start,bin_end,runs,mean,ci_low,ci_high", rows);
        Save(name, [plot], legend);
    }

    private void MarkFrictionChanges(Plot plot)
    {
        var periods = runs.Select(r => r.Config.Env.Friction.ChangeEverySteps).Distinct().ToList();
        long last = runs.Max(r => r.LastStep);
        if (periods.Count != 1 || periods[0] >= last) return;
        for (long s = periods[0]; s < last; s += periods[0])
        {
            var v = plot.Add.VerticalLine(s);
            v.Color = Colors.Gray.WithAlpha(0.6);
            v.LinePattern = LinePattern.Dashed;
            v.LineWidth = 1;
        }
    }

    /// <summary>One panel per layer: the column (prefix + layer) over time, mean over seeds, one line per configuration.</summary>
    public void PerLayer(string prefix, string name, string title, string yLabel)
    {
        var layers = runs.SelectMany(r => r.Columns).Where(c => c.StartsWith(prefix, StringComparison.Ordinal)).Distinct().ToList();
        if (layers.Count == 0) return;
        var panels = new List<Plot>();
        var legend = new List<LegendEntry>();
        var rows = new List<string>();
        for (int l = 0; l < layers.Count; l++)
        {
            var plot = new Plot();
            panels.Add(plot);
            string layer = layers[l][prefix.Length..];
            foreach (string label in _lines)
            {
                var (steps, mean, n) = MeanOverSeeds(runs.Where(r => r.Line == label), layers[l]);
                if (steps.Length == 0) continue;
                var line = plot.Add.Scatter(steps, mean);
                line.Color = ColorOf(label);
                line.MarkerSize = 0;
                line.LineWidth = 2;
                if (legend.All(e => e.Text != label)) legend.Add(new LegendEntry(label, line.Color, Markers: false));
                for (int i = 0; i < steps.Length; i++) rows.Add($"{label},{layer},{F(steps[i])},{n[i]},{F(mean[i])}");
            }
            plot.Title($"{title}: {layer}, mean over seeds");
            plot.XLabel($"env steps ({Shape})");
            plot.YLabel(yLabel);
        }
        WriteCsv(name, "line,layer,step,runs,mean", rows);
        Save(name, panels, legend, columns: 2, panelWidth: Width / 2, panelHeight: 350);
    }

    /// <summary>A column's mean over runs at each update (runs of one line share their update steps; shorter ones stop counting).</summary>
    private static (double[] Steps, double[] Mean, int[] Count) MeanOverSeeds(IEnumerable<PlotRun> group, string column)
    {
        var series = group.Select(r => r.Column(column)).Where(s => s.Steps.Length > 0).ToList();
        if (series.Count == 0) return ([], [], []);
        int length = series.Max(s => s.Steps.Length);
        var longest = series.First(s => s.Steps.Length == length);
        var mean = new double[length];
        var count = new int[length];
        for (int i = 0; i < length; i++)
        {
            var values = series.Where(s => s.Values.Length > i).Select(s => s.Values[i]).ToList();
            mean[i] = values.Average();
            count[i] = values.Count;
        }
        return (longest.Steps, mean, count);
    }

    /// <summary>Runs of methods that replace units (CBP): per configuration and hidden layer, units per age bin over time (mean over seeds) as a heat map of log10(1 + count).</summary>
    public void UnitAges()
    {
        var replacing = runs.Where(r => MethodRegistry.FindWord(r.Method)!.ReplacesUnits).ToList();
        if (replacing.Count == 0)
        {
            output.WriteLine($"note: no {string.Join(" or ", MethodRegistry.All.Where(m => m.ReplacesUnits).Select(m => m.Word))} runs, so no unit-age figure");
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
        string[] lines = [.. _lines.Where(line => replacing.Any(r => r.Line == line))];
        var panels = new List<Plot>();
        var rows = new List<string>();
        for (int p = 0; p < lines.Length * layers.Count; p++)
        {
            string line = lines[p / layers.Count], layer = layers[p % layers.Count];
            var group = replacing.Where(r => r.Line == line).ToList();
            var perBin = bins.Select(b => MeanOverSeeds(group, $"age_{b}_{layer}")).ToList();
            double[] steps = perBin[0].Steps;
            var grid = new double[bins.Length, steps.Length];
            for (int b = 0; b < bins.Length; b++)
                for (int i = 0; i < steps.Length; i++)
                {
                    // Row 0 is drawn at the top: the oldest bin goes there.
                    grid[bins.Length - 1 - b, i] = Math.Log10(1 + perBin[b].Mean[i]);
                    rows.Add($"{line},{layer},{bins[b]},{F(steps[i])},{perBin[b].Count[i]},{F(perBin[b].Mean[i])}");
                }
            var plot = new Plot();
            panels.Add(plot);
            var heat = plot.Add.Heatmap(grid);
            heat.Colormap = new ScottPlot.Colormaps.Viridis();
            // ScottPlot places the first and last cell centres at the extent's edges: rows centred on 0 .. bins-1, the ticks.
            heat.Extent = new CoordinateRect(steps.Length == 0 ? 0 : steps[0], steps.Length == 0 ? 1 : steps[^1], 0, bins.Length - 1);
            plot.Add.ColorBar(heat).Label = "log10(1 + units)";
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. Enumerable.Range(0, bins.Length).Select(i => (double)i)], [.. bins.Select(b => $"age {b.Replace('_', '-')}")]);
            plot.Title(lines.Length == 1 ? $"Unit ages (optimizer steps): {layer}, mean over {Runs(group.Count)}" : $"{line}: {layer}, {Runs(group.Count)}");
            plot.XLabel($"env steps ({Shape})");
        }
        WriteCsv("unit_ages", "line,layer,age_bin,step,runs,mean_units", rows);
        // A grid's panels carry their configuration in the title: wider, so that it takes fewer lines.
        Save("unit_ages", panels, [], columns: 2, panelWidth: SeveralPerMethod ? Width * 3 / 4 : Width / 2, panelHeight: 350);
    }

    private static string Runs(int n) => n == 1 ? "1 run" : $"{n} runs";

    /// <summary>Per configuration: each run's mean return in each friction period against that period's friction (log x), coloured by period index.</summary>
    public void ReturnAgainstFriction()
    {
        var panels = new List<Plot>();
        var rows = new List<string>();
        int maxPeriods = runs.Max(r => PlotStatistics.FrictionPeriods(r.ReturnsAtFriction).Count);
        for (int m = 0; m < _lines.Length; m++)
        {
            var plot = new Plot();
            panels.Add(plot);
            foreach (var run in runs.Where(r => r.Line == _lines[m]))
                foreach (var p in PlotStatistics.FrictionPeriods(run.ReturnsAtFriction))
                {
                    var marker = plot.Add.Marker(Math.Log10(p.Friction), p.MeanReturn);
                    marker.Color = PeriodColor(p.Index, maxPeriods);
                    marker.Size = 9;
                    rows.Add($"{_lines[m]},{run.Seed},{p.Index},{F(p.Friction)},{p.Episodes},{F(p.MeanReturn)},{(run.Evals.Count > 0 ? "eval" : "episodes")}");
                }
            plot.Title(SeveralPerMethod
                ? $"{_lines[m]}: return per period (period 0..{maxPeriods - 1}: blue to red)"
                : $"{_lines[m]}: return per friction period (colour: period 0..{maxPeriods - 1}, blue to red)");
            plot.XLabel($"log10 friction ({Shape})");
            plot.YLabel(FrictionYLabel(runs.Where(r => r.Line == _lines[m])));
        }
        WriteCsv("friction", "line,seed,period,friction,episodes,mean_return,source", rows);
        Save("friction", panels, [], columns: 2, panelWidth: _lines.Length == 1 ? Width : SeveralPerMethod ? Width * 3 / 4 : Width / 2, panelHeight: 400);
    }

    /// <summary>
    /// Friction period <paramref name="index"/> of <paramref name="periods"/>: blue for the first to red for the last,
    /// as the figure's title says. Turbo's 0.1 to 0.9 stretch: its ends are near-black (issue 25).
    /// </summary>
    public static Color PeriodColor(int index, int periods) =>
        new ScottPlot.Colormaps.Turbo().GetColor(0.1 + 0.8 * (periods <= 1 ? 0 : index / (double)(periods - 1)));

    /// <summary>The friction figure's y label: what its points average (eval.csv rows when a run has them, docs/evaluation.md#figures).</summary>
    private static string FrictionYLabel(IEnumerable<PlotRun> group)
    {
        var sources = group.Select(r => r.Evals.Count > 0).Distinct().ToList();
        return sources.Count == 1 && sources[0] ? "mean evaluation return in the period (mean action)"
            : sources.Contains(true) ? "mean return in the period (evaluations where a run has them, else episodes)"
            : "mean episode return in the period";
    }

    /// <summary>
    /// Runs with eval.csv: the evaluations' mean return (mean action at training env 0's friction) at each evaluation
    /// step, mean over seeds with a 95% bootstrap band, one line per configuration; friction changes dashed.
    /// </summary>
    public void EvalReturns(int resamples, int seed)
    {
        var evaluated = runs.Where(r => r.Evals.Count > 0).ToList();
        if (evaluated.Count == 0)
        {
            output.WriteLine("note: no run has an eval.csv, so no evaluation figure");
            return;
        }
        var plot = new Plot();
        var legend = new List<LegendEntry>();
        var rows = new List<string>();
        foreach (string label in _lines)
        {
            var group = evaluated.Where(r => r.Line == label).ToList();
            if (group.Count == 0) continue;
            var curve = PlotStatistics.EvalCurve([.. group.Select(r => r.Evals.Select(e => (e.Step, e.Return)).ToList())], resamples, seed);
            AddMeanWithBand(plot, legend, label, group.Count, [.. curve.Select(p => (double)p.Step)],
                [.. curve.Select(p => p.Mean)], [.. curve.Select(p => p.Low)], [.. curve.Select(p => p.High)]);
            rows.AddRange(curve.Select(p => $"{label},{p.Step},{p.Runs},{F(p.Mean)},{F(p.Low)},{F(p.High)}"));
        }
        MarkFrictionChanges(plot);
        string episodes = string.Join(", ", evaluated.Select(r => r.Config.Eval.Episodes).Distinct());
        plot.Title($"Evaluation return ({episodes} episodes, mean action, training env 0's friction), mean over seeds, 95% bootstrap CI; {Shape}");
        plot.XLabel("env steps");
        plot.YLabel("mean evaluation return");
        plot.Axes.AutoScale();
        WriteCsv("eval_returns", "line,step,runs,mean_return,ci_low,ci_high", rows);
        Save("eval_returns", [plot], legend);
    }
}
