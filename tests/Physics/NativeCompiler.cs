using Xunit;
using System.Diagnostics;

namespace CbpGpu.Tests.Physics;

/// <summary>Compiles small C programs against the installed MuJoCo headers and library, for checks the C compiler is the authority on.</summary>
internal static class NativeCompiler
{
    public const string IncludeDir = "/usr/include/mujoco";

    /// <summary>Builds <paramref name="source"/> into an executable in a fresh temp dir and returns its path.</summary>
    public static string Build(string source, string name)
    {
        string dir = Directory.CreateTempSubdirectory("cbpgpu-physics-").FullName;
        string c = Path.Combine(dir, name + ".c");
        string exe = Path.Combine(dir, name);
        File.WriteAllText(c, source);
        Assert.True(File.Exists(Path.Combine(IncludeDir, "mujoco.h")),
            $"{IncludeDir}/mujoco.h is missing; install the headers with: sudo apt-get install libmujoco-dev");
        var (code, output) = Exec("cc", ["-O1", "-o", exe, c, $"-I{IncludeDir}", "-l:libmujoco.so.2.2.2", "-lm"]);
        Assert.True(code == 0, $"cc failed ({code}):\n{output}");
        return exe;
    }

    public static (int Code, string Output) Exec(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"cannot run '{file}' ({e.Message}); these checks need a C compiler: sudo apt-get install gcc");
            throw;
        }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stdout + stderr.Result);
        }
    }
}
