using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// `bench-env`: VectorEnv throughput next to the physics ceiling measured in the same process on the same threads:
/// a plain mj_step loop over the same model and the same static partition of envs, with no reward, observation,
/// reset or per-step synchronisation.
/// </summary>
public sealed class BenchEnvCommand : RunnerCommand
{
    private readonly Option<int> _envs = SharedOptions.Envs(4096, "number of envs");
    private readonly Option<int> _threads = SharedOptions.Threads(2, "worker threads including the caller");
    private readonly Option<int> _steps = OptionFactory.Count("--steps", "S", "vector steps per measurement", 200, 1, 1_000_000);
    private readonly Option<int> _rounds = OptionFactory.Count("--rounds", "R", "raw/vector measurement pairs", 3, 1, 100);
    private readonly ChoiceOption<ObservationKind> _obs = SharedOptions.Obs();
    private readonly ChoiceOption<PhysicsEngine> _engine = SharedOptions.Engine();
    private readonly ChoiceOption<string> _env = SharedOptions.Env();

    public BenchEnvCommand() : base("bench-env", "VectorEnv env steps/s against the raw physics on the same threads", """
        Steps N envs of --env (default: the Slippery Ant) with uniform random actions in [-1, 1] through VectorEnv on T threads, and, alternating
        with it, runs the raw physics on the same model, threads and partition of envs (MuJoCo: the env's frame
        skip of mj_step per env step, 5 for the Ant; Bullet: torques and one 4-substep stepSimulation per env step
        in the shim's own C++ loop; nothing else). Each round measures both for S vector steps (S x N env steps) after a warm-up; the medians over the
        rounds are reported. The last line is the ratio vector/raw, e.g. `ratio 0.95`.
        """)
    {
        Add(_envs);
        Add(_threads);
        Add(_steps);
        Add(_rounds);
        Add(_obs);
        Add(_engine);
        Add(_env);
        SetAction(r => Measure(r.GetValue(_envs), r.GetValue(_threads), r.GetValue(_steps), r.GetValue(_rounds),
            SharedOptions.EnvFor(r, _env, _obs, _engine), r.InvocationConfiguration.Output));
    }

    private static int Measure(int envs, int threads, int steps, int rounds, EnvConfig ant, TextWriter output)
    {
        const int warmup = 10;
        var rng = new Rng(12345, 0);
        int perStep = envs * EnvRegistry.Sizes(ant).Action;
        var actions = new float[(warmup + steps) * perStep];
        for (int i = 0; i < actions.Length; i++) actions[i] = (float)rng.Uniform(-1.0, 1.0);

        using var vec = new VectorEnv(envs, ant, FrictionConfig.Constant(1.0), seed: 1, threads);
        threads = vec.Threads;
        using IRawPhysics raw = RawPhysicsOf(envs, ant, threads, actions);

        RunVector(vec, actions, 0, warmup, perStep);
        raw.Run(0, warmup);
        var rawRates = new double[rounds];
        var vecRates = new double[rounds];
        output.WriteLine($"bench-env: {envs} envs on {threads} threads, {steps} vector steps ({(long)steps * envs} env steps) per measurement, {rounds} rounds");
        for (int r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            raw.Run(warmup, warmup + steps);
            rawRates[r] = (double)steps * envs / sw.Elapsed.TotalSeconds;
            sw.Restart();
            RunVector(vec, actions, warmup, warmup + steps, perStep);
            vecRates[r] = (double)steps * envs / sw.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {r + 1}: raw {rawRates[r]:F0} env steps/s, vector {vecRates[r]:F0} env steps/s"));
        }
        double rawMedian = Median(rawRates), vecMedian = Median(vecRates);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{raw.Description} {rawMedian:F0} env steps/s (median)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vector env {vecMedian:F0} env steps/s (median)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio {vecMedian / rawMedian:F2}"));
        return 0;
    }

