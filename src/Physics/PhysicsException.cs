namespace CbpGpu.Physics;

/// <summary>
/// A problem with the physics setup that the user can fix (missing or wrong MuJoCo library, a model that does not
/// compile). The message is always one line that names the fix, so a command line can print it as is.
/// </summary>
public sealed class PhysicsException(string message) : Exception(message);
