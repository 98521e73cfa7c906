using System.Runtime.InteropServices;

namespace CbpGpu.Physics.Native;

/// <summary>mjrRect: a viewport in pixels, origin at the bottom left (MuJoCo's mjrender.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct MjrRect(int Left, int Bottom, int Width, int Height);

/// <summary>
/// MuJoCo's abstract visualisation (mjv_*) and OpenGL renderer (mjr_*), as docs/render.md#how-it-draws uses them. The
/// structs are opaque native memory of the sizes in <see cref="MjLayout"/>; every mjr_* call needs a current OpenGL
/// context on the calling thread (<see cref="Rendering.EglContext"/>).
/// </summary>
internal static unsafe partial class MjNative
{
    public const int CameraFree = 0, CameraTracking = 1;    // mjtCamera
    public const int FramebufferOffscreen = 1;             // mjtFramebuffer: mjFB_OFFSCREEN
    public const int CategoryAll = 7;                      // mjtCatBit: mjCAT_ALL
    public const int FontNormal = 0;                       // mjtFont
    public const int GridTopLeft = 0;                      // mjtGridPos
    public const int FontScale100 = 100, FontScale150 = 150; // mjtFontScale

    [LibraryImport(Lib)] public static partial void mjv_defaultCamera(byte* cam);
    [LibraryImport(Lib)] public static partial void mjv_defaultOption(byte* opt);
    [LibraryImport(Lib)] public static partial void mjv_defaultScene(byte* scn);
    [LibraryImport(Lib)] public static partial void mjv_makeScene(IntPtr m, byte* scn, int maxgeom);
    [LibraryImport(Lib)] public static partial void mjv_freeScene(byte* scn);
    [LibraryImport(Lib)] public static partial void mjv_updateScene(IntPtr m, IntPtr d, byte* opt, byte* pert, byte* cam, int catmask, byte* scn);
    [LibraryImport(Lib)] public static partial void mjr_defaultContext(byte* con);
    [LibraryImport(Lib)] public static partial void mjr_makeContext(IntPtr m, byte* con, int fontscale);
    [LibraryImport(Lib)] public static partial void mjr_freeContext(byte* con);
    [LibraryImport(Lib)] public static partial void mjr_setBuffer(int framebuffer, byte* con);
    [LibraryImport(Lib)] public static partial void mjr_render(MjrRect viewport, byte* scn, byte* con);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void mjr_overlay(int font, int gridpos, MjrRect viewport, string overlay, string overlay2, byte* con);
    [LibraryImport(Lib)] public static partial void mjr_readPixels(byte* rgb, float* depth, MjrRect viewport, byte* con);
}
