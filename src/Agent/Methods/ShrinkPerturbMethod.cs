using System.Runtime.CompilerServices;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Settings
{
    public readonly partial record struct PpoMethod
    {
        public static PpoMethod ShrinkPerturb { get; } = new("ShrinkPerturb");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// Shrink &amp; Perturb's settings (docs/methods.md#snp). <paramref name="Sigma"/>: standard deviation of the Gaussian
    /// noise added to every Linear weight and bias after each optimizer step (the Nature authors' perturb_scale; the shrink
    /// is the optimizer's coupled L2). Every <paramref name="Interval"/> updates (0: never): theta &lt;- Shrink * theta +
    /// Perturb * theta_fresh, theta_fresh drawn as the run initialises (Ash &amp; Adams).
    /// </summary>
    public sealed record ShrinkPerturbSettings(double Sigma, int Interval, double Shrink, double Perturb)
    {
        /// <summary>
        /// The Nature authors' per-step form on the PPO+L2 learner. Their RL code has perturb_scale (lop/algos/rl/ppo.py
        /// lines 88-92, 148-150) but no Ant config sets it; 1e-5 is the value of their ImageNet and incremental-CIFAR S&amp;P
        /// configs (lop/imagenet/cfg/snp.json, lop/incremental_cifar/cfg/shrink_and_perturb.json); docs/methods.md#snp.
        /// </summary>
        public static ShrinkPerturbSettings Nature2024 { get; } = new(1e-5, 0, 1, 0);

        /// <summary>Ash &amp; Adams' periodic form, once every 1000 updates (about every friction change); docs/methods.md#snp.</summary>
        public static ShrinkPerturbSettings AshAdams { get; } = new(0, 1000, 0.4, 0.1);
    }

    /// <summary>
    /// Shrink &amp; Perturb (docs/methods.md#snp): Gaussian noise on every Linear weight and bias after each optimizer step,
    /// and, at an interval, the shrink toward a fresh initialisation. Noise and fresh weights come from the method's own
    /// stream, saved in its checkpoint block; the per-element math is a loop over the flat parameters, or, with
    /// --optimizer-impl naive, TorchSharp ops per parameter tensor (the reference it is tested against).
    /// </summary>
    internal static class ShrinkPerturbMethod
    {
        private const string Nature2024 = "nature2024", AshAdams = "ash-adams";

        private static string Snp(string help) => "S&P: " + help;

        public static MethodSettingsSchema Schema { get; } = new()
        {
            Title = "S&P",
            JsonKey = "ShrinkPerturb",
            Type = typeof(ShrinkPerturbSettings),
            PresetFlag = "--snp-preset",
            PresetHelp = "S&P: nature2024 (the Nature authors' form: noise sigma 1e-5 after every optimizer step, shrink by the " +
                "optimizer's L2) or ash-adams (theta <- 0.4 theta + 0.1 theta_fresh every 1000 updates); default: nature2024",
            Presets = [(Nature2024, ShrinkPerturbSettings.Nature2024), (AshAdams, ShrinkPerturbSettings.AshAdams)],
            DefaultPreset = _ => Nature2024,
            Settings =
            [
                Setting<ShrinkPerturbSettings>.Real("--snp-sigma", "S", Snp("standard deviation of the noise added to every weight and bias after each optimizer step (0: none)"),
                    nameof(ShrinkPerturbSettings.Sigma), 0, 1, s => s.Sigma, (s, v) => s with { Sigma = v }),
                Setting<ShrinkPerturbSettings>.Count("--snp-interval", "N", Snp("every N updates, theta <- shrink x theta + perturb x theta_fresh (0: never)"),
                    nameof(ShrinkPerturbSettings.Interval), 0, int.MaxValue - 1, s => s.Interval, (s, v) => s with { Interval = v }),
                Setting<ShrinkPerturbSettings>.Real("--snp-shrink", "L", Snp("the factor lambda on the weights at each interval"),
                    nameof(ShrinkPerturbSettings.Shrink), 0, 1, s => s.Shrink, (s, v) => s with { Shrink = v }),
                Setting<ShrinkPerturbSettings>.Real("--snp-perturb", "P", Snp("the factor p on fresh initial weights at each interval"),
                    nameof(ShrinkPerturbSettings.Perturb), 0, 1, s => s.Perturb, (s, v) => s with { Perturb = v }),
            ],
            Validate = o => o is ShrinkPerturbSettings s && s.Sigma is >= 0 and <= 1 && s.Interval >= 0 && s.Shrink is >= 0 and <= 1 && s.Perturb is >= 0 and <= 1
                ? null
                : "S&P needs sigma, shrink and perturb in [0, 1] and an interval >= 0",
        };

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "snp", Id = PpoMethod.ShrinkPerturb, Order = 6,
            Summary = "Shrink & Perturb (PPO+L2 + Gaussian noise on every weight and bias after each step)",
            // The PPO+L2 learner (lop/rl/cfg/ant/l2.yml: betas 0.99, wd 1e-3): S&P's shrink is this L2.
            Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-3),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 1e-3),
            Settings = Schema,
            CheckpointBlock = ("snp", 1),
            Build = b => b.PlainOptimizer().With(new Hook(b.Parameters, (ShrinkPerturbSettings)b.Settings!, b.Network, b.Impl == OptimizerImpl.Naive, b.Seed)),
            UsageProblem = (_, impl, device) => device == "cuda" && impl != OptimizerImpl.Naive
                ? "--device cuda: S&P's loops read CPU memory; add --optimizer-impl naive" : null,
        });

        /// <summary>w += sigma * z, element by element (z standard normal).</summary>
        public static void Perturb(Span<float> weights, ReadOnlySpan<float> z, float sigma)
        {
            for (int i = 0; i < weights.Length; i++) weights[i] += sigma * z[i];
        }

        /// <summary>w = lambda * w + p * fresh, element by element.</summary>
        public static void ShrinkToward(Span<float> weights, ReadOnlySpan<float> fresh, float lambda, float p)
        {
            for (int i = 0; i < weights.Length; i++) weights[i] = lambda * weights[i] + p * fresh[i];
        }

        /// <summary>The method's work: noise after each step, shrink-perturb at the interval, its columns and saved state.</summary>
        internal sealed class Hook : IPlasticityHook
        {
            private readonly FlatParameters _parameters;
            private readonly ShrinkPerturbSettings _s;
            private readonly NetworkSettings _network;
            private readonly bool _naive;
            private readonly ParameterSlice[] _slices;   // every Linear weight and bias (log_std is no layer's: ppo.py perturbs Linears only)
            private readonly float[] _draws;             // one slice's draws, reused
            private Rng _rng;
            private long _shrinks;

            public Hook(FlatParameters parameters, ShrinkPerturbSettings settings, NetworkSettings network, bool naive, ulong seed)
            {
                _parameters = parameters;
                _s = settings;
                _network = network;
                _naive = naive;
                var layout = parameters.Layout;
                _slices = [.. layout.Parameters.Where(p => !ReferenceEquals(p, layout.LogStd))];
                _draws = new float[_slices.Max(p => p.Length)];
                _rng = new Rng(seed, 0x5A9);
            }

            public void AfterStep(in StepView step)
            {
                if (_s.Sigma == 0) return;
                float sigma = (float)_s.Sigma;
                foreach (var slice in _slices)
                {
                    var z = _draws.AsSpan(0, (int)slice.Length);
                    GaussianNoise.Fill(ref _rng, z);
                    if (_naive) NaivePerturb(slice, z, sigma);
                    else Perturb(_parameters.DataOnHost.Slice((int)slice.Offset, z.Length), z, sigma);
                }
            }

            public void AfterUpdate(int update)
            {
                if (_s.Interval == 0 || update % _s.Interval != 0) return;
                var layout = _parameters.Layout;
                float lambda = (float)_s.Shrink, p = (float)_s.Perturb;
                foreach (var slice in _slices)
                {
                    var fresh = _draws.AsSpan(0, (int)slice.Length);
                    DrawFresh(slice, layout, fresh);
                    if (_naive) NaiveShrinkToward(slice, fresh, lambda, p);
                    else ShrinkToward(_parameters.DataOnHost.Slice((int)slice.Offset, fresh.Length), fresh, lambda, p);
                }
                _shrinks++;
            }

            /// <summary>A weight as the run initialises it (FlatParameters.Initialize: scheme and gain), a bias 0.</summary>
            private void DrawFresh(ParameterSlice slice, ParameterLayout layout, Span<float> fresh)
            {
                if (!layout.Weights.Contains(slice))
                {
                    fresh.Clear();
                    return;
                }
                double gain = ReferenceEquals(slice, layout.PolicyW3) ? _network.PolicyOutputGain
                    : ReferenceEquals(slice, layout.ValueW3) ? _network.ValueOutputGain
                    : _network.HiddenGain;
                switch (_network.Init)
                {
                    case InitScheme.LecunUniform:
                        double bound = gain * Math.Sqrt(3.0 / slice.Shape[1]);
                        for (int i = 0; i < fresh.Length; i++) fresh[i] = (float)(bound * (2 * _rng.NextDouble() - 1));
                        break;
                    case InitScheme.Orthogonal:
                        using (var scope = NewDisposeScope())
                        using (var generator = new Generator(_rng.NextUInt64()))
                        using (Scalar g = gain)
                            FlatParameters.Orthogonal(slice.Shape[0], slice.Shape[1], generator).mul_(g).flatten().data<float>().CopyTo(fresh);
                        break;
                    default:
                        throw new InvalidOperationException($"no fresh draw for {_network.Init}");
                }
            }

            private void NaivePerturb(ParameterSlice slice, ReadOnlySpan<float> z, float sigma)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using Scalar s = sigma, one = 1;   // add_ with our own alpha 1 (docs/ppo.md#scalars)
                _parameters.Data.narrow(0, slice.Offset, slice.Length).add_(tensor(z.ToArray()).to(_parameters.Data.device).mul_(s), one);
            }

            private void NaiveShrinkToward(ParameterSlice slice, ReadOnlySpan<float> fresh, float lambda, float p)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using Scalar l = lambda, pp = p, one = 1;
                _parameters.Data.narrow(0, slice.Offset, slice.Length).mul_(l).add_(tensor(fresh.ToArray()).to(_parameters.Data.device).mul_(pp), one);
            }

            public IReadOnlyList<string> Columns => ["snp_mean_abs_w", "snp_noise_ratio", "snp_shrinks"];

            /// <summary>Mean |theta| over the perturbed weights and biases; sigma over it (the noise's relative size); intervals done.</summary>
            public void WriteColumns(Span<double> values)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                double sum = 0;
                long count = 0;
                foreach (var slice in _slices)
                {
                    sum += _parameters.Data.narrow(0, slice.Offset, slice.Length).abs().sum().cpu().item<float>();
                    count += slice.Length;
                }
                values[0] = sum / count;
                values[1] = _s.Sigma / values[0];
                values[2] = _shrinks;
            }

            public void Save(BinaryWriter writer)
            {
                _rng.Write(writer);
                writer.Write(_shrinks);
            }

            public void Load(BinaryReader reader)
            {
                if (reader.BaseStream.Length != 40) throw new InvalidDataException($"the S&P state is 40 bytes, not {reader.BaseStream.Length}");
                _rng = Rng.Read(reader);
                _shrinks = reader.ReadInt64();
            }

            public void Dispose() { }
        }
    }
}
