namespace CbpGpu.Agent.Training;

/// <summary>
/// activity.csv (docs/formats.md#activitycsv): one row per closed <see cref="ActingActivity"/> window, every column
/// declared once next to its value. Like the other logs it is cut back to the checkpoint's length on resume.
/// </summary>
public sealed class ActivityLog : IDisposable
{
    private static readonly CsvColumns<ActivityRow> Columns = new()
    {
        { "step", a => a.Step },
        { "dormant_share", a => a.DormantShare },
        { "stable_rank", a => a.StableRank },
        { "stable_rank_percent", a => a.StableRankPercent },
    };

    private readonly CsvLog _log;

    private ActivityLog(CsvLog log) => _log = log;

    public static ActivityLog Create(RunDirectory dir) => new(CsvLog.Create(dir.ActivityPath, Columns.Header));

    /// <summary>Reopens activity.csv cut back to the length a checkpoint recorded (checked beforehand by <see cref="RunDirectory.CheckLogCovers"/>).</summary>
    public static ActivityLog Reopen(RunDirectory dir, long length) => new(CsvLog.Reopen(dir.ActivityPath, length));

    public long Length => _log.Length;

    public void Write(in ActivityRow row) => Columns.WriteRow(_log, row);

    /// <summary>The row's columns as TensorBoard scalars, `activity/(column)`, step aside and the stable rank only where the row has one.</summary>
    public static IEnumerable<(string Tag, double Value)> Scalars(ActivityRow row) =>
        Columns.Values(row).Where(c => c.Name != "step" && !double.IsNaN(c.Value)).Select(c => ($"activity/{c.Name}", c.Value));

    public void Flush() => _log.Flush();

    public void Dispose() => _log.Dispose();
}
