// TEMPORARY (trainer branch): adapter over the old factory with the kernels branch's contract; replaced at merge.
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

public sealed class OptimizerPair : IDisposable
{
    private OptimizerPair(IParameterOptimizer optimizer, IContinualBackprop? cbp) { Optimizer = optimizer; Cbp = cbp; }
    public IParameterOptimizer Optimizer { get; }
    public IContinualBackprop? Cbp { get; }

    public static OptimizerPair Create(FlatParameters parameters, AdamSettings adam, CbpSettings? cbp, OptimizerImpl impl, ulong cbpSeed)
    {
        var ppo = PpoSettings.For(PpoMethod.Standard) with { Adam = adam };
        var opt = OptimizerFactory.CreateOptimizer(parameters, ppo, impl);
        var hook = OptimizerFactory.CreateHook(parameters, opt, cbp, cbpSeed);
        return new OptimizerPair(opt, hook is null ? null : new Adapter(hook));
    }

    public void Dispose() { Cbp?.Dispose(); Optimizer.Dispose(); }

    private sealed class Adapter(IContinualBackpropHook h) : IContinualBackprop, IAfterStepHook
    {
        public void AfterStep(IReadOnlyList<Tensor> a) => h.AfterStep(new HiddenActivations(a[0], a[1], a[2], a[3]));
        public void AfterStep(in HiddenActivations a) => h.AfterStep(a);
        public long TotalReplaced(int layer) => h.TotalReplaced(layer);
        public void CopyAges(int layer, Span<int> d) => h.CopyAges(layer, d);
        public void Save(BinaryWriter w) => h.Save(w);
        public void Load(BinaryReader r) => h.Load(r);
        public void Dispose() => (h as IDisposable)?.Dispose();
    }
}
