using System.Diagnostics;
using System.Globalization;
using CbpGpu.Agent.Evaluation;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Rendering;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Training;

/// <summary>Totals of one <see cref="Trainer.Run"/> call (this session only, not earlier sessions of a resumed run).</summary>
/// <param name="Evaluations">Evaluations written to eval.csv in this session.</param>
/// <param name="EvalSeconds">Wall time the evaluation worker spent evaluating (beside training, on its own thread).</param>
/// <param name="EvalWaitSeconds">Wall time training waited for evaluations (before checkpoints).</param>
/// <param name="Videos">Videos written under videos/ in this session (docs/render.md#during-training).</param>
public sealed record TrainResult(
    int Updates, long EnvSteps, long SessionSteps, double Seconds,
    double EnvSeconds, double ActSeconds, double UpdateSeconds, bool Stopped,
    int Evaluations = 0, double EvalSeconds = 0, double EvalWaitSeconds = 0, int Videos = 0);

/// <summary>
/// The training loop, top to bottom: collect a rollout with the current policy, run one PPO update, log it, maybe hand
/// a copy of the weights to the evaluation worker (<see cref="EvalWorker"/>, docs/evaluation.md), maybe checkpoint;
/// until the step budget is spent or a stop is requested. The pieces live elsewhere: the run directory
/// (<see cref="RunDirectory"/>), the logs (<see cref="TrainingLogs"/>), what a checkpoint holds
/// (<see cref="Checkpoint"/>), progress (<see cref="TrainingProgress"/>), the rollout (<see cref="Rollout"/>), the
/// update (<see cref="PpoUpdate"/>) and the optimizer with its Continual Backprop (<see cref="OptimizerPair"/>).
/// </summary>
public sealed class Trainer : IDisposable
{
    private const int TrimEveryUpdates = 25;

    private readonly TrainConfig _config;
    private readonly RunDirectory _dir;
    private readonly TrainingProgress _progress;
    private readonly Device _device;
    private readonly VectorEnv _env;
    private readonly ActorCritic _nets;
    private readonly PlasticityMethod _method;
    private readonly OptimizerPair _optimizer;
    private readonly Generator _generator;
    private readonly Rollout _rollout;
    private readonly PpoUpdate _ppo;
    private readonly TrainingLogs _logs;
    private readonly TensorBoardLog? _tensorBoard;
    private readonly EvalWorker? _evalWorker;
    private readonly EvalLog? _evalLog;
    private readonly PolicyWorker<string>? _videoWorker;
    private readonly ActingActivity _activity;
    private readonly ActivityLog? _activityLog;
    private readonly List<ActivityRow> _closedWindows = [];
    private readonly UpdateRow _row;
    private readonly long[] _replacedBefore;
    private readonly int[] _ages;
    private readonly double _elapsedBefore;
    private readonly bool _alreadyDone;
    private int _updates;
    private long _episodes;
    private int _evaluations;
    private int _videos;
    private double _evalWaitSeconds;
    private double _videoWaitSeconds;
    /// <summary>The session's whole wall time, from start-up (the step-0 evaluation and checkpoint) on; the progress clock starts later.</summary>
    private readonly Stopwatch _sessionClock = Stopwatch.StartNew();

