using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Aged Adam (docs/aged-adam.md#update) as one fused pass per step (<see cref="IAgedAdam"/>, on whatever
/// <see cref="IKernelBackend"/> made it) over the flat parameter and gradient tensors, without copying them.
/// </summary>
internal sealed class FusedAgedAdam(Tensor gradients, IAgedAdam engine) : IParameterOptimizer
{
    public void ZeroGrad() => gradients.zero_();

    public void Step() => engine.Step();

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
