using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`Runner` with options but no command trains; `Runner` alone and `Runner --help` still show the usage.</summary>
public class DefaultCommandTests
{
    [Fact]
    public void OptionsWithoutACommandAreTrainsOptions()
    {
        var outcome = Invoke("--device", "cuda", "--envs", "64");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: --method is required: one of std|ns|l2|cbp (see 'Runner train --help')", outcome.ErrorLine);
    }

    [Fact]
    public void TrainsOwnChecksRunWithoutTheCommandWord()
    {
        var outcome = Invoke("--method", "std", "--out", "/dev/null/never", "--friction", "2");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: --friction only applies to --preset constant", outcome.ErrorLine);
    }

    [Fact]
    public void HelpStaysTheRunnersHelp()
    {
        var outcome = Invoke("--help");
        Assert.Equal(0, outcome.ExitCode);
        foreach (var command in new[] { "train", "replay", "bench-env" }) Assert.Contains(command, outcome.Output);
    }

    [Fact]
    public void AWordThatIsNotACommandIsStillAnUnknownCommand()
    {
        var outcome = Invoke("trian", "--device", "cuda");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("unknown command 'trian'", outcome.ErrorLine);
    }
}
