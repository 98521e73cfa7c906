using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using CbpGpu.Runner.Commands;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// The Runner's commands and the product's exit codes: 0 finished, 2 bad command line, 1 refused or failed
/// (one `error:` line, no stack trace unless CBPGPU_DEBUG=1), 128+N stopped by signal N (see <see cref="StopSignals"/>).
/// </summary>
public static class RunnerCommandLine
{
    public const int Failed = 1, UsageError = 2;

    public static Command Create()
    {
        var root = new Command("Runner", "Continual Backprop on Slippery Ant");
        var help = new HelpOption();
        help.Action = new HelpWithDetailsAction((HelpAction)help.Action!);
        root.Options.Add(help);
        root.Subcommands.Add(new TrainCommand());
        root.Subcommands.Add(new SweepCommand());
        root.Subcommands.Add(new PlotCommand());
        root.Subcommands.Add(new ReplayCommand());
        root.Subcommands.Add(new RenderCommand());
        root.Subcommands.Add(new BenchEnvCommand());
        return root;
    }

    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        var root = Create();
        if (args.Length == 0)
        {
            // No command is a usage error: the usage goes where errors go, and the exit code says so.
            root.Parse(["--help"]).Invoke(Configuration(error, error));
            return UsageError;
        }
        try
        {
            args = ConfigArguments.Expand(args);
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        var parsed = root.Parse(WithDefaultCommand(root, args));
        if (parsed.Action is ParseErrorAction)
        {
            error.WriteLine($"error: {ParseErrorMessage.Describe(parsed)}");
            return UsageError;
        }
        try
        {
            return parsed.Invoke(Configuration(output, error));
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is TrainingException or PhysicsException or UserFacingException
                                      or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal error: {e.GetType().FullName}: {e.Message}");
            if (Environment.GetEnvironmentVariable("CBPGPU_DEBUG") == "1") error.WriteLine(e);
            return Failed;
        }
    }

    /// <summary>
    /// Options without a command are train's (`Runner --device cuda --envs 64` trains, as users write it);
    /// the root's own options (--help) and anything that is not an option keep their meaning.
    /// </summary>
    private static string[] WithDefaultCommand(Command root, string[] args) =>
        args[0].StartsWith('-') && !root.Options.Any(o => o.Name == args[0] || o.Aliases.Contains(args[0]))
            ? ["train", .. args]
            : args;

    private static InvocationConfiguration Configuration(TextWriter output, TextWriter error) =>
        new() { Output = output, Error = error, EnableDefaultExceptionHandler = false };
}
