namespace CbpGpu.Runner.Cli;

/// <summary>Bad input from the user: printed as one line (no stack trace) and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
