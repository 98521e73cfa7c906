using CbpGpu.Physics;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>Checks shared by the resume tests of both engines.</summary>
internal static class VectorEnvAssert
{
    /// <summary>Every per-step output of the last step is equal (final observations where an episode ended).</summary>
    public static void SameStepOutputs(VectorEnv expected, VectorEnv actual)
    {
        int o = expected.ObservationSize;
        Assert.Equal(expected.Observations, actual.Observations);
        for (int i = 0; i < expected.NumEnvs; i++)
            if (expected.Terminated[i] || expected.Truncated[i])
                Assert.Equal(expected.FinalObservations.AsSpan(i * o, o).ToArray(), actual.FinalObservations.AsSpan(i * o, o).ToArray());
        Assert.Equal(expected.Rewards, actual.Rewards);
        Assert.Equal(expected.Terminated, actual.Terminated);
        Assert.Equal(expected.Truncated, actual.Truncated);
        Assert.Equal(expected.EpisodeReturns, actual.EpisodeReturns);
        Assert.Equal(expected.EpisodeLengths, actual.EpisodeLengths);
        Assert.Equal(expected.EpisodeFrictions, actual.EpisodeFrictions);
        Assert.Equal(expected.Frictions, actual.Frictions);
    }
}
