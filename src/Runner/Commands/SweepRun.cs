using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// One (method, grid configuration, seed) of a sweep: its directory, the `train` arguments that run it, and either
/// the step budget those arguments resolve to or the one-line reason they cannot run (a setting this method refuses).
/// </summary>
public sealed record SweepRun(
    string Method, SweepConfiguration Configuration, long Seed, string Directory, IReadOnlyList<string> TrainArgs, long TotalSteps, string? Problem)
{
    /// <summary>"cbp seed 0", or with a grid "cbp maturity=500,replacement-rate=1e-3 seed 0".</summary>
    public string Name => Configuration.IsEmpty ? $"{Method} seed {Seed}" : $"{Method} {Configuration.Name} seed {Seed}";

    /// <summary>"cbp-seed-0.log", or with a grid "cbp-maturity=500,replacement-rate=1e-3-seed-0.log".</summary>
    public string LogName => Configuration.IsEmpty ? $"{Method}-seed-{Seed}.log" : $"{Method}-{Configuration.Name}-seed-{Seed}.log";

    /// <summary>Reads the arguments with `train`'s own definitions, as the child process will, so a run that would be refused is known before anything starts.</summary>
    public static SweepRun Plan(string method, SweepConfiguration configuration, long seed, string directory, string[] trainArgs)
    {
        var parsed = RunnerCommandLine.Create().Parse(trainArgs);
        if (parsed.Errors.Count > 0)
            return new SweepRun(method, configuration, seed, directory, trainArgs, 0, ParseErrorMessage.Describe(parsed));
        try
        {
            var request = ((TrainCommand)parsed.CommandResult.Command).Read(parsed);
            return new SweepRun(method, configuration, seed, directory, trainArgs, request.Config.Run.TotalSteps, null);
        }
        catch (UsageException e)
        {
            return new SweepRun(method, configuration, seed, directory, trainArgs, 0, e.Message);
        }
    }
}
