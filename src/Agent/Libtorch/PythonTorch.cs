using System.ComponentModel;
using System.Diagnostics;

namespace CbpGpu.Agent.Libtorch;

/// <summary>What `python3 -c "import torch"` says: the installed PyTorch's version and its torch/lib, or why not.</summary>
public sealed record PythonTorch(string? Version, string? LibDir, string? Problem)
{
    /// <summary>Importing a CUDA PyTorch reads hundreds of MB of libraries; a cold page cache takes tens of seconds.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private const string Script = "import os, torch; print(torch.__version__); print(os.path.join(os.path.dirname(torch.__file__), 'lib'))";

    /// <summary>Runs <paramref name="python"/> (a name on PATH or a path) to import torch; never throws for a missing or broken Python.</summary>
    public static PythonTorch Probe(string python)
    {
        var start = new ProcessStartInfo(python, ["-c", Script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            return new PythonTorch(null, null, $"{python} not found on PATH");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return new PythonTorch(null, null, $"{python} -c 'import torch' did not finish in {Timeout.TotalSeconds:F0} s");
            }
            string[] lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (process.ExitCode != 0 || lines.Length < 2)
            {
                string why = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
                             ?? $"exit code {process.ExitCode}";
                return new PythonTorch(null, null, $"{python} -c 'import torch': {why}");
            }
            return new PythonTorch(lines[0], lines[1], null);
        }
    }
}
