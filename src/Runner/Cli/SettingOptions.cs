using System.CommandLine;
using System.Globalization;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;

namespace CbpGpu.Runner.Cli;

/// <summary>The System.CommandLine option of one declared <see cref="Setting"/>: its parser, range and help from the declaration.</summary>
public sealed class SettingOption
{
    private SettingOption(Setting setting, Option option)
    {
        Setting = setting;
        Option = option;
    }

    public Setting Setting { get; }
    public Option Option { get; }

    /// <param name="defaults">
    /// Appended to the declared help: where the value comes from when the flag is left out. A setting with a fixed
    /// <see cref="Setting.Default"/> has its option's default instead, which --help shows.
    /// </param>
    public static SettingOption Create(Setting s, string defaults)
    {
        string help = s.Help + defaults;
        Option option = (s.Kind, s.Default) switch
        {
            (SettingKind.Real, double d) => OptionFactory.Real(s.Flag, s.HelpName, help, d, s.Min, s.Max),
            (SettingKind.Real, _) => OptionFactory.OptionalReal(s.Flag, s.HelpName, help, s.Min, s.Max),
            (SettingKind.Count, int d) => OptionFactory.Count(s.Flag, s.HelpName, help, d, (int)s.Min, (int)s.Max),
            (SettingKind.Count, _) => OptionFactory.OptionalCount(s.Flag, s.HelpName, help, (int)s.Min, (int)s.Max),
            (SettingKind.LongCount, long d) => OptionFactory.Count(s.Flag, s.HelpName, help, d, Long(s.Min), Long(s.Max)),
            (SettingKind.LongCount, _) => OptionFactory.OptionalCount(s.Flag, s.HelpName, help, Long(s.Min), Long(s.Max)),
            // A switch that is off unless given: `--flag` alone (a preset's switch takes true|false).
            (SettingKind.Switch, false) => OptionFactory.Switch(s.Flag, help),
            (SettingKind.Switch, _) => OptionFactory.OptionalSwitch(s.Flag, help),
            (SettingKind.OffOrReal, _) => OptionFactory.OffOrPositive(s.Flag, s.HelpName, help),
            (SettingKind.Text, _) => OptionFactory.Text(s.Flag, s.HelpName, help, required: false),
            _ => new ChoiceOption<object>(s.Flag, help, s.Default is { } word ? s.WordFor(word) : null, [.. s.Choices]),
        };
        return new SettingOption(s, option);
    }

    /// <summary>A long bound held as a double: long.MaxValue rounds up to 2^63, which no long holds.</summary>
    private static long Long(double bound) => bound >= long.MaxValue ? long.MaxValue : (long)bound;

    /// <summary>The value given on the command line (else the fixed default), or null when the flag was left out and has none.</summary>
    public object? Read(ParseResult result) => Option switch
    {
        ChoiceOption<object> choice => choice.TryGet(result, out var value) ? value : null,
        Option<double?> o => result.GetValue(o),
        Option<double> o => result.GetValue(o),
        Option<int?> o => result.GetValue(o),
        Option<int> o => result.GetValue(o),
        Option<long?> o => result.GetValue(o),
        Option<long> o => result.GetValue(o),
        Option<bool?> o => result.GetValue(o),
        Option<bool> o => result.GetValue(o),
        Option<string> o => result.GetValue(o),
        _ => throw new InvalidOperationException($"{Option.Name}: no reader for {Option.GetType().Name}"),
    };

    /// <summary>Whether the flag was given on the command line (not its default).</summary>
    public bool Given(ParseResult result) => result.GetResult(Option) is { Implicit: false };

    /// <summary>The value as --help shows a default.</summary>
    public static string Shown(Setting s, object value) => s.Kind switch
    {
        SettingKind.Real => ScaledNumber.Format((double)value),
        SettingKind.Count => ((int)value).ToString("N0", CultureInfo.InvariantCulture),
        SettingKind.LongCount => ((long)value).ToString("N0", CultureInfo.InvariantCulture),
        SettingKind.OffOrReal => double.IsPositiveInfinity((double)value) ? Setting.Off : ScaledNumber.Format((double)value),
        _ => s.Format(value),
    };
}

/// <summary>A method settings schema's options: its preset flag and one flag per field (docs/extending.md#settings).</summary>
public sealed class MethodSettingsOptions
{
    public MethodSettingsOptions(MethodSettingsSchema schema)
    {
        Schema = schema;
        Preset = new ChoiceOption<object>(schema.PresetFlag, schema.PresetHelp, defaultWord: null, [.. schema.Presets]);
        Methods = [.. MethodRegistry.Using(schema)];
        Settings = [.. schema.Settings.Select(s => SettingOption.Create(s,
            $" (default from {schema.PresetFlag}: {string.Join(", ", schema.Presets.Select(p => $"{p.Word} {SettingOption.Shown(s, s.Get(p.Value))}"))}{OwnDefaults(s)})"))];
    }

    /// <summary>"; WORD: VALUE" for each method sharing the schema that takes the presets with another value of <paramref name="s"/>.</summary>
    private string OwnDefaults(Setting s) => string.Concat(Methods
        .Select(m => (m.Word, Values: Schema.Presets.Select(p => s.Get(m.TakePreset(p.Value))).ToArray()))
        .Where(m => !m.Values.SequenceEqual(Schema.Presets.Select(p => s.Get(p.Value))))
        .Select(m => $"; {m.Word}: {string.Join(", ", m.Values.Distinct().Select(v => SettingOption.Shown(s, v)))}"));

    public MethodSettingsSchema Schema { get; }
    public ChoiceOption<object> Preset { get; }
    public IReadOnlyList<SettingOption> Settings { get; }

    /// <summary>The methods these options apply to.</summary>
    public IReadOnlyList<PlasticityMethod> Methods { get; }

    public IEnumerable<Option> All => [Preset, .. Settings.Select(s => s.Option)];

    /// <summary>"--method cbp" (or "--method a or b"): who these options apply to, for messages.</summary>
    public string MethodsText => $"--method {string.Join(" or ", Methods.Select(m => m.Word))}";

    /// <summary>The given preset (else <paramref name="method"/>'s default under --preset <paramref name="envPreset"/>) with each flag given overriding its field.</summary>
    public object Read(ParseResult result, PlasticityMethod method, string envPreset)
    {
        object settings = Preset.TryGet(result, out var preset) ? method.TakePreset(preset) : method.DefaultSettings(envPreset)!;
        foreach (var s in Settings)
            if (s.Read(result) is { } value) settings = s.Setting.With(settings, value);
        return settings;
    }

    /// <summary>The flags that ask for <paramref name="settings"/>, each field given explicitly.</summary>
    public IEnumerable<(Option Option, string[] Values)> FlagsFor(object settings) =>
        Settings.Select(s => (s.Option, new[] { s.Setting.Format(s.Setting.Get(settings)) }));
}
