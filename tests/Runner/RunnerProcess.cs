using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace CbpGpu.Tests.Runner;

/// <summary>The real Runner as a child process (what a user, a script or Slurm runs), with its output collected.</summary>
internal sealed class RunnerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();

    /// <param name="hangupAsInATerminal">
    /// Start the Runner with SIGHUP's default disposition even where this process ignores it (started under `nohup`,
    /// whose SIG_IGN every child inherits and .NET keeps): a test of what SIGHUP does must not depend on how the suite was started.
    /// </param>
    public RunnerProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool hangupAsInATerminal = false)
    {
        string runner = Path.Combine(AppContext.BaseDirectory, "Runner.dll");
        if (!File.Exists(runner)) throw new FileNotFoundException($"{runner} missing from the test output");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        bool resetHangup = hangupAsInATerminal && IgnoresHangup();
        var psi = new ProcessStartInfo(resetHangup ? "env" : host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (resetHangup)
        {
            psi.ArgumentList.Add("--default-signal=HUP");   // coreutils env: SIGHUP back to SIG_DFL, then exec
            psi.ArgumentList.Add(host);
        }
        psi.ArgumentList.Add(runner);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Whether SIGHUP (signal 1, bit 0 of /proc/self/status's SigIgn mask) is ignored by this process.</summary>
    private static bool IgnoresHangup()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return false;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 1) != 0;
    }

    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var p = new RunnerProcess(args, environment);
        int code = p.WaitForExit(TimeSpan.FromMinutes(5));
        return (code, p.Stdout, p.Stderr);
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Runner did not exit within {timeout}; stderr: {Stderr}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="ready"/> holds (polling), failing if the process exits first.</summary>
    public void WaitUntil(Func<bool> ready, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (_process.HasExited) throw new InvalidOperationException($"Runner exited ({_process.ExitCode}) before {what}; stderr: {Stderr}");
            if (clock.Elapsed > timeout) throw new TimeoutException($"no {what} within {timeout}");
            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// Sends a POSIX signal with kill(2), as a scheduler or a shell would. Called directly rather than through the
    /// `kill` program: starting a process from a loaded test host took long enough for a short run to finish first.
    /// </summary>
    public void Signal(int signal)
    {
        if (Kill(Pid, signal) != 0)
            throw new InvalidOperationException($"kill({Pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
