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

    /// <param name="defaults">Appended to the declared help: where the value comes from when the flag is left out.</param>
    public static SettingOption Create(Setting s, string defaults)
    {
        string help = s.Help + defaults;
        Option option = s.Kind switch
        {
            SettingKind.Real => OptionFactory.OptionalReal(s.Flag, s.HelpName, help, s.Min, s.Max),
            SettingKind.Count => OptionFactory.OptionalCount(s.Flag, s.HelpName, help, (int)s.Min, (int)s.Max),
            SettingKind.Switch => OptionFactory.OptionalSwitch(s.Flag, help),
            _ => new ChoiceOption<object>(s.Flag, help, defaultWord: null, [.. s.Choices]),
        };
        return new SettingOption(s, option);
    }

    /// <summary>The value given on the command line, or null when the flag was left out.</summary>
    public object? Read(ParseResult result) => Setting.Kind switch
    {
        SettingKind.Real => result.GetValue((Option<double?>)Option),
        SettingKind.Count => result.GetValue((Option<int?>)Option),
        SettingKind.Switch => result.GetValue((Option<bool?>)Option),
        _ => ((ChoiceOption<object>)Option).TryGet(result, out var value) ? value : null,
    };

    /// <summary>The value as --help shows a default.</summary>
    public static string Shown(Setting s, object value) => s.Kind switch
    {
        SettingKind.Real => ScaledNumber.Format((double)value),
        SettingKind.Count => ((int)value).ToString("N0", CultureInfo.InvariantCulture),
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
