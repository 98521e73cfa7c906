using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;
using Xunit;

namespace CbpGpu.Tests.Runner;

/// <summary>The Runner invoked in-process with its own output and error writers (no Console state), or parsed only.</summary>
public static class RunnerInvocation
{
    public sealed record Outcome(int ExitCode, string Output, string Error)
    {
        /// <summary>The error output, asserted to be exactly one `error: ` line.</summary>
        public string ErrorLine
        {
            get
            {
                string line = Assert.Single(Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.StartsWith("error: ", line);
                return line;
            }
        }
    }

    public static Outcome Invoke(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RunnerCommandLine.Invoke(args, output, error);
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>`train` with these options, parsed and read into a request, without training.</summary>
    public static TrainRequest ReadTrain(params string[] options)
    {
        var parsed = RunnerCommandLine.Create().Parse(["train", .. options]);
        Assert.Empty(parsed.Errors);
        return Assert.IsType<TrainCommand>(parsed.CommandResult.Command).Read(parsed);
    }
}
