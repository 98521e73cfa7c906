using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;

namespace CbpGpu.Agent.Rendering;

/// <summary>
/// What a video needs from a run (docs/render.md#what-it-shows): its configuration, how far it trained, the policy's
/// weights and the friction its training env 0 had, all from checkpoint.bin, read without the run's lock
/// (<see cref="Checkpoint.ReadUnlocked"/>), so a run still training can be watched.
/// </summary>
/// <param name="Source">The path as given (a run directory or a checkpoint file).</param>
/// <param name="TrainingFriction">Training env 0's friction at the checkpoint.</param>
public sealed record RunSnapshot(string Source, TrainConfig Config, long EnvSteps, float[] Weights, double TrainingFriction)
{
    /// <summary>Reads a run directory's checkpoint.bin, or the checkpoint file named; any problem is one <see cref="TrainingException"/> line.</summary>
    public static RunSnapshot Load(string runDirOrCheckpoint)
    {
        string file = Directory.Exists(runDirOrCheckpoint) ? Path.Combine(runDirOrCheckpoint, RunDirectory.CheckpointFile) : runDirOrCheckpoint;
        if (!File.Exists(file))
            throw new TrainingException(Directory.Exists(runDirOrCheckpoint)
                ? $"{runDirOrCheckpoint} has no {RunDirectory.CheckpointFile} yet (a run writes its first at step 0); give a run directory that has one"
                : $"{runDirOrCheckpoint} is neither a run directory nor a checkpoint file; give a run's --out directory or its {RunDirectory.CheckpointFile}");
        try
        {
            var r = Checkpoint.ReadUnlocked(file);
            var progress = Checkpoint.ReadProgress(r);
            var config = TrainConfig.FromJson(progress.ConfigJson);
            var env = config.Env;
            var (observations, actions) = EnvRegistry.Sizes(env.Ant);
            long count = new ParameterLayout(observations, config.Ppo.HiddenUnits, actions).TotalSize;
            float[] weights = Checkpoint.ReadParameters(r, count);
            using var vector = new VectorEnv(env.NumEnvs, env.Ant, env.Friction, config.Run.Seed, threads: 1);
            Checkpoint.RestoreEnvs(r, vector);
            return new RunSnapshot(runDirOrCheckpoint, config, progress.EnvSteps, weights, vector.Frictions[0]);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or EndOfStreamException)
        {
            throw new TrainingException($"checkpoint {file} cannot be read ({e.Message}); is it a CbpGpu checkpoint of this version?", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainingException($"cannot read {file}: {e.Message}", e);
        }
    }
}
