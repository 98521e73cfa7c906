using CbpGpu.Agent.Networks;

namespace CbpGpu.Agent;

/// <summary>
/// Called by the PPO update right after every optimizer step, with the post-ReLU hidden activations that the
/// minibatch's forward pass produced (before the step). This is where Continual Backprop's generate-and-test plugs in:
/// it may rewrite <see cref="FlatParameters.Data"/> (and optimizer state) in place.
/// </summary>
public interface IAfterStepHook
{
    void AfterStep(in HiddenActivations activations);

    /// <summary>State to carry across a checkpoint (utilities, ages, RNG).</summary>
    void Save(BinaryWriter writer);

    void Load(BinaryReader reader);
}
