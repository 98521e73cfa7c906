using CbpGpu.Tests;
using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`sweep`'s options into the runs it plans (without running them), the Slurm script, and `train`'s --change-every.</summary>
public class SweepOptionsTests
{
    private static SweepRequest ReadSweep(params string[] options)
    {
        var parsed = RunnerCommandLine.Create().Parse(["sweep", .. options]);
        Assert.Empty(parsed.Errors);
        return Assert.IsType<SweepCommand>(parsed.CommandResult.Command).Read(parsed);
    }

    [Theory]
    [InlineData("0-3", new long[] { 0, 1, 2, 3 })]
    [InlineData("5", new long[] { 5 })]
    [InlineData("1,3,5", new long[] { 1, 3, 5 })]
    [InlineData("0-2,10", new long[] { 0, 1, 2, 10 })]
    public void SeedListsAndRanges(string text, long[] expected) => Assert.Equal(expected, SweepCommand.ReadSeeds(text));

    [Theory]
    [InlineData("3-1", "runs backwards")]
    [InlineData("a", "is not a seed or a range")]
    [InlineData("1,1", "names seed 1 twice")]
    [InlineData("-1", "is not a seed or a range")]
    public void BadSeedsAreUsageErrors(string text, string message) =>
        Assert.Contains(message, Assert.Throws<UsageException>(() => SweepCommand.ReadSeeds(text)).Message);

