using CbpGpu.Agent;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>The clipped surrogate, its gradient and the Gaussian log-probability against hand-computed values.</summary>
public sealed class PpoLossTests
{
    [Fact]
    public void ClippedSurrogateAndItsGradientMatchTheHandComputation()
    {
        // clip 0.2. Per element min(r*A, clip(r, 0.8, 1.2)*A) and d/dr:
        //  r 0.5, A  1: 0.5 vs 0.8   -> 0.5  (unclipped, d = A = 1)
        //  r 1.1, A -2: -2.2 vs -2.2 -> -2.2 (inside the range, d = A = -2)
        //  r 1.5, A  3: 4.5 vs 3.6   -> 3.6  (clipped, d = 0)
        //  r 0.7, A -1: -0.7 vs -0.8 -> -0.8 (clipped, d = 0)
        //  r 1.5, A -1: -1.5 vs -1.2 -> -1.5 (unclipped: the pessimistic side is never clipped, d = -1)
        // loss = -mean = -(0.5 - 2.2 + 3.6 - 0.8 - 1.5) / 5 = 0.08; dloss/dr = -d / 5 = [-0.2, 0.4, 0, 0, 0.2]
        using var scope = NewDisposeScope();
        var ratio = tensor(new double[] { 0.5, 1.1, 1.5, 0.7, 1.5 }, requires_grad: true);
        var advantages = tensor(new double[] { 1, -2, 3, -1, -1 });
        var loss = PpoUpdate.ClippedSurrogateLoss(ratio, advantages, 0.2);
        loss.backward();
        Assert.Equal(0.08, loss.item<double>(), 12);
        double[] grad = ratio.grad!.data<double>().ToArray();
        double[] expected = [-0.2, 0.4, 0, 0, 0.2];
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], grad[i], 12);
    }

    [Fact]
    public void GaussianLogProbMatchesTheFormula()
    {
        // log N(a; mu, sigma) summed over dims = sum_j -((a_j - mu_j) / sigma_j)^2 / 2 - log sigma_j - log(2 pi) / 2
        using var scope = NewDisposeScope();
        double[] a = [0.3, -1.2, 2.0, 0.0, 0.5, -0.5];
        double[] mu = [0.1, -1.0, 1.0, 0.2, 0.4, -2.0];
        double[] logStd = [0.0, -0.5, 0.7];
        var lp = GaussianPolicy.LogProb(tensor(a).view(2, 3), tensor(mu).view(2, 3), tensor(logStd)).data<double>().ToArray();
        for (int row = 0; row < 2; row++)
        {
            double expected = 0;
            for (int j = 0; j < 3; j++)
            {
                double sigma = Math.Exp(logStd[j]);
                double z = (a[row * 3 + j] - mu[row * 3 + j]) / sigma;
                expected += -0.5 * z * z - Math.Log(sigma) - 0.5 * Math.Log(2 * Math.PI);
            }
            Assert.Equal(expected, lp[row], 12);
        }
    }
}
