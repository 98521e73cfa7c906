using CbpGpu.Physics;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// docs/friction.md#seed2023: the report's envs each switched after 2,500,000 of their own steps (4 envs, 10M summed);
/// with N lockstep envs the period stays 10M summed steps, i.e. ceil(10^7 / N) steps of each env.
/// </summary>
public class Seed2023FrictionClockTests
{
    [Theory]
    [InlineData(4, 2_500_000)]
    [InlineData(64, 156_250)]
    [InlineData(3, 3_333_334)]
    public void EachEnvSwitchesAfterTenMillionOverNOfItsOwnSteps(int envs, long ownSteps)
    {
        var schedule = new FrictionSchedule(FrictionConfig.Seed2023, seed: 1);
        double first = schedule.Current;
        long t = 0;
        // Vector step t (0-based) takes the summed count from t * N to (t + 1) * N; each env has then taken t steps before it.
        while (!schedule.Advance(t * envs, (t + 1) * envs)) t++;
        Assert.Equal(ownSteps, t);
        Assert.Equal(1, schedule.Generation);
        Assert.NotEqual(first, schedule.Current);
        // The second change comes one period later, on the same per-env clock.
        long second = t + 1;
        while (!schedule.Advance(second * envs, (second + 1) * envs)) second++;
        Assert.Equal(2, schedule.Generation);
        Assert.InRange(second, 2 * ownSteps - 1, 2 * ownSteps);
    }
}
