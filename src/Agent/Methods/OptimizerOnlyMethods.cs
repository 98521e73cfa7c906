using System.Runtime.CompilerServices;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Settings
{
    public readonly partial record struct PpoMethod
    {
        public static PpoMethod Standard { get; } = new("Standard");
        public static PpoMethod NsAdam { get; } = new("NsAdam");
        public static PpoMethod L2 { get; } = new("L2");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// The three methods that are optimizer settings alone, no hook (docs/ppo.md#methods): Standard PPO, NS-Adam
    /// (non-stationary Adam: beta2 = beta1 = 0.99) and PPO+L2 (NS-Adam with coupled L2, the authors' wd). Learning rate
    /// 1e-4 throughout; eps 1e-8 in the authors' learner, 1e-5 in the report's, which keeps Adam 0.9/0.999 for L2.
    /// </summary>
    internal static class OptimizerOnlyMethods
    {
#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register()
        {
            MethodRegistry.Register(new PlasticityMethod
            {
                Word = "std", Id = PpoMethod.Standard, Order = 0,
                Summary = "Standard PPO (Adam 0.9/0.999)",
                Nature2024Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-8, 0),
                Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
            });
            MethodRegistry.Register(new PlasticityMethod
            {
                Word = "ns", Id = PpoMethod.NsAdam, Order = 1,
                Summary = "NS-Adam (0.99/0.99)",
                Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 0),
                Seed2023Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-5, 0),
            });
            MethodRegistry.Register(new PlasticityMethod
            {
                Word = "l2", Id = PpoMethod.L2, Order = 2,
                Summary = "PPO+L2 (NS-Adam + L2 1e-3)",
                Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-3),
                Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 1e-3),
            });
        }
    }
}
