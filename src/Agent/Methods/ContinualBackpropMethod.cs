using System.Runtime.CompilerServices;
using System.Text.Json;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Settings
{
    public readonly partial record struct PpoMethod
    {
        public static PpoMethod Cbp { get; } = new("Cbp");
    }
}

namespace CbpGpu.Agent.Methods
{
    /// <summary>
    /// PPO+CBP (docs/cbp.md): NS-Adam with L2 1e-4 (the report's learner: Adam 0.9/0.999, no L2) and Continual Backprop's
    /// generate-and-test on all four hidden layers after every optimizer step, on the run's optimizer implementation
    /// (fused CPU kernels, the naive TorchSharp reference, or next to TorchSharp's Adam; <see cref="OptimizerPair"/>).
    /// </summary>
    internal static class ContinualBackpropMethod
    {
        private const string Nature2024 = "nature2024", Seed2023 = "seed2023";

        private static string Cbp(string help) => "CBP: " + help;

        /// <summary>CBP's settings: --cbp-preset and one flag per field (their spellings and ranges as before the registry).</summary>
        public static MethodSettingsSchema Schema { get; } = new()
        {
            Title = "CBP",
            JsonKey = "Cbp",
            Type = typeof(CbpSettings),
            PresetFlag = "--cbp-preset",
            PresetHelp = "CBP: nature2024 (published: contribution utility, probabilistic count, Adam state kept) or seed2023 " +
                "(reproduction report: adaptable-contribution utility, layer coin, rows U(+-1/sqrt(fan_in)), bias kept, Adam " +
                "moments and per-weight step counters of replaced rows and columns reset); default: the --preset's own " +
                "(nature2024 for constant)",
            Presets = [(Nature2024, CbpSettings.Nature2024), (Seed2023, CbpSettings.Seed2023)],
            DefaultPreset = preset => preset == Seed2023 ? Seed2023 : Nature2024,
            NullInOtherMethodsConfig = true,
            Settings =
            [
                Setting<CbpSettings>.Choice("--utility", Cbp("contribution or adaptable (adaptable-contribution) utility"), nameof(CbpSettings.Utility),
                    [("contribution", UtilityKind.Contribution), ("adaptable", UtilityKind.AdaptableContribution)],
                    s => s.Utility, (s, v) => s with { Utility = v }),
                Setting<CbpSettings>.Choice("--count-rule",
                    Cbp("probabilistic (n = rate x eligible units; n < 1: one unit with probability n), accumulate (carry fractions " +
                        "of n) or layer-coin (one unit with probability rate x units in the layer, the report's)"), nameof(CbpSettings.CountRule),
                    [("probabilistic", ReplacementCountRule.Probabilistic), ("accumulate", ReplacementCountRule.Accumulate), ("layer-coin", ReplacementCountRule.LayerCoin)],
                    s => s.CountRule, (s, v) => s with { CountRule = v }),
                Setting<CbpSettings>.Choice("--reset-adam-state",
                    Cbp("which Adam states of replaced units' weights are zeroed: none, moments (m, v), steps (step counters) or " +
                        "all (true and false mean all and none)"), nameof(CbpSettings.AdamReset),
                    [("none", AdamStateReset.None), ("moments", AdamStateReset.Moments), ("steps", AdamStateReset.StepCounters),
                     ("all", AdamStateReset.MomentsAndStepCounters), ("true", AdamStateReset.MomentsAndStepCounters), ("false", AdamStateReset.None)],
                    s => s.AdamReset, (s, v) => s with { AdamReset = v }),
                Setting<CbpSettings>.Switch("--reset-bias", Cbp("set a replaced unit's bias to 0 (and, with --reset-adam-state, zero its Adam state)"),
                    nameof(CbpSettings.ResetBias), s => s.ResetBias, (s, v) => s with { ResetBias = v }),
                Setting<CbpSettings>.Choice("--new-row-bound", Cbp("fresh incoming weights U(-b, b) with b = sqrt(3/fan_in) (lecun) or 1/sqrt(fan_in) (inverse-sqrt)"),
                    nameof(CbpSettings.NewRowBound), [("lecun", NewRowBound.LecunUniform), ("inverse-sqrt", NewRowBound.InverseSqrtFanIn)],
                    s => s.NewRowBound, (s, v) => s with { NewRowBound = v }),
                Setting<CbpSettings>.Switch("--bias-correction", Cbp("move a replaced unit's mean output into the next layer's bias"),
                    nameof(CbpSettings.NextBiasCorrection), s => s.NextBiasCorrection, (s, v) => s with { NextBiasCorrection = v }),
                Setting<CbpSettings>.Count("--maturity", "N", Cbp("only units older than N optimizer steps are replaced"), nameof(CbpSettings.MaturityThreshold),
                    0, int.MaxValue - 1, s => s.MaturityThreshold, (s, v) => s with { MaturityThreshold = v }),
                Setting<CbpSettings>.Real("--replacement-rate", "R",
                    Cbp("per optimizer step, the fraction of eligible units replaced (layer-coin: R x units is the probability of one)"),
                    nameof(CbpSettings.ReplacementRate), 0, 1, s => s.ReplacementRate, (s, v) => s with { ReplacementRate = v }),
                Setting<CbpSettings>.Real("--decay", "D", Cbp("decay of the running mean activation and utility (0: this step's values alone)"), nameof(CbpSettings.Decay),
                    0, BiasCorrectionTable.MaxDecay, s => s.Decay, (s, v) => s with { Decay = v }),
            ],
            // 6cbb553: CBP's one switch for Adam's state became a choice of which states; "reset" meant moments and step
            // counters of the replaced unit's weights and bias (the bias is reset by default, ResetBias).
            Upgrade = block =>
            {
                if (!block.Remove("ResetOptimizerState", out var reset)) return;
                bool on = reset?.GetValueKind() switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new JsonException("Cbp.ResetOptimizerState is not true or false"),
                };
                block.TryAdd("AdamReset", on ? nameof(AdamStateReset.MomentsAndStepCounters) : nameof(AdamStateReset.None));
            },
            Validate = s =>
            {
                try
                {
                    ((CbpSettings)s).Validate();
                    return null;
                }
                catch (ArgumentException e)
                {
                    return e.Message;
                }
            },
        };

