using System.Globalization;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// The flags of one subcommand, as "--name value" pairs and bare "--switch"es. Each getter validates
/// and marks its flag as used, so <see cref="EnsureAllUsed"/> can reject typos instead of ignoring them.
/// </summary>
public sealed class CliArgs
{
    private readonly string _command;
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CliArgs(string command, IReadOnlyList<string> args)
    {
        _command = command;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length < 3)
                throw new UsageException($"{command}: unexpected argument '{a}'; flags look like --name value (see '{command} --help')");
            string name = a;
            string? value = null;
            int eq = a.IndexOf('=');
            if (eq > 0) { name = a[..eq]; value = a[(eq + 1)..]; }
            else if (i + 1 < args.Count && !IsFlag(args[i + 1])) value = args[++i];
            if (_values.ContainsKey(name))
                throw new UsageException($"{command}: {name} given twice; give it once");
            _values[name] = value;
        }
    }

    private static bool IsFlag(string s) =>
        s.StartsWith("--", StringComparison.Ordinal) && s.Length > 2 && !char.IsDigit(s[2]) && s[2] != '.';

    public bool HelpRequested => _values.ContainsKey("--help") || _values.ContainsKey("-h");

    public bool Has(string name) => _values.ContainsKey(name);

    public bool GetSwitch(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return false;
        if (v is null) return true;
        return v.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new UsageException($"{_command}: {name} takes true or false, not '{v}'"),
        };
    }

    public string? GetOptionalString(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return null;
        if (string.IsNullOrWhiteSpace(v)) throw new UsageException($"{_command}: {name} needs a value");
        return v;
    }

    public string GetString(string name, string? defaultValue = null) =>
        GetOptionalString(name) ?? defaultValue
        ?? throw new UsageException($"{_command}: {name} is required (see '{_command} --help')");

    public string GetChoice(string name, string defaultValue, params string[] choices)
    {
        string v = GetString(name, defaultValue);
        foreach (var c in choices)
            if (string.Equals(c, v, StringComparison.OrdinalIgnoreCase)) return c;
        throw new UsageException($"{_command}: {name} must be one of {string.Join("|", choices)}, not '{v}'");
    }

    public long GetLong(string name, long? defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        string? s = GetOptionalString(name);
        if (s is null)
            return defaultValue ?? throw new UsageException($"{_command}: {name} is required (see '{_command} --help')");
        s = s.Replace("_", "", StringComparison.Ordinal);
        long v;
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v))
        {
            // Accept 3e5 and 2M/300k: step counts are usually written that way.
            if (TryParseScaled(s, out double d) && d == Math.Floor(d) && d >= long.MinValue && d <= long.MaxValue) v = (long)d;
            else throw new UsageException($"{_command}: {name} must be a whole number, not '{s}'");
        }
        if (v < min || v > max)
            throw new UsageException($"{_command}: {name} must be between {min} and {max}, not {v}");
        return v;
    }

    public int GetInt(string name, int? defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(name, defaultValue, min, max);

    public double GetDouble(string name, double? defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        string? s = GetOptionalString(name);
        if (s is null)
            return defaultValue ?? throw new UsageException($"{_command}: {name} is required (see '{_command} --help')");
        if (!TryParseScaled(s, out double v) || !double.IsFinite(v))
            throw new UsageException($"{_command}: {name} must be a finite number, not '{s}'");
        if (v < min || v > max)
            throw new UsageException($"{_command}: {name} must be between {min} and {max}, not {s}");
        return v;
    }

    private static bool TryParseScaled(string s, out double v)
    {
        double scale = 1;
        if (s.Length > 1)
        {
            char last = char.ToLowerInvariant(s[^1]);
            if (last == 'k') scale = 1e3;
            else if (last == 'm') scale = 1e6;
            else if (last == 'g') scale = 1e9;
            if (scale != 1) s = s[..^1];
        }
        bool ok = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
        v *= scale;
        return ok;
    }

    /// <summary>Call after reading every flag: an unknown flag is a typo, and a typo must not become a silent default.</summary>
    public void EnsureAllUsed()
    {
        foreach (var name in _values.Keys)
            if (!_used.Contains(name) && name is not "--help" and not "-h")
                throw new UsageException($"{_command}: unknown flag {name} (see '{_command} --help')");
    }
}
