using System.Globalization;

namespace CbpGpu.Agent.Settings;

/// <summary>How a setting's flag reads its value (the Runner turns each into a System.CommandLine option).</summary>
public enum SettingKind
{
    /// <summary>A number in [Min, Max] (1e-4, 2k, ...).</summary>
    Real,

    /// <summary>A whole number in [Min, Max].</summary>
    Count,

    /// <summary>true or false.</summary>
    Switch,

    /// <summary>One of <see cref="Setting.Choices"/>' words (the first word of a value is its spelling).</summary>
    Choice,
}

/// <summary>
/// One setting of a settings record, declared once (docs/extending.md#settings): its flag, the words its help shows,
/// its help text, how its value is read, its config.json key, and how it is read from and written into the record.
/// The CLI option, its --help default, --config (a file's value given as this flag), sweep grids and plot labels all
/// derive from this declaration.
/// </summary>
public sealed class Setting
{
    public required string Flag { get; init; }
    public required string HelpName { get; init; }
    public required string Help { get; init; }

    /// <summary>The record's property (config.json key inside its block).</summary>
    public required string JsonName { get; init; }

    public required SettingKind Kind { get; init; }
    public double Min { get; init; }
    public double Max { get; init; }
    public IReadOnlyList<(string Word, object Value)> Choices { get; init; } = [];

    /// <summary>The value in <paramref name="settings"/> (boxed: double, int, bool or the choice's value).</summary>
    public required Func<object, object> Get { get; init; }

    /// <summary><paramref name="settings"/> with this setting set to the value.</summary>
    public required Func<object, object, object> With { get; init; }

    /// <summary>The value as the flag spells it (exactly, so that the flag reads it back to the same value).</summary>
    public string Format(object value) => Kind switch
    {
        SettingKind.Real => ((double)value).ToString("R", CultureInfo.InvariantCulture),
        SettingKind.Count => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        SettingKind.Switch => (bool)value ? "true" : "false",
        _ => WordFor(value),
    };

    /// <summary>The first word of a choice's value.</summary>
    public string WordFor(object value)
    {
        foreach (var (word, v) in Choices)
            if (Equals(v, value)) return word;
        throw new ArgumentException($"{value} is not a choice of {Flag}", nameof(value));
    }
}

/// <summary>Typed declarations of <see cref="Setting"/> over the settings record <typeparamref name="T"/>.</summary>
public static class Setting<T> where T : class
{
    public static Setting Real(string flag, string helpName, string help, string json, double min, double max, Func<T, double> get, Func<T, double, T> with) => new()
    {
        Flag = flag, HelpName = helpName, Help = help, JsonName = json, Kind = SettingKind.Real, Min = min, Max = max,
        Get = s => get((T)s), With = (s, v) => with((T)s, (double)v),
    };

    public static Setting Count(string flag, string helpName, string help, string json, int min, int max, Func<T, int> get, Func<T, int, T> with) => new()
    {
        Flag = flag, HelpName = helpName, Help = help, JsonName = json, Kind = SettingKind.Count, Min = min, Max = max,
        Get = s => get((T)s), With = (s, v) => with((T)s, (int)v),
    };

    public static Setting Switch(string flag, string help, string json, Func<T, bool> get, Func<T, bool, T> with) => new()
    {
        Flag = flag, HelpName = "true|false", Help = help, JsonName = json, Kind = SettingKind.Switch,
        Get = s => get((T)s), With = (s, v) => with((T)s, (bool)v),
    };

    public static Setting Choice<TValue>(string flag, string help, string json, (string Word, TValue Value)[] choices, Func<T, TValue> get, Func<T, TValue, T> with)
        where TValue : notnull => new()
    {
        Flag = flag, HelpName = string.Join('|', choices.Select(c => c.Word)), Help = help, JsonName = json, Kind = SettingKind.Choice,
        Choices = [.. choices.Select(c => (c.Word, (object)c.Value))],
        Get = s => get((T)s)!, With = (s, v) => with((T)s, (TValue)v),
    };
}
