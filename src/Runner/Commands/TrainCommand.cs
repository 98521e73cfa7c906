using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`Runner train`: PPO on Slippery Ant with one of the SPEC §3 optimizer variants, PPO+CBP included.</summary>
public static class TrainCommand
{
    public const string Summary = "train PPO (std | ns | l2 | cbp) on Slippery Ant, with logs and checkpoints";

    public const string Help = """
        usage: Runner train --method std|ns|l2|cbp --out DIR [flags]

          --method std|ns|l2|cbp    Standard PPO (Adam 0.9/0.999), NS-Adam (0.99/0.99), PPO+L2 (NS-Adam + L2 1e-3),
                                    PPO+CBP (NS-Adam + L2 1e-4 + Continual Backprop on all four hidden layers)
          --out DIR                 run directory: config.json, episodes.csv, updates.csv, checkpoint.bin
          --preset P                nature2024 (default; friction log-U[0.02,2] every >=2M steps, 20M steps),
                                    seed2023 (friction 10^U(-4,4) every 10M steps, 500-step episodes, 100M steps),
                                    constant (fixed friction, see --friction)
          --friction F              friction for --preset constant (default 1.0)
          --steps N                 env steps in total (default: the preset's run length; 300k, 2M, 1e6 accepted)
          --envs N                  parallel envs (default 64; must divide the 2048-transition batch)
          --seed S                  seed for envs, weights and sampling (default 0)
          --device cpu|cuda         (default cpu)
          --threads N               threads for MuJoCo stepping (default: all cores)
          --torch-threads N         threads for torch (default 1; see below)
          --obs 111|27|contact      observation: 111 floats with zero contact forces as published (default),
                                    27 without contact forces, or 111 with real contact forces
          --bootstrap-truncation    bootstrap V(last obs) when an episode hits the time limit (the paper
                                    presets treat truncation like termination)
          --checkpoint-every K      write checkpoint.bin every K updates (default 100; 0 = only at the end)
          --resume                  continue the run in --out from its checkpoint (same flags; --steps may grow)
          --optimizer-impl I        fused (default: aged Adam and CBP in a few fused passes over all parameters),
                                    naive (the same math as TorchSharp ops per tensor: the slow reference), or
                                    torch (TorchSharp's Adam; not with --reset-adam-state)

        Continual Backprop (--method cbp only; defaults from --cbp-preset):
          --cbp-preset P            nature2024 (published: contribution utility, probabilistic count, Adam state
                                    kept) or seed2023 (reproduction report: adaptable-contribution utility, Adam
                                    moments and per-weight step counters of replaced units reset); default: the
                                    --preset's own (nature2024 for constant)
          --utility U               contribution | adaptable (adaptable-contribution)
          --count-rule R            probabilistic (n < 1: one unit with probability n) | accumulate (carry fractions)
          --reset-adam-state [B]    zero Adam's m, v and step counters of replaced units' weights (true|false)
          --bias-correction [B]     move a replaced unit's mean output into the next layer's bias (true|false;
                                    off in both presets, as in the published code)
          --maturity N              maturity threshold: only units older than N optimizer steps are replaced (10000)
          --replacement-rate R      fraction of eligible units replaced per optimizer step (1e-4)
          --decay D                 decay of the running mean activation and utility (0.99)

        updates.csv has per update: losses, mean |w| per layer, replaced_<layer> (CBP replacements during the
        update), age_<bin>_<layer> (units per age bin, age = optimizer steps since (re)initialisation; 160 per update)
        and timings.

        Threads: env stepping and the PPO update take turns, so each may use every core. On the 2-core dev
        machine torch is fastest with 1 thread: 2 threads made the update slower (0.61 s vs 0.40 s per update)
        with sleeping OpenMP threads, and with spinning ones (GOMP_SPINCOUNT=20000) faster when the machine is
        idle (3,900 vs 3,200 steps/s overall) but slower as soon as other processes compete (1,360 vs 1,770).
        Unless OMP_WAIT_POLICY is set, OpenMP threads sleep while idle (spinning ones collapsed throughput).

        Ctrl+C finishes the current update, writes the checkpoint and the logs, and exits; a second Ctrl+C kills.
        """;

