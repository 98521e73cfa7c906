using System.CommandLine;

namespace CbpGpu.Runner.Cli;

/// <summary>A subcommand: a one-line description for the command list, and the paragraphs its --help adds below the options.</summary>
public abstract class RunnerCommand(string name, string summary, string details) : Command(name, summary)
{
    public string Details { get; } = details;
}
