using System.Runtime.InteropServices;

namespace CbpGpu.Runner.Commands;

/// <summary>The libc calls a sweep and its runs need that .NET does not offer: sending a chosen signal, and the parent's PID.</summary>
internal static partial class Posix
{
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int GetParentPid();
}
