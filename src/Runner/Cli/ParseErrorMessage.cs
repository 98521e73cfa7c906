using System.CommandLine;
using System.CommandLine.Parsing;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// The one line that explains why a command line did not parse. The most basic problem wins: a mistyped option
/// is reported as unknown (with the nearest real name), not as the required option it then seems to lack.
/// </summary>
public static class ParseErrorMessage
{
    public static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        bool isRoot = result.CommandResult.Parent is null;
        string helpHint = isRoot ? $"see '{command.Name} --help'" : $"see '{result.RootCommandResult.Command.Name} {command.Name} --help'";

        if (result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            if (isRoot && !token.StartsWith('-'))
                return $"unknown command '{token}'; commands are: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
            if (!token.StartsWith('-') && SwitchBefore(result, token) is Option switchOption)
                return $"{switchOption.Name} takes true or false (or nothing, meaning true), not '{token}'";
            if (!token.StartsWith('-'))
                return $"unexpected argument '{token}': options take the form --name value ({helpHint})";
            string suggestion = Nearest(token, command.Options.Select(o => o.Name)) is string near ? $"; did you mean {near}?" : "";
            return $"unknown option {token}{suggestion} ({helpHint})";
        }
        if (isRoot && result.Errors.Count > 0)
            return $"no command given; commands are: {string.Join(", ", command.Subcommands.Select(c => c.Name))} ({helpHint})";

        foreach (var option in command.Options)
            if (option.Required && result.GetResult(option) is not OptionResult { IdentifierTokenCount: > 0 })
                return option.HelpName is string h && h.Contains('|')
                    ? $"{option.Name} is required: one of {h} ({helpHint})"
                    : $"{option.Name} {option.HelpName} is required ({helpHint})";
        foreach (var child in result.CommandResult.Children)
            if (child is OptionResult { Implicit: false, Tokens.Count: 0 } given && given.Option.Arity.MinimumNumberOfValues > 0)
                return $"{given.Option.Name} needs a value ({helpHint})";
            else if (child is OptionResult { Tokens.Count: > 1 } repeated && repeated.Option.Arity.MaximumNumberOfValues == 1)
                return $"{repeated.Option.Name} is given {repeated.Tokens.Count} times; give it once";

        return result.Errors[0].Message;
    }

    /// <summary>The boolean option right before the first occurrence of <paramref name="token"/>, which it refused as its value.</summary>
    private static Option? SwitchBefore(ParseResult result, string token)
    {
        var tokens = result.Tokens;
        for (int i = 1; i < tokens.Count; i++)
            if (tokens[i].Value == token)
            {
                if (tokens[i - 1].Type != TokenType.Option) return null;
                string name = tokens[i - 1].Value;
                var option = result.CommandResult.Command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
                return option is { ValueType: var t } && (t == typeof(bool) || t == typeof(bool?)) ? option : null;
            }
        return null;
    }

    /// <summary>The name closest to <paramref name="token"/> by edit distance, if it is close enough to be a typo.</summary>
    public static string? Nearest(string token, IEnumerable<string> names)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            int d = EditDistance(token, name);
            if (d < bestDistance) (best, bestDistance) = (name, d);
        }
        return bestDistance <= Math.Max(2, token.Length / 4) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
