using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`replay`: one Ant from the rest pose through a file of actions, one CSV line per step, to cross-check the physics.</summary>
public static class ReplayCommand
{
    public const string Summary = "play an actions file on one Ant and print reward,terminated,obs per step";

    public const string Help = """
        usage: Runner replay --friction F --actions FILE [--obs 111|27|contact]

        Starts one Slippery Ant at the rest pose (no reset noise) with ground friction F, applies each line of FILE
        (8 comma-separated numbers, the motor commands hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3)
        as one env step, and prints one CSV line per step: reward,terminated,obs_0,...,obs_n (round-trip precision,
        '.' decimal point). Stops after the first termination; there is no time limit.

          --friction F   sliding friction of every geom, 1e-6..1e6 (required)
          --actions FILE the actions, one step per line (required)
          --obs KIND     111: standard observation (contact forces zero, as published); 27: without contact forces;
                         contact: 111 with real contact forces (mj_rnePostConstraint). Default 111.
        """;

    public static int Run(CliArgs a) => Run(a, Console.Out);

    public static int Run(CliArgs a, TextWriter output)
    {
        double friction = a.GetDouble("--friction", null, 1e-6, 1e6);
        string path = a.GetString("--actions");
        var kind = a.GetChoice("--obs", "111", "111", "27", "contact") switch
        {
            "27" => ObservationKind.NoContact,
            "contact" => ObservationKind.RealContact,
            _ => ObservationKind.Standard,
        };
        a.EnsureAllUsed();

        List<float[]> actions;
        try
        {
            using var reader = new StreamReader(path);
            actions = AntReplay.ParseActions(reader);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UserFacingException($"actions file '{path}' not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"cannot read actions file '{path}': {e.Message}");
        }
        catch (FormatException e)
        {
            throw new UserFacingException($"actions file '{path}' {e.Message}");
        }
        if (actions.Count == 0) throw new UserFacingException($"actions file '{path}' has no actions");

        try
        {
            AntReplay.Run(friction, kind, actions, output);
        }
        catch (PhysicsException e)
        {
            throw new UserFacingException(e.Message);
        }
        return 0;
    }
}
