using System.CommandLine;
using System.CommandLine.Help;
using CbpGpu.Runner.Cli;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>Help is generated from the option definitions: every option, with its default, on every command.</summary>
public class HelpTests
{
    public static TheoryData<string, string> CommandsAndHelpFlags()
    {
        var data = new TheoryData<string, string>();
        foreach (var command in RunnerCommandLine.Create().Subcommands)
            foreach (var flag in new[] { "-h", "--help" })
                data.Add(command.Name, flag);
        return data;
    }

    [Theory]
    [MemberData(nameof(CommandsAndHelpFlags))]
    public void HelpListsEveryOptionWithItsDefault(string commandName, string flag)
    {
        var outcome = Invoke(commandName, flag);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("", outcome.Error);
        var lines = outcome.Output.Split('\n');
        var command = RunnerCommandLine.Create().Subcommands.Single(c => c.Name == commandName);
        Assert.Contains(((RunnerCommand)command).Details.Split('\n')[0].Trim(), outcome.Output);
        foreach (var option in command.Options.Where(o => o is not HelpOption))
        {
            string line = Assert.Single(lines, l => l.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal));
            Assert.Contains(option.Description!, line);
            if (option.ValueType == typeof(bool)) continue;   // a switch: absent is off
            if (option.Required) Assert.Contains("(REQUIRED)", line);
            else if (option.HasDefaultValue) Assert.Contains($"[default: {option.GetDefaultValue()}]", line);
            else Assert.Contains("default", line);
        }
    }

    /// <summary>Issue 25: plot's help names every file plot writes, the per-layer figures from their one list.</summary>
    [Fact]
    public void PlotHelpNamesEveryFigure()
    {
        string help = Invoke("plot", "-h").Output;
        foreach (string file in new[] { "returns.png", "runs.csv", "periods.csv", "periods_by_seed.csv", "unit_ages.png", "friction.png", "eval_returns.png", "dormant_share.png", "stable_rank.png" }
            .Concat(CbpGpu.Runner.Commands.PlotCanvas.PerLayerFigures.Select(f => f.File + ".png")))
            Assert.Contains(file, help);
        Assert.Contains("dormant.png (fraction of units per layer over time), effective-rank.png (effective rank per layer over time)", help);
    }

    [Fact]
    public void DefaultsShowAsTyped()
    {
        string help = Invoke("train", "-h").Output;
        Assert.Contains("[default: nature2024]", help);
        Assert.Contains("[default: 111]", help);
        Assert.Contains("--learner seed2023 (--preset seed2023's own) 4 (x 1,024 steps, as the report); with --learner nature2024 the preset's: " +
            "nature2024 and nature2024-ant 1 env x 2,048 steps, as the paper; seed2023 64, constant 64)", help);
        // The learners' rollouts as they run (issue 25): the authors' 1 env x 2,048 steps, the report's 4 envs x 1,024.
        Assert.Contains("advantages per batch, 1 env x 2,048 steps under the paper presets)", help);
        Assert.Contains("advantages per minibatch, 4 envs x 1,024 steps)", help);
        Assert.DoesNotContain("64 envs x 32 steps", help);
        Assert.Contains("--checkpoint-minutes <M>", help);
        Assert.Contains("[default: 10]", help);
        Assert.Contains("nature2024 20,000,000, nature2024-ant 20,000,000, seed2023 100,000,000", help);
    }

    [Fact]
    public void RunnerHelpListsTheCommandsAndExits0()
    {
        foreach (var flag in new[] { "-h", "--help" })
        {
            var outcome = Invoke(flag);
            Assert.Equal(0, outcome.ExitCode);
            foreach (var command in new[] { "train", "replay", "bench-env" }) Assert.Contains(command, outcome.Output);
        }
    }
}
