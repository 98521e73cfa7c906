using System.Text.RegularExpressions;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// `sweep --grid` or `--grid-file` (docs/sweeps.md#grids): axes of train flags, whose product is the sweep's
/// configurations. An axis is one flag and its values, `maturity=500,5000`, or flags that vary together and their
/// tuples, `replacement-rate,maturity=1e-3:500,1e-4:5000`; axes are separated by whitespace (a file's lines), `#`
/// starts a comment; flags are named without their dashes. Each value is read by train's own parser and kept in its one
/// spelling, which names directories.
/// </summary>
public sealed partial class SweepGrid
{
    /// <summary>At most this many configurations: a typo such as a long list pasted twice should not plan a million runs.</summary>
    public const int MaxConfigurations = 100_000;

    private readonly List<Axis> _axes;

    /// <summary>Flags that vary together and their tuples, values in their one spelling, in the order given.</summary>
    private sealed record Axis(string[] Flags, List<string[]> Tuples);

    private SweepGrid(List<Axis> axes) => _axes = axes;

    /// <summary>No grid: one empty configuration, the plain layout.</summary>
    public static SweepGrid None { get; } = new([]);

    public bool IsEmpty => _axes.Count == 0;

    /// <summary>Whether the grid sets <paramref name="flag"/> (with its dashes).</summary>
    public bool Varies(string flag) => _axes.Any(a => a.Flags.Contains(flag));

    /// <summary>Flags the sweep itself sets per run, with what to use instead.</summary>
    private static readonly Dictionary<string, string> Owned = new()
    {
        ["--method"] = "the sweep's own: list methods with --methods",
        ["--seed"] = "the sweep's own: list seeds with --seeds",
        ["--out"] = "the sweep's own: each run's directory is named by the sweep",
        ["--resume"] = "the sweep's own: every run continues when its directory holds one",
        ["--resume-if-present"] = "the sweep's own: every run continues when its directory holds one",
        [ConfigArguments.Name] = "not a setting: give one --config FILE for all runs and vary its settings by their flags",
    };

