namespace CbpGpu.Tests;

/// <summary>The checkout the tests were built from, for tests that read its docs and sources.</summary>
public static class Repository
{
    /// <summary>The folder holding CbpGpu.sln above the test assembly (tests/bin/...).</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CbpGpu.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no CbpGpu.sln above {AppContext.BaseDirectory}: the tests read the checkout they were built from");
    }
}
