using System.Runtime.CompilerServices;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Settings
{
    public readonly partial record struct PpoMethod
    {
        public static PpoMethod CbpInstantaneous { get; } = new("CbpInstantaneous");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// PPO+CBP with instantaneous utility (docs/cbp.md#instantaneous-utility): the Nature authors' CBP (cfg/ant/cbpi.yml)
    /// with decay 0, so each unit's utility and mean activation are this minibatch's values alone. Everything else, the
    /// optimizer (NS-Adam, L2 1e-4) included, is CBP's; it shares CBP's settings and flags and takes each of their presets
    /// with decay 0.
    /// </summary>
    internal static class InstantaneousCbpMethod
    {
#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "cbpi", Id = PpoMethod.CbpInstantaneous, Order = 3.5,
            Summary = "PPO+CBP with instantaneous utility (CBP with --decay 0: this minibatch's utility alone, the authors' cbpi.yml)",
            // cbpi.yml lines 10, 20-23: lr 1e-4, betas 0.99/0.99, wd 1e-4, as cbp.yml.
            Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
            Settings = ContinualBackpropMethod.Schema,
            TakePreset = s => (CbpSettings)s with { Decay = 0 },   // cbpi.yml line 22: decay_rate 0
            CheckpointBlock = ("cbpi", 1),
            ReplacesUnits = true,
            Build = b => OptimizerPair.Create(b.Parameters, b.Adam, (CbpSettings)b.Settings!, b.Impl, b.Seed, b.Kernels),
            Validate = c => ContinualBackpropMethod.Problem(c),
            UsageProblem = ContinualBackpropMethod.UsageProblem,
        });
    }
}
