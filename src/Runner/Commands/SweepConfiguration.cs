namespace CbpGpu.Runner.Commands;

/// <summary>
/// One point of a sweep's grid: the train flags and values its runs add, sorted by flag, each value in its one
/// spelling (<see cref="Cli.FlagValue"/>). Its <see cref="Name"/> names the runs' directory, DIR/(method)/(name)/seed-(n)/,
/// so the order the grid was written in does not matter (docs/sweeps.md#grids). Without a grid a sweep has one,
/// empty, configuration and the plain layout DIR/(method)/seed-(n)/.
/// </summary>
public sealed record SweepConfiguration
{
    public SweepConfiguration(IEnumerable<(string Flag, string Value)> settings) =>
        Settings = [.. settings.OrderBy(s => s.Flag, StringComparer.Ordinal)];

    /// <summary>(flag with its dashes, value), sorted by flag.</summary>
    public IReadOnlyList<(string Flag, string Value)> Settings { get; }

    public bool IsEmpty => Settings.Count == 0;

    /// <summary>"maturity=500,replacement-rate=1e-3": flags without their dashes; "" when empty.</summary>
    public string Name => string.Join(',', Settings.Select(s => $"{s.Flag[2..]}={s.Value}"));

    /// <summary>The arguments that ask `train` for this configuration.</summary>
    public IEnumerable<string> Args => Settings.SelectMany(s => new[] { s.Flag, s.Value });

    public bool Equals(SweepConfiguration? other) => other is not null && Name == other.Name;

    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
}