    public static int Run(CliArgs a)
    {
        var method = a.GetChoice("--method", null!, "std", "ns", "l2", "cbp") switch
        {
            "std" => PpoMethod.Standard,
            "ns" => PpoMethod.NsAdam,
            "l2" => PpoMethod.L2,
            _ => PpoMethod.Cbp,
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
        int envThreads = a.GetInt("--threads", Environment.ProcessorCount, 1, 256);
        int torchThreads = a.GetInt("--torch-threads", 1, 1, 256);
        var obs = a.GetChoice("--obs", "111", "111", "27", "contact") switch
        {
            "27" => ObservationKind.NoContact,
            "contact" => ObservationKind.RealContact,
            _ => ObservationKind.Standard,
        };
        bool bootstrap = a.GetSwitch("--bootstrap-truncation");
        int checkpointEvery = a.GetInt("--checkpoint-every", 100, 0, int.MaxValue);
        bool resume = a.GetSwitch("--resume");
        var impl = a.GetChoice("--optimizer-impl", "fused", "fused", "naive", "torch") switch
        {
            "naive" => OptimizerImpl.Naive,
            "torch" => OptimizerImpl.Torch,
            _ => OptimizerImpl.Fused,
        };
        CbpSettings? cbp = method == PpoMethod.Cbp ? ReadCbpSettings(a, preset) : RefuseCbpFlags(a);
        a.EnsureAllUsed();

        var ppo = PpoSettings.For(method, bootstrap);
        if (ppo.Validate(envs) is string problem) throw new UsageException($"train: --envs {envs}: {problem}");
        if (cbp is { ResetOptimizerState: true } && impl == OptimizerImpl.Torch)
            throw new UsageException("train: --optimizer-impl torch cannot reset per-weight Adam state (--reset-adam-state, on in --cbp-preset seed2023); use --optimizer-impl fused or naive, or --reset-adam-state false");
        var env = preset switch
        {
            "seed2023" => EnvSettings.Seed2023(envs, obs),
            "constant" => EnvSettings.Constant(envs, friction, obs),
            _ => EnvSettings.Nature2024(envs, obs),
        };
        var config = new TrainConfig(env, ppo, new RunSettings((ulong)seed, steps, device, torchThreads, envThreads, checkpointEvery, impl), cbp);
        if (config.Validate() is string invalid) throw new UsageException($"train: {invalid}");

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

    private static readonly string[] CbpFlags =
        ["--cbp-preset", "--utility", "--count-rule", "--reset-adam-state", "--bias-correction", "--maturity", "--replacement-rate", "--decay"];

    /// <summary>The --cbp-preset's settings with any single CBP flag overriding its field.</summary>
    private static CbpSettings ReadCbpSettings(CliArgs a, string envPreset)
    {
        var preset = a.GetChoice("--cbp-preset", envPreset == "seed2023" ? "seed2023" : "nature2024", "nature2024", "seed2023") == "seed2023"
            ? CbpSettings.Seed2023
            : CbpSettings.Nature2024;
        return preset with
        {
            Utility = a.Has("--utility")
                ? a.GetChoice("--utility", null!, "contribution", "adaptable") == "adaptable" ? UtilityKind.AdaptableContribution : UtilityKind.Contribution
                : preset.Utility,
            CountRule = a.Has("--count-rule")
                ? a.GetChoice("--count-rule", null!, "probabilistic", "accumulate") == "accumulate" ? ReplacementCountRule.Accumulate : ReplacementCountRule.Probabilistic
                : preset.CountRule,
            ResetOptimizerState = a.Has("--reset-adam-state") ? a.GetSwitch("--reset-adam-state") : preset.ResetOptimizerState,
            NextBiasCorrection = a.Has("--bias-correction") ? a.GetSwitch("--bias-correction") : preset.NextBiasCorrection,
            MaturityThreshold = a.GetInt("--maturity", preset.MaturityThreshold, 0, int.MaxValue - 1),
            ReplacementRate = a.GetDouble("--replacement-rate", preset.ReplacementRate, 0, 1),
            Decay = a.GetDouble("--decay", preset.Decay, 1e-6, BiasCorrectionTable.MaxDecay),
        };
    }

    private static CbpSettings? RefuseCbpFlags(CliArgs a)
    {
        foreach (var flag in CbpFlags)
            if (a.Has(flag)) throw new UsageException($"train: {flag} only applies to --method cbp");
        return null;
    }
}
