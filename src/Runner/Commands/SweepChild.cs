using System.Globalization;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// A `train` started by `Runner sweep` stops cleanly when the sweep dies, even by SIGKILL: the kernel sends it SIGTERM
/// (handled by <see cref="StopSignals"/>: finish the update, checkpoint, exit 143), so a killed sweep leaves no
/// orphan that keeps training in, and holding the lock of, a directory the rerun sweep needs (docs/sweeps.md#stopping).
/// </summary>
internal static class SweepChild
{
    /// <summary>Set by the sweep in each child's environment: the sweep's PID.</summary>
    public const string ParentPidVariable = "CBPGPU_SWEEP_PID";

    public static void StopWithSweep()
    {
        if (Environment.GetEnvironmentVariable(ParentPidVariable) is not { Length: > 0 } text
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int sweep)) return;
        Posix.SetParentDeathSignal(Posix.SigTerm);
        // The sweep may have died before the call above: then this process has already been re-parented.
        if (Posix.GetParentPid() != sweep) Posix.Kill(Environment.ProcessId, Posix.SigTerm);
    }
}
