using System.Globalization;

namespace CbpGpu.Agent.Training;

/// <summary>
/// What a long run shows while it works: a line every few seconds with the step, the recent SPS, the mean return of
/// the last 100 episodes, the friction, memory and the ETA; and a summary at the end. The recent returns are part of
/// the checkpoint, so a resumed run's first line already has them.
/// </summary>
public sealed class TrainingProgress
{
    private const int RecentEpisodes = 100;
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    private readonly TextWriter _out;
    private readonly long _totalSteps;
    private readonly Queue<double> _recentReturns = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _startSteps;
    private TimeSpan _lastPrint;
    private long _lastPrintSteps;

    public TrainingProgress(TextWriter output, long totalSteps)
    {
        _out = output;
        _totalSteps = totalSteps;
    }

    public TextWriter Output => _out;

    /// <summary>Seconds since this session started.</summary>
    public double SessionSeconds => _clock.Elapsed.TotalSeconds;

    public IReadOnlyCollection<double> RecentReturns => _recentReturns;

    /// <summary>Starts the clocks at the session's first step.</summary>
    public void Start(long step)
    {
        _startSteps = _lastPrintSteps = step;
        _clock.Restart();
        _lastPrint = TimeSpan.Zero;
    }

    public void Episode(double episodeReturn)
    {
        _recentReturns.Enqueue(episodeReturn);
        if (_recentReturns.Count > RecentEpisodes) _recentReturns.Dequeue();
    }

    /// <summary>Prints a progress line when the last one is old enough.</summary>
    public void AfterUpdate(long step, double friction)
    {
        var now = _clock.Elapsed;
        if (now - _lastPrint < Every) return;
        double windowSps = (step - _lastPrintSteps) / Math.Max((now - _lastPrint).TotalSeconds, 1e-9);
        double sessionSps = (step - _startSteps) / Math.Max(now.TotalSeconds, 1e-9);
        string ret = _recentReturns.Count == 0 ? "n/a" : _recentReturns.Average().ToString("F1", CultureInfo.InvariantCulture);
        double eta = (_totalSteps - step) / Math.Max(sessionSps, 1e-9);
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {step,12:N0} / {_totalSteps:N0}  {windowSps,6:N0} SPS  return(last {_recentReturns.Count}) {ret,8}  friction {friction:G4}  " +
            $"mem {Environment.WorkingSet >> 20} MB (managed {GC.GetTotalMemory(false) >> 20} MB)  ETA {Duration(eta)}"));
        _lastPrint = now;
        _lastPrintSteps = step;
    }

    /// <summary>The session's last lines: how far it got, how fast, where the time went, where the results are.</summary>
    public void Summary(bool stopped, long step, double envSeconds, double actSeconds, double updateSeconds, string directory)
    {
        double seconds = SessionSeconds;
        long session = step - _startSteps;
        double sum = Math.Max(envSeconds + actSeconds + updateSeconds, 1e-9);
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(stopped ? "stopped" : "done")} at step {step:N0}: {session:N0} steps in {Duration(seconds)} ({session / Math.Max(seconds, 1e-9):N0} SPS); " +
            $"env {envSeconds:F1}s ({100 * envSeconds / sum:F0}%), acting {actSeconds:F1}s ({100 * actSeconds / sum:F0}%), update {updateSeconds:F1}s ({100 * updateSeconds / sum:F0}%)"));
        _out.WriteLine($"results in {Path.GetFullPath(directory)}: {RunDirectory.ConfigFile}, {RunDirectory.EpisodesFile}, {RunDirectory.UpdatesFile}, {RunDirectory.ActivityFile}, {RunDirectory.SessionsFile}, {RunDirectory.CheckpointFile}");
    }

    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
    }
}
