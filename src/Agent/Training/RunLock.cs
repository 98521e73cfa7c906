using System.Runtime.InteropServices;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// An exclusive advisory lock on a run directory, so two processes never write the same logs. It is flock(2) on
/// <c>DIR/.lock</c>, which the kernel releases when the holder exits in any way (SIGKILL included), so a stale lock
/// cannot outlive its process. The file holds the holder's PID for the refusal message. libc is called directly
/// because .NET's own FileShare locking takes a shared lock for every reader, so a second process could not even
/// read the PID.
/// </summary>
public sealed partial class RunLock : IDisposable
{
    public const string FileName = ".lock";

    private const int O_RDWR = 0x2, O_CREAT = 0x40, O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2, LOCK_NB = 4;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private int _fd;

    private RunLock(int fd) => _fd = fd;

    /// <summary>Takes the lock or throws a <see cref="TrainingException"/> naming the process that holds it.</summary>
    public static RunLock Acquire(string directory)
    {
        string path = Path.Combine(directory, FileName);
        int fd = Open(path, O_RDWR | O_CREAT | O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0)
            throw new TrainingException($"cannot create the lock file {path}: {Marshal.GetLastPInvokeErrorMessage()}; check that {directory} is a writable directory");
        if (Flock(fd, LOCK_EX | LOCK_NB) != 0)
        {
            string holder = ReadPid(fd);
            Close(fd);
            throw new TrainingException(
                $"{directory} is in use by another Runner process{(holder.Length > 0 ? $" (PID {holder})" : "")}; " +
                $"wait for it to finish, or stop it{(holder.Length > 0 ? $" with 'kill {holder}'" : "")} (it checkpoints first), or choose another --out");
        }
        var runLock = new RunLock(fd);
        runLock.WritePid(Environment.ProcessId);
        return runLock;
    }

    private static unsafe string ReadPid(int fd)
    {
        byte* buffer = stackalloc byte[32];
        nint n = PRead(fd, buffer, 32, 0);
        return n <= 0 ? "" : Encoding.ASCII.GetString(buffer, (int)n).Trim();
    }

    private unsafe void WritePid(int pid)
    {
        byte[] text = Encoding.ASCII.GetBytes(pid + "\n");
        FTruncate(_fd, 0);
        fixed (byte* p = text) PWrite(_fd, p, (nuint)text.Length, 0);
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        Close(_fd);
        _fd = -1;
    }
}
