// TEMPORARY (trainer branch): the contract the kernels branch delivers; replaced at merge.
using static TorchSharp.torch;

namespace CbpGpu.Agent;

public interface IContinualBackprop : IDisposable
{
    void AfterStep(IReadOnlyList<Tensor> hiddenActivations);
    long TotalReplaced(int layer);
    void CopyAges(int layer, Span<int> destination);
    void Save(BinaryWriter w);
    void Load(BinaryReader r);
}
