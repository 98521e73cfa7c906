namespace CbpGpu.Agent.Networks;

/// <summary>How the Linear weights are drawn at the start of a run (docs/ppo.md#initialisation); biases and log_std start at 0.</summary>
public enum InitScheme
{
    /// <summary>gain * U(-sqrt(3 / fan_in), +sqrt(3 / fan_in)): the authors' networks (gain 1).</summary>
    LecunUniform,

    /// <summary>gain * a random (semi-)orthogonal matrix, as torch.nn.init.orthogonal_: Stable-Baselines3's, the report's.</summary>
    Orthogonal,
}
