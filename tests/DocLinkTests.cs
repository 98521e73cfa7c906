using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace CbpGpu.Tests;

/// <summary>
/// The repository explains itself in docs/, and code comments cite those pages by path and section (docs/, a page, '#', a heading). Every such
/// citation, and every relative link of a Markdown file, must lead somewhere: the file exists, and the section is one
/// of its headings under GitHub's anchor rule (or an explicit &lt;a id&gt;). Reads the checkout the tests were built from.
/// </summary>
public class DocLinkTests
{
    private static readonly string[] CodeFolders = ["src", "tests", "bench", "scripts", "native", ".ci"];
    private static readonly string[] CodeExtensions = [".cs", ".sh", ".py", ".cpp", ".h", ".c", ".csproj", ".props", ".targets"];
    private static readonly Regex Citation = new(@"docs/[A-Za-z0-9_/.-]+?\.md(?:#[A-Za-z0-9_-]+)?", RegexOptions.Compiled);
    private static readonly Regex MarkdownLink = new(@"\]\(([^)\s]+)\)", RegexOptions.Compiled);

    [Theory]
    [InlineData("config.json", "configjson")]
    [InlineData("Watching a policy: `Runner render`", "watching-a-policy-runner-render")]
    [InlineData("Results: Slippery Ant (Nature 2024, Fig. 3)", "results-slippery-ant-nature-2024-fig-3")]
    [InlineData("The authors' table", "the-authors-table")]
    [InlineData("Hopper, Walker2d and HalfCheetah", "hopper-walker2d-and-halfcheetah")]
    [InlineData("snake_case and  two spaces", "snake_case-and--two-spaces")]
    public void SlugFollowsGitHubsRule(string heading, string anchor) => Assert.Equal(anchor, Slug(heading));

    [Fact]
    public void RepeatedHeadingsGetNumberedAnchors()
    {
        var anchors = Anchors("# Run\n## Files\n```\n# not a heading\n```\n### Files\n## Files\n<a id=\"custom\"></a>\n");
        Assert.Equal(new HashSet<string> { "run", "files", "files-1", "files-2", "custom" }, anchors);
    }

    [Fact]
    public void EveryDocsCitationInTheCodeResolves()
    {
        string root = Repository.Root();
        var broken = new List<string>();
        int cited = 0;
        foreach (string folder in CodeFolders)
        {
            string dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (string file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                if (!CodeExtensions.Contains(Path.GetExtension(file)) || IsBuildOutput(root, file)) continue;
                foreach (Match m in Citation.Matches(File.ReadAllText(file)))
                {
                    cited++;
                    string[] parts = m.Value.Split('#');
                    string? problem = Check(Path.Combine(root, parts[0]), parts.Length > 1 ? parts[1] : null);
                    if (problem != null) broken.Add($"{Path.GetRelativePath(root, file)}: {m.Value}: {problem}");
                }
            }
        }
        Assert.True(cited > 50, $"found only {cited} citations of docs/ in the code; is {root} the repository?");
        Assert.True(broken.Count == 0, "broken:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void EveryRelativeMarkdownLinkResolves()
    {
        string root = Repository.Root();
        var broken = new List<string>();
        int links = 0;
        foreach (string file in Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories))
        {
            if (IsBuildOutput(root, file)) continue;
            foreach (Match m in MarkdownLink.Matches(OutsideCodeBlocks(File.ReadAllText(file))))
            {
                string link = m.Groups[1].Value;
                if (link.Contains("://") || link.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                links++;
                int hash = link.IndexOf('#');
                string path = hash < 0 ? link : link[..hash];
                string target = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(path)));
                string? problem = Check(target, hash < 0 ? null : link[(hash + 1)..]);
                if (problem != null) broken.Add($"{Path.GetRelativePath(root, file)}: {link}: {problem}");
            }
        }
        Assert.True(links > 50, $"found only {links} relative links in the Markdown files under {root}");
        Assert.True(broken.Count == 0, "broken:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void TheDocsIndexLinksEveryPage()
    {
        string docs = Path.Combine(Repository.Root(), "docs");
        string index = File.ReadAllText(Path.Combine(docs, "README.md"));
        var pages = Directory.EnumerateFiles(docs, "*.md").Select(Path.GetFileName).Where(name => name != "README.md")
            .Append("results/README.md").ToList();
        Assert.True(pages.Count > 10, $"found only {pages.Count} pages in {docs}");
        var missing = pages.Where(page => !index.Contains($"]({page})", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "docs/README.md does not link: " + string.Join(", ", missing));
    }

    private static string? Check(string target, string? anchor)
    {
        if (!File.Exists(target) && !Directory.Exists(target)) return "no such file";
        if (anchor == null || !target.EndsWith(".md", StringComparison.Ordinal)) return null;
        return Anchors(File.ReadAllText(target)).Contains(anchor) ? null : "no such section";
    }

    /// <summary>GitHub's rule: lower case, drop everything but letters, digits, '_', '-' and spaces, spaces to '-'.</summary>
    private static string Slug(string heading)
    {
        var slug = new StringBuilder();
        foreach (char c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c == '_' || c == '-') slug.Append(c);
            else if (c == ' ') slug.Append('-');
        }
        return slug.ToString();
    }

    /// <summary>The anchors of a page: its headings' slugs (the n-th repeat of one gets "-n") and its explicit &lt;a id/name&gt;.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>();
        var seen = new Dictionary<string, int>();
        foreach (string line in OutsideCodeBlocks(markdown).Split('\n'))
        {
            var heading = Regex.Match(line, @"^#{1,6}\s+(.*?)\s*#*\s*$");
            if (heading.Success)
            {
                string slug = Slug(heading.Groups[1].Value);
                int repeats = seen.GetValueOrDefault(slug);
                seen[slug] = repeats + 1;
                anchors.Add(repeats == 0 ? slug : $"{slug}-{repeats}");
            }
            foreach (Match a in Regex.Matches(line, "<a (?:id|name)=\"([^\"]+)\""))
                anchors.Add(a.Groups[1].Value);
        }
        return anchors;
    }

    /// <summary>The text with fenced code blocks blanked, so a shell comment is not a heading and a code sample not a link.</summary>
    private static string OutsideCodeBlocks(string markdown)
    {
        var kept = new StringBuilder();
        bool inFence = false;
        foreach (string line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inFence = !inFence; kept.Append('\n'); continue; }
            kept.Append(inFence ? "" : line).Append('\n');
        }
        return kept.ToString();
    }

    /// <summary>Whether the file lies in a folder that .gitignore names (build outputs, runs, benchmark artifacts) or in .git.</summary>
    private static bool IsBuildOutput(string root, string file)
    {
        IgnoredFolders ??= File.ReadAllLines(Path.Combine(root, ".gitignore"))
            .Where(line => line.EndsWith('/')).Select(line => line.Trim('/')).Append(".git").ToHashSet();
        return Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar).Any(IgnoredFolders.Contains);
    }

    private static HashSet<string>? IgnoredFolders;
}
