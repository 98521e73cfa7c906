using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// The diagonal Gaussian policy N(mean, exp(log_std)^2), log-probabilities summed over action dimensions, as the update
/// computes them; acting samples and scores in <see cref="Networks.ActingForward"/> (docs/ppo.md#acting-forward).
/// </summary>
public static class GaussianPolicy
{
    // Kept for the process's lifetime: a number passed to a TorchSharp op becomes a Scalar that the GC may free while
    // libtorch still reads it.
    private static readonly Scalar HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);
    private static readonly Scalar MinusHalf = -0.5;
    private static readonly Scalar Two = 2;   // square() would make a Scalar 2 of its own (docs/ppo.md#scalars)

    /// <summary>log N(action; mean, exp(logStd)) summed over the last dimension: [B x A] -> [B].</summary>
    public static Tensor LogProb(Tensor action, Tensor mean, Tensor logStd)
    {
        var z = (action - mean) * (-logStd).exp();
        return (z.pow(Two).mul(MinusHalf) - logStd).sub(HalfLog2Pi).sum(-1);
    }
}
