using System.CommandLine;
using System.Globalization;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// A `train` flag's value in its one spelling: read by train's own parser, then written back one way (1e-3 and 0.001
/// are 1e-3, 5k is 5000, --reset-adam-state true is all). Sweep grids name run directories with it and `Runner plot`
/// labels lines with it (docs/sweeps.md#grids), so one value never makes two directories or two labels.
/// </summary>
public static class FlagValue
{
    /// <summary>The spelling of <paramref name="text"/> as the value of train's <paramref name="flag"/> (e.g. --maturity); throws <see cref="UsageException"/> with train's own message when train refuses it.</summary>
    public static string Canonical(string flag, string text)
    {
        // --flag=value: a value that starts with '-' stays a value. The method whose settings the flag sets (if any) makes it acceptable.
        var train = new Commands.TrainCommand();
        var owner = train.MethodOptions.FirstOrDefault(m => m.All.Any(o => o.Name == flag));
        string method = (owner?.Methods[0] ?? Agent.Methods.MethodRegistry.Default).Word;
        var parsed = RunnerCommandLine.Create().Parse(["train", "--method", method, "--out", ".", $"{flag}={text}"]);
        if (parsed.Errors.Count > 0) throw new UsageException(ParseErrorMessage.Describe(parsed));
        var option = parsed.CommandResult.Command.Options.First(o => o.Name == flag);
        object? value = parsed.GetResult(option)?.GetValueOrDefault<object>();
        return value switch
        {
            bool b => b ? "true" : "false",
            int i => i.ToString(CultureInfo.InvariantCulture),
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => Number(d),
            string s => option is IChoiceWords choice ? choice.CanonicalWord(s) : s,
            _ => throw new UsageException($"{flag} needs a value, not '{text}'"),
        };
    }

    /// <summary>
    /// Whole numbers as digits (5000); others in [0.1, 1e6) as the shortest decimal that reads back exactly (0.25),
    /// the rest as the shortest mantissa that does, e ten's power (1e-3, 2.5e-8); +infinity is `off` (--max-grad-norm's).
    /// </summary>
    public static string Number(double value)
    {
        if (double.IsPositiveInfinity(value)) return "off";
        double magnitude = Math.Abs(value);
        if (value == Math.Floor(value) && magnitude < 1e15) return value.ToString("0", CultureInfo.InvariantCulture);
        if (magnitude is >= 0.1 and < 1e6) return value.ToString("R", CultureInfo.InvariantCulture);
        for (int digits = 0; ; digits++)
        {
            string e = value.ToString("E" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (double.Parse(e, NumberStyles.Float, CultureInfo.InvariantCulture) != value) continue;
            string[] parts = e.Split('E');
            string mantissa = parts[0].Contains('.') ? parts[0].TrimEnd('0').TrimEnd('.') : parts[0];
            return $"{mantissa}e{int.Parse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}";
        }
    }
}
