namespace CbpGpu.Physics;

/// <summary>Which physics the Ant runs on (docs/bullet-ant.md).</summary>
public enum PhysicsEngine
{
    /// <summary>Gym's Ant-v3 on MuJoCo 2.2.2 (docs/ant.md).</summary>
    MuJoCo,
    /// <summary>PyBullet's AntBulletEnv-v0 on Bullet, quirks included (docs/bullet-ant.md).</summary>
    Bullet,
    /// <summary>The Bullet Ant with the quirks worth switching off switched off (docs/bullet-ant.md#quirks).</summary>
    BulletFixed,
}
