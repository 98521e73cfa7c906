namespace CbpGpu.Agent.Training;

/// <summary>One finished episode, as episodes.csv records it.</summary>
public readonly record struct EpisodeRow(long Step, int Env, double Return, int Length, double Friction);

/// <summary>One PPO update, as updates.csv records it; the trainer fills one instance per update.</summary>
public sealed class UpdateRow(int weights, int hiddenLayers, int methodColumns = 0)
{
    public int Update { get; set; }
    public long Step { get; set; }
    public UpdateStats Stats { get; set; } = null!;

    /// <summary>Mean |w| of each Linear weight, in <see cref="Networks.ParameterLayout.Weights"/> order.</summary>
    public double[] MeanAbsWeights { get; } = new double[weights];

    /// <summary>Units CBP replaced during this update, per hidden layer.</summary>
    public long[] Replaced { get; } = new long[hiddenLayers];

    /// <summary>[layer * <see cref="UnitAgeHistogram.Bins"/> + bin]: hidden units per age bin.</summary>
    public long[] AgeCounts { get; } = new long[hiddenLayers * UnitAgeHistogram.Bins];

    /// <summary>The plasticity method's own columns (<see cref="Methods.IPlasticityHook.Columns"/>).</summary>
    public double[] MethodValues { get; } = new double[methodColumns];

    public double EnvSeconds { get; set; }
    public double ActSeconds { get; set; }
    public double UpdateSeconds { get; set; }
}

/// <summary>
/// The run's two CSV logs, episodes.csv and updates.csv (docs/formats.md#episodescsv, docs/formats.md#updatescsv),
/// with every column declared once, next to the value it holds.
/// </summary>
public sealed class TrainingLogs : IDisposable
{
    private static readonly CsvColumns<EpisodeRow> EpisodeColumns = new()
    {
        { "step", e => e.Step },
        { "env", e => e.Env },
        { "return", e => e.Return },
        { "length", e => e.Length },
        { "friction", e => e.Friction },
    };

    private readonly CsvColumns<UpdateRow> _updateColumns;
    private readonly CsvLog _episodes;
    private readonly CsvLog _updates;

    private TrainingLogs(CsvColumns<UpdateRow> updateColumns, CsvLog episodes, CsvLog updates)
    {
        _updateColumns = updateColumns;
        _episodes = episodes;
        _updates = updates;
    }

    /// <param name="weightNames">Linear weights, e.g. policy.l1.weight (column abs_w_policy_l1).</param>
    /// <param name="hiddenLayerNames">Hidden layers, e.g. policy.h1 (columns replaced_policy_h1, age_lt1k_policy_h1, ...).</param>
    /// <param name="methodColumns">The plasticity method's own columns, before the timings.</param>
    public static TrainingLogs Create(RunDirectory dir, IReadOnlyList<string> weightNames, IReadOnlyList<string> hiddenLayerNames,
        IReadOnlyList<string>? methodColumns = null)
    {
        var columns = UpdateColumns(weightNames, hiddenLayerNames, methodColumns ?? []);
        var episodes = CsvLog.Create(dir.EpisodesPath, EpisodeColumns.Header);
        try
        {
            return new TrainingLogs(columns, episodes, CsvLog.Create(dir.UpdatesPath, columns.Header));
        }
        catch
        {
            episodes.Dispose();
            throw;
        }
    }

    /// <summary>Reopens both logs cut back to the lengths a checkpoint recorded (checked beforehand by <see cref="RunDirectory.CheckLogCovers"/>).</summary>
    public static TrainingLogs Reopen(RunDirectory dir, IReadOnlyList<string> weightNames, IReadOnlyList<string> hiddenLayerNames,
        long episodesLength, long updatesLength, IReadOnlyList<string>? methodColumns = null)
    {
        var columns = UpdateColumns(weightNames, hiddenLayerNames, methodColumns ?? []);
        var episodes = CsvLog.Reopen(dir.EpisodesPath, episodesLength);
        try
        {
            return new TrainingLogs(columns, episodes, CsvLog.Reopen(dir.UpdatesPath, updatesLength));
        }
        catch
        {
            episodes.Dispose();
            throw;
        }
    }

    private static CsvColumns<UpdateRow> UpdateColumns(IReadOnlyList<string> weightNames, IReadOnlyList<string> hiddenLayerNames, IReadOnlyList<string> methodColumns)
    {
        var c = new CsvColumns<UpdateRow>
        {
            { "update", r => r.Update },
            { "step", r => r.Step },
            { "policy_loss", r => r.Stats.PolicyLoss },
            { "value_loss", r => r.Stats.ValueLoss },
            { "policy_std", r => r.Stats.PolicyStd },
            { "approx_kl", r => r.Stats.ApproxKl },
            { "clip_fraction", r => r.Stats.ClipFraction },
        };
        for (int i = 0; i < weightNames.Count; i++)
        {
            int w = i;
            c.Add($"abs_w_{ColumnName(weightNames[i].Replace(".weight", "", StringComparison.Ordinal))}", r => r.MeanAbsWeights[w]);
        }
        for (int i = 0; i < hiddenLayerNames.Count; i++)
        {
            int l = i;
            c.Add($"replaced_{ColumnName(hiddenLayerNames[i])}", r => r.Replaced[l]);
        }
        for (int i = 0; i < hiddenLayerNames.Count; i++)
            for (int b = 0; b < UnitAgeHistogram.Bins; b++)
            {
                int k = i * UnitAgeHistogram.Bins + b;
                c.Add($"age_{UnitAgeHistogram.BinNames[b]}_{ColumnName(hiddenLayerNames[i])}", r => r.AgeCounts[k]);
            }
        for (int i = 0; i < hiddenLayerNames.Count; i++)
        {
            int l = i;
            c.Add($"dormant_{ColumnName(hiddenLayerNames[i])}", r => r.Stats.DormantFraction[l]);
        }
        for (int i = 0; i < hiddenLayerNames.Count; i++)
        {
            int l = i;
            c.Add($"eff_rank_{ColumnName(hiddenLayerNames[i])}", r => r.Stats.EffectiveRank[l]);
        }
        for (int i = 0; i < methodColumns.Count; i++)
        {
            int k = i;
            c.Add(methodColumns[i], r => r.MethodValues[k]);
        }
        c.Add(UpdateTimingColumns[0], r => r.EnvSeconds);
        c.Add(UpdateTimingColumns[1], r => r.ActSeconds);
        c.Add(UpdateTimingColumns[2], r => r.UpdateSeconds);
        return c;
    }

    /// <summary>updates.csv's last columns, the update's wall time: in the env, acting, updating (docs/formats.md#updatescsv).</summary>
    public static IReadOnlyList<string> UpdateTimingColumns { get; } = ["env_seconds", "act_seconds", "update_seconds"];

    private static string ColumnName(string name) => name.Replace('.', '_');

    public long EpisodesLength => _episodes.Length;
    public long UpdatesLength => _updates.Length;

    public void Episode(in EpisodeRow row) => EpisodeColumns.WriteRow(_episodes, row);

    public void Update(UpdateRow row) => _updateColumns.WriteRow(_updates, row);

    /// <summary>The row's updates.csv columns with their values, `update` and `step` aside (TensorBoard's step is the env step).</summary>
    public IEnumerable<(string Name, double Value)> UpdateScalars(UpdateRow row) =>
        _updateColumns.Values(row).Where(c => c.Name is not ("update" or "step"));

    public void Flush()
    {
        _episodes.Flush();
        _updates.Flush();
    }

    public void Dispose()
    {
        _episodes.Dispose();
        _updates.Dispose();
    }
}
