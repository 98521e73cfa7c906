using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The one place that turns a configuration into the trainer's optimizer and after-step hook: Adam by
/// <see cref="RunSettings.Optimizer"/>, and Continual Backprop on the same implementation when
/// <see cref="TrainConfig.Cbp"/> is set.
/// </summary>
public static class OptimizerFactory
{
    public static IParameterOptimizer CreateOptimizer(FlatParameters parameters, PpoSettings ppo, OptimizerImpl impl)
    {
        var a = ppo.Adam;
        var hyperparameters = new AdamHyperparameters(a.LearningRate, a.Beta1, a.Beta2, a.Eps, a.WeightDecay);
        return impl switch
        {
            OptimizerImpl.Fused => new FusedAgedAdam(parameters.Data, parameters.Grad, hyperparameters),
            OptimizerImpl.Naive => new NaiveAgedAdam(parameters.All, hyperparameters),
            OptimizerImpl.Torch => new TorchAdamOptimizer(parameters, a),
            _ => throw new ArgumentOutOfRangeException(nameof(impl), impl, null),
        };
    }

    /// <summary>CBP over the hidden layers, on the optimizer's implementation (whose state it may reset); null without CBP.</summary>
    public static IContinualBackpropHook? CreateHook(FlatParameters parameters, IParameterOptimizer optimizer, CbpSettings? cbp, ulong seed)
    {
        if (cbp is null) return null;
        return optimizer switch
        {
            FusedAgedAdam fused => new FusedCbp(fused, HiddenLayerMapping.KernelLayouts(parameters.Layout), cbp, seed),
            NaiveAgedAdam naive => new NaiveCbp(HiddenLayerMapping.NaiveLayers(parameters), cbp, naive, seed),
            _ => new FusedCbp(parameters.Data, HiddenLayerMapping.KernelLayouts(parameters.Layout), cbp, seed),
        };
    }
}
