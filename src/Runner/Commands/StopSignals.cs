using System.Runtime.InteropServices;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP as a request to stop cleanly: the first one cancels <see cref="Token"/> instead of
/// killing the process; any later one is left to its default action, so a second signal kills a run that hangs.
/// Registered through <see cref="PosixSignalRegistration"/> (not Console.CancelKeyPress) so all three behave alike.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private static readonly (PosixSignal Signal, string Name, int Number)[] Handled =
    [
        (PosixSignal.SIGINT, "SIGINT", 2),
        (PosixSignal.SIGTERM, "SIGTERM", 15),
        (PosixSignal.SIGHUP, "SIGHUP", 1),
    ];

    private readonly CancellationTokenSource _stop = new();
    private readonly TextWriter _error;
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    public StopSignals(TextWriter error)
    {
        _error = error;
        _registrations = Array.ConvertAll(Handled, h => PosixSignalRegistration.Create(h.Signal, OnSignal));
    }

    public CancellationToken Token => _stop.Token;

    /// <summary>128 + the number of the signal that cancelled <see cref="Token"/>: the shell's code for "stopped by that signal".</summary>
    public int ExitCode => 128 + _received;

    private void OnSignal(PosixSignalContext context)
    {
        var (_, name, number) = Array.Find(Handled, h => h.Signal == context.Signal);
        if (Interlocked.CompareExchange(ref _received, number, 0) != 0) return;
        context.Cancel = true;
        _error.WriteLine($"stopping on {name}: finishing the current update, then writing the checkpoint (send it again to kill)");
        _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _stop.Dispose();
    }
}
