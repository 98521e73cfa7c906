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
        public static PpoMethod L2Init { get; } = new("L2Init");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// L2 Init's settings (docs/methods.md#l2init): the loss gains <paramref name="Lambda"/> * ||theta - theta_0||^2, theta_0
    /// the run's initial parameters.
    /// </summary>
    public sealed record L2InitSettings(double Lambda)
    {
        /// <summary>
        /// lambda 5e-4: the pull 2 lambda (theta - theta_0) then has the strength of the Nature authors' Ant L2 (wd 1e-3 in
        /// lop/rl/cfg/ant/l2.yml, gradient wd * theta), so l2init is l2 with its centre moved to theta_0. Kumar et al. ran
        /// supervised benchmarks only; docs/methods.md#l2init.
        /// </summary>
        public static L2InitSettings Nature2024 { get; } = new(5e-4);
    }

    /// <summary>
    /// L2 Init (Kumar et al. 2023; docs/methods.md#l2init): before each optimizer step the gradient gains 2 lambda (theta -
    /// theta_0), so Adam's moments see it as part of the loss's gradient. theta_0 is copied when the run is built and saved in
    /// the method's checkpoint block. The per-element math is a loop over the flat parameters, or, with --optimizer-impl naive,
    /// TorchSharp ops over the flat tensors (the reference it is tested against).
    /// </summary>
    internal static class L2InitMethod
    {
        private const string Nature2024 = "nature2024";

        public static MethodSettingsSchema Schema { get; } = new()
        {
            Title = "L2 Init",
            JsonKey = "L2Init",
            Type = typeof(L2InitSettings),
            PresetFlag = "--l2init-preset",
            PresetHelp = "L2 Init: nature2024 (lambda 5e-4: the pull of the Nature authors' Ant L2 1e-3, toward the initial weights); default: nature2024",
            Presets = [(Nature2024, L2InitSettings.Nature2024)],
            DefaultPreset = _ => Nature2024,
            Settings =
            [
                Setting<L2InitSettings>.Real("--l2init-lambda", "L", "L2 Init: lambda of the loss term lambda x ||theta - theta_0||^2",
                    nameof(L2InitSettings.Lambda), 0, 1, s => s.Lambda, (s, v) => s with { Lambda = v }),
            ],
            Validate = o => o is L2InitSettings { Lambda: >= 0 and <= 1 } ? null : "L2 Init needs lambda in [0, 1]",
        };

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "l2init", Id = PpoMethod.L2Init, Order = 7,
            Summary = "L2 Init (NS-Adam + L2 toward the initial weights, lambda 5e-4)",
            // NS-Adam without the L2 toward the origin: the pull toward theta_0 replaces it.
            Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 0),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
            Settings = Schema,
            CheckpointBlock = ("l2init", 1),
            Build = b => b.PlainOptimizer().With(new Hook(b.Parameters, (L2InitSettings)b.Settings!, b.Impl == OptimizerImpl.Naive)),
            UsageProblem = (_, impl, device) => device == "cuda" && impl != OptimizerImpl.Naive
                ? "--device cuda: L2 Init's loop reads CPU memory; add --optimizer-impl naive" : null,
        });

        /// <summary>g += c * (theta - theta_0), element by element (c = 2 lambda).</summary>
        public static void PullTowardInit(Span<float> gradient, ReadOnlySpan<float> theta, ReadOnlySpan<float> theta0, float c)
        {
            for (int i = 0; i < gradient.Length; i++) gradient[i] += c * (theta[i] - theta0[i]);
        }

        /// <summary>The method's work: the gradient term before each step, its column, theta_0 saved.</summary>
        internal sealed class Hook : IPlasticityHook
        {
            private readonly FlatParameters _parameters;
            private readonly float _twoLambda;
            private readonly bool _naive;
            private readonly float[] _theta0;   // the whole flat vector, padding included (0 = 0 there)
            private readonly Tensor _theta0Tensor;

            public Hook(FlatParameters parameters, L2InitSettings settings, bool naive)
            {
                _parameters = parameters;
                _twoLambda = (float)(2 * settings.Lambda);
                _naive = naive;
                _theta0 = parameters.ToArray();
                _theta0Tensor = tensor(_theta0).to(parameters.Data.device);
            }

            public void BeforeStep(in StepView step)
            {
                if (_naive)
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    using Scalar c = _twoLambda, one = 1;   // add_ with our own alpha 1 (docs/ppo.md#scalars)
                    _parameters.Grad.add_(_parameters.Data.sub(_theta0Tensor).mul_(c), one);
                }
                else
                {
                    PullTowardInit(_parameters.GradOnHost, _parameters.DataOnHost, _theta0, _twoLambda);
                }
            }

            public void AfterStep(in StepView step) { }

            public IReadOnlyList<string> Columns => ["l2init_mean_abs_drift"];

            /// <summary>Mean |theta - theta_0| over every parameter (padding not counted).</summary>
            public void WriteColumns(Span<double> values)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                double sum = 0;
                long count = 0;
                foreach (var slice in _parameters.Layout.Parameters)
                {
                    sum += _parameters.Data.narrow(0, slice.Offset, slice.Length).sub(_theta0Tensor.narrow(0, slice.Offset, slice.Length)).abs().sum().cpu().item<float>();
                    count += slice.Length;
                }
                values[0] = sum / count;
            }

            public void Save(BinaryWriter writer) => StatePayload.Write<float>(writer, _theta0);

            public void Load(BinaryReader reader)
            {
                long expected = (long)_theta0.Length * sizeof(float);
                if (reader.BaseStream.Length != expected)
                    throw new InvalidDataException($"the L2 Init state is {expected} bytes (theta_0), not {reader.BaseStream.Length}");
                StatePayload.Read<float>(reader, _theta0);
                using var noGrad = no_grad();
                using var loaded = tensor(_theta0);
                _theta0Tensor.copy_(loaded);
            }

            public void Dispose() => _theta0Tensor.Dispose();
        }
    }
}
