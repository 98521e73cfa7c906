using CbpGpu.Agent.Settings;

namespace CbpGpu.Agent.Methods;

/// <summary>
/// Every plasticity method train, sweep, --config, plots and resume know (docs/extending.md): each method's file
/// registers itself (the built-in ones when this assembly loads); a test or another assembly may register more.
/// </summary>
public static class MethodRegistry
{
    private static readonly Lock Gate = new();
    private static PlasticityMethod[] s_methods = [];

    /// <summary>In <see cref="PlasticityMethod.Order"/>.</summary>
    public static IReadOnlyList<PlasticityMethod> All => s_methods;

    /// <summary>Adds <paramref name="method"/>; a name, word or checkpoint block already taken by another method is refused.</summary>
    public static PlasticityMethod Register(PlasticityMethod method)
    {
        lock (Gate)
        {
            foreach (var m in s_methods)
            {
                if (string.Equals(m.Word, method.Word, StringComparison.OrdinalIgnoreCase) || m.Id == method.Id)
                    throw new ArgumentException($"a method named {method.Word} ({method.Id}) is already registered", nameof(method));
                if (m.Settings is not null && method.Settings is not null && m.Settings != method.Settings
                    && (m.Settings.JsonKey == method.Settings.JsonKey || m.Settings.PresetFlag == method.Settings.PresetFlag))
                    throw new ArgumentException($"{method.Word}'s settings block {method.Settings.JsonKey} is {m.Word}'s", nameof(method));
                if (m.CheckpointBlock is { } block && method.CheckpointBlock is { } mine && block.Name == mine.Name)
                    throw new ArgumentException($"{method.Word}'s checkpoint block {mine.Name} is {m.Word}'s", nameof(method));
            }
            if (method.IsDefault && s_methods.Any(m => m.IsDefault))
                throw new ArgumentException($"{method.Word} cannot be the default method: {Default.Word} is", nameof(method));
            s_methods = [.. s_methods.Append(method).OrderBy(m => m.Order)];
        }
        return method;
    }

    public static PlasticityMethod? Find(PpoMethod id) => Array.Find(s_methods, m => m.Id == id);

    /// <summary>The method config.json names; throws <see cref="ArgumentException"/> naming the registered ones when none is.</summary>
    public static PlasticityMethod Get(PpoMethod id) =>
        Find(id) ?? throw new ArgumentException($"method {id} is not registered (methods: {string.Join(", ", s_methods.Select(m => m.Id))})");

    /// <summary>By --method's word, any case.</summary>
    public static PlasticityMethod? FindWord(string word) => Array.Find(s_methods, m => string.Equals(m.Word, word, StringComparison.OrdinalIgnoreCase));

    public static PlasticityMethod Default => Array.Find(s_methods, m => m.IsDefault) ?? s_methods[0];

    /// <summary>The distinct settings schemas, in method order.</summary>
    public static IReadOnlyList<MethodSettingsSchema> Schemas => [.. s_methods.Where(m => m.Settings is not null).Select(m => m.Settings!).Distinct()];

    /// <summary>The methods whose settings <paramref name="schema"/> is.</summary>
    public static IEnumerable<PlasticityMethod> Using(MethodSettingsSchema schema) => s_methods.Where(m => m.Settings == schema);

    /// <summary>The Adam a learner preset gives <paramref name="method"/>.</summary>
    public static Kernels.AdamSettings AdamFor(PpoMethod method, bool seed2023) =>
        seed2023 ? Get(method).Seed2023Adam : Get(method).Nature2024Adam;

    /// <summary>Why <paramref name="config"/>'s method and its settings cannot run, or null.</summary>
    internal static string? Validate(TrainConfig config)
    {
        var method = Find(config.Ppo.Method);
        if (method is null) return $"method {config.Ppo.Method} is not registered (methods: {string.Join(", ", s_methods.Select(m => m.Id))})";
        var schema = method.Settings;
        if ((schema is null) != (config.MethodSettings is null))
            return schema is null ? $"settings of another method were given but the method is {method.Id}" : $"method {method.Id} needs {schema.Title} settings";
        if (schema is not null)
        {
            if (config.MethodSettings!.GetType() != schema.Type) return $"method {method.Id} needs {schema.Title} settings, not {config.MethodSettings.GetType().Name}";
            if (schema.Validate(config.MethodSettings) is string problem) return problem;
        }
        return method.Validate(config);
    }
}
