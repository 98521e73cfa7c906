using System.Globalization;
using System.Runtime.CompilerServices;
using Xunit;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// `replay` against an independent implementation: tests/Physics/Reference/ant_reference.c, written against the
/// MuJoCo C API with its own MJCF, fed the same fixed actions (tests/Data/Physics/replay_actions.csv, 60 steps).
/// Agreement per value: |replay - reference| &lt;= 1e-5 * max(|reference|, 1e-2), i.e. 1e-5 relative with an
/// absolute floor of 1e-7 for values near zero (the replay prints float32 observations, ~6e-8 relative).
/// </summary>
public sealed class ReplayTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("cbpgpu-replay-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static readonly Lazy<string> Reference = new(() =>
        NativeCompiler.Build(File.ReadAllText(Path.Combine(SourceDir(), "Reference", "ant_reference.c")), "ant_reference"));

    private static string SourceDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string ActionsFile => Path.Combine(AppContext.BaseDirectory, "Data", "Physics", "replay_actions.csv");

    private static string Replay(params string[] args)
    {
        var output = new StringWriter();
        Assert.Equal(0, RunnerCommandLine.Invoke(["replay", .. args], output, TextWriter.Null));
        return output.ToString();
    }

    /// <summary>Runs `replay` expecting <paramref name="exitCode"/>; returns its one-line error message.</summary>
    private static string ReplayError(int exitCode, params string[] args)
    {
        var error = new StringWriter();
        Assert.Equal(exitCode, RunnerCommandLine.Invoke(["replay", .. args], TextWriter.Null, error));
        return Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static double[][] ParseCsv(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

    [Theory]
    [InlineData("1.0", "111", 111)]
    [InlineData("0.05", "111", 111)]
    [InlineData("1.0", "contact", 111)]
    [InlineData("0.05", "27", 27)]
    public void ReplayAgreesWithTheIndependentCReference(string friction, string obs, int obsSize)
    {
        Assert.Equal(60, File.ReadAllLines(ActionsFile).Length);
        var ours = ParseCsv(Replay("--friction", friction, "--actions", ActionsFile, "--obs", obs));
        var (code, refText) = NativeCompiler.Exec(Reference.Value, [friction, ActionsFile, obs]);
        Assert.True(code == 0, refText);
        var theirs = ParseCsv(refText);
        Assert.True(theirs.Length >= 50, $"the reference ran only {theirs.Length} steps");
        Assert.Equal(theirs.Length, ours.Length);
        for (int t = 0; t < theirs.Length; t++)
        {
            Assert.Equal(2 + obsSize, ours[t].Length);
            Assert.Equal(theirs[t].Length, ours[t].Length);
            for (int k = 0; k < theirs[t].Length; k++)
            {
                double a = ours[t][k], b = theirs[t][k];
                Assert.True(Math.Abs(a - b) <= 1e-5 * Math.Max(Math.Abs(b), 1e-2),
                    $"step {t + 1}, column {k} ({(k == 0 ? "reward" : k == 1 ? "terminated" : $"obs_{k - 2}")}): replay {a}, reference {b}");
            }
        }
        if (obs == "contact")
            Assert.Contains(theirs, row => row.Skip(2 + 27).Any(v => v != 0)); // the contact variant really saw contacts
    }

    [Fact]
    public void FrictionChangesTheReplayedTrajectory()
    {
        var grippy = ParseCsv(Replay("--friction", "1.0", "--actions", ActionsFile));
        var slippery = ParseCsv(Replay("--friction", "0.05", "--actions", ActionsFile));
        Assert.Equal(grippy[0].Length, slippery[0].Length);
        Assert.True(Math.Abs(grippy[^1][0] - slippery[^1][0]) > 1e-3);
    }

    /// <summary>replay_actions_jump.csv: 40 uniform random actions (multiples of 1/256) that make the Ant jump above z = 1.</summary>
    [Fact]
    public void ReplayStopsAfterTerminationWhereTheReferenceDoes()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "Data", "Physics", "replay_actions_jump.csv");
        var ours = ParseCsv(Replay("--friction", "1", "--actions", file));
        var (code, refText) = NativeCompiler.Exec(Reference.Value, ["1", file, "111"]);
        Assert.True(code == 0, refText);
        var theirs = ParseCsv(refText);
        Assert.Equal(16, theirs.Length);
        Assert.Equal(theirs.Length, ours.Length);
        for (int t = 0; t < ours.Length - 1; t++) Assert.Equal(0, ours[t][1]);
        Assert.Equal(1, ours[^1][1]);
        Assert.True(ours[^1][2] > 1.0, "terminated by the upper height bound (obs_0 is the torso height)");
        for (int k = 0; k < theirs[^1].Length; k++)
            Assert.True(Math.Abs(ours[^1][k] - theirs[^1][k]) <= 1e-5 * Math.Max(Math.Abs(theirs[^1][k]), 1e-2));
    }

    private int _files;

    private string WriteActions(params string[] lines)
    {
        string file = Path.Combine(_tmp, $"actions{_files++}.csv");
        File.WriteAllLines(file, lines);
        return file;
    }

    [Fact]
    public void BadActionFilesNameTheLine()
    {
        const string ok = "0,0,0,0,0,0,0,0";
        var e = ReplayError(1, "--friction", "1", "--actions", WriteActions(ok, ok, "0,0,0,0,0,0,0"));
        Assert.Contains("line 3", e);
        Assert.Contains("got 7", e);
        e = ReplayError(1, "--friction", "1", "--actions", WriteActions(ok, "0,0,abc,0,0,0,0,0"));
        Assert.Contains("line 2", e);
        Assert.Contains("'abc'", e);
        e = ReplayError(1, "--friction", "1", "--actions", WriteActions("0,0,0,NaN,0,0,0,0"));
        Assert.Contains("line 1", e);
        Assert.Contains("finite", e);
        e = ReplayError(1, "--friction", "1", "--actions", "/nonexistent/actions.csv");
        Assert.Contains("not found", e);
        Assert.DoesNotContain('\n', e);
    }

    [Fact]
    public void BadFlagsAreUsageErrorsNamingTheFlag()
    {
        Assert.Contains("--friction", ReplayError(2, "--actions", ActionsFile));
        Assert.Contains("--friction", ReplayError(2, "--friction", "-1", "--actions", ActionsFile));
        Assert.Contains("--obs", ReplayError(2, "--friction", "1", "--actions", ActionsFile, "--obs", "42"));
        Assert.Contains("--frcition", ReplayError(2, "--friction", "1", "--actions", ActionsFile, "--frcition", "2"));
    }

    [Fact]
    public void BenchEnvRunsAndEndsWithTheRatio()
    {
        var output = new StringWriter();
        Assert.Equal(0, RunnerCommandLine.Invoke(["bench-env", "--envs", "2", "--threads", "2", "--steps", "2", "--rounds", "1"], output, TextWriter.Null));
        string last = output.ToString().TrimEnd().Split('\n')[^1];
        Assert.StartsWith("ratio ", last);
        Assert.True(double.Parse(last["ratio ".Length..], CultureInfo.InvariantCulture) > 0);
        var error = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Invoke(["bench-env", "--envs", "0"], TextWriter.Null, error));
        Assert.Contains("--envs", error.ToString());
    }
}
