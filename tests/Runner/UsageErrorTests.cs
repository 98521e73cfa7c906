using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>Bad command lines: exit code 2 and one `error:` line on stderr that names the problem, nothing on stdout.</summary>
public class UsageErrorTests
{
    /// <summary>A run directory that cannot be created, so a command line wrongly accepted fails instead of training.</summary>
    private const string Out = "/dev/null/never";

    private static string UsageError(params string[] args)
    {
        var outcome = Invoke(args);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("", outcome.Output);
        return outcome.ErrorLine;
    }

    [Fact]
    public void RunnerAloneExits2WithTheUsageOnStderr()
    {
        var outcome = Invoke();
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("", outcome.Output);
        foreach (var command in new[] { "train", "replay", "bench-env" }) Assert.Contains(command, outcome.Error);
    }

    [Fact]
    public void UnknownCommandListsTheCommands()
    {
        string line = UsageError("trian");
        Assert.Contains("'trian'", line);
        Assert.Contains("train, sweep, plot, replay, render, bench-env", line);
    }

    [Fact]
    public void MistypedOptionIsReportedAsUnknownWithTheNearName()
    {
        string line = UsageError("train", "--metod", "std", "--out", Out);
        Assert.Contains("unknown option --metod", line);
        Assert.Contains("did you mean --method?", line);
        Assert.DoesNotContain("required", line);
    }

    [Theory]
    // train's --method and --out have defaults (cbp, runs/<method>-<preset>-seed-<seed>); a flag without its value is still named.
    [InlineData("--method", "train", "--out", Out, "--method")]
    [InlineData("--out", "train", "--method", "std", "--out")]
    [InlineData("--methods", "sweep", "--seeds", "0", "--out", Out)]
    [InlineData("--seeds", "sweep", "--methods", "std", "--out", Out)]
    [InlineData("--friction", "replay", "--actions", "a.csv")]
    [InlineData("--actions", "replay", "--friction", "1")]
    public void MissingRequiredOptionOrValueNamesTheOption(string option, params string[] args) =>
        Assert.Contains(option, UsageError(args));

    [Theory]
    [InlineData("--envs", "between 1 and 65,536", "--envs", "0")]
    [InlineData("--envs", "divisor of 2048", "--envs", "3")]
    [InlineData("--steps", "between 1 and 10,000,000,000", "--steps", "0")]
    [InlineData("--steps", "whole number", "--steps", "1.5")]
    [InlineData("--seed", "at least 0", "--seed", "-1")]
    [InlineData("--threads", "between 1 and 256", "--threads", "0")]
    [InlineData("--torch-threads", "between 1 and 256", "--torch-threads", "999")]
    [InlineData("--checkpoint-every", "at least 0", "--checkpoint-every", "-5")]
    [InlineData("--checkpoint-minutes", "at least 0", "--checkpoint-minutes", "-1")]
    [InlineData("--friction", "between 1e-6 and 1,000,000", "--preset", "constant", "--friction", "0")]
    [InlineData("--friction", "number", "--preset", "constant", "--friction", "grippy")]
    [InlineData("--obs", "111|27|contact", "--obs", "42")]
    [InlineData("--device", "cpu|cuda", "--device", "tpu")]
    [InlineData("--preset", "nature2024|nature2024-ant|seed2023|constant", "--preset", "nature")]
    [InlineData("--optimizer-impl", "fused|naive|torch", "--optimizer-impl", "adam")]
    [InlineData("--resume", "true or false", "--resume", "yes")]
    [InlineData("--learner", "nature2024|seed2023", "--learner", "sb3")]
    [InlineData("--activation", "relu|tanh", "--activation", "sigmoid")]
    [InlineData("--init", "lecun-uniform|orthogonal", "--init", "xavier")]
    [InlineData("--max-grad-norm", "off or a number > 0", "--max-grad-norm", "0")]
    [InlineData("--advantage-norm", "batch|minibatch", "--advantage-norm", "none")]
    [InlineData("--eval-every", "between 0 and 10,000,000,000", "--eval-every", "-100")]
    [InlineData("--eval-every", "whole number", "--eval-every", "often")]
    [InlineData("--eval-episodes", "between 1 and 1000", "--eval-episodes", "0")]
    [InlineData("--eval-episodes", "between 1 and 1000", "--eval-episodes", "5k")]
    public void BadValuesNameTheOptionAndWhatItTakes(string option, string accepted, params string[] args)
    {
        string line = UsageError(["train", "--method", "std", "--out", Out, .. args]);
        Assert.Contains(option, line);
        Assert.Contains(accepted, line);
    }

    [Theory]
    [InlineData("--maturity", "between 0 and", "--maturity", "-1")]
    [InlineData("--replacement-rate", "between 0 and 1", "--replacement-rate", "2")]
    [InlineData("--decay", "between 0 and", "--decay", "1")]
    [InlineData("--utility", "contribution|adaptable", "--utility", "usefulness")]
    [InlineData("--count-rule", "probabilistic|accumulate|layer-coin", "--count-rule", "round")]
    [InlineData("--new-row-bound", "lecun|inverse-sqrt", "--new-row-bound", "xavier")]
    [InlineData("--reset-adam-state", "none|moments|steps|all|true|false", "--reset-adam-state", "no")]
    public void BadCbpValuesNameTheOptionAndWhatItTakes(string option, string accepted, params string[] args)
    {
        string line = UsageError(["train", "--method", "cbp", "--out", Out, .. args]);
        Assert.Contains(option, line);
        Assert.Contains(accepted, line);
    }

    [Theory]
    [InlineData("--friction only applies to --preset constant", "--method", "std", "--friction", "2")]
    [InlineData("--maturity only applies to --method cbp", "--method", "l2", "--maturity", "5")]
    [InlineData("--cbp-preset only applies to --method cbp", "--method", "std", "--cbp-preset", "seed2023")]
    [InlineData("--optimizer-impl torch cannot reset", "--method", "cbp", "--preset", "seed2023", "--optimizer-impl", "torch")]
    [InlineData("--optimizer-impl torch cannot reset", "--method", "cbp", "--reset-adam-state", "moments", "--optimizer-impl", "torch")]
    [InlineData("--seed is given 2 times", "--method", "std", "--seed", "1", "--seed", "2")]
    [InlineData("--minibatch-size 100 must divide the batch of 2048", "--method", "std", "--minibatch-size", "100")]
    [InlineData("divisor of 4096", "--method", "std", "--preset", "seed2023", "--envs", "3")]
    [InlineData("unexpected argument 'extra'", "--method", "std", "extra")]
    [InlineData("--eval-episodes needs evaluation on, but --eval-every is 0; drop --eval-episodes or give --eval-every N", "--method", "std", "--eval-every", "0", "--eval-episodes", "5")]
    [InlineData("--eval-episodes needs evaluation on, which --preset constant leaves off; add --eval-every N", "--method", "std", "--preset", "constant", "--eval-episodes", "5")]
    public void CombinationsThatCannotRunAreRefused(string message, params string[] args) =>
        Assert.Contains(message, UsageError(["train", "--out", Out, .. args]));

    [Fact]
    public void OtherCommandsShareTheOptionChecks()
    {
        Assert.Contains("--envs must be between 1 and 4096", UsageError("bench-env", "--envs", "0"));
        Assert.Contains("--rounds must be between 1 and 100", UsageError("bench-env", "--rounds", "0"));
        Assert.Contains("--obs must be one of 111|27|contact", UsageError("bench-env", "--obs", "28"));
        Assert.Contains("did you mean --friction?", UsageError("replay", "--friction", "1", "--actions", "a.csv", "--frcition", "2"));
    }
}
