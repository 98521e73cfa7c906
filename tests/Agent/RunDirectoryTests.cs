using System.Diagnostics;
using CbpGpu.Agent.Training;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Agent;

/// <summary>The run directory under misuse and failing disks: every problem is one line naming the path, and nothing written is lost.</summary>
public sealed class RunDirectoryTests : IDisposable
{
    private readonly string _root = NewRoot("rundir");

    public RunDirectoryTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    [Fact]
    public void ASecondWriterIsRefusedWithTheHoldersPid()
    {
        string dir = Dir("locked");
        using (var first = RunDirectory.CreateNew(dir))
        {
            var e = Assert.Throws<TrainingException>(() => RunDirectory.CreateNew(dir));
            Assert.Contains($"in use by another Runner process (PID {Environment.ProcessId})", e.Message);
            Assert.Contains($"kill {Environment.ProcessId}", e.Message);
            Assert.Throws<TrainingException>(() => new Trainer(Config(2048), dir, false, TextWriter.Null));
        }
        // Released with its holder.
        RunDirectory.CreateNew(dir).Dispose();
    }

    [Fact]
    public void OutThatIsAFileOrUnderAFileIsOneLineNamingIt()
    {
        string file = Dir("a-file");
        File.WriteAllText(file, "keep me");
        foreach (bool resume in new[] { false, true })
        {
            var e = Assert.Throws<TrainingException>(() => Train(file, Config(2048), resume));
            Assert.Contains($"--out {file} is a file", e.Message);
        }
        var under = Assert.Throws<TrainingException>(() => Train(Path.Combine(file, "run"), Config(2048)));
        Assert.Contains(Path.Combine(file, "run"), under.Message);
        Assert.DoesNotContain('\n', under.Message);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void AFailedCheckpointWriteKeepsThePreviousCheckpointAndLeavesNoPartialFile()
    {
        string dir = Dir("blocked");
        Train(dir, Config(2048));
        string checkpoint = Path.Combine(dir, RunDirectory.CheckpointFile);
        byte[] previous = File.ReadAllBytes(checkpoint);
        // The temporary file's name taken by a directory: the write fails like a full or read-only disk would.
        Directory.CreateDirectory(checkpoint + ".tmp");

        var e = Assert.Throws<TrainingException>(() => Train(dir, Config(2 * 2048), resume: true));
        Assert.Contains("cannot write the checkpoint at step 4,096", e.Message);
        Assert.Contains("the previous checkpoint is kept", e.Message);
        Assert.Equal(previous, File.ReadAllBytes(checkpoint));
        Assert.Contains("failed", File.ReadAllLines(Path.Combine(dir, RunDirectory.SessionsFile))[^1]);

        Directory.Delete(checkpoint + ".tmp");
        string straight = Dir("straight");
        Train(straight, Config(2 * 2048));
        Train(dir, Config(2 * 2048), resume: true);
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    /// <summary>
    /// A real full disk: a 5 MB tmpfs holds the step-0 checkpoint (~3 MB) but not a second one beside it. Needs root
    /// to mount (CI runs as root); elsewhere the test reports itself skipped, with what it could not do and why.
    /// </summary>
    [SkippableFact]
    public void AFullDiskEndsWithOneLineAndAResumableDirectory()
    {
        string mount = Dir("tmpfs");
        Directory.CreateDirectory(mount);
        var (mounted, why) = Run("mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", mount);
        Skip.IfNot(mounted, $"needs a 5 MB tmpfs to fill, and mount -t tmpfs failed ({why}): run the tests as root, as CI does");
        try
        {
            string dir = Path.Combine(mount, "run");
            var e = Assert.Throws<TrainingException>(() => Train(dir, Config(3 * 2048)));
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains("No space left on device", e.Message);
            Assert.Contains("the previous checkpoint is kept", e.Message);
            Assert.False(File.Exists(Path.Combine(dir, RunDirectory.CheckpointFile + ".tmp")));

            // Moved to a disk with room, the run continues from its last checkpoint to the same result.
            string moved = Dir("moved");
            Directory.CreateDirectory(moved);
            foreach (var f in Directory.GetFiles(dir)) File.Copy(f, Path.Combine(moved, Path.GetFileName(f)));
            Train(moved, Config(3 * 2048), resume: true);
            string straight = Dir("straight");
            Train(straight, Config(3 * 2048));
            Assert.Equal(Episodes(straight), Episodes(moved));
            Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(moved));
        }
        finally
        {
            Run("umount", mount);
        }
    }

    /// <summary>Runs a program; whether it succeeded, and if not, why (its last line of error output, or that it is missing).</summary>
    private static (bool Ok, string Why) Run(string command, params string[] args)
    {
        var psi = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            return (p.ExitCode == 0, last.Length > 0 ? last : $"{command} exited {p.ExitCode}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, $"{command}: {e.Message}");
        }
    }
}
