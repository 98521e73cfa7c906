using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;

namespace CbpGpu.Runner;

public static class Program
{
    private sealed record Command(string Name, string Summary, string Help, Func<CliArgs, int> Run);

    private static readonly Command[] Commands =
    [
        // Each command file adds itself here.
        new("replay", ReplayCommand.Summary, ReplayCommand.Help, ReplayCommand.Run),
        new("bench-env", BenchEnvCommand.Summary, BenchEnvCommand.Help, BenchEnvCommand.Run),
        new("train", TrainCommand.Summary, TrainCommand.Help, TrainCommand.Run),
    ];

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        var cmd = Array.Find(Commands, c => c.Name == args[0]);
        if (cmd is null)
        {
            Console.Error.WriteLine($"error: unknown command '{args[0]}'; commands are: {string.Join(", ", Commands.Select(c => c.Name))}");
            return 2;
        }
        try
        {
            var cli = new CliArgs(cmd.Name, args[1..]);
            if (cli.HelpRequested)
            {
                Console.Out.WriteLine(cmd.Help);
                return 0;
            }
            return cmd.Run(cli);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (CbpGpu.Physics.PhysicsException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (UserFacingException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("Runner: Continual Backprop on Slippery Ant");
        w.WriteLine();
        w.WriteLine("usage: Runner <command> [flags]     (Runner <command> --help for its flags)");
        foreach (var c in Commands) w.WriteLine($"  {c.Name,-12} {c.Summary}");
    }
}
