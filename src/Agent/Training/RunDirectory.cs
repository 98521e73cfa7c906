using System.Globalization;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// A run's directory (docs/formats.md#run-directory): config.json, episodes.csv, updates.csv, eval.csv (with
/// evaluation on), activity.csv, sessions.csv and checkpoint.bin, held under an exclusive <see cref="RunLock"/> for as long as this object lives. Opening one does
/// every check that can refuse the run (a file where the directory should be, another process, a run already there,
/// nothing to resume) before any run file is written, and every I/O problem surfaces as one
/// <see cref="TrainingException"/> naming the path.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string EpisodesFile = "episodes.csv";
    public const string UpdatesFile = "updates.csv";
    public const string EvalFile = "eval.csv";
    public const string ActivityFile = "activity.csv";
    public const string SessionsFile = "sessions.csv";
    public const string CheckpointFile = "checkpoint.bin";
    private const string SessionsHeader = "time_utc,event,step,total_steps,detail";

    private readonly RunLock _lock;

    private RunDirectory(string path, RunLock runLock, bool holdsRun)
    {
        Path = path;
        _lock = runLock;
        HoldsRun = holdsRun;
    }

    public string Path { get; }

    /// <summary>
    /// False when the directory holds no run to continue: it is new, or an earlier start was stopped before its
    /// first checkpoint and its logs have no rows yet (so starting over loses nothing).
    /// </summary>
    public bool HoldsRun { get; }

    public string ConfigPath => Combine(ConfigFile);
    public string EpisodesPath => Combine(EpisodesFile);
    public string UpdatesPath => Combine(UpdatesFile);
    public string EvalPath => Combine(EvalFile);
    public string ActivityPath => Combine(ActivityFile);
    public string SessionsPath => Combine(SessionsFile);
    public string CheckpointPath => Combine(CheckpointFile);
    private string Combine(string file) => System.IO.Path.Combine(Path, file);

    /// <summary>Creates (if needed) and locks the directory for a new run; refuses if it already holds one.</summary>
    public static RunDirectory CreateNew(string path)
    {
        var dir = Open(path, create: true);
        if (dir.HoldsRun)
        {
            dir.Dispose();
            throw new TrainingException($"{path} already holds a run ({CheckpointFile}); pass --resume to continue it or choose another --out");
        }
        return dir;
    }

    /// <summary>Locks an existing run directory to continue it. A directory stopped before its first checkpoint has <see cref="HoldsRun"/> false.</summary>
    public static RunDirectory OpenExisting(string path)
    {
        if (!Directory.Exists(path))
            throw new TrainingException(File.Exists(path)
                ? $"--out {path} is a file, not a run directory; choose another --out"
                : $"there is no run in {path} to resume; start it without --resume");
        return Open(path, create: false);
    }

    private static RunDirectory Open(string path, bool create)
    {
        if (File.Exists(path)) throw new TrainingException($"--out {path} is a file, not a directory; choose another --out");
        if (create) Guard(path, "create the run directory", () => Directory.CreateDirectory(path));
        var runLock = RunLock.Acquire(path);
        try
        {
            bool holdsRun = File.Exists(System.IO.Path.Combine(path, CheckpointFile));
            if (!holdsRun)
            {
                // Without a checkpoint, rows in the logs are work that would be lost by starting over.
                foreach (var log in new[] { EpisodesFile, UpdatesFile })
                {
                    string file = System.IO.Path.Combine(path, log);
                    if (File.Exists(file) && Guard(file, "read", () => File.ReadLines(file).Skip(1).Any()))
                        throw new TrainingException($"{file} has rows but {System.IO.Path.Combine(path, CheckpointFile)} is missing, so this run can neither be continued nor safely started over; move the directory away or choose another --out");
                }
            }
            return new RunDirectory(path, runLock, holdsRun);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>Reads and verifies checkpoint.bin; any problem is one line naming the file and saying that nothing was changed.</summary>
    public BlockReader ReadCheckpoint()
    {
        try
        {
            using var file = new FileStream(CheckpointPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            return BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion);
        }
        catch (InvalidDataException e)
        {
            throw new TrainingException(
                $"checkpoint {CheckpointPath} is corrupt ({e.Message}); nothing was changed; it is the run's only checkpoint (no backup is kept), " +
                $"so the run cannot be continued: start it afresh with another --out (the logs in {Path} stay as they are)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainingException($"cannot read {CheckpointPath}: {e.Message}; nothing was changed", e);
        }
    }

    /// <summary>Refuses to resume when a log is shorter than the checkpoint says it was (edited or replaced since).</summary>
    public void CheckLogCovers(string path, long length)
    {
        long actual = Guard(path, "read", () => File.Exists(path) ? new FileInfo(path).Length : -1);
        if (actual < 0)
            throw new TrainingException($"{path} is missing, so the run in {Path} cannot be continued; nothing was changed");
        if (actual < length)
            throw new TrainingException($"{path} has {actual:N0} bytes but the checkpoint recorded {length:N0}: it was cut or replaced since, so the run cannot be continued exactly; nothing was changed");
    }

    /// <summary>
    /// Writes checkpoint.bin whole or not at all: into a temporary file, flushed to disk, then renamed over the old
    /// one. When anything fails (a full disk), the temporary file is removed and the previous checkpoint stays.
    /// </summary>
    public void WriteCheckpoint(Action<BlockWriter> writeBlocks, long step)
    {
        string temp = CheckpointPath + ".tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                using (var blocks = new BlockWriter(file, Checkpoint.Magic, Checkpoint.FormatVersion))
                {
                    writeBlocks(blocks);
                    blocks.Finish();
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, CheckpointPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new TrainingException(
                $"cannot write the checkpoint at step {step:N0} to {CheckpointPath}: {e.Message}; " +
                (File.Exists(CheckpointPath) ? "the previous checkpoint is kept (resume continues from it)" : "no checkpoint was kept"), e);
        }
    }

    /// <summary>Writes config.json whole (temporary file, then rename).</summary>
    public void WriteConfig(string json)
    {
        string temp = ConfigPath + ".tmp";
        Guard(ConfigPath, "write", () =>
        {
            try
            {
                File.WriteAllText(temp, json + "\n");
                File.Move(temp, ConfigPath, overwrite: true);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        });
    }

    /// <summary>
    /// Appends one line to sessions.csv, the directory's history: when the run was created, resumed (and which
    /// settings changed), stopped, finished or failed. Never cut back on resume: it records the sessions whose
    /// tail a resume discarded too.
    /// </summary>
    public void RecordSession(string what, long step, long totalSteps, string detail)
    {
        Guard(SessionsPath, "write", () =>
        {
            bool fresh = !File.Exists(SessionsPath);
            using var w = new StreamWriter(SessionsPath, append: true, new UTF8Encoding(false));
            if (fresh) w.Write(SessionsHeader + "\n");
            w.Write(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ},{what},{step},{totalSteps},{Quote(detail)}\n"));
        });
    }

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal).Replace('\n', ' ') + "\"";

    /// <summary>Runs a file operation and turns an I/O failure into one line naming the path.</summary>
    public static T Guard<T>(string path, string action, Func<T> io)
    {
        try
        {
            return io();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainingException($"cannot {action} {path}: {e.Message}", e);
        }
    }

    public static void Guard(string path, string action, Action io) => Guard(path, action, () => { io(); return true; });

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error is what the user needs to see; a leftover .tmp is overwritten next time.
        }
    }

    public void Dispose() => _lock.Dispose();
}
