using CbpGpu.Agent;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>GAE against values worked out by hand (gamma = lambda = 0.5, so gamma * lambda = 0.25).</summary>
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

    private static float[] Column(float[] a, int env) => [a[env], a[2 + env], a[4 + env], a[6 + env], a[8 + env]];
}
