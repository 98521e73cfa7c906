using System.Globalization;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Evaluation;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// Evaluation during training (docs/evaluation.md) with the real trainer: it leaves training's files as they are,
/// runs at training env 0's friction of the moment, acts with the mean action, and continues exactly after a resume.
/// </summary>
public sealed class EvaluationTests : IDisposable
{
    private const int Update = 2048;   // 16 envs x 128 steps
    private readonly string _root = NewRoot("eval");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    /// <summary>Short episodes (200 steps) so that evaluations, which run whole episodes, stay quick.</summary>
    private static TrainConfig Short(TrainConfig c, EvalSettings eval) =>
        c with { Env = c.Env with { Ant = c.Env.Ant with { MaxEpisodeSteps = 200 } }, Eval = eval };

    private static string[] EvalRows(string dir) => File.ReadAllLines(Path.Combine(dir, RunDirectory.EvalFile));

    /// <summary>eval.csv without its wall-time columns (the only ones that differ between identical runs).</summary>
    private static string[] EvalWithoutTimings(string dir) =>
        [.. EvalRows(dir).Select(l => string.Join(',', l.Split(',')[..^EvalLog.TimingColumns]))];

    private static Dictionary<string, string> Row(string header, string line) =>
        header.Split(',').Zip(line.Split(',')).ToDictionary(p => p.First, p => p.Second);

