using System.Globalization;
using System.Runtime.CompilerServices;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// `replay --env E` for Gym's planar bodies against an independent implementation: tests/Physics/Reference/gym_planar_reference.c,
/// written from Gym's documentation of Hopper-v3, Walker2d-v3 and HalfCheetah-v3 against the MuJoCo C API with its own
/// MJCF (local coordinates, no default classes). 100 steps of fixed actions per env (tests/Data/Physics/replay_actions_E.csv;
/// the hopper's and walker's were chosen so that neither falls within 100 steps at either friction), at friction 1
/// (Gym's model) and 0.3. Agreement per value as in ReplayTests: 1e-5 relative with an absolute floor of 1e-7.
/// </summary>
public sealed class GymPlanarReplayTests
{
    private static readonly Lazy<string> Reference = new(() =>
        NativeCompiler.Build(File.ReadAllText(Path.Combine(SourceDir(), "Reference", "gym_planar_reference.c")), "gym_planar_reference"));

    private static string SourceDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string ActionsFile(string env) => Path.Combine(AppContext.BaseDirectory, "Data", "Physics", $"replay_actions_{env}.csv");

    private static double[][] Replay(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(RunnerCommandLine.Invoke(["replay", .. args], output, error) == 0, error.ToString());
        return ParseCsv(output.ToString());
    }

    private static double[][] ParseCsv(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

    [Theory]
    [InlineData("hopper", "1.0", 11)]
    [InlineData("hopper", "0.3", 11)]
    [InlineData("walker2d", "1.0", 17)]
    [InlineData("walker2d", "0.3", 17)]
    [InlineData("halfcheetah", "1.0", 17)]
    [InlineData("halfcheetah", "0.3", 17)]
    public void ReplayAgreesWithTheIndependentCReferenceOver100Steps(string env, string friction, int obsSize)
    {
        var ours = Replay("--env", env, "--friction", friction, "--actions", ActionsFile(env));
        var (code, refText) = NativeCompiler.Exec(Reference.Value, [env, friction, ActionsFile(env)]);
        Assert.True(code == 0, refText);
        var theirs = ParseCsv(refText);
        Assert.Equal(100, theirs.Length);
        Assert.Equal(100, ours.Length);
        for (int t = 0; t < theirs.Length; t++)
        {
            Assert.Equal(2 + obsSize, ours[t].Length);
            Assert.Equal(theirs[t].Length, ours[t].Length);
            Assert.Equal(0, ours[t][1]); // the actions keep it healthy (the reference says so too, by agreeing)
            for (int k = 0; k < theirs[t].Length; k++)
            {
                double a = ours[t][k], b = theirs[t][k];
                Assert.True(Math.Abs(a - b) <= 1e-5 * Math.Max(Math.Abs(b), 1e-2),
                    $"{env} step {t + 1}, column {k} ({(k == 0 ? "reward" : k == 1 ? "terminated" : $"obs_{k - 2}")}): replay {a}, reference {b}");
            }
        }
    }

    [Theory]
    [InlineData("hopper")]
    [InlineData("walker2d")]
    [InlineData("halfcheetah")]
    public void FrictionChangesTheReplayedTrajectory(string env)
    {
        var grippy = Replay("--env", env, "--friction", "1.0", "--actions", ActionsFile(env));
        var slippery = Replay("--env", env, "--friction", "0.3", "--actions", ActionsFile(env));
        Assert.True(Math.Abs(grippy[^1][2] - slippery[^1][2]) + Math.Abs(grippy[^1][0] - slippery[^1][0]) > 1e-3,
            "friction 0.3 should change where the body is after 100 steps");
    }

    /// <summary>The hopper with random full-scale actions falls: the replay stops at the step the reference terminates.</summary>
    [Fact]
    public void HopperTerminatesWhereTheReferenceDoes()
    {
        string file = Path.Combine(Path.GetTempPath(), $"cbpgpu-hopper-fall-{Guid.NewGuid():N}.csv");
        var rng = new Rng(5, 0);
        File.WriteAllLines(file, Enumerable.Range(0, 100).Select(_ =>
            string.Join(',', Enumerable.Range(0, 3).Select(_ => (Math.Round(rng.Uniform(-256, 256)) / 256).ToString("R", CultureInfo.InvariantCulture)))));
        try
        {
            var ours = Replay("--env", "hopper", "--friction", "1", "--actions", file);
            var (code, refText) = NativeCompiler.Exec(Reference.Value, ["hopper", "1", file]);
            Assert.True(code == 0, refText);
            var theirs = ParseCsv(refText);
            Assert.True(theirs.Length < 100, "random full-scale actions should topple the hopper");
            Assert.Equal(theirs.Length, ours.Length);
            Assert.Equal(1, ours[^1][1]);
            for (int k = 0; k < theirs[^1].Length; k++)
                Assert.True(Math.Abs(ours[^1][k] - theirs[^1][k]) <= 1e-5 * Math.Max(Math.Abs(theirs[^1][k]), 1e-2));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void EnvOptionsThatDoNotFitAreUsageErrors()
    {
        var error = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Invoke(["replay", "--env", "hopper", "--engine", "bullet", "--friction", "1", "--actions", ActionsFile("hopper")], TextWriter.Null, error));
        Assert.Contains("applies to the Ant only", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Invoke(["replay", "--env", "walker2d", "--obs", "27", "--friction", "1", "--actions", ActionsFile("walker2d")], TextWriter.Null, error));
        Assert.Contains("--obs", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Invoke(["replay", "--env", "humanoid", "--friction", "1", "--actions", ActionsFile("hopper")], TextWriter.Null, error));
        Assert.Contains("--env", error.ToString());
        error = new StringWriter();
        Assert.Equal(1, RunnerCommandLine.Invoke(["replay", "--env", "halfcheetah", "--friction", "1", "--actions", ActionsFile("hopper")], TextWriter.Null, error));
        Assert.Contains("expected 6", error.ToString());
    }

    [Theory]
    [InlineData("hopper")]
    [InlineData("walker2d")]
    [InlineData("halfcheetah")]
    public void BenchEnvRunsEachEnvAndEndsWithTheRatio(string env)
    {
        var output = new StringWriter();
        Assert.Equal(0, RunnerCommandLine.Invoke(["bench-env", "--env", env, "--envs", "2", "--threads", "2", "--steps", "2", "--rounds", "1"], output, TextWriter.Null));
        string last = output.ToString().TrimEnd().Split('\n')[^1];
        Assert.StartsWith("ratio ", last);
        Assert.True(double.Parse(last["ratio ".Length..], CultureInfo.InvariantCulture) > 0);
    }
}
