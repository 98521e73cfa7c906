using System.Globalization;
using System.Text;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Training;
using ScottPlot;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// Draws the figures of `Runner plot` (docs/sweeps.md#figures) from their rows, the same whether the rows were just
/// computed from runs (<see cref="PlotFigures"/>) or read back from the CSVs an earlier plot wrote (`plot --from-csv`):
/// each figure is a PNG and the CSV of exactly those rows. <paramref name="lines"/> is the figures' order of lines;
/// a line's method is its label's first word.
/// </summary>
public sealed class PlotCanvas(IReadOnlyList<string> lines, FigureContext context, string outDir, TextWriter output)
{
    /// <summary>What the titles say beyond the rows; written to figures.json beside the CSVs.</summary>
    public FigureContext Context { get; set; } = context;

    private const int Width = 1200, Height = 700;

    /// <summary>updates.csv column prefix -> file name, title, y label: one panel per layer, one line per configuration (mean over seeds).</summary>
    public static readonly (string Prefix, string File, string Title, string YLabel)[] PerLayerFigures =
    [
        ("abs_w_", "weights", "Mean |w| per layer", "mean |w|"),
        ("dormant_", "dormant", "Dormant units", "fraction of units"),
        ("eff_rank_", "effective-rank", "Effective rank", "effective rank"),
    ];

    /// <summary>The binned figures of activity.csv: file name, title, y label, top of the y axis (null: the data's).</summary>
    public static readonly (string File, string Title, string YLabel, double? Top)[] ActivityFigures =
    [
        ("dormant_share", "Dormant share (acting steps)", "policy units active on <= 1% of 1,000 steps (fraction)", null),
        ("stable_rank", "Stable rank (acting steps)", "policy h2 stable rank on 1,000 steps (% of width)", 100),
    ];

    public IReadOnlyList<string> Lines { get; } = lines;

    private static string MethodOf(string line) => line.Split(' ')[0];

    /// <summary>Whether some method has several lines (a grid), whose labels are long.</summary>
    private bool SeveralPerMethod => Lines.Count > Lines.Select(MethodOf).Distinct().Count();

    /// <summary>"; shape" for a title, "" when the shape is not known.</summary>
    private string ShapeSuffix => Context.Shape is null ? "" : $"; {Context.Shape}";

    /// <summary>"env steps (shape)" for an x label.</summary>
    private string StepsLabel => Context.Shape is null ? "env steps" : $"env steps ({Context.Shape})";

    /// <summary>A method's own colour while each method is one line; with a grid's several lines per method, the lines' colours in turn.</summary>
    private Color ColorOf(string line)
    {
        var palette = new ScottPlot.Palettes.Category10();
        int index = !SeveralPerMethod ? MethodRegistry.All.ToList().FindIndex(m => m.Word == MethodOf(line)) : Lines.ToList().IndexOf(line);
        return palette.GetColor(Math.Max(0, index));
    }

    /// <summary>Each figure written, by file name (without .png): its panels and legend as last rendered, for checking the layout.</summary>
    public Dictionary<string, PlotLayout.Figure> Written { get; } = [];

    /// <summary>The rows' lines in the figures' order.</summary>
    private IEnumerable<(string Line, List<T> Rows)> ByLine<T>(IEnumerable<T> rows, Func<T, string> line) =>
        Lines.Select(l => (l, rows.Where(r => line(r) == l).ToList())).Where(g => g.Item2.Count > 0);

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

    /// <summary>A CSV with no figure (runs.csv, periods.csv): header and rows as given, and a line saying where it went.</summary>
    public void Table(string name, string header, IEnumerable<string> rows)
    {
        WriteCsv(name, header, rows, r => r);
        output.WriteLine($"wrote {Path.Combine(outDir, name + ".csv")}");
    }

    private void WriteCsv<T>(string name, string header, IEnumerable<T> rows, Func<T, string> row)
    {
        string path = Path.Combine(outDir, name + ".csv");
        var sb = new StringBuilder(header).Append('\n');
        foreach (var r in rows) sb.Append(row(r)).Append('\n');
        RunDirectory.Guard(path, "write", () => File.WriteAllText(path, sb.ToString()));
    }

    /// <summary>A plot of binned rows: per configuration the mean over seeds and its band, friction changes dashed; and the bin width.</summary>
    private (Plot Plot, List<LegendEntry> Legend, long? Bin) BinnedBands(IReadOnlyList<BinRow> rows)
    {
        var plot = new Plot();
        var legend = new List<LegendEntry>();
        foreach (var (label, curve) in ByLine(rows, r => r.Line))
            AddMeanWithBand(plot, legend, label, curve.Max(b => b.Runs), [.. curve.Select(b => (b.Start + b.End) / 2.0)],
                [.. curve.Select(b => b.Mean)], [.. curve.Select(b => b.Low)], [.. curve.Select(b => b.High)]);
        MarkFrictionChanges(plot);
        return (plot, legend, rows.Count > 0 ? rows[0].End - rows[0].Start : Context.BinWidth);
    }