    public Trainer(TrainConfig config, string outDir, bool resume, TextWriter progress)
    {
        if (config.Validate() is string problem) throw new TrainingException(problem);
        // Before libtorch's first operation, which reads the kernel choice once per process (docs/formats.md#reproducibility).
        TorchRuntime.UseCpuKernels(config.Run.CpuKernels);
        _config = config;
        var env = config.Env;
        var ppo = config.Ppo;
        var run = config.Run;

        // Every check that can refuse the run comes before the first byte of a run file is written.
        if (config.Eval.VideosEnabled && TrainingVideo.Problem(config, outDir) is string cannotDraw) throw new TrainingException(cannotDraw);
        _dir = resume ? RunDirectory.OpenExisting(outDir) : RunDirectory.CreateNew(outDir);
        try
        {
            BlockReader? checkpoint = _dir.HoldsRun ? _dir.ReadCheckpoint() : null;
            var (saved, savedConfig) = checkpoint is null ? (null, null) : ReadProgressFor(checkpoint);
            if (saved is not null && saved.EnvSteps > run.TotalSteps)
                throw new TrainingException($"the run in {outDir} is already at step {saved.EnvSteps:N0}, past --steps {run.TotalSteps:N0}; nothing was changed (pass a larger --steps to train further)");
            _alreadyDone = saved is not null && saved.EnvSteps == run.TotalSteps;
            if (saved is not null)
            {
                _dir.CheckLogCovers(_dir.EpisodesPath, saved.EpisodesCsvLength);
                _dir.CheckLogCovers(_dir.UpdatesPath, saved.UpdatesCsvLength);
                if (saved.EvalCsvLength > 0) _dir.CheckLogCovers(_dir.EvalPath, saved.EvalCsvLength);
                if (saved.ActivityCsvLength > 0) _dir.CheckLogCovers(_dir.ActivityPath, saved.ActivityCsvLength);
            }

            progress.WriteLine(config.ToJson());
            _device = TorchRuntime.ResolveDevice(run.Device);
            TorchRuntime.SetThreads(run.TorchThreads);
            manual_seed((long)run.Seed);

            _env = new VectorEnv(env.NumEnvs, env.Ant, env.Friction, run.Seed, run.EnvThreads);
            _nets = new ActorCritic(_env.ObservationSize, ppo.HiddenUnits, _env.ActionSize, _device, ppo.Network.Activation);
            using (var init = new Generator(run.Seed ^ 0x5eed_1717UL))
                _nets.Parameters.Initialize(init, ppo.Network);
            // A CPU generator on every device: the rollout's noise and the minibatch order are drawn on the CPU (the acting
            // loop runs there), so a run on CUDA draws what the same run on the CPU draws (docs/ppo.md#random-number-streams).
            _generator = new Generator(run.Seed + 1);
            _method = MethodRegistry.Get(ppo.Method);
            _optimizer = _method.Build(new MethodBuild(_nets.Parameters, ppo.Adam, run.Optimizer, run.Seed ^ 0xCB9_0000_5EEDUL, config.MethodSettings,
                KernelBackends.ForDevice(run.Device)) { Network = ppo.Network });
            _rollout = new Rollout(ppo.StepsPerEnv(env.NumEnvs), env.NumEnvs, _env.ObservationSize, _env.ActionSize, ppo.HiddenUnits);
            _activity = new ActingActivity(ppo.HiddenUnits, saved?.EnvSteps ?? 0);
            _ppo = new PpoUpdate(_nets, _optimizer.Optimizer, _optimizer.Hook, ppo, _generator, _device);
            var layout = _nets.Layout;
            IReadOnlyList<string> methodColumns = _optimizer.Hook?.Columns ?? [];
            _row = new UpdateRow(layout.Weights.Count, layout.HiddenLayers.Count, methodColumns.Count);
            _replacedBefore = new long[layout.HiddenLayers.Count];
            _ages = new int[layout.HiddenUnits];
            _progress = new TrainingProgress(progress, run.TotalSteps);
            string[] weightNames = [.. layout.Weights.Select(w => w.Name)];
            string[] layerNames = [.. layout.HiddenLayerNames];
            if (config.Eval.Enabled && !_alreadyDone)
                _evalWorker = new EvalWorker(new PolicyEvaluation(env.Ant, ppo.HiddenUnits, ppo.Network.Activation, config.Eval.Episodes, run.Seed));
            // Videos, like evaluations, beside training; each due one is finished before the checkpoint after it, so a
            // resume never redraws one (docs/render.md#during-training). A new run's first video is of step 0.
            if (config.Eval.VideosEnabled && !_alreadyDone)
                _videoWorker = new PolicyWorker<string>(new TrainingVideo(config, outDir), "video", "video");

            if (checkpoint is not null && saved is not null && savedConfig is not null)
            {
                Restore(checkpoint, saved);
                _elapsedBefore = saved.ElapsedSeconds;
                // From here on files change: the logs are cut back to the checkpoint, and the history says so.
                _logs = TrainingLogs.Reopen(_dir, weightNames, layerNames, saved.EpisodesCsvLength, saved.UpdatesCsvLength, methodColumns);
                // eval.csv as the checkpoint left it (every evaluation due by its step written); kept, without new rows,
                // when evaluation is now off; started when it is newly on.
                _evalLog = saved.EvalCsvLength > 0 ? EvalLog.Reopen(_dir, saved.EvalCsvLength) : _evalWorker is not null ? EvalLog.Create(_dir) : null;
                // A checkpoint written before activity.csv existed starts it, unless the run is finished (docs/formats.md#activitycsv).
                _activityLog = saved.ActivityCsvLength > 0 ? ActivityLog.Reopen(_dir, saved.ActivityCsvLength) : _alreadyDone ? null : ActivityLog.Create(_dir);
                if (!_alreadyDone)
                {
                    string changes = config.ResumeChanges(savedConfig);
                    if (changes.Length > 0) _dir.WriteConfig(config.ToJson());
                    _dir.RecordSession("resumed", saved.EnvSteps, run.TotalSteps, changes);
                    _tensorBoard = TensorBoardLog.Create(_dir.Path, saved.EnvSteps);
                }
            }
            else
            {
                _dir.WriteConfig(config.ToJson());
                _logs = TrainingLogs.Create(_dir, weightNames, layerNames, methodColumns);
                _evalLog = _evalWorker is not null ? EvalLog.Create(_dir) : null;
                _activityLog = ActivityLog.Create(_dir);
                _dir.RecordSession("created", 0, run.TotalSteps, "");
                _tensorBoard = TensorBoardLog.Create(_dir.Path, resumedAt: null);
                // The curve starts from the untrained policy; the checkpoint below waits for it.
                _evalWorker?.Submit(_nets.Parameters, _env.Frictions[0], 0, 0, 0);
                _videoWorker?.Submit(_nets.Parameters, _env.Frictions[0], 0, 0, 0);
                // A checkpoint at step 0: a run killed before its first periodic checkpoint can still be resumed.
                WriteCheckpoint();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ActorCritic Networks => _nets;

    /// <summary>Trains until <see cref="RunSettings.TotalSteps"/> or <paramref name="stop"/>; checkpoints and flushes on the way out.</summary>
    public TrainResult Run(CancellationToken stop)
    {
        var run = _config.Run;
        long startSteps = _env.TotalSteps;
        if (_alreadyDone)
        {
            _progress.Output.WriteLine($"the run in {_dir.Path} already finished at step {startSteps:N0}; nothing to do");
            return new TrainResult(0, startSteps, 0, 0, 0, 0, 0, Stopped: false);
        }
        _progress.Output.WriteLine($"training {run.TotalSteps:N0} steps of {_config.Env.Ant.Describe()} ({_config.RolloutShape} per update; friction {_config.Env.Friction.DescribeValues(run.Seed)}) on {run.Device}, {run.TorchThreads} torch / {run.EnvThreads} env threads -> {_dir.Path}");
        if (startSteps > 0) _progress.Output.WriteLine($"resumed at step {startSteps:N0}, update {_updates}");
        _progress.Start(startSteps);
        double envTotal = 0, actTotal = 0, updateTotal = 0;
        int sessionUpdates = 0;
        bool stopped = false;
        var sinceCheckpoint = Stopwatch.StartNew();

        try
        {
            while (_env.TotalSteps < run.TotalSteps)
            {
                if (stop.IsCancellationRequested)
                {
                    stopped = true;
                    break;
                }
                long stepsBefore = _env.TotalSteps;
                var times = CollectRollout();
                LogActingActivity();
                long t0 = Stopwatch.GetTimestamp();
                var stats = _ppo.Run(_rollout);
                _updates++;
                _optimizer.Hook?.AfterUpdate(_updates);
                double updateSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                sessionUpdates++;
                if (stats.NonFinite is string where)
                    throw new TrainingException($"training diverged in update {_updates} (step {_env.TotalSteps:N0}): {where}; logs up to here are in {_dir.Path}, {RunDirectory.CheckpointFile} holds the last good state");
                envTotal += times.EnvSeconds;
                actTotal += times.ActSeconds;
                updateTotal += updateSeconds;
                LogUpdate(stats, times, updateSeconds);
                if (_evalWorker is not null)
                {
                    if (_config.Eval.DueAfter(stepsBefore, _env.TotalSteps))
                        _evalWorker.Submit(_nets.Parameters, _env.Frictions[0], _env.TotalSteps, _updates, _elapsedBefore + _progress.SessionSeconds);
                    WriteFinishedEvaluations();
                }
                if (_videoWorker is not null)
                {
                    if (_config.Eval.VideoDueAfter(stepsBefore, _env.TotalSteps))
                        _videoWorker.Submit(_nets.Parameters, _env.Frictions[0], _env.TotalSteps, _updates, _elapsedBefore + _progress.SessionSeconds);
                    TakeFinishedVideos();
                }
                _progress.AfterUpdate(_env.TotalSteps, _env.Frictions[0]);

                if (_updates % TrimEveryUpdates == 0) TorchRuntime.ReleaseFreedNativeMemory();
                bool byUpdates = run.CheckpointEveryUpdates > 0 && _updates % run.CheckpointEveryUpdates == 0;
                bool byTime = run.CheckpointMinutes > 0 && sinceCheckpoint.Elapsed.TotalMinutes >= run.CheckpointMinutes;
                if (byUpdates || byTime)
                {
                    WriteCheckpoint();
                    sinceCheckpoint.Restart();
                }
            }
            WriteCheckpoint();
        }
        catch (Exception e)
        {
            // Every failure leaves its row, a bug's too (worded as the Runner's error line words it), so that the
            // directory's history says why the run stopped where it did; the checkpoint holds the last good state.
            TryRecordSession("failed", e is TrainingException or PhysicsException or IOException ? e.Message : $"internal error: {e.GetType().FullName}: {e.Message}");
            throw;
        }
        finally
        {
            TryFlushLogs();
        }
        _dir.RecordSession(stopped ? "stopped" : "finished", _env.TotalSteps, run.TotalSteps, "");
        _progress.Summary(stopped, _env.TotalSteps, envTotal, actTotal, updateTotal, _dir.Path);
        double evalSeconds = _evalWorker?.BusySeconds ?? 0;
        if (_evalWorker is not null)
            _progress.Output.WriteLine(EvaluationSummary(_evaluations, _config.Eval.Episodes, evalSeconds, _sessionClock.Elapsed.TotalSeconds, _evalWaitSeconds));
        if (_videoWorker is not null)
            _progress.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"videos: {_videos} -> {TrainingVideo.Folder}/; {_videoWorker.BusySeconds:F1}s on its own thread, training waited {_videoWaitSeconds:F1}s for them (before checkpoints)"));
        return new TrainResult(sessionUpdates, _env.TotalSteps, _env.TotalSteps - startSteps, _progress.SessionSeconds,
            envTotal, actTotal, updateTotal, stopped, _evaluations, evalSeconds, _evalWaitSeconds, _videos);
    }

    /// <summary>
    /// The end-of-session evaluation line. Its share is of the session's whole wall time, start-up included: the step-0
    /// evaluation runs (and training waits for it at the step-0 checkpoint) before the progress clock starts, so a share
    /// of that clock's time alone could pass 100% (issue 25).
    /// </summary>
    public static string EvaluationSummary(int evaluations, int episodes, double evalSeconds, double sessionSeconds, double waitSeconds) =>
        string.Create(CultureInfo.InvariantCulture,
            $"evaluation: {evaluations} x {episodes} episodes -> {RunDirectory.EvalFile}; {evalSeconds:F1}s on its own thread " +
            $"({100 * evalSeconds / Math.Max(sessionSeconds, 1e-9):F0}% of the session's {sessionSeconds:F1}s wall time, start-up included), " +
            $"training waited {waitSeconds:F1}s for it (before checkpoints)");

    private RolloutTimes CollectRollout()
    {
        try
        {
            return _rollout.Collect(_env, _nets, _generator, _device, _config.Ppo.BootstrapTruncation, LogFinishedEpisodes);
        }
        catch (InvalidDataException e)
        {
            throw new TrainingException($"update {_updates + 1}: {e.Message}; logs up to here are in {_dir.Path}, {RunDirectory.CheckpointFile} holds the last good state", e);
        }
    }

    private void LogFinishedEpisodes(int t)
    {
        for (int i = 0; i < _env.NumEnvs; i++)
        {
            if (!_env.Terminated[i] && !_env.Truncated[i]) continue;
            double ret = _env.EpisodeReturns[i];
            _logs.Episode(new EpisodeRow(_env.TotalSteps, i, ret, _env.EpisodeLengths[i], _env.EpisodeFrictions[i]));
            _episodes++;
            _progress.Episode(ret);
            _tensorBoard?.Scalar(_env.TotalSteps, "episodes/return", ret);
        }
    }

    /// <summary>The rollout's acting steps into the Fig. 4b window; a row per window it closed (docs/ppo.md#acting-diagnostics).</summary>
    private void LogActingActivity()
    {
        _closedWindows.Clear();
        _activity.Add(_rollout.PolicyH1Span, _rollout.PolicyH2Span, _closedWindows);
        foreach (var row in _closedWindows)
        {
            _activityLog?.Write(row);
            _tensorBoard?.Scalars(row.Step, ActivityLog.Scalars(row));
        }
    }

    private void LogUpdate(UpdateStats stats, RolloutTimes times, double updateSeconds)
    {
        var r = _row;
        r.Update = _updates;
        r.Step = _env.TotalSteps;
        r.Stats = stats;
        _nets.Parameters.MeanAbsWeights().CopyTo(r.MeanAbsWeights, 0);
        var replacing = _optimizer.Hook as IUnitReplacing;
        var layers = _nets.Layout.HiddenLayers;
        // Without a method that replaces units no unit is ever reset: every unit is as old as the run, in optimizer steps.
        long optimizerSteps = (long)_updates * _config.Ppo.Epochs * _config.Ppo.Minibatches;
        Array.Clear(r.AgeCounts);
        for (int l = 0; l < layers.Count; l++)
        {
            long total = replacing?.TotalReplaced(l) ?? 0;
            r.Replaced[l] = total - _replacedBefore[l];
            _replacedBefore[l] = total;
            var counts = r.AgeCounts.AsSpan(l * UnitAgeHistogram.Bins, UnitAgeHistogram.Bins);
            if (replacing is null) counts[UnitAgeHistogram.BinOf(optimizerSteps)] = layers[l].Units;
            else
            {
                var ages = _ages.AsSpan(0, layers[l].Units);
                replacing.CopyAges(l, ages);
                UnitAgeHistogram.Count(ages, counts);
            }
        }
        _optimizer.Hook?.WriteColumns(r.MethodValues);
        r.EnvSeconds = times.EnvSeconds;
        r.ActSeconds = times.ActSeconds;
        r.UpdateSeconds = updateSeconds;
        _logs.Update(r);
        _logs.Flush();
        _activityLog?.Flush();
        _tensorBoard?.Scalars(r.Step, _logs.UpdateScalars(r).Select(c => ($"updates/{c.Name}", c.Value)));
        _tensorBoard?.Flush();
    }

    private TrainingState State => new(_nets.Parameters, _optimizer.Optimizer, _method, _optimizer.Hook, _generator, _env, _activity);

    private (RunProgress?, TrainConfig?) ReadProgressFor(BlockReader checkpoint)
    {
        RunProgress saved;
        TrainConfig savedConfig;
        try
        {
            saved = Checkpoint.ReadProgress(checkpoint);
            savedConfig = TrainConfig.FromJson(saved.ConfigJson);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException)
        {
            throw new TrainingException($"checkpoint {_dir.CheckpointPath} holds an unreadable run record ({e.Message}); nothing was changed", e);
        }
        if (_config.FirstResumeConflict(savedConfig) is string conflict)
            throw new TrainingException($"checkpoint in {_dir.Path} belongs to a different run: {conflict}; resume with the run's own flags (see {_dir.ConfigPath}); nothing was changed");
        return (saved, savedConfig);
    }

    private void Restore(BlockReader checkpoint, RunProgress saved)
    {
        try
        {
            Checkpoint.Restore(checkpoint, State);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or System.Runtime.InteropServices.ExternalException)
        {
            throw new TrainingException($"checkpoint {_dir.CheckpointPath} does not fit this run ({e.Message}); nothing was changed", e);
        }
        _updates = saved.Updates;
        _episodes = saved.Episodes;
        foreach (double r in saved.RecentReturns) _progress.Episode(r);
    }

    /// <summary>
    /// Writes the evaluations the worker has finished to eval.csv and TensorBoard, in step order, without waiting for
    /// the others. Only this thread writes run files.
    /// </summary>
    private void WriteFinishedEvaluations()
    {
        if (_evalWorker is null || _evalLog is null) return;
        bool any = false;
        while (_evalWorker.TryTake(out var result))
        {
            _evalLog.Write(result);
            _tensorBoard?.Scalars(result.Step, EvalLog.Scalars(result));
            _evaluations++;
            any = true;
        }
        if (!any) return;
        _evalLog.Flush();
        _tensorBoard?.Flush();
    }

    /// <summary>Counts the videos the worker has finished (it writes them itself, each whole by a rename); a failed one throws.</summary>
    private void TakeFinishedVideos()
    {
        while (_videoWorker!.TryTake(out _)) _videos++;
    }

    private void WriteCheckpoint()
    {
        // Every evaluation due by this step reaches eval.csv before the checkpoint records its length, so a resume never
        // has to redo one (docs/evaluation.md#resume).
        if (_evalWorker is not null)
        {
            _evalWaitSeconds += _evalWorker.WaitAll();
            WriteFinishedEvaluations();
        }
        // Likewise every video due by this step is on disk before the checkpoint (docs/render.md#during-training).
        if (_videoWorker is not null)
        {
            _videoWaitSeconds += _videoWorker.WaitAll();
            TakeFinishedVideos();
        }
        _logs.Flush();
        var progress = new RunProgress(_config.ToJson(), _updates, _env.TotalSteps, _episodes, _logs.EpisodesLength, _logs.UpdatesLength,
            _elapsedBefore + _progress.SessionSeconds, [.. _progress.RecentReturns], _evalLog?.Length ?? 0, _activityLog?.Length ?? 0);
        _dir.WriteCheckpoint(w => Checkpoint.Write(w, progress, State), _env.TotalSteps);
    }

    private void TryFlushLogs()
    {
        try
        {
            _logs.Flush();
            _evalLog?.Flush();
            _activityLog?.Flush();
        }
        catch (TrainingException)
        {
            // Already failing or about to report the same I/O problem; what reached the disk stays.
        }
    }

    private void TryRecordSession(string what, string detail)
    {
        try
        {
            _dir.RecordSession(what, _env.TotalSteps, _config.Run.TotalSteps, detail);
        }
        catch (TrainingException)
        {
            // The history is a courtesy; the original error is what matters.
        }
    }

    public void Dispose()
    {
        _evalWorker?.Dispose();
        _videoWorker?.Dispose();
        _evalLog?.Dispose();
        _activityLog?.Dispose();
        _logs?.Dispose();
        _tensorBoard?.Dispose();
        _ppo?.Dispose();
        _rollout?.Dispose();
        _generator?.Dispose();
        _optimizer?.Dispose();
        _nets?.Dispose();
        _env?.Dispose();
        _dir.Dispose();
    }
}
