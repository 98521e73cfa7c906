using CbpGpu.Agent.Settings;

namespace CbpGpu.Runner.Commands;

/// <summary>What `train` was asked to do, read from its options and checked, before anything runs.</summary>
/// <param name="Notes">Lines to print before training (the step count was rounded, a default was chosen, the friction values are drawn instead of the preset's table), in order; often none.</param>
public sealed record TrainRequest(TrainConfig Config, string OutDir, bool Resume, IReadOnlyList<string> Notes);