        /// <summary>Why a configuration cannot run CBP's settings (beyond their own validation), or null.</summary>
        internal static string? Problem(TrainConfig c) =>
            ((CbpSettings)c.MethodSettings!).AdamReset != AdamStateReset.None && c.Run.Optimizer == OptimizerImpl.Torch
                ? "resetting the Adam state of replaced units needs per-weight step counters, which TorchSharp's Adam lacks; use the fused or naive optimizer"
                : null;

        /// <summary>Why the command line's choices cannot run CBP's settings, as train's one `error:` line, or null.</summary>
        internal static string? UsageProblem(object? settings, OptimizerImpl impl, string device) =>
            ((CbpSettings)settings!).AdamReset != AdamStateReset.None && impl == OptimizerImpl.Torch
                ? "--optimizer-impl torch cannot reset per-weight Adam state (--reset-adam-state, on in --cbp-preset seed2023); " +
                  "use --optimizer-impl fused or naive, or add --reset-adam-state none"
                : null;

#pragma warning disable CA2255 // the registry is filled when this assembly loads, before any method is looked up
        [ModuleInitializer]
#pragma warning restore CA2255
        internal static void Register() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "cbp", Id = PpoMethod.Cbp, Order = 3, IsDefault = true,
            Summary = "PPO+CBP (NS-Adam + L2 1e-4 + Continual Backprop on all four hidden layers)",
            Nature2024Adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4),
            Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
            Settings = Schema,
            CheckpointBlock = ("cbp", 1),
            ReplacesUnits = true,
            Build = b => OptimizerPair.Create(b.Parameters, b.Adam, (CbpSettings)b.Settings!, b.Impl, b.Seed, b.Kernels),
            Validate = Problem,
            UsageProblem = UsageProblem,
        });
    }
}
