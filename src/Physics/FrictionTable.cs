using System.Globalization;

namespace CbpGpu.Physics;

/// <summary>
/// A table of friction values given instead of drawn (docs/friction.md#friction-tables): one line per seed (data line k
/// is seed k), the values of that seed's run in order, separated by commas or white space. Blank lines and lines
/// starting with '#' are skipped and not counted. The authors drew one such table (100 seeds x 50 values) and used it
/// for every method, so a seed meets the same frictions whatever the method; it ships with this assembly
/// (<see cref="Authors"/>, docs/friction.md#the-authors-table).
/// </summary>
public static class FrictionTable
{
    /// <summary>The word that names the shipped authors' table where a file path could stand (--frictions, config.json).</summary>
    public const string Authors = "authors";

    /// <summary>How many seeds the authors' table has rows for (seeds 0 to 99).</summary>
    public const int AuthorsSeeds = 100;

    /// <summary>How many values each row of the authors' table has (the first, then one per change).</summary>
    public const int AuthorsValues = 50;

    private const string AuthorsResource = "CbpGpu.Physics.Assets.frictions-nature2024.txt";

    private static readonly Lazy<string[]> AuthorsLines = new(() =>
    {
        using var s = typeof(FrictionTable).Assembly.GetManifestResourceStream(AuthorsResource)
            ?? throw new InvalidOperationException($"embedded resource {AuthorsResource} is missing from the build");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd().Split('\n');
    });

    /// <summary>
    /// The row of <paramref name="seed"/> in the table named by <paramref name="source"/> (a file path, or
    /// <see cref="Authors"/> for the shipped table), with at least <paramref name="valuesNeeded"/> values. Every problem
    /// is a <see cref="FormatException"/> whose one-line message names the file, the line and the fix.
    /// </summary>
    public static double[] ReadRow(string source, ulong seed, int valuesNeeded)
    {
        if (source == Authors) return Row(AuthorsLines.Value, "the authors' table", seed, valuesNeeded);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"cannot read the friction table {source}: {e.Message}");
        }
        return Row(lines, source, seed, valuesNeeded);
    }

    private static double[] Row(string[] lines, string name, ulong seed, int valuesNeeded)
    {
        ulong row = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (row++ != seed) continue;
            string[] fields = line.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var values = new double[fields.Length];
            for (int k = 0; k < fields.Length; k++)
                if (!double.TryParse(fields[k], NumberStyles.Float, CultureInfo.InvariantCulture, out values[k]) || !(values[k] > 0) || double.IsInfinity(values[k]))
                    throw new FormatException($"{name}, line {i + 1} (seed {seed}), value {k + 1}: '{fields[k]}' is not a friction (a finite number > 0)");
            if (values.Length < valuesNeeded)
                throw new FormatException($"{name}, line {i + 1} (seed {seed}) has {values.Length} values but this run needs {valuesNeeded}; add values or train fewer steps");
            return values;
        }
        throw new FormatException($"{name} has {row} rows of values, so none for seed {seed} (data line {seed + 1}); add rows or use a seed below {row}");
    }

    /// <summary>How many values a run of <paramref name="totalSteps"/> env steps can use: the first one plus one per change.</summary>
    public static int ValuesNeeded(FrictionConfig config, long totalSteps) =>
        config.Protocol == FrictionProtocol.Constant ? 1 : (int)Math.Min(int.MaxValue, totalSteps / config.ChangeEverySteps + 1);
}
