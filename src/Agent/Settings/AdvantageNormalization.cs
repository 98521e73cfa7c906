namespace CbpGpu.Agent.Settings;

/// <summary>Over which samples the advantages are scaled to mean 0 and std 1 (docs/ppo.md#epochs-and-minibatches).</summary>
public enum AdvantageNormalization
{
    /// <summary>Once per update, over the whole batch: the authors' code.</summary>
    Batch,

    /// <summary>In every minibatch, over its own samples: Stable-Baselines3 and CleanRL, the report's learner.</summary>
    Minibatch,
}
