using System.Globalization;
using CbpGpu.Runner.Cli;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// `replay --engine bullet` against PyBullet itself (docs/bullet-ant.md#pybullet): tests/Data/Physics/pybullet_ant_f*.csv
/// are trajectories of PyBullet 3.2.4 (built from bullet3 tag 3.24, double precision) running pybullet_envs' own
/// AntBulletEnv, recorded 2026-12-04 with scripts/compare-pybullet.py for the float32 actions in pybullet_ant_actions.csv
/// (numpy default_rng(23), uniform in [-1, 1]) from replay's start (rest pose, every hinge at 0): 120 steps at floor
/// friction 0.8 and the 81 steps to termination at 0.001. Each line: PyBullet's reward (a double), done, the 28 float32
/// observation values. Most steps have two or more feet down, where the contact order decides the impulses; the shim
/// before the contact-order fix (loaded through CBPGPU_BULLET_SHIM) fails this at step 18 (0.8) and step 19 (0.001).
/// </summary>
public sealed class BulletPyBulletReplayTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "Physics", name);

    private static string[][] Rows(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(',')).ToArray();

    [Theory]
    [InlineData("0.8", 120, false)]
    [InlineData("0.001", 81, true)]
    public void ReplayIsPyBulletsTrajectoryToTheBit(string friction, int steps, bool endsTerminated)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RunnerCommandLine.Invoke(
            ["replay", "--engine", "bullet", "--friction", friction, "--actions", DataFile("pybullet_ant_actions.csv")], output, error);
        Assert.True(code == 0, error.ToString());
        var ours = Rows(output.ToString());
        var theirs = Rows(File.ReadAllText(DataFile($"pybullet_ant_f{friction}.csv")));
        Assert.Equal(steps, theirs.Length);
        Assert.Equal(steps, ours.Length);

        int multiFoot = 0;
        for (int t = 0; t < steps; t++)
        {
            Assert.Equal(30, theirs[t].Length);
            Assert.Equal(30, ours[t].Length);
            double rewardOurs = double.Parse(ours[t][0], CultureInfo.InvariantCulture);
            double rewardTheirs = double.Parse(theirs[t][0], CultureInfo.InvariantCulture);
            Assert.True(rewardOurs == rewardTheirs, $"step {t + 1}: reward {rewardOurs:R}, PyBullet's {rewardTheirs:R}");
            bool done = t == steps - 1 && endsTerminated;
            Assert.Equal(done ? "1" : "0", theirs[t][1]);
            Assert.Equal(done ? "1" : "0", ours[t][1]);
            int feet = 0;
            for (int k = 2; k < 30; k++)
            {
                float a = float.Parse(ours[t][k], CultureInfo.InvariantCulture);
                float b = float.Parse(theirs[t][k], CultureInfo.InvariantCulture);
                Assert.True(a.Equals(b), $"step {t + 1}, obs[{k - 2}]: {a:R}, PyBullet's {b:R}");
                if (k >= 26 && b > 0.5f) feet++;
            }
            if (feet >= 2) multiFoot++;
        }
        // The foot flags (obs[24..27]) show two or more feet on the floor at most steps, so the contact order is exercised.
        Assert.True(multiFoot >= steps / 2, $"only {multiFoot} of {steps} steps have two or more foot flags");
    }
}
