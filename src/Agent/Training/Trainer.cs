using System.Diagnostics;
using System.Globalization;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Training;

/// <summary>Totals of one <see cref="Trainer.Run"/> call (this session only, not earlier sessions of a resumed run).</summary>
public sealed record TrainResult(
    int Updates, long EnvSteps, long SessionSteps, double Seconds,
    double EnvSeconds, double ActSeconds, double UpdateSeconds, bool Stopped);

/// <summary>
/// The training loop: collect <see cref="PpoSettings.BatchSize"/> transitions from the vector env with the current
/// policy, run one <see cref="PpoUpdate"/>, log, checkpoint, repeat until the step budget is spent or a stop is
/// requested. Output directory: config.json, episodes.csv, updates.csv, checkpoint.bin.
/// </summary>
public sealed class Trainer : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string EpisodesFile = "episodes.csv";
    public const string UpdatesFile = "updates.csv";
    private const int RecentEpisodes = 100;
    private const int TrimEveryUpdates = 25;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    private readonly TrainConfig _config;
    private readonly string _dir;
    private readonly TextWriter _progress;
    private readonly Device _device;
    private readonly VectorEnv _env;
    private readonly ActorCritic _nets;
    private readonly IParameterOptimizer _optimizer;
    private readonly IAfterStepHook? _hook;
    private readonly long[] _replacedBefore;
    private readonly int[] _ages;
    private readonly long[] _ageCounts;
    private readonly Generator _generator;
    private readonly Rollout _rollout;
    private readonly PpoUpdate _ppo;
    private readonly CsvLog _episodes;
    private readonly CsvLog _updates;
    private readonly Queue<double> _recentReturns = new();
    private readonly double _elapsedBefore;
    private int _updateCount;
    private long _episodeCount;

    /// <param name="optimizerFactory">Default: <see cref="OptimizerFactory.CreateOptimizer"/> (Adam as the config says).</param>
    /// <param name="hookFactory">Called after every optimizer step; default <see cref="OptimizerFactory.CreateHook"/> (CBP when the config has it).</param>
    public Trainer(
        TrainConfig config, string outDir, bool resume, TextWriter progress,
        Func<FlatParameters, PpoSettings, IParameterOptimizer>? optimizerFactory = null,
        Func<FlatParameters, IParameterOptimizer, IAfterStepHook?>? hookFactory = null)
    {
        _config = config;
        _dir = outDir;
        _progress = progress;
        var env = config.Env;
        var ppo = config.Ppo;
        var run = config.Run;
        if (config.Validate() is string problem) throw new TrainingException(problem);

        // Everything that can refuse the run happens before the first byte is written to outDir.
        Checkpoint? checkpoint = resume ? ReadCheckpointFor(config, outDir) : null;
        if (!resume) EnsureFreshDirectory(outDir);
        progress.WriteLine(config.ToJson());

        _device = TorchRuntime.ResolveDevice(run.Device);
        TorchRuntime.SetThreads(run.TorchThreads);
        manual_seed((long)run.Seed);

        _env = new VectorEnv(env.NumEnvs, env.Ant, env.Friction, run.Seed, run.EnvThreads);
        _nets = new ActorCritic(_env.ObservationSize, ppo.HiddenUnits, VectorEnv.ActionSize, _device);
        using (var init = new Generator(run.Seed ^ 0x5eed_1717UL))
            _nets.Parameters.Initialize(init);
        _generator = new Generator(run.Seed + 1, _device);
        _optimizer = (optimizerFactory ?? ((p, s) => OptimizerFactory.CreateOptimizer(p, s, run.Optimizer)))(_nets.Parameters, ppo);
        _hook = (hookFactory ?? ((p, o) => OptimizerFactory.CreateHook(p, o, config.Cbp, run.Seed ^ 0xCB9_0000_5EEDUL)))(_nets.Parameters, _optimizer);
        _replacedBefore = new long[_nets.Layout.HiddenLayers.Count];
        _ages = new int[_nets.Layout.HiddenUnits];
        _ageCounts = new long[UnitAgeHistogram.Bins];
        _rollout = new Rollout(ppo.StepsPerEnv(env.NumEnvs), env.NumEnvs, _env.ObservationSize, VectorEnv.ActionSize);
        _ppo = new PpoUpdate(_nets, _optimizer, _hook, ppo, _generator, _device);

        if (checkpoint is not null)
        {
            Restore(checkpoint);
            _elapsedBefore = checkpoint.ElapsedSeconds;
            _episodes = new CsvLog(Path.Combine(outDir, EpisodesFile), "", checkpoint.EpisodesCsvLength);
            _updates = new CsvLog(Path.Combine(outDir, UpdatesFile), "", checkpoint.UpdatesCsvLength);
            if (TrainConfig.FromJson(checkpoint.ConfigJson) != config) WriteConfig(overwrite: true);
        }
        else
        {
            Directory.CreateDirectory(outDir);
            WriteConfig(overwrite: false);
            _episodes = new CsvLog(Path.Combine(outDir, EpisodesFile), "step,env,return,length,friction", null);
            _updates = new CsvLog(Path.Combine(outDir, UpdatesFile),
                "update,step,policy_loss,value_loss,policy_std,approx_kl,clip_fraction," +
                "abs_w_policy_l1,abs_w_policy_l2,abs_w_policy_mean,abs_w_value_l1,abs_w_value_l2,abs_w_value_out," +
                UnitColumns() + "env_seconds,act_seconds,update_seconds", null);
        }
    }

    /// <summary>replaced_&lt;layer&gt; (units CBP replaced during the update), then age_&lt;bin&gt;_&lt;layer&gt; (<see cref="UnitAgeHistogram"/>).</summary>
    private string UnitColumns()
    {
        var names = _nets.Layout.HiddenLayers.Select(l => l.Name.Replace('.', '_')).ToArray();
        var columns = names.Select(n => $"replaced_{n}")
            .Concat(names.SelectMany(n => UnitAgeHistogram.BinNames.Select(b => $"age_{b}_{n}")));
        return string.Join(',', columns) + ",";
    }

    public ActorCritic Networks => _nets;
    public VectorEnv Env => _env;

    private static Checkpoint ReadCheckpointFor(TrainConfig config, string dir)
    {
        var checkpoint = Checkpoint.Read(Path.Combine(dir, Checkpoint.FileName));
        TrainConfig saved;
        try
        {
            saved = TrainConfig.FromJson(checkpoint.ConfigJson);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new TrainingException($"checkpoint in {dir} holds an unreadable configuration ({e.Message}); nothing was changed", e);
        }
        if (config.FirstResumeConflict(saved) is string conflict)
            throw new TrainingException($"checkpoint in {dir} belongs to a different run: {conflict}; resume with the run's own flags (see {Path.Combine(dir, ConfigFile)}); nothing was changed");
        foreach (var f in new[] { EpisodesFile, UpdatesFile })
            if (!File.Exists(Path.Combine(dir, f)))
                throw new TrainingException($"{Path.Combine(dir, f)} is missing, so the run in {dir} cannot be continued; nothing was changed");
        return checkpoint;
    }

    private static void EnsureFreshDirectory(string dir)
    {
        foreach (var f in new[] { ConfigFile, EpisodesFile, UpdatesFile, Checkpoint.FileName })
            if (File.Exists(Path.Combine(dir, f)))
                throw new TrainingException($"{dir} already holds a run ({f}); pass --resume to continue it or choose another --out");
    }

    private void WriteConfig(bool overwrite)
    {
        string path = Path.Combine(_dir, ConfigFile);
        string temp = path + ".tmp";
        File.WriteAllText(temp, _config.ToJson() + "\n");
        File.Move(temp, path, overwrite);
    }

    /// <summary>Applies a checkpoint to the freshly built networks, optimizer, hook, generator and envs.</summary>
    private void Restore(Checkpoint c)
    {
        try
        {
            _nets.Parameters.CopyFrom(c.Parameters);
            using (var r = new BinaryReader(new MemoryStream(c.Optimizer))) _optimizer.Load(r);
            if ((c.Hook is null) != (_hook is null))
                throw new InvalidDataException(c.Hook is null ? "it has no CBP state but this run needs one" : "it has CBP state but this run has no CBP");
            if (_hook is not null && c.Hook is not null)
                using (var r = new BinaryReader(new MemoryStream(c.Hook))) _hook.Load(r);
            using (var state = tensor(c.Generator, ScalarType.Byte)) _generator.set_state(state);
            using (var r = new BinaryReader(new MemoryStream(c.Envs))) _env.LoadState(r);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new TrainingException($"checkpoint in {_dir} does not fit this run ({e.Message}); nothing was changed", e);
        }
        _updateCount = c.Updates;
        _episodeCount = c.Episodes;
        foreach (double r in c.RecentReturns) _recentReturns.Enqueue(r);
    }

    private void WriteCheckpoint(double elapsed)
    {
        _episodes.Flush();
        _updates.Flush();
        Checkpoint.Write(Path.Combine(_dir, Checkpoint.FileName), new CheckpointContent
        {
            ConfigJson = _config.ToJson(),
            Updates = _updateCount,
            EnvSteps = _env.TotalSteps,
            Episodes = _episodeCount,
            EpisodesCsvLength = _episodes.Length,
            UpdatesCsvLength = _updates.Length,
            ElapsedSeconds = elapsed,
            Parameters = w =>
            {
                using var cpu = _nets.Parameters.Data.cpu();
                w.Write(cpu.bytes);
            },
            Optimizer = _optimizer.Save,
            Hook = _hook is null ? null : _hook.Save,
            Generator = GeneratorState(),
            Envs = _env.SaveState,
            RecentReturns = [.. _recentReturns],
        });
    }

    private byte[] GeneratorState()
    {
        using var state = _generator.get_state();
        using var cpu = state.cpu();
        return cpu.data<byte>().ToArray();
    }

    /// <summary>Trains until <see cref="RunSettings.TotalSteps"/> or <paramref name="stop"/>; checkpoints and flushes on the way out.</summary>
    public TrainResult Run(CancellationToken stop)
    {
        var run = _config.Run;
        var clock = Stopwatch.StartNew();
        long startSteps = _env.TotalSteps;
        double envTotal = 0, actTotal = 0, updateTotal = 0;
        var lastPrint = TimeSpan.Zero;
        long lastPrintSteps = startSteps;
        int sessionUpdates = 0;
        bool stopped = false;
        _progress.WriteLine($"training {run.TotalSteps:N0} steps ({_rollout.Envs} envs x {_rollout.Steps} steps per update) on {run.Device}, {run.TorchThreads} torch / {run.EnvThreads} env threads -> {_dir}");
        if (startSteps > 0) _progress.WriteLine($"resumed at step {startSteps:N0}, update {_updateCount}");

        try
        {
            while (_env.TotalSteps < run.TotalSteps)
            {
                if (stop.IsCancellationRequested)
                {
                    stopped = true;
                    break;
                }
                var (envSeconds, actSeconds) = CollectRollout();
                var t0 = Stopwatch.GetTimestamp();
                var stats = _ppo.Run(_rollout);
                double updateSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                _updateCount++;
                sessionUpdates++;
                envTotal += envSeconds;
                actTotal += actSeconds;
                updateTotal += updateSeconds;
                if (stats.NonFinite is string where)
                    throw new TrainingException($"training diverged in update {_updateCount} (step {_env.TotalSteps:N0}): {where}; logs up to here are in {_dir}, checkpoint.bin holds the last good state");
                LogUpdate(stats, envSeconds, actSeconds, updateSeconds);

                if (clock.Elapsed - lastPrint >= ProgressEvery)
                {
                    PrintProgress(clock.Elapsed, lastPrint, lastPrintSteps, startSteps);
                    lastPrint = clock.Elapsed;
                    lastPrintSteps = _env.TotalSteps;
                }
                if (_updateCount % TrimEveryUpdates == 0) TorchRuntime.ReleaseFreedNativeMemory();
                if (run.CheckpointEveryUpdates > 0 && _updateCount % run.CheckpointEveryUpdates == 0)
                    WriteCheckpoint(_elapsedBefore + clock.Elapsed.TotalSeconds);
            }
            WriteCheckpoint(_elapsedBefore + clock.Elapsed.TotalSeconds);
        }
        finally
        {
            _episodes.Flush();
            _updates.Flush();
        }

        double seconds = clock.Elapsed.TotalSeconds;
        long session = _env.TotalSteps - startSteps;
        double sum = Math.Max(envTotal + actTotal + updateTotal, 1e-9);
        _progress.WriteLine(
            $"{(stopped ? "stopped" : "done")} at step {_env.TotalSteps:N0}: {session:N0} steps in {Duration(seconds)} ({session / Math.Max(seconds, 1e-9):N0} SPS); " +
            $"env {envTotal:F1}s ({100 * envTotal / sum:F0}%), acting {actTotal:F1}s ({100 * actTotal / sum:F0}%), update {updateTotal:F1}s ({100 * updateTotal / sum:F0}%)");
        _progress.WriteLine(
            $"results in {Path.GetFullPath(_dir)}: {ConfigFile}, {EpisodesFile}, {UpdatesFile}, {Checkpoint.FileName}" +
            (stopped ? " (continue with the same flags plus --resume)" : ""));
        return new TrainResult(sessionUpdates, _env.TotalSteps, session, seconds, envTotal, actTotal, updateTotal, stopped);
    }

    /// <summary>Fills the rollout with the current policy, logging the episodes that end on the way.</summary>
    private RolloutTimes CollectRollout()
    {
        try
        {
            return _rollout.Collect(_env, _nets, _generator, _device, _config.Ppo.BootstrapTruncation, LogEndedEpisodes);
        }
        catch (InvalidDataException e)
        {
            throw new TrainingException($"update {_updateCount + 1}: {e.Message}; logs up to here are in {_dir}", e);
        }
    }

    private void LogEndedEpisodes(int step)
    {
        for (int i = 0; i < _env.NumEnvs; i++)
        {
            if (!_env.Terminated[i] && !_env.Truncated[i]) continue;
            double ret = _env.EpisodeReturns[i];
            _episodes.Field(_env.TotalSteps).Field(i).Field(ret).Field(_env.EpisodeLengths[i]).Field(_env.EpisodeFrictions[i]).EndRow();
            _episodeCount++;
            _recentReturns.Enqueue(ret);
            if (_recentReturns.Count > RecentEpisodes) _recentReturns.Dequeue();
        }
    }

    private void LogUpdate(UpdateStats s, double envSeconds, double actSeconds, double updateSeconds)
    {
        _updates.Field(_updateCount).Field(_env.TotalSteps).Field(s.PolicyLoss).Field(s.ValueLoss).Field(s.PolicyStd)
            .Field(s.ApproxKl).Field(s.ClipFraction);
        foreach (double w in _nets.Parameters.MeanAbsWeights()) _updates.Field(w);
        LogUnits();
        _updates.Field(envSeconds).Field(actSeconds).Field(updateSeconds).EndRow();
        _episodes.Flush();
        _updates.Flush();
    }

    /// <summary>Replacements during this update and the unit-age histogram of each hidden layer.</summary>
    private void LogUnits()
    {
        var cbp = _hook as IContinualBackpropHook;
        int layers = _replacedBefore.Length;
        for (int l = 0; l < layers; l++)
        {
            long total = cbp?.TotalReplaced(l) ?? 0;
            _updates.Field(total - _replacedBefore[l]);
            _replacedBefore[l] = total;
        }
        // Without CBP no unit is ever reset: every unit is as old as the run (in optimizer steps).
        long steps = (long)_updateCount * _config.Ppo.Epochs * _config.Ppo.Minibatches;
        for (int l = 0; l < layers; l++)
        {
            Array.Clear(_ageCounts);
            if (cbp is null) _ageCounts[UnitAgeHistogram.BinOf(steps)] = _nets.Layout.HiddenLayers[l].Units;
            else
            {
                var ages = _ages.AsSpan(0, _nets.Layout.HiddenLayers[l].Units);
                cbp.CopyAges(l, ages);
                UnitAgeHistogram.Count(ages, _ageCounts);
            }
            foreach (long c in _ageCounts) _updates.Field(c);
        }
    }

    private void PrintProgress(TimeSpan now, TimeSpan lastPrint, long lastPrintSteps, long startSteps)
    {
        long steps = _env.TotalSteps;
        double windowSps = (steps - lastPrintSteps) / Math.Max((now - lastPrint).TotalSeconds, 1e-9);
        double sessionSps = (steps - startSteps) / Math.Max(now.TotalSeconds, 1e-9);
        string ret = _recentReturns.Count == 0 ? "n/a" : _recentReturns.Average().ToString("F1", CultureInfo.InvariantCulture);
        double eta = (_config.Run.TotalSteps - steps) / Math.Max(sessionSps, 1e-9);
        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {steps,12:N0} / {_config.Run.TotalSteps:N0}  {windowSps,6:N0} SPS  return(last {_recentReturns.Count}) {ret,8}  friction {_env.Frictions[0]:G4}  " +
            $"mem {Environment.WorkingSet >> 20} MB (managed {GC.GetTotalMemory(false) >> 20} MB)  ETA {Duration(eta)}"));
    }

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
    }

    public void Dispose()
    {
        _episodes.Dispose();
        _updates.Dispose();
        _ppo.Dispose();
        _rollout.Dispose();
        _generator.Dispose();
        (_hook as IDisposable)?.Dispose();
        _optimizer.Dispose();
        _nets.Dispose();
        _env.Dispose();
    }
}
