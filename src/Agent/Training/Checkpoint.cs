using System.Runtime.InteropServices;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Training;

/// <summary>The counters of a run at a checkpoint: the "run" block.</summary>
/// <param name="ConfigJson">The configuration the run was trained with up to here.</param>
/// <param name="EpisodesCsvLength">Bytes of episodes.csv at the checkpoint: a resume cuts the file back to this.</param>
/// <param name="RecentReturns">The progress display's recent episode returns.</param>
/// <param name="EvalCsvLength">Bytes of eval.csv at the checkpoint, every evaluation due by then written; 0: the run had no eval.csv.</param>
/// <param name="ActivityCsvLength">Bytes of activity.csv at the checkpoint; 0: a checkpoint written before activity.csv existed.</param>
public sealed record RunProgress(
    string ConfigJson, int Updates, long EnvSteps, long Episodes,
    long EpisodesCsvLength, long UpdatesCsvLength, double ElapsedSeconds, double[] RecentReturns, long EvalCsvLength = 0,
    long ActivityCsvLength = 0);

/// <summary>Everything whose state a checkpoint carries, built fresh from the configuration before a restore.</summary>
/// <param name="Hook">The plasticity method's hook, whose state goes to the method's own block; null for a method without.</param>
public sealed record TrainingState(FlatParameters Parameters, IParameterOptimizer Optimizer, PlasticityMethod Method, IPlasticityHook? Hook,
    Generator Generator, VectorEnv Env, ActingActivity Activity);

/// <summary>
/// What checkpoint.bin holds (docs/formats.md#checkpointbin): one <see cref="BlockWriter"/> file with the blocks
/// run, eval (only when the run has an eval.csv), activity, parameters, optimizer, the method's own block (cbp for Continual Backprop,
/// none for a method without a hook; <see cref="PlasticityMethod.CheckpointBlock"/>), generator, envs and
/// activity-window. Everything a run needs to
/// continue bit for bit; each block is read whole and must fit exactly, so a checkpoint of another run is refused
/// before anything is changed.
/// </summary>
public static class Checkpoint
{
    public const string Magic = "CbpGpu checkpoint";
    public const int FormatVersion = 2;

    private const string Run = "run", Eval = "eval", Activity = "activity", Parameters = "parameters", Optimizer = "optimizer",
        Generator = "generator", Envs = "envs", ActivityWindow = "activity-window";
    private const int RunVersion = 1, ParametersVersion = 1, OptimizerVersion = 1, GeneratorVersion = 1, EvalVersion = 1,
        ActivityVersion = 1, ActivityWindowVersion = 1;

    public static void Write(BlockWriter w, RunProgress run, TrainingState state)
    {
        w.Write(Run, RunVersion, x =>
        {
            x.Write(run.ConfigJson);
            x.Write(run.Updates);
            x.Write(run.EnvSteps);
            x.Write(run.Episodes);
            x.Write(run.EpisodesCsvLength);
            x.Write(run.UpdatesCsvLength);
            x.Write(run.ElapsedSeconds);
            x.Write(run.RecentReturns.Length);
            foreach (double r in run.RecentReturns) x.Write(r);
        });
        // Its own block, absent without evaluation: checkpoints written before evaluation existed read as "no eval.csv".
        if (run.EvalCsvLength > 0) w.Write(Eval, EvalVersion, x => x.Write(run.EvalCsvLength));
        // Blocks of their own (this one and activity-window), so that checkpoints written before activity.csv existed
        // still read, as "no activity.csv".
        if (run.ActivityCsvLength > 0) w.Write(Activity, ActivityVersion, x => x.Write(run.ActivityCsvLength));
        w.Write(Parameters, ParametersVersion, x =>
        {
            using var cpu = state.Parameters.Data.cpu();
            x.Write(cpu.bytes);
        });
        w.Write(Optimizer, OptimizerVersion, state.Optimizer.Save);
        if (HookBlock(state) is var (name, version)) w.Write(name, version, state.Hook!.Save);
        w.Write(Generator, GeneratorVersion, x =>
        {
            using var generatorState = state.Generator.get_state();
            using var cpu = generatorState.cpu();
            x.Write(cpu.bytes);
        });
        w.Write(Envs, VectorEnv.StateVersion, state.Env.SaveState);
        w.Write(ActivityWindow, ActivityWindowVersion, state.Activity.Save);
    }

    /// <summary>The run block (and eval and activity blocks) alone: read first, to check the configuration before anything is built.</summary>
    public static RunProgress ReadProgress(BlockReader r)
    {
        var progress = ReadRunBlock(r);
        if (r.Has(Activity)) progress = progress with { ActivityCsvLength = ReadLength(r, Activity, ActivityVersion, RunDirectory.ActivityFile) };
        if (r.Has(Eval)) progress = progress with { EvalCsvLength = ReadLength(r, Eval, EvalVersion, RunDirectory.EvalFile) };
        return progress;
    }

    /// <summary>
    /// Reads and verifies the checkpoint file at <paramref name="path"/> without the run's lock, so that a run still
    /// training can be looked at: checkpoints are replaced whole by a rename, so the file opened is one whole checkpoint.
    /// Throws as <see cref="BlockReader.Read"/> and <see cref="FileStream"/> do; the callers say what a failure means.
    /// </summary>
    public static BlockReader ReadUnlocked(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return BlockReader.Read(stream, Magic, FormatVersion);
    }

