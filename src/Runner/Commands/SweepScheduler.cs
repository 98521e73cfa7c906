using System.Diagnostics;
using System.Globalization;
using System.Text;
using CbpGpu.Agent.Training;

namespace CbpGpu.Runner.Commands;

public enum SweepRunState { Pending, Running, Done, Skipped, Failed, Stopped }

/// <summary>One run of the sweep as the scheduler and the display see it.</summary>
public sealed class SweepRunStatus(SweepRun run)
{
    public SweepRun Run { get; } = run;
    public SweepRunState State { get; set; } = SweepRunState.Pending;

    /// <summary>
    /// Env steps the run continues from in this sweep session (its checkpoint's), and has now (from its updates.csv, never
    /// below the first).
    /// </summary>
    public long StartStep { get; set; }
    public long Step { get; set; }
    public string? Error { get; set; }
    internal Process? Process { get; set; }
    internal string? LogPath { get; set; }
    internal long LogStart { get; set; }
    internal Stopwatch? WaitingForLock { get; set; }
}

/// <summary>How a sweep session ended.</summary>
public sealed record SweepOutcome(int Done, int Failed, bool Stopped);

/// <summary>
/// Runs a sweep's `train` commands as child processes, K at a time (docs/sweeps.md). Each child is its own process so
/// torch's process-wide thread setting is its own, a crash or kill of one run cannot take others down, and a stop
/// signal reaches each run exactly once: children run in their own session (setsid), so a Ctrl+C on the terminal
/// reaches only the sweep, which passes it on; and they stop themselves (checkpointing) if the sweep dies (see
/// <see cref="SweepChild"/>).
/// </summary>
public sealed class SweepScheduler(SweepRequest request, TextWriter output)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a run waits for its directory's lock (a killed sweep's child still checkpointing) before it is started anyway and refused.</summary>
    private static readonly TimeSpan LockPatience = TimeSpan.FromMinutes(2);

    public SweepOutcome Run(StopSignals stop)
    {
        RunDirectory.Guard(request.LogDirectory, "create the log directory", () => Directory.CreateDirectory(request.LogDirectory));
        var runs = request.Runs.Select(r => new SweepRunStatus(r)).ToList();
        foreach (var s in runs) Prepare(s);
        var display = SweepDisplay.For(output, runs, request);
        bool forwarded = false;
        try
        {
            while (true)
            {
                if (stop.Token.IsCancellationRequested && !forwarded)
                {
                    forwarded = true;
                    int signal = stop.ExitCode - 128;
                    foreach (var s in runs.Where(s => s.State == SweepRunState.Running)) Posix.Kill(s.Process!.Id, signal);
                    display.Event($"passing signal {signal} on to {runs.Count(s => s.State == SweepRunState.Running)} running runs; waiting for their checkpoints");
                }
                if (!forwarded) StartRuns(runs, display);
                foreach (var s in runs.Where(s => s.State == SweepRunState.Running))
                {
                    s.Step = Math.Max(s.StartStep, LastStep(s.Run.Directory));
                    if (s.Process!.HasExited) Finish(s, forwarded, display);
                }
                display.Refresh();
                bool running = runs.Any(s => s.State == SweepRunState.Running);
                if (!running && (forwarded || runs.All(s => s.State != SweepRunState.Pending))) break;
                stop.Token.WaitHandle.WaitOne(Tick);
            }
        }
        finally
        {
            // Only reached with live children when the sweep itself failed: they checkpoint and stop too.
            foreach (var s in runs.Where(s => s.State == SweepRunState.Running && !s.Process!.HasExited)) Posix.Kill(s.Process!.Id, Posix.SigTerm);
        }
        display.Summary(forwarded);
        return new SweepOutcome(runs.Count(s => s.State is SweepRunState.Done or SweepRunState.Skipped),
            runs.Count(s => s.State == SweepRunState.Failed), forwarded);
    }

    /// <summary>Before anything starts: runs refused by their own settings fail, finished ones are skipped, the rest note where they stand.</summary>
    private static void Prepare(SweepRunStatus s)
    {
        if (s.Run.Problem is string problem)
        {
            s.State = SweepRunState.Failed;
            s.Error = $"error: {problem}";
            return;
        }
        s.StartStep = s.Step = Math.Min(ResumeStep(s.Run.Directory), s.Run.TotalSteps);
        if (Finished(s.Run, LastSession(s.Run.Directory)))
        {
            s.State = SweepRunState.Skipped;
            s.StartStep = s.Step = s.Run.TotalSteps;
        }
    }

    private void StartRuns(List<SweepRunStatus> runs, SweepDisplay display)
    {
        foreach (var s in runs)
        {
            if (runs.Count(r => r.State == SweepRunState.Running) >= request.Parallel) return;
            if (s.State != SweepRunState.Pending) continue;
            if (LockHolder(s.Run.Directory) is string holder)
            {
                if (s.WaitingForLock is null)
                {
                    s.WaitingForLock = Stopwatch.StartNew();
                    display.Event($"{s.Run.Name}: waiting for {s.Run.Directory}, still held by {holder} (a run of an earlier sweep checkpointing?)");
                }
                if (s.WaitingForLock.Elapsed < LockPatience) continue;
            }
            Start(s);
            display.Event($"{s.Run.Name}: started{(s.StartStep > 0 ? $" (continuing from step {s.StartStep:N0})" : "")}, log {Path.Combine(request.LogDirectory, s.Run.LogName)}");
        }
    }

    private void Start(SweepRunStatus s)
    {
        string logPath = Path.Combine(request.LogDirectory, s.Run.LogName);
        RunDirectory.Guard(logPath, "write", () => File.AppendAllText(logPath,
            $"# {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} sweep (PID {Environment.ProcessId}) starts: Runner {string.Join(' ', s.Run.TrainArgs)}\n"));
        s.LogPath = logPath;
        s.LogStart = new FileInfo(logPath).Length;
        // The run writes its output to the log itself (the shell's redirection), not through a pipe to the sweep: a
        // killed sweep must not leave its runs writing into a closed pipe. setsid gives the run its own session, so a
        // terminal's Ctrl+C reaches only the sweep, which passes it on once.
        string[] command =
        [
            "/bin/sh", "-c", "exec \"$@\" >>\"$CBPGPU_SWEEP_LOG\" 2>&1", "sh",
            .. File.Exists("/usr/bin/setsid") ? ["/usr/bin/setsid"] : Array.Empty<string>(),
            .. RunnerExecutable.Command, .. s.Run.TrainArgs,
        ];
        var psi = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment[SweepChild.ParentPidVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        psi.Environment["CBPGPU_SWEEP_LOG"] = logPath;
        s.State = SweepRunState.Running;
        s.Process = Process.Start(psi);
    }

    private static void Finish(SweepRunStatus s, bool forwarded, SweepDisplay display)
    {
        var process = s.Process!;
        int code = process.ExitCode;
        process.Dispose();
        string? errorLine = LastErrorLine(s.LogPath!, s.LogStart);
        RunDirectory.Guard(s.LogPath!, "write", () => File.AppendAllText(s.LogPath!, $"# {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} exit code {code}\n"));
        s.Step = Math.Max(s.StartStep, LastStep(s.Run.Directory));
        if (code == 0)
        {
            s.State = SweepRunState.Done;
            display.Event($"{s.Run.Name}: finished");
        }
        else if (forwarded && code > 128)
        {
            s.State = SweepRunState.Stopped;
            display.Event($"{s.Run.Name}: stopped at step {s.Step:N0}, checkpointed");
        }
        else
        {
            s.State = SweepRunState.Failed;
            s.Error = (errorLine ?? (code > 128 ? $"killed by signal {code - 128}" : $"exited with code {code} without an error line")) + $" (log: {s.LogPath})";
            display.Event($"{s.Run.Name}: FAILED: {s.Error}");
        }
    }

    /// <summary>The last `error: ` line the run wrote in this session (its one-line reason for failing), or null.</summary>
    private static string? LastErrorLine(string log, long from)
    {
        try
        {
            using var file = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            file.Seek(from, SeekOrigin.Begin);
            using var reader = new StreamReader(file, Encoding.UTF8);
            string? last = null;
            while (reader.ReadLine() is string line)
                if (line.StartsWith("error: ", StringComparison.Ordinal)) last = line;
            return last;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Who holds the directory's run lock, or null when it is free or there is no directory yet.</summary>
    private static string? LockHolder(string directory)
    {
        if (!Directory.Exists(directory)) return null;
        try
        {
            RunLock.Acquire(directory).Dispose();
            return null;
        }
        catch (TrainingException e)
        {
            int pid = e.Message.IndexOf("(PID ", StringComparison.Ordinal);
            return pid < 0 ? "another process" : e.Message[(pid + 1)..e.Message.IndexOf(')', pid)];
        }
    }

    /// <summary>
    /// `sweep ... --status` (docs/sweeps.md#status): where each run stands, read from its directory, starting nothing:
    /// finished, running (a process holds its lock: another sweep, a Slurm task), failed (its sessions.csv's last row,
    /// with the error), stopped at its checkpoint's step, or not started; then the totals as the sweep's progress line
    /// gives them.
    /// </summary>
    public static void Status(SweepRequest request, TextWriter output)
    {
        output.WriteLine($"sweep status: {request.Runs.Count} runs in {request.Root}");
        int finished = 0, running = 0, failed = 0, stopped = 0, notStarted = 0;
        long steps = 0, total = 0;
        foreach (var run in request.Runs)
        {
            total += run.TotalSteps;
            long? checkpoint = Checkpoint.EnvStepsIn(Path.Combine(run.Directory, RunDirectory.CheckpointFile));
            string of = checkpoint is long c ? $"{c:N0} of {run.TotalSteps:N0} ({SweepDisplay.Percent(c, run.TotalSteps)})" : "";
            SessionRow? last = LastSession(run.Directory);
            string state;
            if (run.Problem is string problem)
            {
                failed++;
                state = $"cannot start: {problem}";
            }
            else if (Finished(run, last))
            {
                finished++;
                steps += run.TotalSteps;
                state = $"finished ({run.TotalSteps:N0} steps)";
            }
            else if (LockHolder(run.Directory) is string holder)
            {
                running++;
                long now = Math.Min(Math.Max(checkpoint ?? 0, LastStep(run.Directory)), run.TotalSteps);
                steps += now;
                state = $"running ({holder}): step {now:N0} of {run.TotalSteps:N0} ({SweepDisplay.Percent(now, run.TotalSteps)})" +
                    (checkpoint is long saved ? $", checkpoint at {saved:N0}" : "") + Left(run, now);
            }
            else if (checkpoint is null)
            {
                notStarted++;
                state = Directory.Exists(run.Directory) ? $"not started (no readable checkpoint in {run.Directory})" : "not started";
            }
            else if (last is { Event: "failed" } failure)
            {
                failed++;
                steps += checkpoint.Value;
                state = $"failed at step {failure.Step?.ToString("N0", CultureInfo.InvariantCulture) ?? "(unreadable)"}: {failure.Detail}; its checkpoint: {of}";
            }
            else
            {
                stopped++;
                steps += checkpoint.Value;
                state = $"stopped at its checkpoint, {of}{Left(run, checkpoint.Value)}";
            }
            output.WriteLine($"{run.Name}: {state}");
        }
        output.WriteLine($"runs: {finished} finished, {running} running, {stopped} stopped, {failed} failed, {notStarted} not started | " +
            $"step {steps:N0} / {total:N0} ({SweepDisplay.Percent(steps, total)})");
    }

    /// <summary>One row of a run's sessions.csv (docs/formats.md#sessionscsv); a step that does not parse is null.</summary>
    private readonly record struct SessionRow(string Event, long? Step, long? TotalSteps, string Detail);

    /// <summary>The last complete row of the run's sessions.csv, or null without one.</summary>
    private static SessionRow? LastSession(string directory)
    {
        string? line = LastCompleteLine(Path.Combine(directory, RunDirectory.SessionsFile));
        if (line is null) return null;
        string[] fields = line.Split(',', 5);
        if (fields.Length < 5) return null;
        static long? Steps(string field) =>
            long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
        string detail = fields[4].Length > 1 && fields[4][0] == '"' ? fields[4][1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : fields[4];
        return new SessionRow(fields[1], Steps(fields[2]), Steps(fields[3]), detail);
    }

    /// <summary>Whether the run is done: its last session event is `finished` with its whole step budget.</summary>
    private static bool Finished(SweepRun run, SessionRow? last) =>
        last is { Event: "finished" } row && row.Step == run.TotalSteps && row.TotalSteps == run.TotalSteps;

    /// <summary>
    /// Where the run in <paramref name="directory"/> continues from: its checkpoint's step. After a crash or SIGKILL the
    /// last row of updates.csv is ahead of it (the resume cuts the logs back to the checkpoint), so the logs alone would
    /// overstate it. Without a readable checkpoint (a new run), updates.csv's last step.
    /// </summary>
    public static long ResumeStep(string directory) =>
        Checkpoint.EnvStepsIn(Path.Combine(directory, RunDirectory.CheckpointFile)) ?? LastStep(directory);

    /// <summary>The step of the last complete row of the run's updates.csv (docs/formats.md#updatescsv), 0 when there is none.</summary>
    public static long LastStep(string directory)
    {
        string path = Path.Combine(directory, RunDirectory.UpdatesFile);
        string? line = LastCompleteLine(path);
        return line is null ? 0 : StepOf(line.Split(','));
    }

    /// <summary>How many of a run's last updates `--status`'s pace averages: one update's wall time is noisy where runs share cores.</summary>
    public const int PaceUpdates = 10;

    /// <summary>
    /// Seconds per env step of the run's last logged updates (up to <see cref="PaceUpdates"/>): their wall time
    /// (updates.csv's timing columns) over the steps they took (since the row before the first of them, or since 0), and
    /// how many updates that is; null before an update or where the file does not say.
    /// </summary>
    public static (double SecondsPerStep, int Updates)? Pace(string directory)
    {
        string path = Path.Combine(directory, RunDirectory.UpdatesFile);
        string[] header = FirstLine(path)?.Split(',') ?? [];
        int[] timing = new int[TrainingLogs.UpdateTimingColumns.Count];
        for (int i = 0; i < timing.Length; i++)
            if ((timing[i] = Array.IndexOf(header, TrainingLogs.UpdateTimingColumns[i])) < 0) return null;
        List<string> rows = LastCompleteLines(path, PaceUpdates + 1);
        if (rows.Count == 0) return null;
        bool rowBefore = rows.Count == PaceUpdates + 1;
        long before = rowBefore ? StepOf(rows[0].Split(',')) : 0;
        List<string> timed = rowBefore ? rows.GetRange(1, PaceUpdates) : rows;
        double seconds = 0;
        string[] last = [];
        foreach (string row in timed)
        {
            last = row.Split(',');
            foreach (int c in timing)
            {
                if (c >= last.Length || !double.TryParse(last[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double s)) return null;
                seconds += s;
            }
        }
        long step = StepOf(last);
        return step > before && seconds > 0 ? (seconds / (step - before), timed.Count) : null;
    }

    /// <summary>The `step` field (the second) of an updates.csv row, 0 where it does not parse.</summary>
    private static long StepOf(string[] fields) =>
        fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step : 0;

    /// <summary>What is left of the run at its last updates' pace, e.g. `; about 21h05m left at its last 10 updates' pace`; empty without one.</summary>
    private static string Left(SweepRun run, long at) => Pace(run.Directory) is var (pace, updates)
        ? $"; about {TrainingProgress.Duration(pace * (run.TotalSteps - at))} left at its last {(updates == 1 ? "update's" : $"{updates} updates'")} pace"
        : "";

    private static string? LastCompleteLine(string path) => LastCompleteLines(path, 1) is [var line] ? line : null;

    /// <summary>
    /// The last <paramref name="count"/> complete rows of a CSV in file order (fewer where it has fewer; never its header
    /// or a line the 64 KB tail window cuts, room for the pace's 11 rows of up to ~6 KB each), read while a writer may be
    /// appending; empty when it cannot be read.
    /// </summary>
    private static List<string> LastCompleteLines(string path, int count)
    {
        var rows = new List<string>(count);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long start = Math.Max(0, file.Length - 65536);
            file.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(file, Encoding.UTF8);
            string tail = reader.ReadToEnd();
            int end = tail.LastIndexOf('\n');
            while (end > 0 && rows.Count < count)
            {
                int begin = tail.LastIndexOf('\n', end - 1) + 1;
                if (begin == 0) break;   // line 1 of the file (the header), or a line the window cut
                rows.Insert(0, tail[begin..end]);
                end = begin - 1;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return rows;
    }

    private static string? FirstLine(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(file, Encoding.UTF8);
            return reader.ReadLine();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
