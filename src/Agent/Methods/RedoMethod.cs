using System.Runtime.CompilerServices;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Settings
{
    public readonly partial record struct PpoMethod
    {
        public static PpoMethod Redo { get; } = new("Redo");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>ReDo's settings (docs/redo.md#settings).</summary>
    /// <param name="Threshold">tau: a unit whose score is at most tau is dormant and is reset.</param>
    /// <param name="Period">Optimizer steps from one check to the next (the first check after this many steps).</param>
    /// <param name="Epsilon">Added to the layer's mean of E|h| before dividing by it (0: a layer with no activity resets nothing).</param>
    /// <param name="ResetAdam">Zero Adam's moments (m, v) of a reset unit's incoming and outgoing weights.</param>
    public sealed record RedoSettings(double Threshold, int Period, double Epsilon, bool ResetAdam)
    {
        /// <summary>The Nature authors' ReDo on Ant (cfg/ant/redo.yml, gntRedo.py): tau 0.1 every 100 optimizer steps, Adam untouched.</summary>
        public static RedoSettings Nature2024 { get; } = new(Threshold: 0.1, Period: 100, Epsilon: 0, ResetAdam: false);

        /// <summary>Sokar et al.'s ReDo (their weight_recyclers.py): score over mean + 1e-9, every 1000 steps, Adam moments of both sides zeroed.</summary>
        public static RedoSettings Sokar2023 { get; } = new(Threshold: 0.1, Period: 1000, Epsilon: 1e-9, ResetAdam: true);

        /// <summary>Why these settings cannot run, or null.</summary>
        public string? Problem() =>
            !(Threshold >= 0 && double.IsFinite(Threshold)) ? $"ReDo threshold must be finite and >= 0, got {Threshold}"
            : Period < 1 ? $"ReDo period must be at least 1 optimizer step, got {Period}"
            : !(Epsilon >= 0 && double.IsFinite(Epsilon)) ? $"ReDo epsilon must be finite and >= 0, got {Epsilon}"
            : null;
    }

    /// <summary>
    /// PPO+ReDo (docs/redo.md): every <see cref="RedoSettings.Period"/> optimizer steps, each hidden layer's units are
    /// scored on this minibatch, s_i = E|h_i| / (mean_j E|h_j| + epsilon), and every unit with s_i &lt;= tau is reset:
    /// fresh incoming weights U(+-sqrt(3/fan_in)), bias 0, outgoing weights 0 (and, in Sokar et al.'s form, Adam's moments
    /// of both). Runs on the host and through TorchSharp views, not fused: it does work only every Period steps.
    /// </summary>
    internal static class RedoMethod
    {
        private const string Nature2024 = "nature2024", Sokar2023 = "sokar2023";

        private static string Redo(string help) => "ReDo: " + help;

        public static MethodSettingsSchema Schema { get; } = new()
        {
            Title = "ReDo",
            JsonKey = "Redo",
            Type = typeof(RedoSettings),
            PresetFlag = "--redo-preset",
            PresetHelp = "ReDo: nature2024 (the Nature authors' on Ant: tau 0.1 every 100 optimizer steps, Adam state kept) or " +
                "sokar2023 (Sokar et al.'s: score over layer mean + 1e-9, every 1000 steps, Adam moments of reset weights zeroed); " +
                "default: nature2024",
            Presets = [(Nature2024, RedoSettings.Nature2024), (Sokar2023, RedoSettings.Sokar2023)],
            DefaultPreset = _ => Nature2024,
            Settings =
            [
                Setting<RedoSettings>.Real("--redo-threshold", "TAU", Redo("a unit whose E|h| over its layer's mean is at most TAU is reset"),
                    nameof(RedoSettings.Threshold), 0, 1e6, s => s.Threshold, (s, v) => s with { Threshold = v }),
                Setting<RedoSettings>.Count("--redo-period", "N", Redo("optimizer steps between checks"), nameof(RedoSettings.Period),
                    1, int.MaxValue, s => s.Period, (s, v) => s with { Period = v }),
                Setting<RedoSettings>.Real("--redo-epsilon", "E", Redo("added to the layer's mean E|h| before dividing by it"),
                    nameof(RedoSettings.Epsilon), 0, 1, s => s.Epsilon, (s, v) => s with { Epsilon = v }),
                Setting<RedoSettings>.Switch("--redo-reset-adam", Redo("zero Adam's moments of a reset unit's incoming and outgoing weights"),
                    nameof(RedoSettings.ResetAdam), s => s.ResetAdam, (s, v) => s with { ResetAdam = v }),
            ],
            Validate = s => ((RedoSettings)s).Problem(),
        };

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "redo", Id = PpoMethod.Redo, Order = 3.7,
            Summary = "PPO+ReDo (NS-Adam + L2 1e-4 + resets of dormant units every 100 optimizer steps, the authors' redo.yml)",
            // redo.yml lines 10, 19-21: lr 1e-4, betas 0.99/0.99, wd 1e-4 (eps: run_ppo.py's default 1e-8).
            Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
            Settings = Schema,
            CheckpointBlock = ("redo", 1),
            ReplacesUnits = true,
            Build = b => b.PlainOptimizer().With(new RedoHook(b.Parameters, (RedoSettings)b.Settings!, b.Seed)),
            Validate = c => ((RedoSettings)c.MethodSettings!).ResetAdam && c.Run.Optimizer == OptimizerImpl.Torch
                ? "resetting ReDo's Adam moments needs the fused or naive optimizer's state; use either of them"
                : null,
            UsageProblem = (settings, impl, _) => ((RedoSettings)settings!).ResetAdam && impl == OptimizerImpl.Torch
                ? "--optimizer-impl torch cannot reset Adam moments (--redo-reset-adam, on in --redo-preset sokar2023); " +
                  "use --optimizer-impl fused or naive, or add --redo-reset-adam false"
                : null,
        });
    }

    /// <summary>ReDo's work after each optimizer step (docs/redo.md#one-check); its state is the checkpoint block "redo".</summary>
    internal sealed class RedoHook : IPlasticityHook, IUnitReplacing
    {
        private const int StateVersion = 1;

        private readonly FlatParameters _parameters;
        private readonly HiddenLayerLayout[] _layers;
        private readonly RedoSettings _settings;
        private readonly SplitMix64 _random;
        private readonly string[] _columns;
        private readonly int[][] _ages;
        private readonly double[][] _meanAbs;
        private readonly long[] _total;
        private readonly double[] _dormantFraction;
        private int _stepsSinceCheck;

        public RedoHook(FlatParameters parameters, RedoSettings settings, ulong seed)
        {
            if (settings.Problem() is string problem) throw new ArgumentException(problem, nameof(settings));
            _parameters = parameters;
            _layers = [.. parameters.Layout.HiddenLayers];
            _settings = settings;
            _random = new SplitMix64(seed);
            _columns = [.. parameters.Layout.HiddenLayerNames.Select(n => "redo_dormant_" + n.Replace('.', '_'))];
            _ages = [.. _layers.Select(l => new int[l.Units])];
            _meanAbs = [.. _layers.Select(l => new double[l.Units])];
            _total = new long[_layers.Length];
            _dormantFraction = new double[_layers.Length];
        }

        public void AfterStep(in StepView step)
        {
            if (step.HiddenActivations.Count != _layers.Length)
                throw new ArgumentException($"{step.HiddenActivations.Count} activation tensors for {_layers.Length} hidden layers.", nameof(step));
            foreach (var ages in _ages)
                for (int i = 0; i < ages.Length; i++)
                    if (ages[i] < int.MaxValue) ages[i]++;
            if (++_stepsSinceCheck < _settings.Period) return;
            _stepsSinceCheck = 0;
            List<(int Layer, int[] Units)> resets = [];
            for (int l = 0; l < _layers.Length; l++)
            {
                var dormant = new int[_layers[l].Units];
                int count = Dormant(step.HiddenActivations[l], _meanAbs[l], _settings, dormant);
                _dormantFraction[l] = (double)count / _layers[l].Units;
                if (count > 0)
                {
                    resets.Add((l, dormant[..count]));
                    Reset(l, dormant.AsSpan(0, count));
                }
            }
            if (_settings.ResetAdam && resets.Count > 0) ResetAdamMoments(step.Optimizer, resets);
        }

        /// <summary>
        /// Scores one layer on this minibatch (docs/redo.md#one-check): E|h_i| over the batch in float64, divided by the layer's
        /// mean of them plus epsilon; writes the units scoring at most tau, ascending, into <paramref name="dormant"/> and
        /// returns their count. A layer whose every unit is silent scores 0/0 with epsilon 0, and resets nothing (NaN &lt;= tau
        /// is false), as the authors' code does.
        /// </summary>
        internal static int Dormant(Tensor activations, double[] meanAbs, RedoSettings settings, Span<int> dormant)
        {
            using var host = activations.device_type == DeviceType.CPU ? activations.contiguous() : activations.cpu().contiguous();
            int units = meanAbs.Length, batch = (int)(host.numel() / units);
            ReadOnlySpan<float> h = TensorMemory.OnHost(host, "ReDo's activations");
            Array.Clear(meanAbs);
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < units; i++) meanAbs[i] += Math.Abs(h[b * units + i]);
            double layerSum = 0;
            for (int i = 0; i < units; i++)
            {
                meanAbs[i] /= batch;
                layerSum += meanAbs[i];
            }
            double denominator = layerSum / units + settings.Epsilon;
            int count = 0;
            for (int i = 0; i < units; i++)
                if (meanAbs[i] / denominator <= settings.Threshold) dormant[count++] = i;
            return count;
        }

        /// <summary>
        /// Re-initialises units of layer <paramref name="l"/> (docs/redo.md#one-check): incoming row U(+-sqrt(3/fan_in)) from one
        /// key per unit (CbpMath.InitialWeight, as CBP draws its rows), bias 0, outgoing column 0, age 0.
        /// </summary>
        private void Reset(int l, ReadOnlySpan<int> units)
        {
            var layer = _layers[l];
            float bound = CbpMath.InitialBound(layer.FanIn);
            var fresh = new float[units.Length * layer.FanIn];
            var index = new long[units.Length];
            for (int r = 0; r < units.Length; r++)
            {
                ulong key = _random.NextUInt64();
                for (int j = 0; j < layer.FanIn; j++) fresh[r * layer.FanIn + j] = CbpMath.InitialWeight(key, j, bound);
                index[r] = units[r];
                _ages[l][units[r]] = 0;
            }
            _total[l] += units.Length;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using Scalar zero = 0f;
            var data = _parameters.Data;
            var device = data.device;
            var rows = tensor(index).to(device);
            var wIn = data.narrow(0, layer.WeightInOffset, (long)layer.Units * layer.FanIn).view(layer.Units, layer.FanIn);
            wIn.index_copy_(0, rows, tensor(fresh).view(units.Length, layer.FanIn).to(device));
            data.narrow(0, layer.BiasOffset, layer.Units).index_fill_(0, rows, zero);
            data.narrow(0, layer.WeightOutOffset, (long)layer.NextOut * layer.Units).view(layer.NextOut, layer.Units).index_fill_(1, rows, zero);
        }

        /// <summary>
        /// Zeroes m and v of the reset units' incoming rows and outgoing columns (biases and step counters keep theirs, as in
        /// Sokar et al.'s code), through the optimizer's own state payload (the aged-Adam one of the fused and naive
        /// optimizers): a reset happens at most once per check, so the round trip costs little.
        /// </summary>
        private static void ResetAdamMoments(IParameterOptimizer optimizer, List<(int Layer, int[] Units)> resets, HiddenLayerLayout[] layers)
        {
            using var saved = new MemoryStream();
            using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.Save(writer);
            saved.Position = 0;
            float[] m, v;
            int[] t;
            using (var reader = new BinaryReader(saved, System.Text.Encoding.UTF8, leaveOpen: true))
                (m, v, t) = AgedAdamState.Read(reader, BitConverter.ToInt32(saved.GetBuffer(), 0));
            foreach (var (l, units) in resets)
            {
                var layer = layers[l];
                foreach (int i in units)
                {
                    m.AsSpan(layer.WeightInOffset + i * layer.FanIn, layer.FanIn).Clear();
                    v.AsSpan(layer.WeightInOffset + i * layer.FanIn, layer.FanIn).Clear();
                    for (int k = 0; k < layer.NextOut; k++)
                    {
                        m[layer.WeightOutOffset + k * layer.Units + i] = 0f;
                        v[layer.WeightOutOffset + k * layer.Units + i] = 0f;
                    }
                }
            }
            using var changed = new MemoryStream();
            using (var writer = new BinaryWriter(changed, System.Text.Encoding.UTF8, leaveOpen: true)) AgedAdamState.Write(writer, m, v, t);
            changed.Position = 0;
            using var back = new BinaryReader(changed);
            optimizer.Load(back);
        }

        private void ResetAdamMoments(IParameterOptimizer optimizer, List<(int Layer, int[] Units)> resets) =>
            ResetAdamMoments(optimizer, resets, _layers);

        public IReadOnlyList<string> Columns => _columns;

        /// <summary>Per layer, the fraction of its units that scored dormant at the latest check (0 before the first).</summary>
        public void WriteColumns(Span<double> values) => _dormantFraction.CopyTo(values);

        public long TotalReplaced(int layer) => _total[layer];

        public void CopyAges(int layer, Span<int> destination) => _ages[layer].CopyTo(destination);

        public void Save(BinaryWriter writer)
        {
            writer.Write(StateVersion);
            writer.Write(_stepsSinceCheck);
            writer.Write(_random.State);
            writer.Write(_layers.Length);
            for (int l = 0; l < _layers.Length; l++)
            {
                writer.Write(_ages[l].Length);
                StatePayload.Write(writer, _ages[l]);
                writer.Write(_dormantFraction[l]);
            }
        }

        public void Load(BinaryReader reader)
        {
            try
            {
                int version = reader.ReadInt32();
                if (version != StateVersion) throw new InvalidDataException($"ReDo state version {version} is not {StateVersion}");
                int steps = reader.ReadInt32();
                if (steps < 0 || steps >= _settings.Period)
                    throw new InvalidDataException($"ReDo state has {steps} steps since its last check, outside [0, {_settings.Period})");
                ulong random = reader.ReadUInt64();
                int layers = reader.ReadInt32();
                if (layers != _layers.Length) throw new InvalidDataException($"ReDo state of {layers} hidden layers does not fit these networks' {_layers.Length}");
                var ages = new int[layers][];
                var fractions = new double[layers];
                for (int l = 0; l < layers; l++)
                {
                    int units = reader.ReadInt32();
                    if (units != _layers[l].Units)
                        throw new InvalidDataException($"ReDo state of {units} units in hidden layer {l} does not fit these networks' {_layers[l].Units}");
                    ages[l] = new int[units];
                    StatePayload.Read<int>(reader, ages[l]);
                    fractions[l] = reader.ReadDouble();
                }
                StatePayload.EnsureEnd(reader, "the ReDo state");
                _stepsSinceCheck = steps;
                _random.State = random;
                for (int l = 0; l < layers; l++) ages[l].CopyTo(_ages[l], 0);
                fractions.CopyTo(_dormantFraction, 0);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("the ReDo state is truncated", e);
            }
        }

        public void Dispose() { }
    }
}
