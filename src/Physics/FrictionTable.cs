using System.Globalization;

namespace CbpGpu.Physics;

/// <summary>
/// A table of friction values given instead of drawn (docs/friction.md#friction-tables): one line per seed (data line k
/// is seed k), the values of that seed's run in order, separated by commas or white space. Blank lines and lines
/// starting with '#' are skipped and not counted. The authors drew one such table (100 seeds x 50 values) and used it
/// for every method, so a seed meets the same frictions whatever the method.
/// </summary>
public static class FrictionTable
{
    /// <summary>
    /// The row of <paramref name="seed"/>, with at least <paramref name="valuesNeeded"/> values. Every problem is a
    /// <see cref="FormatException"/> whose one-line message names the file, the line and the fix.
    /// </summary>
    public static double[] ReadRow(string path, ulong seed, int valuesNeeded)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"cannot read the friction table {path}: {e.Message}");
        }
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
                    throw new FormatException($"{path}, line {i + 1} (seed {seed}), value {k + 1}: '{fields[k]}' is not a friction (a finite number > 0)");
            if (values.Length < valuesNeeded)
                throw new FormatException($"{path}, line {i + 1} (seed {seed}) has {values.Length} values but this run needs {valuesNeeded}; add values or train fewer steps");
            return values;
        }
        throw new FormatException($"{path} has {row} rows of values, so none for seed {seed} (data line {seed + 1}); add rows or use a seed below {row}");
    }

    /// <summary>How many values a run of <paramref name="totalSteps"/> env steps can use: the first one plus one per change.</summary>
    public static int ValuesNeeded(FrictionConfig config, long totalSteps) =>
        config.Protocol == FrictionProtocol.Constant ? 1 : (int)Math.Min(int.MaxValue, totalSteps / config.ChangeEverySteps + 1);
}