    /// <summary>
    /// Reads and checks a grid; every problem is a <see cref="UsageException"/> starting with <paramref name="source"/>
    /// and naming the axis or value. <paramref name="flags"/> are train's per-run options, <paramref name="noMethodTakes"/>
    /// says why a flag applies to none of the sweep's methods (null: some takes it), <paramref name="given"/> the per-run flags also given on their own.
    /// </summary>
    public static SweepGrid Parse(string text, string source, IReadOnlyCollection<string> flags, Func<string, string?> noMethodTakes,
        IReadOnlyCollection<string> given)
    {
        UsageException Fail(string problem) => new($"{source}: {problem}");
        string[] words = Words(text);
        if (words.Length == 0) throw Fail("names no flags; write flag=value,value [flag=value,...] (docs/sweeps.md#grids)");
        var axes = new List<Axis>();
        var seen = new HashSet<string>();
        long configurations = 1;
        foreach (string word in words)
        {
            int equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0) throw Fail($"'{word}' is not flag=value,value (or flag,flag=value:value,value:value)");
            var axisFlags = new List<string>();
            foreach (string key in word[..equals].Split(','))
            {
                if (key.Length == 0) throw Fail($"'{word}' has an empty flag name before '='");
                // One spelling of a flag in a grid; a --grid value starting with -- would also be taken for an option.
                if (key.StartsWith('-')) throw Fail($"write flag names without their dashes: {key.TrimStart('-')}, not {key}");
                string flag = "--" + key, bare = key;
                if (Owned.TryGetValue(flag, out string? why)) throw Fail($"{bare} is {why}");
                if (!flags.Contains(flag))
                {
                    string near = ParseErrorMessage.Nearest(bare, flags.Select(f => f[2..])) is string n ? $"; did you mean {n}?" : "";
                    throw Fail($"unknown train flag '{bare}'{near} (see 'Runner train --help')");
                }
                if (!seen.Add(flag)) throw Fail($"{bare} is named twice; name each flag once (flags that vary together go in one axis: a,b=1:2,3:4)");
                if (given.Contains(flag)) throw Fail($"{bare} is also given as {flag}; drop one");
                if (noMethodTakes(flag) is string notTaken) throw Fail($"{bare} {notTaken}");
                axisFlags.Add(flag);
            }
            string names = string.Join(',', axisFlags.Select(f => f[2..]));
            string list = word[(equals + 1)..];
            if (list.Length == 0) throw Fail($"{names}= lists no values");
            var tuples = new List<string[]>();
            var spelledAs = new Dictionary<string, string>();
            foreach (string item in list.Split(','))
            {
                if (item.Length == 0) throw Fail($"'{word}' has an empty value (two commas, or one at an end)");
                string[] parts = axisFlags.Count == 1 ? [item] : item.Split(':');
                if (parts.Length != axisFlags.Count)
                    throw Fail($"'{item}' in '{word}' is not {axisFlags.Count} values joined by ':' (one per flag: {string.Join(':', axisFlags.Select(f => f[2..]))})");
                var tuple = new string[parts.Length];
                for (int k = 0; k < parts.Length; k++)
                {
                    string bare = axisFlags[k][2..];
                    if (parts[k].Length == 0) throw Fail($"'{item}' in '{word}' has an empty value for {bare}");
                    try
                    {
                        tuple[k] = FlagValue.Canonical(axisFlags[k], parts[k]);
                    }
                    catch (UsageException e)
                    {
                        throw Fail($"{bare}={parts[k]}: {e.Message}");
                    }
                    if (!SafeName().IsMatch(tuple[k]))
                        throw Fail($"{bare}={parts[k]}: a grid value names run directories, so it may hold only letters, digits and . _ + -; give this flag on its own instead");
                }
                string spelling = string.Join(':', tuple);
                if (spelledAs.TryGetValue(spelling, out string? first))
                    throw Fail($"{names} lists {spelling} twice ({(first == item ? item : $"as {first} and {item}")}); list each value once");
                spelledAs[spelling] = item;
                tuples.Add(tuple);
            }
            configurations *= tuples.Count;
            if (configurations > MaxConfigurations) throw Fail($"makes more than {MaxConfigurations:N0} configurations");
            axes.Add(new Axis([.. axisFlags], tuples));
        }
        return new SweepGrid(axes);
    }

    /// <summary>
    /// The configurations of a method's runs: the product of the axes (the first axis varies slowest), each axis
    /// keeping only the flags <paramref name="applies"/> to this method. So CBP-only flags vary cbp runs only, and
    /// a method that takes none of the grid's flags runs once per seed, in the plain layout.
    /// </summary>
    public IReadOnlyList<SweepConfiguration> ConfigurationsFor(Func<string, bool> applies)
    {
        var points = new List<List<(string, string)>> { new() };
        foreach (var axis in _axes)
        {
            int[] kept = [.. Enumerable.Range(0, axis.Flags.Length).Where(k => applies(axis.Flags[k]))];
            if (kept.Length == 0) continue;
            var tuples = axis.Tuples.Select(t => kept.Select(k => (axis.Flags[k], t[k])).ToList())
                .DistinctBy(t => string.Join(':', t.Select(s => s.Item2))).ToList();
            points = [.. points.SelectMany(p => tuples.Select(t => p.Concat(t).ToList()))];
        }
        return [.. points.Select(p => new SweepConfiguration(p))];
    }

    /// <summary>The grid in its one spelling, as --grid would take it: "maturity=500,5000 replacement-rate=1e-3,1e-4".</summary>
    public override string ToString() => string.Join(' ', _axes.Select(a =>
        $"{string.Join(',', a.Flags.Select(f => f[2..]))}={string.Join(',', a.Tuples.Select(t => string.Join(':', t)))}"));

    /// <summary>The flags a grid text names, read without checking it (for --config, whose file leaves these flags to the grid).</summary>
    public static IEnumerable<string> FlagsNamed(string text) =>
        Words(text).Where(w => w.Contains('=', StringComparison.Ordinal))
            .SelectMany(w => w[..w.IndexOf('=', StringComparison.Ordinal)].Split(','))
            .Where(k => k.Length > 0)
            .Select(k => "--" + k);

    /// <summary>The axes: comments dropped, whitespace next to = , : ignored, the rest split on whitespace.</summary>
    private static string[] Words(string text)
    {
        string withoutComments = Comment().Replace(text, "");
        return Separator().Replace(withoutComments, "$1").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    [GeneratedRegex("#[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"\s*([=,:])\s*")]
    private static partial Regex Separator();

    [GeneratedRegex(@"^[A-Za-z0-9._+-]+$")]
    private static partial Regex SafeName();
}