    [Fact]
    public void EachRunGetsItsDirectoryTheSharedFlagsAndCbpFlagsOnlyWhenCbp()
    {
        var request = ReadSweep("--methods", "std,cbp", "--seeds", "2-3", "--out", "sw", "--preset", "constant", "--steps", "4096",
            "--maturity", "50", "--parallel", "2");
        Assert.Equal(["std seed 2", "std seed 3", "cbp seed 2", "cbp seed 3"], request.Runs.Select(r => r.Name));
        var std = request.Runs[0];
        int threads = Math.Max(1, Environment.ProcessorCount / 2);
        Assert.Equal(
            ["train", "--method", "std", "--seed", "2", "--out", Path.Combine("sw", "std", "seed-2"), "--resume-if-present",
             "--preset", "constant", "--steps", "4096", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            std.TrainArgs);
        Assert.Null(std.Problem);
        Assert.Equal(4096, std.TotalSteps);
        Assert.Contains("--maturity", request.Runs[2].TrainArgs);
        Assert.Equal(50, ReadTrain([.. request.Runs[2].TrainArgs.Skip(1)]).Config.Cbp()!.MaturityThreshold);
    }

    [Theory]
    [InlineData("unknown method", new[] { "--methods", "std,adam", "--seeds", "0", "--out", "d" }, "--methods: 'adam' is not a method")]
    [InlineData("slurm option without --emit", new[] { "--methods", "std", "--seeds", "0", "--out", "d", "--slurm-cpus", "4" }, "--slurm-cpus only applies with --emit slurm FILE")]
    [InlineData("unknown format", new[] { "--methods", "std", "--seeds", "0", "--out", "d", "--emit", "pbs", "f" }, "--emit knows one format, slurm")]
    [InlineData("per-run option typo", new[] { "--methods", "std", "--seeds", "0", "--out", "d", "--step", "1" }, "unknown option --step; did you mean --steps?")]
    public void UsageErrorsAreOneLineWithExitCode2(string why, string[] args, string message)
    {
        var outcome = Invoke(["sweep", .. args]);
        Assert.True(outcome.ExitCode == 2, why);
        Assert.Contains(message, outcome.ErrorLine);
    }

    [Fact]
    public void TheSlurmScriptRunsEachTrainCommandAsOneArrayTask()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cbpgpu-slurm-emit-{Guid.NewGuid():N}");
        try
        {
            string file = Path.Combine(dir, "sweep.sh");
            Directory.CreateDirectory(dir);
            var outcome = Invoke("sweep", "--methods", "ns,l2", "--seeds", "0-1", "--out", Path.Combine(dir, "sw"), "--preset", "seed2023",
                "--change-every", "200k", "--emit", "slurm", file, "--slurm-cpus", "4", "--slurm-time", "2-00:00:00", "--slurm-partition", "cpu",
                "--slurm-account", "lab");
            Assert.True(outcome.ExitCode == 0, outcome.Error);
            Assert.Contains($"wrote {file}: a job array of 4 tasks (4 CPUs, 2-00:00:00 each); submit it with: sbatch {file}", outcome.Output);
            string one = Path.Combine(dir, "one.sh");
            var single = Invoke("sweep", "--methods", "std", "--seeds", "0", "--out", Path.Combine(dir, "sw1"), "--emit", "slurm", one, "--slurm-cpus", "1");
            Assert.True(single.ExitCode == 0, single.Error);
            Assert.Contains($"wrote {one}: a job array of 1 task (1 CPU, 24:00:00 each); submit it with: sbatch {one}", single.Output);
            string[] lines = File.ReadAllLines(file);
            Assert.Equal("#!/bin/bash", lines[0]);
            foreach (string expected in new[] { "#SBATCH --array=0-3", "#SBATCH --cpus-per-task=4", "#SBATCH --time=2-00:00:00", "#SBATCH --partition=cpu", "#SBATCH --account=lab", "#SBATCH --requeue" })
                Assert.Contains(expected, lines);
            string task3 = Assert.Single(lines, l => l.StartsWith("  3) set -- ", StringComparison.Ordinal));
            Assert.Contains($"train --method l2 --seed 1 --out {Path.Combine(dir, "sw", "l2", "seed-1")} --resume-if-present --preset seed2023 --change-every 200k --threads 4 ;;", task3);
            Assert.StartsWith("exec ", lines[^1]);
            Assert.True(Directory.Exists(Path.Combine(dir, "sw", "logs")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A local sweep's command line (with its --parallel) repeated with --emit slurm writes the script it would without, and says --parallel is ignored.</summary>
    [Fact]
    public void ParallelFromALocalSweepIsANoteWithEmitSlurm()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cbpgpu-slurm-parallel-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            string[] local = ["sweep", "--methods", "std,cbp", "--seeds", "0-1", "--out", Path.Combine(dir, "sw"), "--preset", "constant", "--steps", "4096"];
            string with = Path.Combine(dir, "with.sh"), without = Path.Combine(dir, "without.sh");
            var noted = Invoke([.. local, "--parallel", "4", "--emit", "slurm", with]);
            Assert.True(noted.ExitCode == 0, noted.Error);
            Assert.Equal("", noted.Error);
            Assert.StartsWith("note: --parallel 4 does not apply with --emit slurm (Slurm decides how many tasks run at once; --slurm-cpus sets each task's cores); ignored\n",
                noted.Output.ReplaceLineEndings("\n"));
            var plain = Invoke([.. local, "--emit", "slurm", without]);
            Assert.True(plain.ExitCode == 0, plain.Error);
            Assert.DoesNotContain("note:", plain.Output);
            Assert.Equal(File.ReadAllText(without), File.ReadAllText(with));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ChangeEveryOverridesThePresetsFrictionPeriod()
    {
        var nature = ReadTrain("--method", "std", "--out", "d", "--change-every", "200k").Config.Env.Friction;
        Assert.Equal(200_000, nature.ChangeEverySteps);
        Assert.True(nature.ChangeAtEpisodeEnd);
        var seed = ReadTrain("--method", "std", "--out", "d", "--preset", "seed2023", "--change-every", "1M").Config.Env.Friction;
        Assert.Equal(1_000_000, seed.ChangeEverySteps);
        Assert.False(seed.ChangeAtEpisodeEnd);
        var refused = Invoke("train", "--method", "std", "--out", "d", "--preset", "constant", "--change-every", "1M");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--change-every does not apply to --preset constant", refused.ErrorLine);
    }
}
