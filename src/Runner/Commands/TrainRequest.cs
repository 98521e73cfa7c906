using CbpGpu.Agent.Settings;

namespace CbpGpu.Runner.Commands;

/// <summary>What `train` was asked to do, read from its options and checked, before anything runs.</summary>
/// <param name="Note">A line to print before training (the step count was rounded), or null.</param>
public sealed record TrainRequest(TrainConfig Config, string OutDir, bool Resume, string? Note);