    /// <summary>Mean episode return per bin over seeds with a 95% bootstrap band, one line per configuration; friction changes dashed.</summary>
    public void Returns(IReadOnlyList<BinRow> rows)
    {
        var (plot, legend, bin) = BinnedBands(rows);
        string resamples = Context.Resamples is int n ? $" ({n} resamples)" : "";
        plot.Title($"Episode return, mean over seeds, 95% bootstrap CI{resamples}{(bin is long b ? $", bins of {b:N0} steps" : "")}{ShapeSuffix}");
        plot.XLabel("env steps");
        plot.YLabel("episode return");
        plot.Axes.AutoScale();
        if (rows.All(b => b.Low >= 0)) plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top);
        WriteCsv("returns", PlotCsv.ReturnsHeader, rows, PlotCsv.Row);
        Save("returns", [plot], legend);
    }

    /// <summary>
    /// One line per configuration of per-run points binned by step (<see cref="ActivityFigures"/>), mean over seeds
    /// with the 95% bootstrap band; friction changes dashed; y from 0 to the figure's top.
    /// </summary>
    public void Binned(string name, IReadOnlyList<BinRow> rows)
    {
        var (_, title, yLabel, top) = ActivityFigures.Single(f => f.File == name);
        var (plot, legend, bin) = BinnedBands(rows);
        plot.Title($"{title}, mean over seeds, 95% bootstrap CI{(bin is long b ? $", bins of {b:N0}" : "")}{ShapeSuffix}");
        plot.XLabel("env steps");
        plot.YLabel(yLabel);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, top ?? plot.Axes.GetLimits().Top);
        WriteCsv(name, PlotCsv.BinHeader, rows, PlotCsv.Row);
        Save(name, [plot], legend);
    }

    private void MarkFrictionChanges(Plot plot)
    {
        if (Context.FrictionChangeEvery is not long every || Context.LastStep is not long last || every >= last) return;
        for (long s = every; s < last; s += every)
        {
            var v = plot.Add.VerticalLine(s);
            v.Color = Colors.Gray.WithAlpha(0.6);
            v.LinePattern = LinePattern.Dashed;
            v.LineWidth = 1;
        }
    }

    /// <summary>One panel per layer (<see cref="PerLayerFigures"/>): the column over time, mean over seeds, one line per configuration.</summary>
    public void PerLayer(string name, IReadOnlyList<LayerRow> rows)
    {
        var (_, _, title, yLabel) = PerLayerFigures.Single(f => f.File == name);
        var panels = new List<Plot>();
        var legend = new List<LegendEntry>();
        foreach (string layer in rows.Select(r => r.Layer).Distinct())
        {
            var plot = new Plot();
            panels.Add(plot);
            foreach (var (label, series) in ByLine(rows.Where(r => r.Layer == layer), r => r.Line))
            {
                var line = plot.Add.Scatter(series.Select(r => r.Step).ToArray(), series.Select(r => r.Mean).ToArray());
                line.Color = ColorOf(label);
                line.MarkerSize = 0;
                line.LineWidth = 2;
                if (legend.All(e => e.Text != label)) legend.Add(new LegendEntry(label, line.Color, Markers: false));
            }
            plot.Title($"{title}: {layer}, mean over seeds");
            plot.XLabel(StepsLabel);
            plot.YLabel(yLabel);
        }
        WriteCsv(name, PlotCsv.LayerHeader, rows, PlotCsv.Row);
        Save(name, panels, legend, columns: 2, panelWidth: Width / 2, panelHeight: 350);
    }

    /// <summary>Per configuration and hidden layer, units per age bin over time (mean over seeds) as a heat map of log10(1 + count).</summary>
    public void UnitAges(IReadOnlyList<AgeRow> rows)
    {
        string[] bins = UnitAgeHistogram.BinNames;
        var groups = rows.Select(r => (r.Line, r.Layer)).Distinct().ToList();
        int lineCount = groups.Select(g => g.Line).Distinct().Count();
        var panels = new List<Plot>();
        foreach (var (line, layer) in groups)
        {
            var cells = rows.Where(r => r.Line == line && r.Layer == layer).ToList();
            double[] steps = [.. cells.Where(r => r.Bin == bins[0]).Select(r => r.Step)];
            var grid = new double[bins.Length, steps.Length];
            for (int b = 0; b < bins.Length; b++)
            {
                var bin = cells.Where(r => r.Bin == bins[b]).ToList();
                // Row 0 is drawn at the top: the oldest bin goes there.
                for (int i = 0; i < steps.Length && i < bin.Count; i++) grid[bins.Length - 1 - b, i] = Math.Log10(1 + bin[i].Mean);
            }
            int runs = cells.Max(r => r.Runs);
            var plot = new Plot();
            panels.Add(plot);
            var heat = plot.Add.Heatmap(grid);
            heat.Colormap = new ScottPlot.Colormaps.Viridis();
            // ScottPlot places the first and last cell centres at the extent's edges: rows centred on 0 .. bins-1, the ticks.
            heat.Extent = new CoordinateRect(steps.Length == 0 ? 0 : steps[0], steps.Length == 0 ? 1 : steps[^1], 0, bins.Length - 1);
            // The colour's meaning goes in the title: a colour bar's own label is drawn over its tick labels.
            plot.Add.ColorBar(heat);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. Enumerable.Range(0, bins.Length).Select(i => (double)i)], [.. bins.Select(b => $"age {b.Replace('_', '-')}")]);
            plot.Title(lineCount == 1 ? $"Unit ages (optimizer steps): {layer}, mean over {Runs(runs)}; colour: log10(1+units)"
                : $"{line}: {layer}, {Runs(runs)}; colour: log10(1+units)");
            plot.XLabel(StepsLabel);
        }
        WriteCsv("unit_ages", PlotCsv.AgeHeader, rows, PlotCsv.Row);
        // A grid's panels carry their configuration in the title: wider, so that it takes fewer lines.
        Save("unit_ages", panels, [], columns: 2, panelWidth: SeveralPerMethod ? Width * 3 / 4 : Width / 2, panelHeight: 350);
    }

    private static string Runs(int n) => n == 1 ? "1 run" : $"{n} runs";

    /// <summary>Per configuration: each run's mean return in each friction period against that period's friction (log x), coloured by period index.</summary>
    public void ReturnAgainstFriction(IReadOnlyList<FrictionRow> rows)
    {
        var panels = new List<Plot>();
        int maxPeriods = rows.Count == 0 ? 0 : rows.Max(r => r.Period) + 1;
        foreach (string line in Lines)
        {
            var plot = new Plot();
            panels.Add(plot);
            var own = rows.Where(r => r.Line == line).ToList();
            foreach (var p in own)
            {
                var marker = plot.Add.Marker(Math.Log10(p.Friction), p.Mean);
                marker.Color = PeriodColor(p.Period, maxPeriods);
                marker.Size = 9;
            }
            plot.Title(maxPeriods == 1 ? $"{line}: return in its one friction period"
                : SeveralPerMethod ? $"{line}: return per period (period 0..{maxPeriods - 1}: blue to red)"
                : $"{line}: return per friction period (colour: period 0..{maxPeriods - 1}, blue to red)");
            plot.XLabel(Context.Shape is null ? "log10 friction" : $"log10 friction ({Context.Shape})");
            var sources = own.Select(r => r.Source).Distinct().ToList();
            plot.YLabel(sources.Count == 1 && sources[0] == "eval" ? "mean evaluation return in the period (mean action)"
                : sources.Contains("eval") ? "mean return in the period (evaluations where a run has them, else episodes)"
                : "mean episode return in the period");
        }
        WriteCsv("friction", PlotCsv.FrictionHeader, rows, PlotCsv.Row);
        Save("friction", panels, [], columns: 2, panelWidth: Lines.Count == 1 ? Width : SeveralPerMethod ? Width * 3 / 4 : Width / 2, panelHeight: 400);
    }

    /// <summary>
    /// Friction period <paramref name="index"/> of <paramref name="periods"/>: blue for the first to red for the last,
    /// as the figure's title says. Turbo's 0.1 to 0.9 stretch: its ends are near-black (issue 25).
    /// </summary>
    public static Color PeriodColor(int index, int periods) =>
        new ScottPlot.Colormaps.Turbo().GetColor(0.1 + 0.8 * (periods <= 1 ? 0 : index / (double)(periods - 1)));

    /// <summary>Evaluation return at each evaluation step, mean over seeds with a 95% bootstrap band, one line per configuration; friction changes dashed.</summary>
    public void EvalReturns(IReadOnlyList<EvalRow> rows)
    {
        var plot = new Plot();
        var legend = new List<LegendEntry>();
        foreach (var (label, curve) in ByLine(rows, r => r.Line))
            AddMeanWithBand(plot, legend, label, curve.Max(p => p.Runs), [.. curve.Select(p => (double)p.Step)],
                [.. curve.Select(p => p.Mean)], [.. curve.Select(p => p.Low)], [.. curve.Select(p => p.High)]);
        MarkFrictionChanges(plot);
        string episodes = Context.EvalEpisodes is null ? "" : $"{Context.EvalEpisodes} episodes, ";
        plot.Title($"Evaluation return ({episodes}mean action, training env 0's friction), mean over seeds, 95% bootstrap CI{ShapeSuffix}");
        plot.XLabel("env steps");
        plot.YLabel("mean evaluation return");
        plot.Axes.AutoScale();
        WriteCsv("eval_returns", PlotCsv.EvalHeader, rows, PlotCsv.Row);
        Save("eval_returns", [plot], legend);
    }
}
