using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// One hidden layer for <see cref="NaiveCbp"/>, as parameter tensors: incoming weights
/// [units x fan_in], bias [units], the next layer's weights [next_out x units] and bias [next_out].
/// </summary>
public sealed record NaiveHiddenLayer(Tensor InWeight, Tensor Bias, Tensor OutWeight, Tensor NextBias);
