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
        public static PpoMethod Upgd { get; } = new("Upgd");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// UPGD's settings (docs/methods.md#upgd): <paramref name="BetaUtility"/>, the decay of each weight's utility trace, and
    /// <paramref name="Sigma"/>, the standard deviation of the perturbation.
    /// </summary>
    public sealed record UpgdSettings(double BetaUtility, double Sigma)
    {
        /// <summary>mohmdelsayed/upgd core/run/rl/ppo_continuous_action_upgd.py lines 52 and 54 (beta_utility 0.999, sigma 0.001).</summary>
        public static UpgdSettings Elsayed2024 { get; } = new(0.999, 1e-3);
    }

    /// <summary>
    /// Utility-based perturbed gradient descent in its Adam form (Elsayed &amp; Mahmood 2024; docs/methods.md#upgd), the
    /// optimizer of the method's runs in place of the run's Adam: per weight a trace of the utility -g * w, scaled by the
    /// largest trace through a sigmoid, gates Adam's step and a Gaussian perturbation by (1 - scaled utility); weight decay is
    /// decoupled. It is its own hook too: its columns, and its noise stream in the method's checkpoint block.
    /// </summary>
    internal static class UpgdMethod
    {
        private const string Elsayed2024 = "elsayed2024";

        private static string Upgd(string help) => "UPGD: " + help;

        public static MethodSettingsSchema Schema { get; } = new()
        {
            Title = "UPGD",
            JsonKey = "Upgd",
            Type = typeof(UpgdSettings),
            PresetFlag = "--upgd-preset",
            PresetHelp = "UPGD: elsayed2024 (the authors' PPO settings: utility decay 0.999, noise 0.001); default: elsayed2024",
            Presets = [(Elsayed2024, UpgdSettings.Elsayed2024)],
            DefaultPreset = _ => Elsayed2024,
            Settings =
            [
                Setting<UpgdSettings>.Real("--upgd-beta-utility", "B", Upgd("decay of each weight's utility trace"),
                    nameof(UpgdSettings.BetaUtility), 0, BiasCorrectionTable.MaxDecay, s => s.BetaUtility, (s, v) => s with { BetaUtility = v }),
                Setting<UpgdSettings>.Real("--upgd-sigma", "S", Upgd("standard deviation of the perturbation, gated like the step"),
                    nameof(UpgdSettings.Sigma), 0, 1, s => s.Sigma, (s, v) => s with { Sigma = v }),
            ],
            Validate = o => o is UpgdSettings { BetaUtility: >= 0 and <= BiasCorrectionTable.MaxDecay, Sigma: >= 0 and <= 1 }
                ? null : $"UPGD needs a utility decay in [0, {BiasCorrectionTable.MaxDecay}] and sigma in [0, 1]",
        };

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "upgd", Id = PpoMethod.Upgd, Order = 8,
            Summary = "UPGD (utility-gated Adam step and perturbation, decoupled weight decay 1e-3)",
            // Betas: AdaptiveUPGD's defaults (core/run/rl/adaupgd.py line 4); eps 1e-5 and weight decay 1e-3: the PPO script
            // (ppo_continuous_action_upgd.py lines 191 and 50). Learning rate: the Ant learner's 1e-4 (docs/methods.md#upgd).
            Nature2024Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 1e-3),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 1e-3),
            Settings = Schema,
            CheckpointBlock = ("upgd", 1),
            Build = b =>
            {
                var upgd = new Optimizer(b.Parameters, b.Adam, (UpgdSettings)b.Settings!, b.Impl == OptimizerImpl.Naive, b.Seed);
                return OptimizerPair.Own(upgd, upgd);
            },
            Validate = c => c.Run.Optimizer == OptimizerImpl.Torch ? "UPGD is its own optimizer; use the fused or naive optimizer" : null,
            UsageProblem = (_, impl, device) =>
                impl == OptimizerImpl.Torch ? "--optimizer-impl torch: UPGD is its own optimizer, not TorchSharp's Adam; use --optimizer-impl fused or naive"
                : device == "cuda" ? "--device cuda: UPGD keeps its state in CPU memory only; use --device cpu"
                : null,
        });

        /// <summary>The step's scalars: bias corrections of step t, the learning rate and decay, the largest utility trace.</summary>
        public readonly record struct StepScalars(float BetaUtility, float Beta1, float Beta2, float UtilityCorrection, float Correction1,
            float Correction2, float Decay, float TwoLr, float Eps, float Sigma, float MaxUtility);

        /// <summary>
        /// First pass (adaupgd.py lines 18-27): u = beta_u u + (1 - beta_u)(-g w), m = beta1 m + (1 - beta1) g,
        /// v = beta2 v + (1 - beta2) g^2; returns the largest u (of the raw trace, as theirs).
        /// </summary>
        public static float Trace(ReadOnlySpan<float> w, ReadOnlySpan<float> g, Span<float> u, Span<float> m, Span<float> v,
            float betaUtility, float beta1, float beta2)
        {
            float max = float.NegativeInfinity;
            for (int i = 0; i < w.Length; i++)
            {
                u[i] = betaUtility * u[i] + (1 - betaUtility) * -(g[i] * w[i]);
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * (g[i] * g[i]);
                max = MathF.Max(max, u[i]);
            }
            return max;
        }

        /// <summary>
        /// Second pass (adaupgd.py lines 31-41): s = sigmoid((u / (1 - beta_u^t)) / max u), then
        /// w = (1 - lr wd) w - 2 lr (1 - s) (m_hat / (sqrt(v_hat) + eps) + sigma z). Returns the sum of s.
        /// </summary>
        public static double Apply(Span<float> w, ReadOnlySpan<float> u, ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<float> z, in StepScalars k)
        {
            double sum = 0;
            for (int i = 0; i < w.Length; i++)
            {
                float s = 1f / (1f + MathF.Exp(-(u[i] / k.UtilityCorrection / k.MaxUtility)));
                float gate = 1 - s;
                float step = m[i] / k.Correction1 * gate / (MathF.Sqrt(v[i] / k.Correction2) + k.Eps) + z[i] * k.Sigma * gate;
                w[i] = w[i] * k.Decay - k.TwoLr * step;
                sum += s;
            }
            return sum;
        }

        /// <summary>UPGD over the flat parameters: the optimizer of the run, and its hook.</summary>
        internal sealed class Optimizer : IParameterOptimizer, IPlasticityHook
        {
            private readonly FlatParameters _parameters;
            private readonly AdamSettings _adam;
            private readonly UpgdSettings _s;
            private readonly bool _naive;
            private readonly ParameterSlice[] _slices;   // every parameter, log_std too (theirs: agent.parameters()); not the padding
            private readonly Tensor _u, _m, _v;          // laid out like the parameters
            private readonly float[] _draws;             // one slice's draws, reused
            private readonly long _count;
            private Rng _rng;
            private bool _disposed;
            private int _step;
            private double _meanScaledUtility, _maxUtility;

            public Optimizer(FlatParameters parameters, AdamSettings adam, UpgdSettings settings, bool naive, ulong seed)
            {
                adam.Validate();
                _parameters = parameters;
                _adam = adam;
                _s = settings;
                _naive = naive;
                _slices = [.. parameters.Layout.Parameters];
                _count = _slices.Sum(p => p.Length);
                _draws = new float[_slices.Max(p => p.Length)];
                _u = zeros(parameters.Layout.TotalSize);
                _m = zeros(parameters.Layout.TotalSize);
                _v = zeros(parameters.Layout.TotalSize);
                _rng = new Rng(seed, 0x0B9D);
            }

            public void ZeroGrad() => _parameters.ZeroGrad();

            public void Step()
            {
                _step++;
                var k = new StepScalars(
                    (float)_s.BetaUtility, (float)_adam.Beta1, (float)_adam.Beta2,
                    (float)(1 - Math.Pow(_s.BetaUtility, _step)), (float)(1 - Math.Pow(_adam.Beta1, _step)), (float)(1 - Math.Pow(_adam.Beta2, _step)),
                    (float)(1 - _adam.LearningRate * _adam.WeightDecay), (float)(2 * _adam.LearningRate), (float)_adam.Eps, (float)_s.Sigma, 0);
                double sum = _naive ? NaiveStep(k) : FusedStep(k);
                _meanScaledUtility = sum / _count;
            }

            private double FusedStep(StepScalars k)
            {
                Span<float> w = _parameters.DataOnHost, g = _parameters.GradOnHost, u = Span(_u), m = Span(_m), v = Span(_v);
                float max = float.NegativeInfinity;
                foreach (var p in _slices)
                {
                    int o = (int)p.Offset, n = (int)p.Length;
                    max = MathF.Max(max, Trace(w.Slice(o, n), g.Slice(o, n), u.Slice(o, n), m.Slice(o, n), v.Slice(o, n), k.BetaUtility, k.Beta1, k.Beta2));
                }
                _maxUtility = max;
                k = k with { MaxUtility = max };
                double sum = 0;
                foreach (var p in _slices)
                {
                    int o = (int)p.Offset, n = (int)p.Length;
                    var z = _draws.AsSpan(0, n);
                    GaussianNoise.Fill(ref _rng, z);
                    sum += Apply(w.Slice(o, n), u.Slice(o, n), m.Slice(o, n), v.Slice(o, n), z, k);
                }
                return sum;
            }

            /// <summary>The reference: the authors' two passes as TorchSharp ops, one parameter tensor at a time.</summary>
            private double NaiveStep(StepScalars k)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using Scalar bu = k.BetaUtility, ou = 1 - k.BetaUtility, b1 = k.Beta1, o1 = 1 - k.Beta1, b2 = k.Beta2, o2 = 1 - k.Beta2,
                    cu = k.UtilityCorrection, c1 = k.Correction1, c2 = k.Correction2, eps = k.Eps, sigma = k.Sigma, decay = k.Decay,
                    minusTwoLr = -k.TwoLr, one = 1, two = 2;
                Tensor View(Tensor flat, ParameterSlice p) => flat.narrow(0, p.Offset, p.Length);
                float max = float.NegativeInfinity;
                foreach (var p in _slices)
                {
                    var (w, g, u, m, v) = (View(_parameters.Data, p), View(_parameters.Grad, p), View(_u, p), View(_m, p), View(_v, p));
                    u.mul_(bu).add_(g.mul(w).neg(), ou);
                    m.mul_(b1).add_(g, o1);
                    v.mul_(b2).add_(g.pow(two), o2);   // not square(): it makes a Scalar 2 of its own
                    max = MathF.Max(max, u.max().cpu().item<float>());
                }
                _maxUtility = max;
                using Scalar maxUtility = max;
                double sum = 0;
                foreach (var p in _slices)
                {
                    var (w, u, m, v) = (View(_parameters.Data, p), View(_u, p), View(_m, p), View(_v, p));
                    var z = _draws.AsSpan(0, (int)p.Length);
                    GaussianNoise.Fill(ref _rng, z);
                    var noise = tensor(z.ToArray()).to(w.device).mul_(sigma);
                    var scaled = u.div(cu).div_(maxUtility).sigmoid_();
                    var gate = scaled.neg().add_(one, one);
                    var step = m.div(c1).mul_(gate).div_(v.div(c2).sqrt_().add_(eps, one)).add_(noise.mul_(gate), one);
                    w.mul_(decay).add_(step, minusTwoLr);
                    sum += scaled.sum().cpu().item<float>();
                }
                return sum;
            }

            private static Span<float> Span(Tensor t) => TensorMemory.OnHost(t, "UPGD's state");

            // The hook: nothing around the step (the step is this optimizer's), its columns and its noise stream.
            public void AfterStep(in StepView step) { }

            public IReadOnlyList<string> Columns => ["upgd_mean_scaled_utility", "upgd_max_utility"];

            /// <summary>At the update's last step: the mean of sigmoid(u_hat / max u) over every parameter, and max u.</summary>
            public void WriteColumns(Span<double> values)
            {
                values[0] = _meanScaledUtility;
                values[1] = _maxUtility;
            }

            void IPlasticityHook.Save(BinaryWriter writer) => _rng.Write(writer);

            void IPlasticityHook.Load(BinaryReader reader)
            {
                if (reader.BaseStream.Length != 32) throw new InvalidDataException($"the UPGD noise stream is 32 bytes, not {reader.BaseStream.Length}");
                _rng = Rng.Read(reader);
            }

            /// <summary>The optimizer block: the step count, then u, m and v over the flat layout.</summary>
            void IParameterOptimizer.Save(BinaryWriter writer)
            {
                writer.Write(_step);
                foreach (var t in new[] { _u, _m, _v }) StatePayload.Write<float>(writer, Span(t));
            }

            void IParameterOptimizer.Load(BinaryReader reader)
            {
                long expected = 4 + 3L * _parameters.Layout.TotalSize * sizeof(float);
                if (reader.BaseStream.Length != expected)
                    throw new InvalidDataException($"the UPGD optimizer state is {expected} bytes (step, u, m, v), not {reader.BaseStream.Length}");
                _step = reader.ReadInt32();
                foreach (var t in new[] { _u, _m, _v }) StatePayload.Read<float>(reader, Span(t));
            }

            public void Dispose()
            {
                if (_disposed) return;   // the pair disposes it as optimizer and as hook
                _disposed = true;
                _u.Dispose();
                _m.Dispose();
                _v.Dispose();
            }
        }
    }
}
