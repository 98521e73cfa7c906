using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Aged Adam (docs/aged-adam.md#update) as one fused pass per step (<see cref="IAgedAdam"/>, on whatever
/// <see cref="IKernelBackend"/> made it) over the flat parameter and gradient tensors, without copying them.
/// The engine holds only their addresses; this holds their owner, reachable until each step's kernels have run
/// (src/Kernels/MEMORY.md#an-address-keeps-nothing-alive).
/// </summary>
internal sealed class FusedAgedAdam(FlatParameters parameters, IAgedAdam engine) : IParameterOptimizer
{
    public void ZeroGrad() => parameters.Grad.zero_();

    public void Step()
    {
        engine.Step();
        GC.KeepAlive(parameters);
    }

    public void Save(BinaryWriter writer)
    {
        int n = engine.Length;
        var m = new float[n];
        var v = new float[n];
        var t = new int[n];
        engine.ReadState(m, v, t);
        AgedAdamState.Write(writer, m, v, t);
    }

    public void Load(BinaryReader reader)
    {
        var (m, v, t) = AgedAdamState.Read(reader, engine.Length);
        engine.WriteState(m, v, t);
    }

    public void Dispose() => engine.Dispose();
}
