using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace CbpGpu.Runner.Cli;

/// <summary>The generated help (description, usage, options with defaults), then the command's explanatory paragraphs.</summary>
public sealed class HelpWithDetailsAction(HelpAction generated) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        generated.Invoke(parseResult);
        if (parseResult.CommandResult.Command is RunnerCommand { Details: var details })
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(details.TrimEnd());
            output.WriteLine();
        }
        return 0;
    }
}
