namespace CbpGpu.Runner.Commands;

/// <summary>How to start this same Runner as another process (a sweep's runs, a Slurm task): the dotnet host, then Runner.dll.</summary>
internal static class RunnerExecutable
{
    public static IReadOnlyList<string> Command { get; } = Resolve();

    private static string[] Resolve()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Runner.dll");
        string? process = Environment.ProcessPath;
        // Under the apphost or a test host the process is not dotnet itself; DOTNET_HOST_PATH names it when set.
        string host = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        return [host, dll];
    }
}
