using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// Adding an env is one file and a registration (docs/extending.md#adding-an-environment): a toy env defined here, in
/// the test project, with nothing under src/ knowing it, trains for one update through the real Trainer, writes its
/// files and resumes from its checkpoint.
/// </summary>
public sealed class ToyEnvTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("toy-env");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>
    /// A point on a line pushed by one action: observes (position, velocity), is paid -position^2, ends when it leaves
    /// [-2, 2]; the friction damps its velocity (the schedulable parameter). Reset: position U(-noise, noise), at rest.
    /// </summary>
    private sealed unsafe class PointMass(EnvConfig config, ulong seed, int index, double friction) : IEnv
    {
        private Rng _rng = new(seed, (ulong)index);
        private double _x = new Rng(seed, (ulong)index).Uniform(-config.ResetNoise, config.ResetNoise), _v;

        public EnvConfig Config { get; } = config;
        public int ObservationSize => 2;
        public int ActionSize => 1;
        public int EpisodeLength { get; private set; }
        public double EpisodeReturn { get; private set; }
        public double Friction { get; set; } = friction;
        public int StateVersion => 1;

        public void Reset(Span<float> observation)
        {
            _x = _rng.Uniform(-Config.ResetNoise, Config.ResetNoise);
            _v = 0;
            EpisodeLength = 0;
            EpisodeReturn = 0;
            if (!observation.IsEmpty) WriteObservation(observation);
        }

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            IEnv.CheckStep(this, action, observation);
            fixed (float* a = action)
            fixed (float* o = observation)
                return StepUnchecked(a, o);
        }

        public StepResult StepUnchecked(float* action, float* observation)
        {
            _v += 0.05 * Math.Clamp(action[0], -1f, 1f) - 0.05 * Friction * _v;
            _x += 0.05 * _v;
            double reward = -_x * _x;
            EpisodeLength++;
            EpisodeReturn += reward;
            bool terminated = Math.Abs(_x) > 2;
            observation[0] = (float)_x;
            observation[1] = (float)_v;
            return new StepResult(reward, terminated, !terminated && EpisodeLength >= Config.MaxEpisodeSteps);
        }

        public void WriteObservation(Span<float> observation)
        {
            observation[0] = (float)_x;
            observation[1] = (float)_v;
        }

        public void WriteState(BinaryWriter w)
        {
            _rng.Write(w);
            w.Write(_x);
            w.Write(_v);
            w.Write(Friction);
            w.Write(EpisodeLength);
            w.Write(EpisodeReturn);
        }

        public void ReadState(BinaryReader r)
        {
            _rng = Rng.Read(r);
            _x = r.ReadDouble();
            _v = r.ReadDouble();
            Friction = r.ReadDouble();
            EpisodeLength = r.ReadInt32();
            EpisodeReturn = r.ReadDouble();
        }

        public void Dispose()
        {
        }
    }

    private const string Id = "toy-point-mass";

    private static EnvConfig Toy()
    {
        lock (typeof(ToyEnvTests))
            if (!EnvRegistry.Contains(Id))
                EnvRegistry.Register(new EnvSpec(Id, "a point on a line (tests/Agent/ToyEnvTests.cs); friction: velocity damping", "push",
                    new EnvConfig(MaxEpisodeSteps: 40, ResetNoise: 0.5, Name: Id), (c, seed, i, f) => new PointMass(c, seed, i, f)));
        return EnvRegistry.Get(Id).Defaults;
    }

    [Fact]
    public void AToyEnvFromTheTestProjectTrainsOneUpdateAndResumes()
    {
        var env = new EnvSettings("constant", 8, Toy(), FrictionConfig.Constant(0.5));
        var config = new TrainConfig(env, PpoSettings.For(PpoMethod.Standard) with { BatchSize = 256, Minibatches = 4 },
            new RunSettings(5, 256, "cpu", 1, 2, 1));
        Assert.Null(config.Validate());
        string dir = Path.Combine(_root, "run");
        var result = TrainRuns.Train(dir, config);
        Assert.Equal(256, result.EnvSteps);

        // config.json names the env, and reads back as the same configuration.
        string json = File.ReadAllText(Path.Combine(dir, RunDirectory.ConfigFile));
        Assert.Contains($"\"Name\": \"{Id}\"", json);
        Assert.Contains("\"ObservationSize\": 2", json);
        Assert.Equal(config with { }, TrainConfig.FromJson(json) with { Eval = config.Eval });

        // 8 envs x 32 steps with a 40-step cap: no episode is truncated yet, any that ended left [-2, 2].
        string[] updates = File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile));
        Assert.Equal(2, updates.Length);
        foreach (string line in File.ReadAllLines(Path.Combine(dir, RunDirectory.EpisodesFile)).Skip(1))
            Assert.InRange(int.Parse(line.Split(',')[3]), 1, 32);

        // The checkpoint holds 2-in, 1-out networks and the toy's own state, and a second update resumes from it.
        var resumed = TrainRuns.Train(dir, config with { Run = config.Run with { TotalSteps = 512 } }, resume: true);
        Assert.Equal(512, resumed.EnvSteps);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile)).Length);
    }
}
