using System.Runtime.InteropServices;

namespace CbpGpu.Physics.Rendering;

/// <summary>
/// A headless OpenGL context from EGL (docs/render.md#how-it-draws): Mesa's surfaceless platform, which
/// needs no X server, no GPU and no window; where there is no GPU Mesa renders with llvmpipe on the CPU. Made current
/// on the constructing thread, which must make every later OpenGL (mjr_*) call.
/// </summary>
public sealed unsafe partial class EglContext : IDisposable
{
    /// <summary>Names one libEGL file to use instead of the system's (a test of the missing case).</summary>
    public const string PathVariable = "CBPGPU_EGL_LIB";

    /// <summary>The Debian packages that give EGL with Mesa's software renderer.</summary>
    public const string Packages = "libegl1 libegl-mesa0 libgl1-mesa-dri";

    private const string FileName = "libEGL.so.1";
    private const int RtldNow = 0x2, RtldGlobal = 0x100;
    private const int EglPlatformSurfacelessMesa = 0x31DD, EglOpenGlApi = 0x30A2, EglNone = 0x3038;
    private const int EglRedSize = 0x3024, EglGreenSize = 0x3023, EglBlueSize = 0x3022, EglAlphaSize = 0x3021, EglDepthSize = 0x3025,
        EglStencilSize = 0x3026, EglSurfaceType = 0x3033, EglPbufferBit = 0x0001, EglRenderableType = 0x3040, EglOpenGlBit = 0x0008;

    private IntPtr _display, _context;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int> _makeCurrent;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int> _destroyContext;
    private readonly delegate* unmanaged<IntPtr, int> _terminate;

    public EglContext()
    {
        IntPtr lib = LoadGlobal();
        var getPlatformDisplay = (delegate* unmanaged<int, IntPtr, IntPtr, IntPtr>)Export(lib, "eglGetPlatformDisplay");
        var initialize = (delegate* unmanaged<IntPtr, int*, int*, int>)Export(lib, "eglInitialize");
        var chooseConfig = (delegate* unmanaged<IntPtr, int*, IntPtr*, int, int*, int>)Export(lib, "eglChooseConfig");
        var bindApi = (delegate* unmanaged<int, int>)Export(lib, "eglBindAPI");
        var createContext = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int*, IntPtr>)Export(lib, "eglCreateContext");
        var getError = (delegate* unmanaged<int>)Export(lib, "eglGetError");
        _makeCurrent = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int>)Export(lib, "eglMakeCurrent");
        _destroyContext = (delegate* unmanaged<IntPtr, IntPtr, int>)Export(lib, "eglDestroyContext");
        _terminate = (delegate* unmanaged<IntPtr, int>)Export(lib, "eglTerminate");

        _display = getPlatformDisplay(EglPlatformSurfacelessMesa, IntPtr.Zero, IntPtr.Zero);
        int major, minor;
        if (_display == IntPtr.Zero || initialize(_display, &major, &minor) == 0)
            throw new PhysicsException($"EGL has no surfaceless display (error 0x{getError():X}): Mesa's EGL driver is missing; install it with: sudo apt-get install {Packages}");
        // A pbuffer-capable RGBA8 config with depth and stencil: MuJoCo draws into its own offscreen framebuffer.
        int* attributes = stackalloc int[]
        {
            EglRedSize, 8, EglGreenSize, 8, EglBlueSize, 8, EglAlphaSize, 8, EglDepthSize, 24, EglStencilSize, 8,
            EglSurfaceType, EglPbufferBit, EglRenderableType, EglOpenGlBit, EglNone,
        };
        IntPtr config;
        int count;
        if (chooseConfig(_display, attributes, &config, 1, &count) == 0 || count < 1)
            throw Fail($"EGL offers no OpenGL config with depth and stencil (error 0x{getError():X})");
        if (bindApi(EglOpenGlApi) == 0) throw Fail($"EGL cannot bind desktop OpenGL (error 0x{getError():X})");
        _context = createContext(_display, config, IntPtr.Zero, null);
        if (_context == IntPtr.Zero) throw Fail($"EGL could not create an OpenGL context (error 0x{getError():X})");
        if (_makeCurrent(_display, IntPtr.Zero, IntPtr.Zero, _context) == 0)
            throw Fail($"EGL could not make the OpenGL context current (error 0x{getError():X})");
    }

    private PhysicsException Fail(string problem)
    {
        Dispose();
        return new PhysicsException($"{problem}; Mesa's software renderer is needed: sudo apt-get install {Packages}");
    }

    /// <summary>
    /// Loads libEGL with RTLD_GLOBAL: MuJoCo 2.2.2 finds its OpenGL entry points by looking up eglGetProcAddress in the
    /// process's global symbols (dlopen(NULL)), which a library loaded the .NET way (RTLD_LOCAL) is not part of.
    /// </summary>
    private static IntPtr LoadGlobal()
    {
        string? custom = Environment.GetEnvironmentVariable(PathVariable);
        string file = string.IsNullOrEmpty(custom) ? FileName : custom;
        IntPtr lib = dlopen(file, RtldNow | RtldGlobal);
        if (lib != IntPtr.Zero) return lib;
        throw new PhysicsException(string.IsNullOrEmpty(custom)
            ? $"rendering needs OpenGL through EGL and {FileName} was not found; install it with: sudo apt-get install {Packages}"
            : $"rendering needs OpenGL through EGL and {PathVariable}={custom} cannot be loaded; unset it to use the system's, installed with: sudo apt-get install {Packages}");
    }

    private static IntPtr Export(IntPtr lib, string name) =>
        NativeLibrary.TryGetExport(lib, name, out IntPtr f) ? f
            : throw new PhysicsException($"the EGL library has no {name} (EGL 1.5 is needed); install Debian's: sudo apt-get install {Packages}");

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr dlopen(string file, int mode);

    public void Dispose()
    {
        if (_display == IntPtr.Zero) return;
        _makeCurrent(_display, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
        if (_context != IntPtr.Zero) _destroyContext(_display, _context);
        _terminate(_display);
        _context = _display = IntPtr.Zero;
    }
}
