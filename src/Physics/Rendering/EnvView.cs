namespace CbpGpu.Physics.Rendering;

/// <summary>
/// Where a camera is (docs/render.md#camera): a tracking camera when <paramref name="TrackBody"/> is a body id (MuJoCo
/// keeps it looking at that body's subtree centre of mass), a free one looking at (LookatX, LookatY, LookatZ) when it is -1.
/// Distance in metres, azimuth and elevation in degrees, as MuJoCo's mjvCamera has them.
/// </summary>
public sealed record ViewCamera(int TrackBody, double Distance, double Azimuth, double Elevation, double LookatX = 0, double LookatY = 0, double LookatZ = 0)
{
    /// <summary>Follows body <paramref name="body"/> from the side (azimuth 90: looking along +y at the x-z plane the bodies move in).</summary>
    public static ViewCamera Tracking(int body, double distance, double elevation) => new(body, distance, 90.0, elevation);

    /// <summary>Stays where it is, looking at (x, y, z) from the side.</summary>
    public static ViewCamera Free(double x, double y, double z, double distance, double elevation) => new(-1, distance, 90.0, elevation, x, y, z);
}

/// <summary>Writes <paramref name="env"/>'s pose as the view model's qpos into <paramref name="qpos"/> (its nq values).</summary>
public delegate void ViewPose(IEnv env, Span<double> qpos);

/// <summary>
/// What <see cref="EnvRenderer"/> needs to draw an env (docs/render.md#envs), declared by the env itself in its
/// <see cref="EnvSpec.View"/>: the MJCF it is drawn with (an asset of src/Physics/Assets; the renderer adds only looks),
/// the two cameras `--camera` picks from, how to read its pose, and a caption line for what the drawing is not, if anything.
/// </summary>
/// <param name="Asset">The MJCF under src/Physics/Assets; a geom named "floor" gets the checkered material.</param>
/// <param name="Note">An extra caption line (label "physics"), e.g. that a Bullet body is drawn with the MuJoCo model; null: none.</param>
public sealed record EnvView(string Asset, ViewCamera Track, ViewCamera Fixed, ViewPose Pose, string? Note = null);
