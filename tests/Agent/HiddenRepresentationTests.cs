using CbpGpu.Agent;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>Dormant fraction and effective rank on matrices whose answers are worked out by hand.</summary>
public sealed class HiddenRepresentationTests
{
    private static Tensor Matrix(double[,] values)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var flat = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) flat[r * cols + c] = (float)values[r, c];
        return tensor(flat, [rows, cols]);
    }

    [Fact]
    public void DormantUnitsAreThoseThatAreZeroForEverySample()
    {
        // Units 0 and 3 are zero throughout; unit 1 fires once; unit 2 is negative (not a ReLU output, but not zero).
        using var h = Matrix(new double[,] { { 0, 0, -1, 0 }, { 0, 2, -1, 0 }, { 0, 0, -1, 0 } });
        Assert.Equal(0.5, HiddenRepresentation.DormantFraction(h));
        using var alive = Matrix(new double[,] { { 1e-30, 1 } });
        Assert.Equal(0.0, HiddenRepresentation.DormantFraction(alive));
    }

    [Fact]
    public void EffectiveRankIsTheExponentialOfTheSingularValueEntropy()
    {
        // Singular values 4 and 3: p = (4/7, 3/7), rank = exp(-(4/7 ln 4/7 + 3/7 ln 3/7)) = 1.9813...
        using var two = Matrix(new double[,] { { 3, 0 }, { 0, 4 }, { 0, 0 } });
        double p = 4.0 / 7, q = 3.0 / 7;
        Assert.Equal(Math.Exp(-(p * Math.Log(p) + q * Math.Log(q))), HiddenRepresentation.EffectiveRank(two), 1e-9);

        // Equal singular values: the rank is their number.
        using var identity = eye(5);
        Assert.Equal(5.0, HiddenRepresentation.EffectiveRank(identity), 1e-9);

        // Every sample on one line (an outer product): rank 1.
        using var line = Matrix(new double[,] { { 1, 2, 3 }, { 2, 4, 6 }, { -1, -2, -3 }, { 0.5, 1, 1.5 } });
        Assert.Equal(1.0, HiddenRepresentation.EffectiveRank(line), 1e-6);

        // Scale does not matter; a zero column adds nothing.
        using var scaled = Matrix(new double[,] { { 300, 0, 0 }, { 0, 400, 0 }, { 0, 0, 0 } });
        Assert.Equal(HiddenRepresentation.EffectiveRank(two), HiddenRepresentation.EffectiveRank(scaled), 1e-9);

        using var zero = zeros(4, 3);
        Assert.Equal(0.0, HiddenRepresentation.EffectiveRank(zero));
        using var bad = Matrix(new double[,] { { 1, double.NaN } });
        Assert.True(double.IsNaN(HiddenRepresentation.EffectiveRank(bad)));
    }

    [Fact]
    public void EffectiveRankOfATrainingSizedBatchMatchesAFloat64Svd()
    {
        using var generator = new Generator(3);
        using var h = nn.functional.relu(randn([2048, 256], generator: generator).matmul(randn([256, 256], generator: generator) * 0.1) - 0.3);
        // Each tensor in a using: a temporary's finalizer could free it while libtorch or the copy still reads it.
        using var h64 = h.to_type(ScalarType.Float64);
        using var singular = linalg.svdvals(h64);
        double[] sigma = singular.data<double>().ToArray();
        double total = sigma.Sum(), entropy = 0;
        foreach (double s in sigma) entropy -= s / total * Math.Log(s / total);
        Assert.Equal(Math.Exp(entropy), HiddenRepresentation.EffectiveRank(h), 1e-6 * Math.Exp(entropy));
    }
}
