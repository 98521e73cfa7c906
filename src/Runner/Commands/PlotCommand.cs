using System.CommandLine;
using CbpGpu.Agent.Training;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`Runner plot`: the figures of a sweep or of single runs, each a PNG with the CSV behind it (docs/sweeps.md#figures).</summary>
public sealed class PlotCommand : RunnerCommand
{
    private readonly Argument<string[]> _dirs = new("DIR")
    {
        Description = "sweep directories (DIR/<method>/seed-<n>/, with a grid DIR/<method>/<configuration>/seed-<n>/) or run directories (train --out), any mix",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<string> _fromCsv = OptionFactory.Text("--from-csv", "FIGDIR",
        "draw again the figures an earlier plot wrote to FIGDIR, from its CSVs, instead of from runs (no DIR then; default: none, plot draws from the runs in DIR)", required: false);

    private readonly Option<string> _out = OptionFactory.Text("--out", "FIGDIR", "where the PNG and CSV files go (default: figures/ in the first DIR; with --from-csv, FIGDIR itself)", required: false);
    private readonly Option<long> _bin = OptionFactory.Count("--bin", "STEPS", "width of a bin in env steps (returns, per-layer columns, unit ages, acting diagnostics)", 100_000L, 1L, long.MaxValue);
    private readonly Option<int> _resamples = OptionFactory.Count("--resamples", "N", "bootstrap resamples for the 95% band over seeds", 1000, 1, 1_000_000);
    private readonly Option<int> _bootstrapSeed = OptionFactory.Count("--bootstrap-seed", "S", "seed of the bootstrap resampling", 0, 0, int.MaxValue);

    public PlotCommand() : base("plot", "figures of sweeps or runs: returns, evaluation returns, weight magnitude, dormant units, effective rank, unit ages, return against friction, dormant share and stable rank", """
        Writes returns.png (episode return binned by env steps, mean over seeds with a 95% bootstrap band, one line
        per configuration, friction changes dashed; runs.csv has the same bins per run; periods.csv the mean return
        per friction period over the seeds that finished it, training and evaluation, periods_by_seed.csv the same per
        run, the period under way included), 
        """ + PerLayerHelp + """
        , unit_ages.png (runs of methods that replace units: units
        per age bin over time, log counts), friction.png (each friction period's mean return against its friction,
        coloured by period index; from eval.csv where a run has one, else from its episodes) and, for runs with
        eval.csv, eval_returns.png (evaluation return at each evaluation step, mean over seeds with a 95% bootstrap
        band, one line per configuration) and, for runs with activity.csv, dormant_share.png and stable_rank.png (the
        authors' Fig. 4b diagnostics from the acting steps, binned like the returns, mean over seeds with a 95% bootstrap
        band), each with a CSV of exactly what it shows. Unfinished runs are plotted with what
        they have, with a warning.

        A configuration is what a run's config.json holds but for its seed (and settings that never change results):
        its runs are averaged into one line, labelled by its method and, when a method has several (a --grid sweep),
        by the flags whose values differ between them, e.g. "cbp maturity=500 replacement-rate=1e-3".

        plot --from-csv FIGDIR [--out OUTDIR] draws the figures an earlier plot wrote to FIGDIR again, from its CSVs
        (and figures.json, what the titles say beyond them), with today's layout and without the runs; each CSV is
        written back as read. A figure whose CSV is missing or malformed is skipped with a note.
        """)
    {
        Add(_dirs);
        Add(_out);
        Add(_fromCsv);
        Add(_bin);
        Add(_resamples);
        Add(_bootstrapSeed);
        SetAction(Run);
    }

    /// <summary>The per-layer figures of <see cref="PlotCanvas.PerLayerFigures"/>, named in the help from that one list.</summary>
    private static string PerLayerHelp =>
        string.Join(", ", PlotCanvas.PerLayerFigures.Select(f => $"{f.File}.png ({f.YLabel} per layer over time)"));

    private int Run(ParseResult result)
    {
        string[] dirs = result.GetValue(_dirs) ?? [];
        var output = result.InvocationConfiguration.Output;
        if (result.GetValue(_fromCsv) is string csvDir)
        {
            if (dirs.Length > 0) throw new UsageException($"--from-csv draws from {csvDir}'s CSVs, not from runs: give DIR or --from-csv, not both");
            PlotFromCsv.Redraw(csvDir, result.GetValue(_out) ?? csvDir, output);
            return 0;
        }
        if (dirs.Length == 0) throw new UsageException("plot needs a DIR (a sweep or run directory) or --from-csv FIGDIR; see plot --help");
        var found = PlotRun.Find(dirs);
        foreach (var run in found)
            foreach (string warning in run.Warnings) result.InvocationConfiguration.Error.WriteLine(warning);
        // One configuration's runs with one seed are one run twice (a copy, or two --out of one command): counted once,
        // the first found, with a warning, so that the band is not drawn over seeds that are not there (issue 25).
        var runs = new List<PlotRun>();
        foreach (var run in found)
        {
            var first = runs.FirstOrDefault(r => r.Line == run.Line && r.Seed == run.Seed);
            if (first is null) runs.Add(run);
            else result.InvocationConfiguration.Error.WriteLine(
                $"warning: {first.Directory} and {run.Directory} are both {run.Name}; counted once, from {first.Directory} (give each run its own --seed)");
        }
        foreach (var run in runs.Where(r => r.Partial))
            result.InvocationConfiguration.Error.WriteLine(
                $"warning: {run.Name} ({run.Directory}) is unfinished: step {run.LastStep:N0} of {run.Config.Run.TotalSteps:N0}; plotted with what it has");
        string outDir = result.GetValue(_out) ?? Path.Combine(dirs[0], "figures");
        RunDirectory.Guard(outDir, "create", () => Directory.CreateDirectory(outDir));
        output.WriteLine($"plot: {runs.Count} runs ({string.Join(", ", runs.GroupBy(r => r.Line).Select(g => $"{g.Key} x {g.Count()}"))}) -> {outDir}");
        var figures = new PlotFigures(runs, outDir, output);
        figures.Returns(result.GetValue(_bin), result.GetValue(_resamples), result.GetValue(_bootstrapSeed));
        figures.EvalReturns(result.GetValue(_resamples), result.GetValue(_bootstrapSeed));
        figures.ActingActivity(result.GetValue(_bin), result.GetValue(_resamples), result.GetValue(_bootstrapSeed));
        foreach (var (prefix, file, _, _) in PlotCanvas.PerLayerFigures) figures.PerLayer(prefix, file, result.GetValue(_bin));
        figures.UnitAges(result.GetValue(_bin));
        figures.ReturnAgainstFriction();
        figures.Periods();
        figures.PeriodsBySeed();
        string context = Path.Combine(outDir, FigureContext.File);
        RunDirectory.Guard(context, "write", () => File.WriteAllText(context, figures.FigureContext.ToJson()));
        return 0;
    }
}
