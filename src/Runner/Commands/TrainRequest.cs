using CbpGpu.Agent.Settings;

namespace CbpGpu.Runner.Commands;

/// <summary>What `train` was asked to do, read from its options and checked, before anything runs.</summary>
/// <param name="Note">Lines to print before training (the step count was rounded, the friction values are drawn instead of the preset's table), or null.</param>
public sealed record TrainRequest(TrainConfig Config, string OutDir, bool Resume, string? Note);