    private static void RunVector(VectorEnv vec, float[] actions, int from, int to, int perStep)
    {
        for (int s = from; s < to; s++) vec.Step(actions.AsSpan(s * perStep, perStep));
    }

    private static double Median(double[] xs)
    {
        var s = (double[])xs.Clone();
        Array.Sort(s);
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    private interface IRawPhysics : IDisposable
    {
        string Description { get; }
        void Run(int from, int to);
    }

    /// <summary>
    /// The ceiling for the env's engine, on its own loop over N envs made as the vector makes them: a MuJoCo env
    /// (<see cref="MuJoCoEnv"/>) its frame skip of mj_step per env step, the Bullet Ant its shim's C++ loop.
    /// </summary>
    private static IRawPhysics RawPhysicsOf(int envs, EnvConfig config, int threads, float[] actions)
    {
        var made = new IEnv[envs];
        for (int i = 0; i < envs; i++) made[i] = EnvRegistry.Create(config, seed: 1, index: i, friction: 1.0);
        switch (made[0])
        {
            case MuJoCoEnv mujoco:
                return new RawPhysics<MuJoCoEnv>([.. made.Cast<MuJoCoEnv>()], threads, actions,
                    $"raw mujoco ({mujoco.FrameSkip} mj_step per env step)", StepMuJoCo);
            case BulletAnt:
                return new RawPhysics<BulletAnt>([.. made.Cast<BulletAnt>()], threads, actions,
                    "raw bullet (torques + stepSimulation in the shim's C++ loop)", BulletAnt.StepRaw);
            default:
                foreach (var e in made) e.Dispose();
                throw new UserFacingException($"bench-env has no raw-physics ceiling for --env {config.Id}: it measures MuJoCo envs and the Bullet Ant; pick one of those");
        }
    }

    /// <summary>MuJoCo's loop for envs [first, first + count): write the actions into ctrl, the frame skip of mj_steps per env step.</summary>
    private static void StepMuJoCo(MuJoCoEnv[] envs, int first, int count, float[] actions, int from, int to)
    {
        int n = envs[0].ActionSize, perStep = envs.Length * n;
        for (int s = from; s < to; s++)
            for (int i = first; i < first + count; i++)
            {
                var (model, data, frameSkip) = (envs[i].Model, envs[i].Data, envs[i].FrameSkip);
                var ctrl = data.Ctrl;
                var a = actions.AsSpan(s * perStep + i * n, n);
                for (int k = 0; k < a.Length; k++) ctrl[k] = a[k];
                for (int f = 0; f < frameSkip; f++) data.Step(model);
            }
    }

    /// <summary>
    /// The ceiling: each thread runs the engine's own stepping loop over its envs (the same static partition as the
    /// vector env) for all steps, without waiting for the others.
    /// </summary>
    private sealed class RawPhysics<TEnv> : IRawPhysics where TEnv : IDisposable
    {
        private readonly TEnv[] _envs;
        private readonly WorkerPool _pool;
        private readonly float[] _actions;
        private readonly Action<TEnv[], int, int, float[], int, int> _stepRange;
        private readonly Action<int> _body;
        private int _from, _to;

        /// <param name="stepRange">(envs, first, count, actions, from step, to step): one thread's loop.</param>
        public RawPhysics(TEnv[] envs, int threads, float[] actions, string description, Action<TEnv[], int, int, float[], int, int> stepRange)
        {
            _envs = envs;
            _pool = new WorkerPool(threads);
            _actions = actions;
            _stepRange = stepRange;
            Description = description;
            _body = Body;
        }

        public string Description { get; }

        public void Run(int from, int to)
        {
            _from = from;
            _to = to;
            _pool.Run(_body);
        }

        private void Body(int w)
        {
            int lo = _pool.PartitionStart(w, _envs.Length), hi = _pool.PartitionStart(w + 1, _envs.Length);
            _stepRange(_envs, lo, hi - lo, _actions, _from, _to);
        }

        public void Dispose()
        {
            _pool.Dispose();
            foreach (var e in _envs) e.Dispose();
        }
    }
}
