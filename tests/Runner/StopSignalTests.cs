using System.Diagnostics;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Training;
using Xunit;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// `train` in a child Runner process, stopped by a signal once training runs: it finishes the update, checkpoints,
/// prints the command that continues the run, and exits with 128 + the signal number.
/// </summary>
public sealed partial class StopSignalTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("cbpgpu-signal-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [Theory]
    [InlineData("SIGINT", 2)]
    [InlineData("SIGTERM", 15)]
    [InlineData("SIGHUP", 1)]
    public async Task FirstSignalCheckpointsAndExitsWith128PlusItsNumber(string name, int number)
    {
        string runner = Path.Combine(AppContext.BaseDirectory, "Runner.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        string outDir = Path.Combine(_tmp, "run");
        string[] args = ["train", "--method", "std", "--preset", "constant", "--envs", "16", "--steps", "1M", "--threads", "1", "--out", outDir];
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(runner);
        foreach (var a in args) psi.ArgumentList.Add(a);

        using var proc = Process.Start(psi)!;
        var stderr = proc.StandardError.ReadToEndAsync();
        var stdout = new List<string>();
        string? line;
        while ((line = await proc.StandardOutput.ReadLineAsync()) is not null)
        {
            stdout.Add(line);
            if (line.StartsWith("training ", StringComparison.Ordinal)) break;
        }
        Assert.NotNull(line);
        Assert.Equal(0, Kill(proc.Id, number));
        while ((line = await proc.StandardOutput.ReadLineAsync()) is not null) stdout.Add(line);
        await proc.WaitForExitAsync();

        Assert.Equal(128 + number, proc.ExitCode);
        Assert.Equal(
            $"stopping on {name}: finishing the current update, then writing the checkpoint (send it again to kill)",
            (await stderr).Trim());
        Assert.Equal($"to continue: Runner {string.Join(' ', args)} --resume", stdout[^1]);
        Assert.True(File.Exists(Path.Combine(outDir, RunDirectory.CheckpointFile)));
        Assert.Contains(stdout, l => l.StartsWith("stopped at step ", StringComparison.Ordinal));
    }
}
