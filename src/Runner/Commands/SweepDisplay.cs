using System.Diagnostics;
using System.Globalization;
using System.Text;
using CbpGpu.Agent.Training;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// The one progress display of a sweep: runs done/running/left, total env steps/s over the runs and the ETA. On a
/// terminal a table of the running runs redrawn in place (ANSI cursor moves); redirected, plain lines: each event
/// (started, finished, failed) and a status line every <see cref="PlainEvery"/>.
/// </summary>
public sealed class SweepDisplay
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(30), LiveEvery = TimeSpan.FromSeconds(1);

    private readonly TextWriter _out;
    private readonly IReadOnlyList<SweepRunStatus> _runs;
    private readonly bool _live;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;
    private int _drawnLines;

    private SweepDisplay(TextWriter output, IReadOnlyList<SweepRunStatus> runs, bool live)
    {
        _out = output;
        _runs = runs;
        _live = live;
    }

    public static SweepDisplay For(TextWriter output, IReadOnlyList<SweepRunStatus> runs, SweepRequest request)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";
        var display = new SweepDisplay(output, runs, terminal);
        int toRun = runs.Count(r => r.State == SweepRunState.Pending);
        output.WriteLine($"sweep: {runs.Count} runs ({Methods(runs)}) in {request.Root}, {request.Parallel} at a time; " +
                         $"{runs.Count(r => r.State == SweepRunState.Skipped)} already finished, {toRun} to run");
        if (!request.Grid.IsEmpty) output.WriteLine($"grid: {request.Grid}");
        if (runs.FirstOrDefault(r => r.State == SweepRunState.Pending) is { } first)
            output.WriteLine($"each run: Runner {string.Join(' ', first.Run.TrainArgs)}  (method, seed, --out{(request.Grid.IsEmpty ? "" : " and the grid's flags")} per run)");
        foreach (var r in runs.Where(r => r.State == SweepRunState.Failed)) display.Event($"{r.Run.Name}: FAILED: {r.Error}");
        return display;
    }

    /// <summary>"std,cbp x seeds 0,1", or with a grid "std, cbp x 4 configurations; seeds 0,1 each".</summary>
    private static string Methods(IReadOnlyList<SweepRunStatus> runs)
    {
        string seeds = string.Join(',', runs.Select(r => r.Run.Seed).Distinct());
        if (runs.All(r => r.Run.Configuration.IsEmpty)) return $"{string.Join(',', runs.Select(r => r.Run.Method).Distinct())} x seeds {seeds}";
        var methods = runs.GroupBy(r => r.Run.Method).Select(g =>
        {
            var configurations = g.Select(r => r.Run.Configuration).Distinct().ToList();
            return configurations is [{ IsEmpty: true }] ? g.Key
                : $"{g.Key} x {configurations.Count} configuration{(configurations.Count == 1 ? "" : "s")}";
        });
        return $"{string.Join(", ", methods)}; seeds {seeds} each";
    }

    /// <summary>A line that stays (above the live table on a terminal).</summary>
    public void Event(string line)
    {
        Erase();
        _out.WriteLine($"[{TrainingProgress.Duration(_clock.Elapsed.TotalSeconds),6}] {line}");
        if (_live) _lastDraw = null;   // the table is redrawn below the event at once
    }

    public void Refresh()
    {
        var now = _clock.Elapsed;
        if (now - _lastDraw < (_live ? LiveEvery : PlainEvery)) return;   // null (nothing drawn since the last event) draws
        _lastDraw = now;
        if (!_live)
        {
            _out.WriteLine($"[{TrainingProgress.Duration(now.TotalSeconds),6}] {StatusLine()}");
            return;
        }
        Erase();
        int width = Math.Max(16, _runs.Max(r => r.Run.Name.Length));
        var lines = new List<string> { StatusLine(), $"  {"run".PadRight(width)} {"step",12} {"of",12} {"done",6}" };
        foreach (var r in _runs.Where(r => r.State == SweepRunState.Running))
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Run.Name.PadRight(width)} {r.Step,12:N0} {r.Run.TotalSteps,12:N0} {Percent(r.Step, r.Run.TotalSteps),6}"));
        foreach (string line in lines) _out.WriteLine(line);
        _drawnLines = lines.Count;
    }

    /// <summary>A share of the steps as the sweep's lines give it, e.g. `12.5%` (0.0% of nothing).</summary>
    internal static string Percent(long part, long whole) =>
        string.Create(CultureInfo.InvariantCulture, $"{(whole <= 0 ? 0 : 100.0 * part / whole):F1}%");

    /// <summary>Removes the live table (cursor up over it, clear to the end of the screen) before other output.</summary>
    private void Erase()
    {
        if (!_live || _drawnLines == 0) return;
        _out.Write($"\u001b[{_drawnLines}A\u001b[J");
        _drawnLines = 0;
    }

    private string StatusLine()
    {
        long total = _runs.Where(r => r.Run.Problem is null).Sum(r => r.Run.TotalSteps);
        long done = _runs.Where(r => r.Run.Problem is null).Sum(r => r.Step);
        long session = _runs.Sum(r => r.Step - r.StartStep);
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        double sps = session / seconds;
        string eta = sps > 0 ? TrainingProgress.Duration((total - done) / sps) : "n/a";
        int Count(SweepRunState state) => _runs.Count(r => r.State == state);
        return string.Create(CultureInfo.InvariantCulture,
            $"runs: {Count(SweepRunState.Done) + Count(SweepRunState.Skipped)} done, {Count(SweepRunState.Running)} running, {Count(SweepRunState.Pending)} left, {Count(SweepRunState.Failed)} failed | " +
            $"step {done:N0} / {total:N0} ({Percent(done, total)}) | {sps:N0} env steps/s | ETA {eta}");
    }

    /// <summary>The last lines: totals, where the time went, and each failed run with its error and log.</summary>
    public void Summary(bool stopped)
    {
        Erase();
        _out.WriteLine(StatusLine());
        var failed = _runs.Where(r => r.State == SweepRunState.Failed).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"sweep {(stopped ? "stopped" : "ended")} after {TrainingProgress.Duration(_clock.Elapsed.TotalSeconds)}: ");
        sb.Append(CultureInfo.InvariantCulture, $"{_runs.Count(r => r.State == SweepRunState.Done)} finished now, {_runs.Count(r => r.State == SweepRunState.Skipped)} finished before, ");
        sb.Append(CultureInfo.InvariantCulture, $"{_runs.Count(r => r.State == SweepRunState.Stopped)} stopped (checkpointed), {_runs.Count(r => r.State == SweepRunState.Pending)} not started, {failed.Count} failed");
        _out.WriteLine(sb.ToString());
        foreach (var r in failed)
            _out.WriteLine($"failed: {r.Run.Name} ({r.Run.Directory}): {r.Error}");
        if (stopped) _out.WriteLine("to continue: rerun the same sweep command (finished runs are skipped, stopped ones continue from their checkpoints)");
    }
}
