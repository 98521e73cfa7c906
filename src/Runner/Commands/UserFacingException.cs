namespace CbpGpu.Runner.Commands;

/// <summary>A problem the user can fix (missing library, bad file, bad checkpoint): one line, exit code 1.</summary>
public sealed class UserFacingException(string message) : Exception(message);
