namespace CbpGpu.Physics;

/// <summary>What one env step returns besides the observation.</summary>
/// <param name="Truncated">The episode hit MaxEpisodeSteps without terminating (never true together with Terminated).</param>
public readonly record struct StepResult(double Reward, bool Terminated, bool Truncated);
