namespace CbpGpu.Physics;

/// <summary>A friction schedule. Values are 10^U(Log10Min, Log10Max), one per change, deterministic from the seed.</summary>
/// <param name="Protocol">Constant keeps <paramref name="ConstantFriction"/>; the others draw values.</param>
/// <param name="ConstantFriction">The friction of the Constant protocol (ignored by the others).</param>
/// <param name="Log10Min">Lower bound of log10(friction) for drawn values.</param>
/// <param name="Log10Max">Upper bound of log10(friction) for drawn values.</param>
/// <param name="ChangeEverySteps">A new value is drawn once this many env steps (summed over envs) have passed since the last draw.</param>
/// <param name="ChangeAtEpisodeEnd">True: each env adopts a new value at its own next episode end. False: all envs switch at once, mid-episode.</param>
/// <param name="Table">The values to use in order instead of drawing them (<see cref="FrictionTable"/>); null to draw.</param>
/// <param name="TableSource">Where <paramref name="Table"/> came from: <see cref="FrictionTable.Authors"/> (the shipped
/// authors' table, row = seed) or the file given to --frictions; null when the values are drawn (or the table was built in code).</param>
public sealed record FrictionConfig(
    FrictionProtocol Protocol, double ConstantFriction, double Log10Min, double Log10Max,
    long ChangeEverySteps, bool ChangeAtEpisodeEnd, double[]? Table = null, string? TableSource = null)
{
    /// <summary>Where this run's values come from, for the start line: "the authors' table, row 3", "table FILE, row 3" or "drawn from seed 3".</summary>
    public string DescribeValues(ulong seed) => Protocol == FrictionProtocol.Constant ? $"constant {ConstantFriction:G}"
        : TableSource is null ? $"drawn from seed {seed}"
        : TableSource == FrictionTable.Authors ? $"the authors' table, row {seed}"
        : $"table {TableSource}, row {seed}";

    public static FrictionConfig Nature2024 { get; } =
        new(FrictionProtocol.Nature2024, 1.0, Math.Log10(0.02), Math.Log10(2.0), 2_000_000, true);

    public static FrictionConfig Seed2023 { get; } =
        new(FrictionProtocol.Seed2023, 1.0, -4.0, 4.0, 10_000_000, false);

    public static FrictionConfig Constant(double f) =>
        new(FrictionProtocol.Constant, f, Math.Log10(f), Math.Log10(f), long.MaxValue, false);

    /// <summary>Value equality, the table compared by its values (a record would compare the array by reference).</summary>
    public bool Equals(FrictionConfig? other) =>
        other is not null && Protocol == other.Protocol && ConstantFriction.Equals(other.ConstantFriction)
        && Log10Min.Equals(other.Log10Min) && Log10Max.Equals(other.Log10Max) && ChangeEverySteps == other.ChangeEverySteps
        && ChangeAtEpisodeEnd == other.ChangeAtEpisodeEnd && TableSource == other.TableSource
        && (Table is null ? other.Table is null : other.Table is not null && Table.AsSpan().SequenceEqual(other.Table));

    public override int GetHashCode() =>
        HashCode.Combine(Protocol, ConstantFriction, Log10Min, Log10Max, ChangeEverySteps, ChangeAtEpisodeEnd, Table?.Length, TableSource);

    public void Validate()
    {
        if (!Enum.IsDefined(Protocol)) throw new ArgumentOutOfRangeException(nameof(Protocol), Protocol, "unknown friction protocol");
        if (Protocol == FrictionProtocol.Constant)
        {
            if (!(ConstantFriction > 0) || double.IsInfinity(ConstantFriction))
                throw new ArgumentOutOfRangeException(nameof(ConstantFriction), ConstantFriction, "friction must be finite and > 0");
            return;
        }
        if (!double.IsFinite(Log10Min) || !double.IsFinite(Log10Max) || Log10Min > Log10Max)
            throw new ArgumentOutOfRangeException(nameof(Log10Min), $"need finite Log10Min <= Log10Max, got [{Log10Min}, {Log10Max}]");
        if (ChangeEverySteps < 1) throw new ArgumentOutOfRangeException(nameof(ChangeEverySteps), ChangeEverySteps, "must be at least 1");
        if (Table is not null && (Table.Length == 0 || Array.Exists(Table, v => !(v > 0) || double.IsInfinity(v))))
            throw new ArgumentOutOfRangeException(nameof(Table), "a friction table needs at least one value, each finite and > 0");
    }
}
