using System.Globalization;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// A `train` started by `Runner sweep` stops cleanly when the sweep dies, even by SIGKILL: it sends itself SIGTERM once
/// (handled by <see cref="StopSignals"/>: finish the update, checkpoint, exit 143), so a killed sweep leaves no orphan
/// that keeps training in, and holding the lock of, a directory the rerun sweep needs (docs/sweeps.md#stopping).
/// It polls its parent instead of using prctl(PR_SET_PDEATHSIG): that signal comes again each time the child is
/// re-parented from one dying thread of the sweep to the next, and a second signal kills a run before it checkpoints.
/// </summary>
internal static class SweepChild
{
    /// <summary>Set by the sweep in each child's environment: the sweep's PID.</summary>
    public const string ParentPidVariable = "CBPGPU_SWEEP_PID";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static void StopWithSweep()
    {
        if (Environment.GetEnvironmentVariable(ParentPidVariable) is not { Length: > 0 } text
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int sweep)) return;
        var watch = new Thread(() =>
        {
            while (Posix.GetParentPid() == sweep) Thread.Sleep(Poll);
            Posix.Kill(Environment.ProcessId, Posix.SigTerm);
        }) { IsBackground = true, Name = "sweep watch" };
        watch.Start();
    }
}
