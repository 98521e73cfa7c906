namespace CbpGpu.Physics;

/// <summary>
/// The Ant of either engine (<see cref="SlipperyAnt"/> on MuJoCo, <see cref="BulletAnt"/> on Bullet): registry entries
/// ant and ant-bullet, eight motors each.
/// </summary>
public interface IAnt : IEnv
{
    /// <summary>The Ant's motors: its action size, the same on both engines.</summary>
    public const int Actuators = 8;
}
