using CbpGpu.Agent;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>GAE against values worked out by hand (gamma = lambda = 0.5, so gamma * lambda = 0.25) and against its definition in float64.</summary>
public sealed class GaeTests
{
    // Two envs, five steps, index t * 2 + i. Env 0 truncates at t = 1 and terminates at t = 2; env 1 never ends.
    //  t | env 0: r   V    term  trunc  V(final) | env 1: r  V
    //  0 |        1   0.5                        |        1  0
    //  1 |        2   1.0        yes    8        |        1  0
    //  2 |        3   1.5  yes                   |        1  0
    //  3 |        4   2.0                        |        1  0
    //  4 |        5   2.5                        |        1  0
    // bootstrap after the last step: env 0: 6, env 1: 0
    private static readonly float[] Rewards = [1, 1, 2, 1, 3, 1, 4, 1, 5, 1];
    private static readonly float[] Values = [0.5f, 0, 1, 0, 1.5f, 0, 2, 0, 2.5f, 0];
    private static readonly float[] LastValues = [6, 0];
    private static readonly bool[] Terminated = [false, false, false, false, true, false, false, false, false, false];
    private static readonly bool[] Truncated = [false, false, true, false, false, false, false, false, false, false];
    private static readonly float[] TruncatedValues = [0, 0, 8, 0, 0, 0, 0, 0, 0, 0];

    private static (float[] Adv, float[] Ret) Run(bool bootstrapTruncation)
    {
        var adv = new float[10];
        var ret = new float[10];
        PpoUpdate.Gae(5, 2, Rewards, Values, LastValues, Terminated, Truncated, TruncatedValues, 0.5, 0.5, bootstrapTruncation, adv, ret);
        return (adv, ret);
    }

    // Env 1 (no episode end): delta = 1 every step; A4 = 1, A3 = 1.25, A2 = 1.3125, A1 = 1.328125, A0 = 1.33203125.
    private static readonly float[] Env1Advantages = [1.33203125f, 1.328125f, 1.3125f, 1.25f, 1f];

    [Fact]
    public void PaperModeTreatsTruncationLikeTermination()
    {
        // Env 0: t4: 5 + 0.5*6 - 2.5 = 5.5 -> A4 = 5.5;  t3: 4 + 0.5*2.5 - 2 = 3.25 -> A3 = 3.25 + 0.25*5.5 = 4.625
        // t2 terminated: 3 - 1.5 = 1.5 -> A2 = 1.5 (cut);  t1 truncated, V = 0: 2 - 1 = 1 -> A1 = 1 (cut)
        // t0: 1 + 0.5*1 - 0.5 = 1 -> A0 = 1 + 0.25*1 = 1.25
        var (adv, ret) = Run(bootstrapTruncation: false);
        Assert.Equal([1.25f, 1f, 1.5f, 4.625f, 5.5f], Column(adv, 0));
        Assert.Equal([1.75f, 2f, 3f, 6.625f, 8f], Column(ret, 0));
        Assert.Equal(Env1Advantages, Column(adv, 1));
        Assert.Equal(Env1Advantages, Column(ret, 1));   // V = 0
    }

    [Fact]
    public void BootstrapModeUsesTheValueOfTheTruncatedEpisodesLastObservation()
    {
        // Only t1 and what flows back from it change: t1: 2 + 0.5*8 - 1 = 5 -> A1 = 5 (still cut);
        // t0: A0 = 1 + 0.25*5 = 2.25. The termination at t2 still bootstraps nothing.
        var (adv, ret) = Run(bootstrapTruncation: true);
        Assert.Equal([2.25f, 5f, 1.5f, 4.625f, 5.5f], Column(adv, 0));
        Assert.Equal([2.75f, 6f, 3f, 6.625f, 8f], Column(ret, 0));
        Assert.Equal(Env1Advantages, Column(adv, 1));
    }

    /// <summary>
    /// The definition, summed forwards in float64: A_t = sum_l (gamma lambda)^l delta_{t+l} over the rest of the episode
    /// inside the rollout, delta_j = r_j + gamma V(next_j) - V(s_j), where next_j is s_{j+1} (the bootstrap observation after
    /// the last step), nothing after a termination, and after a truncation the final observation or nothing.
    /// </summary>
    private static double Reference(int steps, int envs, int t, int i, float[] r, float[] v, float[] last, bool[] term, bool[] trunc,
        float[] truncValues, double gamma, double lambda, bool bootstrapTruncation)
    {
        double sum = 0, weight = 1;
        for (int j = t; j < steps; j++)
        {
            int k = j * envs + i;
            double next = term[k] ? 0 : trunc[k] ? (bootstrapTruncation ? truncValues[k] : 0) : j == steps - 1 ? last[i] : v[k + envs];
            sum += weight * (r[k] + gamma * next - v[k]);
            if (term[k] || trunc[k]) break;
            weight *= gamma * lambda;
        }
        return sum;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTheForwardSumInFloat64OnRandomEpisodes(bool bootstrapTruncation)
    {
        const int steps = 64, envs = 3, n = steps * envs;
        const double gamma = 0.99, lambda = 0.95;
        var rng = new Random(17);
        float[] r = new float[n], v = new float[n], truncValues = new float[n], last = new float[envs];
        bool[] term = new bool[n], trunc = new bool[n];
        for (int k = 0; k < n; k++)
        {
            r[k] = (float)(rng.NextDouble() * 4 - 1);
            v[k] = (float)(rng.NextDouble() * 20 - 5);
            term[k] = rng.NextDouble() < 0.04;
            trunc[k] = rng.NextDouble() < 0.04;   // sometimes both, as when the last step of an episode also falls
            truncValues[k] = trunc[k] ? (float)(rng.NextDouble() * 20 - 5) : 0;
        }
        for (int i = 0; i < envs; i++) last[i] = (float)(rng.NextDouble() * 20 - 5);
        Assert.Contains(true, term);
        Assert.Contains(true, trunc);

        var adv = new float[n];
        var ret = new float[n];
        PpoUpdate.Gae(steps, envs, r, v, last, term, trunc, truncValues, gamma, lambda, bootstrapTruncation, adv, ret);
        for (int t = 0; t < steps; t++)
            for (int i = 0; i < envs; i++)
            {
                int k = t * envs + i;
                double expected = Reference(steps, envs, t, i, r, v, last, term, trunc, truncValues, gamma, lambda, bootstrapTruncation);
                Assert.Equal(expected, adv[k], 1e-5 * Math.Max(1, Math.Abs(expected)));
                Assert.Equal(expected + v[k], ret[k], 1e-5 * Math.Max(1, Math.Abs(expected + v[k])));
            }
    }

    private static float[] Column(float[] a, int env) => [a[env], a[2 + env], a[4 + env], a[6 + env], a[8 + env]];
}
