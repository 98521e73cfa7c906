using System.Globalization;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// Numbers as people write step counts: 2M, 300k, 3e5, 1_000_000 (suffixes k, M, G, any case; '_' groups
/// digits; '.' is the decimal point whatever the culture). Printing uses the same conventions.
/// </summary>
public static class ScaledNumber
{
    public static bool TryParse(string text, out double value)
    {
        string s = text.Replace("_", "", StringComparison.Ordinal);
        double scale = 1;
        if (s.Length > 1)
        {
            scale = char.ToLowerInvariant(s[^1]) switch { 'k' => 1e3, 'm' => 1e6, 'g' => 1e9, _ => 1 };
            if (scale != 1) s = s[..^1];
        }
        bool ok = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
        value *= scale;
        return ok;
    }

    /// <summary>Exact integers as themselves (with ',' groups from 10,000 on), others in short 'G' or 1e-6 form.</summary>
    public static string Format(double value)
    {
        double magnitude = Math.Abs(value);
        if (value == Math.Floor(value) && magnitude < 1e15)
            return value.ToString(magnitude >= 10_000 ? "#,0" : "0", CultureInfo.InvariantCulture);
        return magnitude is > 0 and < 1e-3 ? value.ToString("0.###e0", CultureInfo.InvariantCulture)
            : value.ToString("G6", CultureInfo.InvariantCulture);
    }
}
