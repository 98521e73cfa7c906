using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// The two measures of a hidden layer's representation that the loss-of-plasticity papers use to explain a collapse
/// (docs/ppo.md#representation-diagnostics), on a [samples x units] matrix of post-activation outputs.
/// </summary>
public static class HiddenRepresentation
{
    /// <summary>The fraction of units whose output is exactly 0 for every sample: dead ReLUs that no gradient reaches.</summary>
    public static double DormantFraction(Tensor h)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long units = h.shape[1];
        using Scalar zero = 0;   // alive across the op: TorchSharp's implicit Scalars may be freed by the GC mid-call
        long alive = h.ne(zero).any(0).sum().item<long>();
        return (units - alive) / (double)units;
    }

    /// <summary>
    /// Roy and Vetterli's effective rank: exp of the entropy of the singular values normalised to sum to 1, computed in
    /// float64. It runs from 1 (every sample's representation on one line) to min(samples, units) (all directions used
    /// equally); 0 for an all-zero matrix, NaN when the matrix holds a non-finite value.
    /// </summary>
    public static double EffectiveRank(Tensor h)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (!h.isfinite().all().item<bool>()) return double.NaN;
        // Singular values as square roots of the Gram matrix's eigenvalues: the units x units eigenproblem is ~5x
        // cheaper than an SVD of the samples x units matrix, and the entropy does not notice the rounding of the
        // smallest values (tested against an SVD).
        double[] lambda = linalg.eigvalsh(h.t().matmul(h).to_type(ScalarType.Float64)).cpu().data<double>().ToArray();
        var sigma = new double[lambda.Length];
        for (int i = 0; i < lambda.Length; i++) sigma[i] = Math.Sqrt(Math.Max(lambda[i], 0));
        double total = 0;
        foreach (double s in sigma) total += s;
        if (total == 0) return 0;
        double entropy = 0;
        foreach (double s in sigma)
        {
            if (s <= 0) continue;
            double p = s / total;
            entropy -= p * Math.Log(p);
        }
        return Math.Exp(entropy);
    }

    /// <summary>
    /// The singular values of a [<paramref name="rows"/> x <paramref name="cols"/>] row-major matrix, descending, from
    /// LAPACK through torch.linalg.svdvals in float64 (docs/ppo.md#acting-diagnostics).
    /// </summary>
    public static double[] SingularValues(ReadOnlySpan<float> matrix, int rows, int cols)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var m = tensor(matrix[..(rows * cols)].ToArray(), [rows, cols]).to_type(ScalarType.Float64);
        return linalg.svdvals(m).data<double>().ToArray();
    }

    /// <summary>
    /// The authors' stable rank (their compute_abs_approximate_rank, docs/ppo.md#acting-diagnostics): singular values,
    /// not squared, normalised by their sum and sorted descending, counted until their running sum reaches
    /// <paramref name="share"/>. As their loop does, an all-zero matrix (normalised values NaN) counts 1.
    /// </summary>
    public static int StableRank(double[] singularValues, double share = 0.99)
    {
        var sorted = (double[])singularValues.Clone();
        Array.Sort(sorted);
        double total = 0;
        foreach (double s in sorted) total += s;
        double cumulative = 0;
        int rank = 0;
        // Descending: from the end of the ascending sort. `rank < Length` only guards against rounding the sum short.
        while (cumulative < share && rank < sorted.Length)
        {
            cumulative += sorted[sorted.Length - 1 - rank] / total;
            rank++;
        }
        return rank;
    }
}
