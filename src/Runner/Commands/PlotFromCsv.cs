using System.Text.Json;
using CbpGpu.Agent.Training;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// `plot --from-csv DIR`: every figure an earlier `plot` wrote to DIR drawn again from its CSV, with today's layout,
/// without the runs (docs/sweeps.md#figures). The rows go through the same <see cref="PlotCanvas"/> as rows computed
/// from runs, so each CSV written is the one read, byte for byte. A figure whose CSV is missing or not as plot writes
/// it is skipped with a note.
/// </summary>
public static class PlotFromCsv
{
    public static void Redraw(string dir, string outDir, TextWriter output)
    {
        var notes = new List<string>();
        List<T>? Read<T>(string name, string header, Func<string, string[], T> parse, Func<T, string> write)
        {
            string path = Path.Combine(dir, name + ".csv");
            var rows = PlotCsv.Read(path, header, parse, write, out string? problem, out string? older);
            if (rows is null) notes.Add($"note: {problem}, so no {name}.png");
            else if (older is not null) notes.Add($"note: {path} is in an earlier plot's layout ({older}); {name}.csv is written in today's ({header})");
            return rows;
        }
        var returns = Read("returns", PlotCsv.ReturnsHeader, PlotCsv.Bin, PlotCsv.Row);
        var evals = Read("eval_returns", PlotCsv.EvalHeader, PlotCsv.Eval, PlotCsv.Row);
        var activity = PlotCanvas.ActivityFigures.Select(f => (f.File, Rows: Read(f.File, PlotCsv.BinHeader, PlotCsv.Bin, PlotCsv.Row))).ToList();
        var layers = PlotCanvas.PerLayerFigures.Select(f => (f.File, Rows: Read(f.File, PlotCsv.LayerHeader, PlotCsv.Layer, PlotCsv.Row))).ToList();
        var ages = Read("unit_ages", PlotCsv.AgeHeader, PlotCsv.Age, PlotCsv.Row);
        var friction = Read("friction", PlotCsv.FrictionHeader, PlotCsv.Friction, PlotCsv.Row);

        // The lines in the order they first appear, figure by figure, as plot wrote them.
        IEnumerable<string> LinesOf<T>(List<T>? rows, Func<T, string> line) => rows?.Select(line) ?? [];
        string[] lines = [.. LinesOf(returns, r => r.Line).Concat(LinesOf(evals, r => r.Line))
            .Concat(activity.SelectMany(a => LinesOf(a.Rows, r => r.Line))).Concat(layers.SelectMany(l => LinesOf(l.Rows, r => r.Line)))
            .Concat(LinesOf(ages, r => r.Line)).Concat(LinesOf(friction, r => r.Line)).Distinct()];
        bool any = returns is not null || evals is not null || ages is not null || friction is not null
            || activity.Any(a => a.Rows is not null) || layers.Any(l => l.Rows is not null);
        if (!any)
            throw new UserFacingException(
                $"{dir} holds none of the CSVs plot writes (returns.csv, eval_returns.csv, {string.Join(", ", PlotCanvas.PerLayerFigures.Select(f => f.File + ".csv"))}, " +
                "unit_ages.csv, friction.csv, ...); give --from-csv the --out of an earlier `plot`");

        string contextPath = Path.Combine(dir, FigureContext.File);
        FigureContext context;
        if (File.Exists(contextPath))
        {
            try
            {
                context = FigureContext.FromJson(RunDirectory.Guard(contextPath, "read", () => File.ReadAllText(contextPath)));
            }
            catch (JsonException e)
            {
                throw new UserFacingException($"{contextPath} is not what plot writes ({e.Message}); fix it or remove it (the titles then leave out what it held)");
            }
        }
        else
        {
            context = new FigureContext(null, null, null, null, null, null);
            notes.Add($"note: {dir} has no {FigureContext.File} (plots before it wrote none), so the titles leave out the rollout shape, resamples " +
                "and evaluation episodes, and friction changes are not dashed");
        }

        RunDirectory.Guard(outDir, "create", () => Directory.CreateDirectory(outDir));
        output.WriteLine($"plot: the figures of {dir} from their CSVs ({lines.Length} lines) -> {outDir}");
        foreach (string note in notes) output.WriteLine(note);
        var canvas = new PlotCanvas(lines, context, outDir, output);
        if (returns is not null) canvas.Returns(returns);
        if (evals is not null) canvas.EvalReturns(evals);
        foreach (var (file, rows) in activity) if (rows is not null) canvas.Binned(file, rows);
        foreach (var (file, rows) in layers) if (rows is not null) canvas.PerLayer(file, rows);
        if (ages is not null) canvas.UnitAges(ages);
        if (friction is not null) canvas.ReturnAgainstFriction(friction);
        // runs.csv and the periods CSVs have no figure: copied as they are, with figures.json, when the figures go elsewhere.
        foreach (string file in new[] { "runs.csv", "periods.csv", "periods_by_seed.csv", FigureContext.File })
        {
            string from = Path.Combine(dir, file), to = Path.Combine(outDir, file);
            if (File.Exists(from) && Path.GetFullPath(from) != Path.GetFullPath(to)) RunDirectory.Guard(to, "write", () => File.Copy(from, to, true));
        }
    }
}
