using System.Globalization;
using System.Text.Json;

namespace CbpGpu.Runner.Commands;

/// <summary>One bin of a line's binned curve as returns.csv, dormant_share.csv and stable_rank.csv hold it.</summary>
public sealed record BinRow(string Line, long Start, long End, int Runs, double Mean, double Low, double High);

/// <summary>One evaluation step of a line as eval_returns.csv holds it.</summary>
public sealed record EvalRow(string Line, long Step, int Runs, double Mean, double Low, double High);

/// <summary>One update of a line's per-layer column (mean over seeds) as weights.csv, dormant.csv and effective-rank.csv hold it.</summary>
public sealed record LayerRow(string Line, string Layer, double Step, int Runs, double Mean);

/// <summary>One age bin of a line's layer at one update (mean units over seeds) as unit_ages.csv holds it.</summary>
public sealed record AgeRow(string Line, string Layer, string Bin, double Step, int Runs, double Mean);

/// <summary>One run's friction period as friction.csv holds it.</summary>
public sealed record FrictionRow(string Line, ulong Seed, int Period, double Friction, int Episodes, double Mean, string Source);

/// <summary>
/// What a figure's titles say that its CSV does not hold (figures.json beside the CSVs, docs/sweeps.md#figures): the
/// rollout shape, bootstrap resamples, return bin width, friction change period and last step (the dashed lines), and
/// the evaluation episodes. A field left null is left out of the titles.
/// </summary>
public sealed record FigureContext(string? Shape, int? Resamples, long? BinWidth, long? FrictionChangeEvery, long? LastStep, string? EvalEpisodes)
{
    public const string File = "figures.json";

    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }) + "\n";

    public static FigureContext FromJson(string json) => JsonSerializer.Deserialize<FigureContext>(json) ?? throw new JsonException("null");
}

/// <summary>
/// The CSV of each kind of figure (docs/sweeps.md#figures): its header, how a row is written and read back. Writing a
/// row read from a CSV gives the line it was read from, byte for byte (numbers in .NET's round-trip form). A line's
/// label is the leading fields, so a label holding a comma still reads back.
/// </summary>
public static class PlotCsv
{
    public const string BinHeader = "line,bin_start,bin_end,runs,mean,ci_low,ci_high";
    public const string ReturnsHeader = "line,bin_start,bin_end,runs,mean_return,ci_low,ci_high";
    public const string EvalHeader = "line,step,runs,mean_return,ci_low,ci_high";
    public const string LayerHeader = "line,layer,step,runs,mean";
    public const string AgeHeader = "line,layer,age_bin,step,runs,mean_units";
    public const string FrictionHeader = "line,seed,period,friction,episodes,mean_return,source";

    public static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string Row(BinRow r) => $"{r.Line},{r.Start},{r.End},{r.Runs},{F(r.Mean)},{F(r.Low)},{F(r.High)}";
    public static string Row(EvalRow r) => $"{r.Line},{r.Step},{r.Runs},{F(r.Mean)},{F(r.Low)},{F(r.High)}";
    public static string Row(LayerRow r) => $"{r.Line},{r.Layer},{F(r.Step)},{r.Runs},{F(r.Mean)}";
    public static string Row(AgeRow r) => $"{r.Line},{r.Layer},{r.Bin},{F(r.Step)},{r.Runs},{F(r.Mean)}";
    public static string Row(FrictionRow r) => $"{r.Line},{r.Seed},{r.Period},{F(r.Friction)},{r.Episodes},{F(r.Mean)},{r.Source}";

    public static BinRow Bin(string line, string[] f) => new(line, L(f[0]), L(f[1]), I(f[2]), D(f[3]), D(f[4]), D(f[5]));
    public static EvalRow Eval(string line, string[] f) => new(line, L(f[0]), I(f[1]), D(f[2]), D(f[3]), D(f[4]));
    public static LayerRow Layer(string line, string[] f) => new(line, Text(f[0]), D(f[1]), I(f[2]), D(f[3]));
    public static AgeRow Age(string line, string[] f) => new(line, Text(f[0]), Text(f[1]), D(f[2]), I(f[3]), D(f[4]));
    public static FrictionRow Friction(string line, string[] f) =>
        new(line, ulong.Parse(f[0], NumberStyles.None, CultureInfo.InvariantCulture), I(f[1]), D(f[2]), I(f[3]), D(f[4]), f[5] is "eval" or "episodes" ? f[5] : throw new FormatException());

    /// <summary>
    /// Layouts earlier builds of plot wrote (docs/demo): the first column was "method" (a line was one method), friction.csv
    /// had no source (there were no evaluations: episodes), unit_ages.csv no line (only CBP replaced units). Each with
    /// today's header and how a row becomes today's.
    /// </summary>
    public static readonly (string Header, string Today, Func<string, string> Row)[] Older =
    [
        ("method,bin_start,bin_end,runs,mean_return,ci_low,ci_high", ReturnsHeader, row => row),
        ("method,layer,step,runs,mean", LayerHeader, row => row),
        ("method,seed,period,friction,episodes,mean_return", FrictionHeader, row => row + ",episodes"),
        ("layer,age_bin,step,runs,mean_units", AgeHeader, row => $"{Agent.Methods.MethodRegistry.Get(Agent.Settings.PpoMethod.Cbp).Word},{row}"),
    ];

    private static long L(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    private static int I(string s) => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
    private static double D(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    private static string Text(string s) => s.Length > 0 ? s : throw new FormatException();

    /// <summary>
    /// The rows of <paramref name="path"/> read by <paramref name="parse"/> (the label, then the fields after it), or
    /// null with <paramref name="problem"/> saying what is wrong: no such file, another header, a line that is not a row.
    /// Also reads the older layouts of <see cref="Older"/> (rows turned into today's; <paramref name="older"/> then names
    /// the header read). A row read from an older layout is written in today's.
    /// </summary>
    public static List<T>? Read<T>(string path, string header, Func<string, string[], T> parse, Func<T, string> write, out string? problem, out string? older)
    {
        problem = null;
        older = null;
        if (!System.IO.File.Exists(path))
        {
            problem = $"{path} is missing";
            return null;
        }
        string text = Agent.Training.RunDirectory.Guard(path, "read", () => System.IO.File.ReadAllText(path));
        string[] lines = text.Split('\n');
        Func<string, string> today = line => line;
        if (lines[0] != header && Older.FirstOrDefault(o => o.Header == lines[0] && o.Today == header) is { Header: not null } layout)
        {
            older = layout.Header;
            today = layout.Row;
            lines[0] = header;
            for (int i = 1; i < lines.Length; i++) if (lines[i].Length > 0 || i < lines.Length - 1) lines[i] = today(lines[i]);
        }
        if (lines[0] != header)
        {
            problem = $"{path} does not start with the header {header}";
            return null;
        }
        int after = header.Split(',').Length - 1;
        var rows = new List<T>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (i == lines.Length - 1 && lines[i].Length == 0) break;
            string[] f = lines[i].Split(',');
            T row;
            try
            {
                if (f.Length <= after || i == lines.Length - 1) throw new FormatException();
                row = parse(string.Join(',', f[..^after]), f[^after..]);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                problem = $"{path} line {i + 1} is not a row of {header}{(i == lines.Length - 1 ? " (cut: no line end)" : "")}";
                return null;
            }
            // A row that does not write back as read (e.g. 1.50 for 1.5) is not one plot wrote: the CSV would change.
            if (write(row) != lines[i])
            {
                problem = $"{path} line {i + 1} is not written the way plot writes it ({write(row)})";
                return null;
            }
            rows.Add(row);
        }
        return rows;
    }
}
