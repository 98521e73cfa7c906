using System.Text;
using System.Text.RegularExpressions;
using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;
using Xunit;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// Every Runner command line in the README's and docs/' code blocks is one the Runner accepts: it parses (known
/// commands and flags, values of the right form), and a `train` or `sweep` also reads into a run or sweep that can
/// start (the combinations the commands refuse with a usage error before doing anything). Reading touches no run
/// directory: a `--resume` line reads none here, as its run does not exist in the working directory of the test.
/// </summary>
public class DocCommandTests
{
    private static readonly Regex RunnerCall = new(@"^(?:\./runner|dotnet\s+\S*Runner\.dll)\s+(.*)$", RegexOptions.Compiled);

    [Theory]
    [InlineData("./runner train --method std --steps 100k   # a comment", "train --method std --steps 100k")]
    [InlineData("./runner sweep --grid \"a=1,2 b=3\" --out runs/g", "sweep|--grid|a=1,2 b=3|--out|runs/g")]
    [InlineData("dotnet ../build/Runner.dll plot runs/x --out y", "plot runs/x --out y")]
    [InlineData("./runner --device cuda --envs 64", "train --device cuda --envs 64")]
    public void ReadsACommandLineAsTheShellWould(string line, string expected)
    {
        string[] args = Assert.Single(Commands("```bash\n" + line + "\n```\n")).Args;
        Assert.Equal(expected.Contains('|') ? expected.Split('|') : expected.Split(' '), args);
    }

    [Fact]
    public void JoinsContinuationLinesAndSkipsProse()
    {
        var found = Commands("./runner train --bogus in prose\n```bash\n./runner sweep --methods cbp \\\n  --seeds 0-1 --out runs/a\n```\n");
        Assert.Equal(["sweep", "--methods", "cbp", "--seeds", "0-1", "--out", "runs/a"], Assert.Single(found).Args);
    }

    [Fact]
    public void EveryDocumentedCommandIsAccepted()
    {
        string root = Repository.Root();
        var files = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories));
        var problems = new List<string>();
        int checkedCount = 0;
        foreach (string file in files)
            foreach (var (line, args) in Commands(File.ReadAllText(file)))
            {
                checkedCount++;
                if (Problem(args) is string problem)
                    problems.Add($"{Path.GetRelativePath(root, file)}:{line}: {string.Join(' ', args)}: {problem}");
            }
        Assert.True(checkedCount > 40, $"found only {checkedCount} Runner command lines in the README and docs/");
        Assert.True(problems.Count == 0, "refused:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void AMistypedFlagIsCaught()
    {
        Assert.NotNull(Problem(["train", "--methd", "cbp"]));
        Assert.NotNull(Problem(["train", "--preset", "seed2023", "--friction", "0.5"]));
        Assert.NotNull(Problem(["sweep", "--methods", "cbp,nosuch", "--out", "runs/x"]));
        Assert.Null(Problem(["train", "--method", "cbp", "--seed", "1"]));
    }

    /// <summary>Why the Runner would refuse these arguments before running anything, or null.</summary>
    private static string? Problem(string[] args)
    {
        var parsed = RunnerCommandLine.Create().Parse(args);
        if (parsed.Errors.Count > 0) return ParseErrorMessage.Describe(parsed);
        try
        {
            switch (parsed.CommandResult.Command)
            {
                case TrainCommand train: train.Read(parsed); break;
                case SweepCommand sweep: sweep.Read(parsed); break;
            }
            return null;
        }
        catch (UsageException e)
        {
            return e.Message;
        }
    }

    /// <summary>The Runner calls in a Markdown text's fenced code blocks: line number and arguments (after `./runner`).</summary>
    private static List<(int Line, string[] Args)> Commands(string markdown)
    {
        var found = new List<(int, string[])>();
        string[] lines = markdown.Split('\n');
        bool inFence = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith("```", StringComparison.Ordinal)) { inFence = !inFence; continue; }
            if (!inFence) continue;
            int start = i;
            var joined = new StringBuilder(StripComment(line));
            while (joined.Length > 0 && joined[^1] == '\\' && i + 1 < lines.Length)
            {
                joined.Length--;
                joined.Append(' ').Append(StripComment(lines[++i].Trim()));
            }
            var call = RunnerCall.Match(joined.ToString().Trim());
            if (!call.Success) continue;
            string[] args = ShellWords(call.Groups[1].Value);
            found.Add((start + 1, args.Length > 0 && args[0].StartsWith('-') ? ["train", .. args] : args));
        }
        return found;
    }

    /// <summary>The line up to a shell comment (a '#' that starts a word outside quotes).</summary>
    private static string StripComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '"' or '\'') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i].TrimEnd();
        }
        return line;
    }

    /// <summary>Words split at blanks, with '...' and "..." grouping (no escapes or expansions: the docs use none).</summary>
    private static string[] ShellWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0') { if (c == quote) quote = '\0'; else word.Append(c); }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c)) { if (inWord) words.Add(word.ToString()); word.Clear(); inWord = false; }
            else { word.Append(c); inWord = true; }
        }
        if (inWord) words.Add(word.ToString());
        return [.. words];
    }
}