    /// <summary>
    /// The env steps of the checkpoint file at <paramref name="path"/>: where a resume continues from. Null when there is
    /// none or it cannot be read (the run itself says why when it starts).
    /// </summary>
    public static long? EnvStepsIn(string path)
    {
        try
        {
            return ReadRunBlock(ReadUnlocked(path)).EnvSteps;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    private static long ReadLength(BlockReader r, string block, int version, string file)
    {
        long length = r.Read(block, version, x => x.ReadInt64());
        if (length <= 0) throw new InvalidDataException($"{file} length {length} is impossible");
        return length;
    }

    private static RunProgress ReadRunBlock(BlockReader r) => r.Read(Run, RunVersion, x =>
    {
        string config = x.ReadString();
        int updates = x.ReadInt32();
        long envSteps = x.ReadInt64(), episodes = x.ReadInt64(), episodesLength = x.ReadInt64(), updatesLength = x.ReadInt64();
        double elapsed = x.ReadDouble();
        int count = x.ReadInt32();
        if (updates < 0 || envSteps < 0 || episodes < 0 || episodesLength < 0 || updatesLength < 0 || count < 0 || count > 1_000_000)
            throw new InvalidDataException("negative or impossible counters");
        var recent = new double[count];
        for (int i = 0; i < count; i++) recent[i] = x.ReadDouble();
        return new RunProgress(config, updates, envSteps, episodes, episodesLength, updatesLength, elapsed, recent);
    });

    /// <summary>The method's block, present exactly when it has a hook.</summary>
    private static (string Name, int Version)? HookBlock(TrainingState state)
    {
        if ((state.Hook is null) != (state.Method.CheckpointBlock is null))
            throw new InvalidOperationException($"{state.Method.Word} must declare a checkpoint block exactly when it has a hook");
        return state.Method.CheckpointBlock;
    }

    /// <summary>The flat parameters alone (<paramref name="count"/> floats), for a look at a run without its training state (docs/render.md).</summary>
    public static float[] ReadParameters(BlockReader r, long count) => r.Read(Parameters, ParametersVersion, x =>
    {
        long actual = x.BaseStream.Length / sizeof(float);
        if (actual != count || x.BaseStream.Length % sizeof(float) != 0)
            throw new InvalidDataException($"{actual:N0} parameters, these networks have {count:N0}");
        return MemoryMarshal.Cast<byte, float>(x.ReadBytes((int)x.BaseStream.Length)).ToArray();
    });

    /// <summary>
    /// The envs block alone into <paramref name="env"/>: where training's envs were, their frictions included.
    /// The block's version picks the layout: VectorEnv reads its own and the Ant's older ones.</summary>
    public static void RestoreEnvs(BlockReader r, VectorEnv env)
    {
        RefuseOldEnvState(r, env);
        int version = r.VersionOf(Envs);
        r.Read(Envs, version, x => env.LoadState(x, version));
    }

    /// <summary>An env state of a layout before envs were a registry that this build cannot continue, refused with the env's own reason and fix.</summary>
    private static void RefuseOldEnvState(BlockReader r, VectorEnv env)
    {
        if (r.Has(Envs) && env.WhyOldStateRefused(r.VersionOf(Envs)) is string why)
            throw new InvalidDataException(why);
    }

    /// <summary>Applies every other block to freshly built parts; throws <see cref="InvalidDataException"/> naming the block that does not fit.</summary>
    public static void Restore(BlockReader r, TrainingState state)
    {
        RefuseOldEnvState(r, state.Env);
        r.Read(Parameters, ParametersVersion, x =>
        {
            long expected = state.Parameters.Layout.TotalSize * sizeof(float);
            long actual = x.BaseStream.Length;
            if (actual != expected)
                throw new InvalidDataException($"{actual / sizeof(float):N0} parameters, these networks have {expected / sizeof(float):N0}");
            state.Parameters.CopyFrom(MemoryMarshal.Cast<byte, float>(x.ReadBytes((int)actual)));
        });
        r.Read(Optimizer, OptimizerVersion, state.Optimizer.Load);
        var own = HookBlock(state);
        foreach (var other in MethodRegistry.All)
            if (other.CheckpointBlock is var (name, _) && name != own?.Name && r.Has(name))
                throw new InvalidDataException($"it has {other.Word}'s state (block {name}) but this run is {state.Method.Word}");
        if (own is var (block, version))
        {
            if (!r.Has(block)) throw new InvalidDataException($"it has no {state.Method.Word} state (block {block}) but this run needs one");
            r.Read(block, version, state.Hook!.Load);
        }
        r.Read(Generator, GeneratorVersion, x =>
        {
            using var generatorState = tensor(x.ReadBytes((int)x.BaseStream.Length), ScalarType.Byte);
            state.Generator.set_state(generatorState);
        });
        RestoreEnvs(r, state.Env);
        // Absent in checkpoints written before activity.csv existed: the window begun then closes without a row.
        if (r.Has(ActivityWindow)) r.Read(ActivityWindow, ActivityWindowVersion, state.Activity.Load);
    }
}
