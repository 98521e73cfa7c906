using System.CommandLine;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`replay`: one env from the rest pose through a file of actions, one CSV line per step, to cross-check the physics.</summary>
public sealed class ReplayCommand : RunnerCommand
{
    private readonly Option<double?> _friction = SharedOptions.Friction("the env's friction: the Ant on MuJoCo, sliding friction of every geom; on Bullet, the floor's lateral friction; hopper, walker2d, halfcheetah: a factor on every geom's sliding friction", defaultValue: null);
    private readonly Option<string> _actions = OptionFactory.Text("--actions", "FILE", "the actions, one step per line", required: true);
    private readonly ChoiceOption<ObservationKind> _obs = SharedOptions.Obs();
    private readonly ChoiceOption<PhysicsEngine> _engine = SharedOptions.Engine();
    private readonly ChoiceOption<string> _env = SharedOptions.Env();

    public ReplayCommand() : base("replay", "play an actions file on one env and print reward,terminated,obs per step", """
        Starts one env of --env (default: the Slippery Ant) at the rest pose (no reset noise) with friction F, applies each line of FILE
        (8 comma-separated numbers) as one env step, and prints one CSV line per step: reward,terminated,obs_0,...,obs_n
        (round-trip precision, '.' decimal point). Stops after the first termination; there is no time limit.
        MuJoCo: F is every geom's sliding friction; the numbers are the motor commands hip_4, ankle_4, hip_1, ankle_1,
        hip_2, ankle_2, hip_3, ankle_3. Bullet: torso at (0,0,0.75), every joint at 0, F the floor's lateral friction
        (the ant keeps 1.5); the numbers are the torques / 250 for hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3, hip_4,
        ankle_4, and each line prints obs_0..obs_27. hopper, walker2d, halfcheetah: every joint at Gym's rest pose, F a
        factor on every geom's sliding friction (1: Gym's model); each line holds one number per motor (3, 6, 6) in the
        order of docs/gym-mujoco.md.
        """)
    {
        Add(_friction);
        Add(_actions);
        Add(_obs);
        Add(_engine);
        Add(_env);
        SetAction(Run);
    }

    private int Run(ParseResult result)
    {
        double friction = result.GetValue(_friction)!.Value;
        string path = result.GetValue(_actions)!;
        var env = SharedOptions.EnvFor(result, _env, _obs, _engine);

        List<float[]> actions;
        try
        {
            using var reader = new StreamReader(path);
            actions = EnvReplay.ParseActions(reader, EnvRegistry.Sizes(env).Action);
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

        EnvReplay.Run(env, friction, actions, result.InvocationConfiguration.Output);
        return 0;
    }
}