    private static BlockReader ReadCheckpoint(string dir)
    {
        using var file = File.OpenRead(Path.Combine(dir, RunDirectory.CheckpointFile));
        return BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion);
    }

    private static byte[] Block(BlockReader r, string name, int version) => r.Read(name, version, x => x.ReadBytes((int)x.BaseStream.Length));

    /// <summary>
    /// The summary's evaluation line cannot contradict itself (issue 25): its share is of a session wall time that holds
    /// both the evaluation's time and training's wait for it, start-up (the step-0 evaluation) included.
    /// </summary>
    [Fact]
    public void TheEvaluationSummaryIsConsistentWithTheSessionsWallTime()
    {
        Assert.Equal("evaluation: 2 x 10 episodes -> eval.csv; 3.9s on its own thread (55% of the session's 7.1s wall time, start-up included), " +
            "training waited 3.9s for it (before checkpoints)", Trainer.EvaluationSummary(2, 10, 3.9, 7.1, 3.9));

        var output = new StringWriter();
        using (var trainer = new Trainer(Short(Config(Update, PpoMethod.Standard), new EvalSettings(Update, 2)), Dir("summary"), resume: false, output))
            trainer.Run(CancellationToken.None);
        string line = Assert.Single(output.ToString().Split('\n'), l => l.StartsWith("evaluation: ", StringComparison.Ordinal));
        var m = System.Text.RegularExpressions.Regex.Match(line,
            @"^evaluation: 2 x 2 episodes -> eval\.csv; ([0-9.]+)s on its own thread \(([0-9]+)% of the session's ([0-9.]+)s wall time, start-up included\), " +
            @"training waited ([0-9.]+)s for it \(before checkpoints\)\r?$");
        Assert.True(m.Success, line);
        double busy = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), session = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        double waited = double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        // One decimal each: allow its rounding.
        Assert.True(busy <= session + 0.1, line);
        Assert.True(waited <= session + 0.1, line);
        Assert.True(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) <= 100, line);
    }

    [Fact]
    public void TrainingFilesAreByteIdenticalWithAndWithoutEvaluation()
    {
        var off = Short(Config(3 * Update, PpoMethod.Cbp), EvalSettings.Off);
        var on = off with { Eval = new EvalSettings(Update, 3) };
        string without = Dir("without"), with = Dir("with");
        Train(without, off);
        var result = Train(with, on);

        Assert.Equal(Episodes(without), Episodes(with));
        Assert.Equal(UpdatesWithoutTimings(without), UpdatesWithoutTimings(with));
        Assert.False(File.Exists(Path.Combine(without, RunDirectory.EvalFile)));
        Assert.Equal(4, result.Evaluations);
        Assert.Equal(["0", "2048", "4096", "6144"], EvalRows(with).Skip(1).Select(l => l.Split(',')[0]));

        // The checkpoint: every block of training state byte for byte; the run record differs only in the config's
        // evaluation settings, the wall time and eval.csv's length.
        var a = ReadCheckpoint(without);
        var b = ReadCheckpoint(with);
        foreach (var (name, version) in new[] { ("parameters", 1), ("optimizer", 1), ("cbp", 1), ("generator", 1), ("envs", VectorEnv.StateVersion) })
            Assert.Equal(Block(a, name, version), Block(b, name, version));
        Assert.False(a.Has("eval"));
        var pa = Checkpoint.ReadProgress(a);
        var pb = Checkpoint.ReadProgress(b);
        Assert.Equal(off, TrainConfig.FromJson(pa.ConfigJson));
        Assert.Equal(on, TrainConfig.FromJson(pb.ConfigJson));
        Assert.Equal((pa.Updates, pa.EnvSteps, pa.Episodes, pa.EpisodesCsvLength), (pb.Updates, pb.EnvSteps, pb.Episodes, pb.EpisodesCsvLength));
        // updates.csv ends each row with wall-clock timings, so its length differs between any two runs: each
        // checkpoint must record its own file's length.
        Assert.Equal(new FileInfo(Path.Combine(without, RunDirectory.UpdatesFile)).Length, pa.UpdatesCsvLength);
        Assert.Equal(new FileInfo(Path.Combine(with, RunDirectory.UpdatesFile)).Length, pb.UpdatesCsvLength);
        Assert.Equal(pa.RecentReturns, pb.RecentReturns);
        Assert.Equal(0, pa.EvalCsvLength);
        Assert.Equal(new FileInfo(Path.Combine(with, RunDirectory.EvalFile)).Length, pb.EvalCsvLength);
    }

    /// <summary>
    /// K = 1 episode by hand: the Ant of the documented seed, at <paramref name="friction"/>, driven by the mean of a policy
    /// holding <paramref name="weights"/> (one row per forward pass, as the evaluation's K = 1 batch) until it ends.
    /// </summary>
    private static (double Return, int Length) MeanActionEpisode(TrainConfig c, float[] weights, double friction, long step)
    {
        using var nets = new ActorCritic(c.Env.Ant.ObservationSize, c.Ppo.HiddenUnits, IAnt.Actuators, CPU, c.Ppo.Network.Activation);
        nets.Parameters.CopyFrom(weights);
        using var ant = EnvRegistry.Create(c.Env.Ant, PolicyEvaluation.EpisodeSeed(c.Run.Seed, step), 0, friction);
        var obs = new float[c.Env.Ant.ObservationSize];
        ant.WriteObservation(obs);
        double sum = 0;
        while (true)
        {
            float[] action;
            using (no_grad())
            using (var input = tensor(obs, [1, obs.Length]))
            using (var mean = nets.Policy(input).Mean)
                action = mean.data<float>().ToArray();
            var r = ant.Step(action, obs);
            sum += r.Reward;
            if (r.Terminated || r.Truncated)
            {
                Assert.Equal(ant.EpisodeReturn, sum, 9);
                return (ant.EpisodeReturn, ant.EpisodeLength);
            }
        }
    }

    private static float[] CheckpointWeights(string dir) =>
        MemoryMarshal.Cast<byte, float>(Block(ReadCheckpoint(dir), "parameters", 1)).ToArray();

    [Fact]
    public void TheEvaluationIsTheMeanActionOfTheSnapshotAtTheStepsFriction()
    {
        var c = Short(Config(2 * Update), new EvalSettings(Update, 1));
        string dir = Dir("mean");
        Train(dir, c);
        string[] rows = EvalRows(dir);
        var last = Row(rows[0], rows[^1]);
        Assert.Equal("4096", last["step"]);
        // The run ends at this evaluation's step, so the last checkpoint holds the weights it evaluated.
        var (ret, length) = MeanActionEpisode(c, CheckpointWeights(dir), 1.0, 2 * Update);
        Assert.Equal(ret.ToString("R", CultureInfo.InvariantCulture), last["return_mean"]);
        Assert.Equal(length.ToString(CultureInfo.InvariantCulture), last["length_mean"]);
        Assert.Equal(("0", "1", "1"), (last["return_std"], last["episodes"], last["friction"]));
        Assert.Equal(last["return_mean"], last["return_min"]);
        Assert.Equal(last["return_mean"], last["return_max"]);
    }

    [Fact]
    public void EvaluationRunsAtTheFrictionTrainingEnvZeroHasAtThatStep()
    {
        // seed2023's protocol on a short clock: all envs switch at once, at the first vector step starting at or after
        // each multiple of 4,096 steps, i.e. one vector step into the update that follows the boundary.
        const long period = 2 * Update;
        var base_ = Config(5 * Update);
        var c = Short(base_ with { Env = base_.Env with { Friction = FrictionConfig.Seed2023 with { ChangeEverySteps = period } } }, new EvalSettings(Update, 1));
        string dir = Dir("friction");
        Train(dir, c);

        var schedule = new FrictionSchedule(c.Env.Friction, c.Run.Seed);
        string[] rows = EvalRows(dir);
        Assert.Equal(6, rows.Length - 1);
        var frictions = new List<double>();
        foreach (string line in rows.Skip(1))
        {
            var row = Row(rows[0], line);
            long step = long.Parse(row["step"], CultureInfo.InvariantCulture);
            // The last vector step of the update began at step - 16: the generations begun by then are in effect.
            int generation = step == 0 ? 0 : (int)((step - c.Env.NumEnvs) / period);
            double expected = schedule.ValueAt(generation);
            Assert.Equal(expected.ToString("R", CultureInfo.InvariantCulture), row["friction"]);
            frictions.Add(expected);
        }
        Assert.Equal(3, frictions.Distinct().Count());
        // Each is a friction the training envs ran at (episodes.csv logs it with every finished episode).
        var trained = File.ReadAllLines(Path.Combine(dir, RunDirectory.EpisodesFile)).Skip(1).Select(l => double.Parse(l.Split(',')[4], CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Superset(trained, frictions.ToHashSet());

        // And the episodes really ran there: the last one by hand at that friction gives its row, at another friction not.
        var last = Row(rows[0], rows[^1]);
        float[] weights = CheckpointWeights(dir);
        var atStep = MeanActionEpisode(c, weights, frictions[^1], 5 * Update);
        var elsewhere = MeanActionEpisode(c, weights, frictions[0], 5 * Update);
        Assert.Equal(atStep.Return.ToString("R", CultureInfo.InvariantCulture), last["return_mean"]);
        Assert.NotEqual(elsewhere.Return.ToString("R", CultureInfo.InvariantCulture), last["return_mean"]);
    }

    [Fact]
    public void EvaluationAfterAResumeMatchesAnUninterruptedRun()
    {
        var c = Short(Config(4 * Update), new EvalSettings(Update, 2));
        string straight = Dir("straight"), split = Dir("split"), killed = Dir("killed");
        Train(straight, c);
        Train(split, c with { Run = c.Run with { TotalSteps = 2 * Update } });
        Train(split, c, resume: true);

        // A run killed after writing the evaluation of update 3 but before its checkpoint: the resume cuts eval.csv back
        // to the checkpoint of update 2 and evaluates update 3 again.
        var toTwo = c with { Run = c.Run with { TotalSteps = 2 * Update } };
        Train(killed, toTwo);
        byte[] atTwo = File.ReadAllBytes(Path.Combine(killed, RunDirectory.CheckpointFile));
        Train(killed, c with { Run = c.Run with { TotalSteps = 3 * Update } }, resume: true);
        Assert.Equal(5, EvalRows(killed).Length);
        File.WriteAllBytes(Path.Combine(killed, RunDirectory.CheckpointFile), atTwo);
        Train(killed, c, resume: true);

        string[] expected = EvalWithoutTimings(straight);
        Assert.Equal(6, expected.Length);
        Assert.Equal(expected, EvalWithoutTimings(split));
        Assert.Equal(expected, EvalWithoutTimings(killed));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(killed));
    }

    [Fact]
    public void EvaluationSwitchedOnAtAResumeStartsAtTheNextMultipleAndLeavesTrainingAsItWas()
    {
        var off = Short(Config(3 * Update), EvalSettings.Off);
        string dir = Dir("late"), plain = Dir("plain");
        Train(plain, off);
        Train(dir, off with { Run = off.Run with { TotalSteps = Update } });
        Train(dir, off with { Eval = new EvalSettings(2 * Update, 1) }, resume: true);
        Assert.Equal(["4096"], EvalRows(dir).Skip(1).Select(l => l.Split(',')[0]));
        Assert.Contains("Eval.EveryEnvSteps (checkpoint 0, now 4096)", File.ReadAllText(Path.Combine(dir, RunDirectory.SessionsFile)));
        Assert.Equal(Episodes(plain), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(plain), UpdatesWithoutTimings(dir));
    }

    [Fact]
    public void EvaluationSettingsThatCannotRunAreRefused()
    {
        Assert.Contains("needs at least one episode", new EvalSettings(100, 0).Validate());
        Assert.Contains("evaluation is off but 3 episodes", new EvalSettings(0, 3).Validate());
        Assert.Contains("at most 1000", new EvalSettings(100, 1001).Validate());
        Assert.Contains(">= 0", new EvalSettings(-1, 1).Validate());
        var e = Assert.Throws<TrainingException>(() => Train(Dir("bad"), Config(Update) with { Eval = new EvalSettings(100, 0) }));
        Assert.Contains("needs at least one episode", e.Message);
        Assert.False(Directory.Exists(Dir("bad")));
    }
}
