using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`Runner train`: PPO on Slippery Ant with one of the SPEC §3 optimizer variants.</summary>
public static class TrainCommand
{
    public const string Summary = "train PPO (std | ns | l2) on Slippery Ant, with logs and checkpoints";

    public const string Help = """
        usage: Runner train --method std|ns|l2 --out DIR [flags]

          --method std|ns|l2        Standard PPO (Adam 0.9/0.999), NS-Adam (0.99/0.99), PPO+L2 (NS-Adam + L2 1e-3)
          --out DIR                 run directory: config.json, episodes.csv, updates.csv, checkpoint.bin
          --preset P                nature2024 (default; friction log-U[0.02,2] every >=2M steps, 20M steps),
                                    seed2023 (friction 10^U(-4,4) every 10M steps, 500-step episodes, 100M steps),
                                    constant (fixed friction, see --friction)
          --friction F              friction for --preset constant (default 1.0)
          --steps N                 env steps in total (default: the preset's run length; 300k, 2M, 1e6 accepted)
          --envs N                  parallel envs (default 64; must divide the 2048-transition batch)
          --seed S                  seed for envs, weights and sampling (default 0)
          --device cpu|cuda         (default cpu)
          --threads N               threads for MuJoCo stepping and for torch (default: all cores)
          --env-threads N           override --threads for MuJoCo stepping
          --torch-threads N         override --threads for torch
          --obs 111|27|contact      observation: 111 floats with zero contact forces as published (default),
                                    27 without contact forces, or 111 with real contact forces
          --bootstrap-truncation    bootstrap V(last obs) when an episode hits the time limit (the paper
                                    presets treat truncation like termination)
          --checkpoint-every K      write checkpoint.bin every K updates (default 100; 0 = only at the end)
          --resume                  continue the run in --out from its checkpoint (same flags; --steps may grow)

        Ctrl+C finishes the current update, writes the checkpoint and the logs, and exits; a second Ctrl+C kills.
        """;

    public static int Run(CliArgs a)
    {
        var method = a.GetChoice("--method", null!, "std", "ns", "l2") switch
        {
            "std" => PpoMethod.Standard,
            "ns" => PpoMethod.NsAdam,
            _ => PpoMethod.L2,
        };
        string outDir = a.GetString("--out");
        string preset = a.GetChoice("--preset", "nature2024", "nature2024", "seed2023", "constant");
        if (preset != "constant" && a.Has("--friction"))
            throw new UsageException("train: --friction only applies to --preset constant");
        double friction = a.GetDouble("--friction", 1.0, 1e-6, 1e6);
        int envs = a.GetInt("--envs", 64, 1, 2048);
        long steps = a.GetLong("--steps", RunSettings.DefaultSteps(preset), 1, 10_000_000_000);
        long seed = a.GetLong("--seed", 0, 0, long.MaxValue);
        string device = a.GetChoice("--device", "cpu", "cpu", "cuda");
        int threads = a.GetInt("--threads", Environment.ProcessorCount, 1, 256);
        int envThreads = a.GetInt("--env-threads", threads, 1, 256);
        int torchThreads = a.GetInt("--torch-threads", threads, 1, 256);
        var obs = a.GetChoice("--obs", "111", "111", "27", "contact") switch
        {
            "27" => ObservationKind.NoContact,
            "contact" => ObservationKind.RealContact,
            _ => ObservationKind.Standard,
        };
        bool bootstrap = a.GetSwitch("--bootstrap-truncation");
        int checkpointEvery = a.GetInt("--checkpoint-every", 100, 0, int.MaxValue);
        bool resume = a.GetSwitch("--resume");
        a.EnsureAllUsed();

        var ppo = PpoSettings.For(method, bootstrap);
        if (ppo.Validate(envs) is string problem) throw new UsageException($"train: --envs {envs}: {problem}");
        var env = preset switch
        {
            "seed2023" => EnvSettings.Seed2023(envs, obs),
            "constant" => EnvSettings.Constant(envs, friction, obs),
            _ => EnvSettings.Nature2024(envs, obs),
        };
        var config = new TrainConfig(env, ppo, new RunSettings((ulong)seed, steps, device, torchThreads, envThreads, checkpointEvery));
        Console.Out.WriteLine(config.ToJson());

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (stop.IsCancellationRequested) return;   // second Ctrl+C: let it kill the process
            e.Cancel = true;
            stop.Cancel();
            Console.Error.WriteLine("stopping: finishing the current update, then writing checkpoint and logs (Ctrl+C again to kill)");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            using var trainer = new Trainer(config, outDir, resume, Console.Out);
            trainer.Run(stop.Token);
            return 0;
        }
        catch (TrainingException e)
        {
            throw new UserFacingException(e.Message);
        }
        catch (PhysicsException e)
        {
            throw new UserFacingException(e.Message);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
