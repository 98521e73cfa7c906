using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// Options whose parsing and error messages are the same in every command: counts and reals with a range (scaled
/// numbers accepted), text that must not be empty, booleans. Each error names the option and what it accepts.
/// </summary>
public static class OptionFactory
{
    public static Option<T> Count<T>(string name, string helpName, string description, T defaultValue, T min, T max)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T> => new(name)
    {
        HelpName = helpName,
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseCount(r, name, min, max),
    };

    /// <summary>A count whose default depends on other options: absent is null, and the description says the default.</summary>
    public static Option<T?> OptionalCount<T>(string name, string helpName, string description, T min, T max)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T> => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r => ParseCount(r, name, min, max),
    };

    public static Option<double> Real(string name, string helpName, string description, double defaultValue, double min, double max) => new(name)
    {
        HelpName = helpName,
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseReal(r, name, min, max),
    };

    /// <summary>A real whose default depends on other options: absent is null, and the description says the default.</summary>
    public static Option<double?> OptionalReal(string name, string helpName, string description, double min, double max) => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r => ParseReal(r, name, min, max),
    };

    /// <summary>`off` (read as +infinity) or a finite number &gt; 0: a limit that may be switched off (--max-grad-norm).</summary>
    public static Option<double?> OffOrPositive(string name, string helpName, string description) => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r =>
        {
            string text = r.Tokens[^1].Value;
            if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase)) return double.PositiveInfinity;
            if (ScaledNumber.TryParse(text, out double value) && value > 0 && double.IsFinite(value)) return value;
            r.AddError($"{name} must be off or a number > 0 (like 0.5), not '{text}'");
            return null;
        },
    };

    public static Option<string> Text(string name, string helpName, string description, bool required) => new(name)
    {
        HelpName = helpName,
        Description = description,
        Required = required,
        CustomParser = r =>
        {
            string value = r.Tokens[^1].Value;
            if (string.IsNullOrWhiteSpace(value)) r.AddError($"{name} needs a value, not an empty string");
            return value;
        },
    };

    /// <summary>A switch: absent is false; present alone or followed by true is true; followed by false is false.</summary>
    public static Option<bool> Switch(string name, string description) => new(name) { Description = description };

    /// <summary>A switch whose default depends on other options: absent is null; `--name`, `--name true`, `--name false`.</summary>
    public static Option<bool?> OptionalSwitch(string name, string description) => new(name)
    {
        HelpName = "true|false",
        Description = description,
    };

    private static T ParseCount<T>(ArgumentResult r, string name, T min, T max) where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        string text = r.Tokens[^1].Value;
        if (!ScaledNumber.TryParse(text, out double approximate) || approximate != Math.Floor(approximate))
        {
            r.AddError($"{name} must be a whole number (like 300k, 2M, 3e5 or 1_000_000), not '{text}'");
            return default;
        }
        if (approximate < double.CreateChecked(min) || approximate > double.CreateChecked(max))
        {
            r.AddError($"{name} must be {RangeText(double.CreateChecked(min), double.CreateChecked(max), T.MaxValue == max)}, not {text}");
            return default;
        }
        // Plain digits are read exactly: a double loses the last digits of counts above 2^53.
        return T.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out T exact)
            ? exact
            : T.CreateSaturating(approximate);
    }

    private static double ParseReal(ArgumentResult r, string name, double min, double max)
    {
        string text = r.Tokens[^1].Value;
        if (!ScaledNumber.TryParse(text, out double value))
        {
            r.AddError($"{name} must be a number (like 0.5, 1e-4 or 2k), not '{text}'");
            return default;
        }
        if (value < min || value > max)
        {
            r.AddError($"{name} must be {RangeText(min, max, double.IsPositiveInfinity(max))}, not {text}");
            return default;
        }
        return value;
    }

    private static string RangeText(double min, double max, bool openTop) =>
        openTop ? $"at least {ScaledNumber.Format(min)}" : $"between {ScaledNumber.Format(min)} and {ScaledNumber.Format(max)}";
}
