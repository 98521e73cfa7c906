using CbpGpu.Agent.Evaluation;

namespace CbpGpu.Agent.Training;

/// <summary>
/// eval.csv (docs/formats.md#evalcsv): one row per evaluation, in step order, every column declared once next to its
/// value. Written by the trainer's thread only; like the other logs it is cut back to the checkpoint's length on resume.
/// </summary>
public sealed class EvalLog : IDisposable
{
    private static readonly CsvColumns<EvalResult> Columns = new()
    {
        { "step", e => e.Step },
        { "update", e => e.Update },
        { "friction", e => e.Friction },
        { "episodes", e => e.Episodes },
        { "return_mean", e => e.ReturnMean },
        { "return_std", e => e.ReturnStd },
        { "return_min", e => e.ReturnMin },
        { "return_max", e => e.ReturnMax },
        { "length_mean", e => e.LengthMean },
        { "elapsed_seconds", e => e.ElapsedSeconds },
        { "eval_seconds", e => e.Seconds },
    };

    /// <summary>The columns that vary between identical runs (wall times): the last ones, as in updates.csv.</summary>
    public const int TimingColumns = 2;

    private readonly CsvLog _log;

    private EvalLog(CsvLog log) => _log = log;

    public static EvalLog Create(RunDirectory dir) => new(CsvLog.Create(dir.EvalPath, Columns.Header));

    /// <summary>Reopens eval.csv cut back to the length a checkpoint recorded (checked beforehand by <see cref="RunDirectory.CheckLogCovers"/>).</summary>
    public static EvalLog Reopen(RunDirectory dir, long length) => new(CsvLog.Reopen(dir.EvalPath, length));

    public long Length => _log.Length;

    public void Write(EvalResult row) => Columns.WriteRow(_log, row);

    /// <summary>The row's columns as TensorBoard scalars, `eval/(column)`, step and update aside (TensorBoard's step is the env step).</summary>
    public static IEnumerable<(string Tag, double Value)> Scalars(EvalResult row) =>
        Columns.Values(row).Where(c => c.Name is not ("step" or "update")).Select(c => ($"eval/{c.Name}", c.Value));

    public void Flush() => _log.Flush();

    public void Dispose() => _log.Dispose();
}
