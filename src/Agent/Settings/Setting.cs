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

    /// <summary>A whole number in [Min, Max] held as a long (step counts, seeds).</summary>
    LongCount,

    /// <summary>`off` or a finite number &gt; 0; off is held as +infinity (--max-grad-norm).</summary>
    OffOrReal,

    /// <summary>Any text but an empty one (a file name or a word, --frictions).</summary>
    Text,
}

/// <summary>
/// One setting of a settings record, declared once (docs/extending.md#settings): its flag, the words its help shows,
/// its help text, how its value is read, its config.json key, and how it is read from and written into the record.
/// The CLI option, its --help default, --config (a file's value given as this flag), sweep grids and plot labels all
/// derive from this declaration.
/// </summary>
public sealed record Setting
{
    public required string Flag { get; init; }
    public required string HelpName { get; init; }
    public required string Help { get; init; }

    /// <summary>The record's property (config.json key inside its block; dotted inside a nested record: Network.Activation).</summary>
    public required string JsonName { get; init; }

    /// <summary>
    /// The value when the flag is left out, where neither a preset nor a rule gives one (--help shows it as the
    /// option's default); null: a preset gives it (each preset's value is in --help) or a rule does (<see cref="DefaultNote"/>).
    /// </summary>
    public object? Default { get; init; }

    /// <summary>How --help says where the default comes from, when a rule of the command picks it (" (default: the preset's ...)").</summary>
    public string DefaultNote { get; init; } = "";

    /// <summary>
    /// The value is read by a rule of the command because it depends on other settings (the preset's run length, the
    /// learner's envs, ...), not by setting the flag's value into the record alone.
    /// </summary>
    public bool ReadByRule { get; init; }

    /// <summary>Its default is each method's own, declared with the method's optimizer (Adam's learning rate, its L2).</summary>
    public bool PerMethod { get; init; }

    /// <summary>Whether the setting applies to a record: a flag that does not (--obs of a Bullet run) is not given for it.</summary>
    public Func<object, bool> AppliesTo { get; init; } = _ => true;

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
        SettingKind.Count or SettingKind.LongCount => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        SettingKind.Switch => (bool)value ? "true" : "false",
        SettingKind.OffOrReal => double.IsPositiveInfinity((double)value) ? Off : ((double)value).ToString("R", CultureInfo.InvariantCulture),
        SettingKind.Text => (string)value,
        _ => WordFor(value),
    };

    /// <summary>How an <see cref="SettingKind.OffOrReal"/> setting spells off.</summary>
    public const string Off = "off";

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

    public static Setting LongCount(string flag, string helpName, string help, string json, long min, long max, Func<T, long> get, Func<T, long, T> with) => new()
    {
        Flag = flag, HelpName = helpName, Help = help, JsonName = json, Kind = SettingKind.LongCount, Min = min, Max = max,
        Get = s => get((T)s), With = (s, v) => with((T)s, (long)v),
    };

    /// <summary>`off` or a number &gt; 0: <paramref name="get"/> and <paramref name="with"/> hold off as null.</summary>
    public static Setting OffOrReal(string flag, string help, string json, Func<T, double?> get, Func<T, double?, T> with) => new()
    {
        Flag = flag, HelpName = $"{Setting.Off}|N", Help = help, JsonName = json, Kind = SettingKind.OffOrReal, Min = 0, Max = double.PositiveInfinity,
        Get = s => get((T)s) ?? double.PositiveInfinity, With = (s, v) => with((T)s, double.IsFinite((double)v) ? (double)v : null),
    };

    public static Setting Text(string flag, string helpName, string help, string json, Func<T, string> get, Func<T, string, T> with) => new()
    {
        Flag = flag, HelpName = helpName, Help = help, JsonName = json, Kind = SettingKind.Text,
        Get = s => get((T)s), With = (s, v) => with((T)s, (string)v),
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
