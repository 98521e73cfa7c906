using System.Runtime.InteropServices;

namespace CbpGpu.Runner.Commands;

/// <summary>The few libc calls a sweep and its runs need that .NET does not offer: sending a chosen signal, and parent-death signals.</summary>
internal static partial class Posix
{
    public const int SigTerm = 15;
    private const int PR_SET_PDEATHSIG = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int GetParentPid();

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>Asks the kernel to send <paramref name="signal"/> to this process when its parent dies (prctl(2) PR_SET_PDEATHSIG).</summary>
    public static bool SetParentDeathSignal(int signal) => Prctl(PR_SET_PDEATHSIG, (nuint)signal, 0, 0, 0) == 0;
}
