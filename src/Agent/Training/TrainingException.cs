namespace CbpGpu.Agent.Training;

/// <summary>A problem with a run the user can act on (bad checkpoint, occupied directory, divergence): one line, no stack trace.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner);
