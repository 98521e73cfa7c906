using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>The missing-library path, in a child Runner process pointed at a library file that does not exist.</summary>
public class MissingMuJoCoTests
{
    [Fact]
    public async Task ReplayWithoutMuJoCoPrintsOneLineNamingTheAptPackage()
    {
        string runner = Path.Combine(AppContext.BaseDirectory, "Runner.dll");
        Assert.True(File.Exists(runner), $"{runner} missing from the test output");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        string actions = Path.Combine(AppContext.BaseDirectory, "Data", "Physics", "replay_actions.csv");
        var psi = new System.Diagnostics.ProcessStartInfo(host)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { runner, "replay", "--friction", "1", "--actions", actions }) psi.ArgumentList.Add(a);
        psi.Environment["CBPGPU_MUJOCO_LIB"] = "/nonexistent/libmujoco.so.2.2.2";
        using var proc = System.Diagnostics.Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        string stderr = await proc.StandardError.ReadToEndAsync();
        await proc.WaitForExitAsync();
        Assert.Equal(1, proc.ExitCode);
        Assert.Equal("", await stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("apt-get install libmujoco2.2.2", lines[0]);
    }
}
