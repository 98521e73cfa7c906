using System.Text.Json.Nodes;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// How `Runner plot` groups runs into lines (docs/sweeps.md#figures): runs whose config.json is the same but for the
/// seed and what never changes results are one configuration, one line, its runs the seeds averaged over. A line is
/// labelled by its method and, when the method has several lines (a grid), by the flags whose values differ between
/// them, each value in its one spelling: "cbp maturity=500 replacement-rate=1e-3". The configuration is read from
/// each run's config.json, not from directory names, so runs from any directories group by what they ran.
/// </summary>
public static class PlotLines
{
    /// <summary>config.json fields outside a configuration: the seed, the friction values read for it (--frictions: one row per seed), and what a resume may change, which never changes results.</summary>
    private static readonly string[] NotConfiguration = ["Run.Seed", "Env.Friction.Table", .. TrainConfig.ResumeMayChange];

    /// <summary>The flags for those fields (and the flags <see cref="TrainCommand.FlagsFor"/> gives for them), never in a label.</summary>
    private static readonly string[] NotLabelled = ["--seed", "--steps", "--threads", "--checkpoint-every", "--checkpoint-minutes", "--device"];

    /// <summary>Each config's line label, and each line's rank in the figures' order (method, then the differing values, numbers by size).</summary>
    public static (string[] Labels, int[] Ranks) For(IReadOnlyList<TrainConfig> configs)
    {
        var train = new TrainCommand();
        string[] keys = [.. configs.Select(Key)];
        var distinct = keys.Distinct().ToList();
        var lines = distinct.Select(k => configs[Array.IndexOf(keys, k)]).Select(c => new Line(
            PlotRun.MethodWord(c.Ppo.Method),
            train.FlagsFor(c).Where(f => !NotLabelled.Contains(f.Option.Name)).ToDictionary(f => f.Option.Name, f => string.Join(' ', f.Values)))).ToList();
        var labelOf = new Dictionary<Line, string>();
        var ordered = new List<Line>();
        foreach (var method in lines.Select(l => l.Method).Distinct().OrderBy(m => MethodRegistry.FindWord(m)!.Order))
        {
            var same = lines.Where(l => l.Method == method).ToList();
            // Flags in FlagsFor's order whose value is not the same in every line of this method (absent counts as a value).
            var differing = same.SelectMany(l => l.Flags.Keys).Distinct()
                .Where(f => same.Select(l => l.Flags.GetValueOrDefault(f)).Distinct().Count() > 1).ToList();
            same = [.. same.Order(Comparer<Line>.Create((a, b) => Compare(a, b, differing)))];   // stable: ties keep the order found
            string Label(Line line, Func<string, bool> shown) => string.Join(' ', differing.Where(f => line.Flags.ContainsKey(f) && shown(f))
                .Select(f => $"{f[2..]}={Spelled(f, line.Flags[f])}").Prepend(method));
            foreach (var line in same) labelOf[line] = Label(line, _ => true);
            // Lines of different presets differ in every flag a preset sets (20 or more between learners, issue 25): each
            // is labelled by its presets and the flags whose values its presets do not give, when that still tells them apart.
            if (differing.Any(Presets.Contains))
            {
                var shortLabels = same.ToDictionary(l => l, l =>
                {
                    var implied = Implied(l.Flags);
                    // --learner too is left out where the preset gives it (FlagsFor names it, so Implied has it).
                    return Label(l, f => (Presets.Contains(f) && f != "--learner") || !implied.TryGetValue(f, out string? v) || v != l.Flags[f]);
                });
                if (shortLabels.Values.Distinct().Count() == same.Count)
                    foreach (var line in same) labelOf[line] = shortLabels[line];
            }
            // Lines that differ only where no flag reaches (settings of a hand-written config.json) are told apart by number.
            foreach (var clash in same.GroupBy(l => labelOf[l]).Where(g => g.Count() > 1))
            {
                int n = 0;
                foreach (var line in clash) labelOf[line] = $"{clash.Key} #{++n}";
            }
            ordered.AddRange(same);
        }
        return ([.. keys.Select(k => labelOf[lines[distinct.IndexOf(k)]])], [.. keys.Select(k => ordered.IndexOf(lines[distinct.IndexOf(k)]))]);
    }

    /// <summary>The flags that choose presets, always in a label where they differ.</summary>
    private static readonly string[] Presets = ["--preset", "--learner", "--friction"];

    /// <summary>
    /// The flags `train` gives with only this configuration's method, --preset and --friction, by name (none when they
    /// cannot run alone). Its --learner is among them (the preset's own, what `train` takes when --learner is not given),
    /// so a line names its learner only where it is not its preset's.
    /// </summary>
    private static Dictionary<string, string> Implied(Dictionary<string, string> flags)
    {
        string[] args = ["train", .. new[] { "--method", "--preset", "--friction" }.Where(flags.ContainsKey).SelectMany(f => new[] { f, flags[f] }), "--out", "."];
        var parsed = RunnerCommandLine.Create().Parse(args);
        if (parsed.Errors.Count > 0 || parsed.CommandResult.Command is not TrainCommand train) return [];
        try
        {
            return train.FlagsFor(train.Read(parsed).Config).ToDictionary(f => f.Option.Name, f => string.Join(' ', f.Values));
        }
        catch (UsageException)
        {
            return [];
        }
    }

    /// <summary>One configuration: its method and the flags that ask for it (less <see cref="NotLabelled"/>), values as FlagsFor writes them.</summary>
    private sealed class Line(string method, Dictionary<string, string> flags)
    {
        public string Method { get; } = method;
        public Dictionary<string, string> Flags { get; } = flags;
    }

    /// <summary>The value in its one spelling; as config.json gives it when no flag reads it (a hand-written file's value out of the flag's range).</summary>
    private static string Spelled(string flag, string value)
    {
        try
        {
            return FlagValue.Canonical(flag, value);
        }
        catch (UsageException)
        {
            return value;
        }
    }

    /// <summary>config.json without the fields outside a configuration.</summary>
    private static string Key(TrainConfig config)
    {
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        foreach (string path in NotConfiguration)
        {
            string[] parts = path.Split('.');
            JsonObject? node = json;
            for (int i = 0; i < parts.Length - 1 && node is not null; i++) node = node[parts[i]] as JsonObject;
            node?.Remove(parts[^1]);
        }
        return json.ToJsonString();
    }

    /// <summary>By the differing flags in turn: absent first, numbers by size, words in ordinal order.</summary>
    private static int Compare(Line a, Line b, List<string> differing)
    {
        foreach (string flag in differing)
        {
            string? x = a.Flags.GetValueOrDefault(flag), y = b.Flags.GetValueOrDefault(flag);
            int c = (x, y) switch
            {
                (null, null) => 0,
                (null, _) => -1,
                (_, null) => 1,
                _ when ScaledNumber.TryParse(x, out double u) && ScaledNumber.TryParse(y, out double v) => u.CompareTo(v),
                _ => string.CompareOrdinal(x, y),
            };
            if (c != 0) return c;
        }
        return 0;
    }
}
