namespace CbpGpu.Physics.Native;

/// <summary>
/// Byte offsets of the fields we read inside MuJoCo 2.2.2's mjModel, mjData, mjVFS and the rendering structs (x86-64, mjtNum = double).
/// They were printed by the C compiler from /usr/include/mujoco (offsetof) and a test recompiles that check, so a
/// header change fails the build's tests instead of silently reading the wrong memory.
/// </summary>
public static class MjLayout
{
    public const int HeaderVersion = 222;

    // mjModel: sizes are ints at the start; arrays are pointers into the model's buffer.
    public const int ModelNq = 0;
    public const int ModelNv = 4;
    public const int ModelNu = 8;
    public const int ModelNa = 12;
    public const int ModelNbody = 16;
    public const int ModelNjnt = 20;
    public const int ModelNgeom = 24;
    public const int ModelOptTimestep = 232;
    public const int ModelOptIntegrator = 432;
    public const int ModelQpos0 = 1096;
    public const int ModelGeomFriction = 1624;

    // mjData: time is a scalar in the info header; the rest are pointers into the data's buffer.
    public const int DataTime = 40336;
    public const int DataQpos = 40376;
    public const int DataQvel = 40384;
    public const int DataAct = 40392;
    public const int DataQaccWarmstart = 40400;
    public const int DataCtrl = 40408;
    public const int DataXpos = 40480;
    public const int DataGeomXpos = 40536;
    public const int DataCfrcExt = 41168;

    // mjVFS: a large fixed-size struct (mjMAXVFS files of mjMAXVFSNAME-byte names).
    public const int VfsNfile = 0;
    public const int VfsFilename = 4;
    public const int VfsFilesize = 2000004;
    public const int VfsFiledata = 2008008;
    public const int VfsSize = 2024008;

    // Visualisation and rendering structs (docs/render.md#how-it-draws): allocated as opaque memory of these sizes;
    // only the free and tracking camera fields below are written.
    public const int VisSceneSize = 8656;
    public const int VisCameraSize = 64;
    public const int VisOptionSize = 68;
    public const int RenderContextSize = 2304;
    public const int CameraType = 0;
    public const int CameraTrackBodyId = 8;
    public const int CameraLookat = 16;
    public const int CameraDistance = 40;
    public const int CameraAzimuth = 48;
    public const int CameraElevation = 56;
    public const int RenderContextOffWidth = 40;
    public const int RenderContextOffHeight = 44;
    public const int RenderContextCurrentBuffer = 2300;

    /// <summary>Every constant above with the C expression it stands for, so a test can compare them all with the compiler.</summary>
    public static IReadOnlyList<(string CExpression, int Value)> All { get; } =
    [
        ("offsetof(mjModel, nq)", ModelNq),
        ("offsetof(mjModel, nv)", ModelNv),
        ("offsetof(mjModel, nu)", ModelNu),
        ("offsetof(mjModel, na)", ModelNa),
        ("offsetof(mjModel, nbody)", ModelNbody),
        ("offsetof(mjModel, njnt)", ModelNjnt),
        ("offsetof(mjModel, ngeom)", ModelNgeom),
        ("offsetof(mjModel, opt.timestep)", ModelOptTimestep),
        ("offsetof(mjModel, opt.integrator)", ModelOptIntegrator),
        ("offsetof(mjModel, qpos0)", ModelQpos0),
        ("offsetof(mjModel, geom_friction)", ModelGeomFriction),
        ("offsetof(mjData, time)", DataTime),
        ("offsetof(mjData, qpos)", DataQpos),
        ("offsetof(mjData, qvel)", DataQvel),
        ("offsetof(mjData, act)", DataAct),
        ("offsetof(mjData, qacc_warmstart)", DataQaccWarmstart),
        ("offsetof(mjData, ctrl)", DataCtrl),
        ("offsetof(mjData, xpos)", DataXpos),
        ("offsetof(mjData, geom_xpos)", DataGeomXpos),
        ("offsetof(mjData, cfrc_ext)", DataCfrcExt),
        ("offsetof(mjVFS, nfile)", VfsNfile),
        ("offsetof(mjVFS, filename)", VfsFilename),
        ("offsetof(mjVFS, filesize)", VfsFilesize),
        ("offsetof(mjVFS, filedata)", VfsFiledata),
        ("sizeof(mjVFS)", VfsSize),
        ("sizeof(mjvScene)", VisSceneSize),
        ("sizeof(mjvCamera)", VisCameraSize),
        ("sizeof(mjvOption)", VisOptionSize),
        ("sizeof(mjrContext)", RenderContextSize),
        ("offsetof(mjvCamera, type)", CameraType),
        ("offsetof(mjvCamera, trackbodyid)", CameraTrackBodyId),
        ("offsetof(mjvCamera, lookat)", CameraLookat),
        ("offsetof(mjvCamera, distance)", CameraDistance),
        ("offsetof(mjvCamera, azimuth)", CameraAzimuth),
        ("offsetof(mjvCamera, elevation)", CameraElevation),
        ("offsetof(mjrContext, offWidth)", RenderContextOffWidth),
        ("offsetof(mjrContext, offHeight)", RenderContextOffHeight),
        ("offsetof(mjrContext, currentBuffer)", RenderContextCurrentBuffer),
        ("sizeof(mjrRect)", 16),
        ("sizeof(mjtNum)", sizeof(double)),
        ("sizeof(void*)", IntPtr.Size),
        ("mjVERSION_HEADER", HeaderVersion),
    ];
}
