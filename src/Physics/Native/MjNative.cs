using System.Reflection;
using System.Runtime.InteropServices;

namespace CbpGpu.Physics.Native;

/// <summary>The MuJoCo 2.2.2 C functions this project calls, and nothing else.</summary>
internal static unsafe partial class MjNative
{
    private const string Lib = "mujoco";

    /// <summary>
    /// Debian's libmujoco2.2.2 ships only the versioned file libmujoco.so.2.2.2 (the unversioned link comes with
    /// libmujoco-dev), so the default probing for "mujoco" would miss it.
    /// </summary>
    private static readonly string[] Candidates =
        ["libmujoco.so.2.2.2", "libmujoco.so.2", "libmujoco.so", "/usr/lib/x86_64-linux-gnu/libmujoco.so.2.2.2"];

    private static IntPtr _handle;
    private static string? _loadError;
    private static readonly Lock LoadLock = new();

    // Every path to native code passes EnsureLoaded first (models are only made by MjModel.FromXml), so the
    // resolver is installed before the first P/Invoke binds.
    static MjNative() => NativeLibrary.SetDllImportResolver(typeof(MjNative).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == Lib ? TryLoad() : IntPtr.Zero;

    /// <summary>Names one library file to use instead of the search above (a private build, or a test of the missing case).</summary>
    public const string PathVariable = "CBPGPU_MUJOCO_LIB";

    private static IntPtr TryLoad()
    {
        lock (LoadLock)
        {
            if (_handle != IntPtr.Zero) return _handle;
            string? custom = Environment.GetEnvironmentVariable(PathVariable);
            string[] candidates = string.IsNullOrEmpty(custom) ? Candidates : [custom];
            foreach (var c in candidates)
                if (NativeLibrary.TryLoad(c, out _handle)) return _handle;
            _loadError = string.IsNullOrEmpty(custom)
                ? "MuJoCo 2.2.2 not found (libmujoco.so.2.2.2); install it with: sudo apt-get install libmujoco2.2.2"
                : $"MuJoCo 2.2.2 not found at {PathVariable}={custom}; unset it to use the system library, installed with: sudo apt-get install libmujoco2.2.2";
            return IntPtr.Zero;
        }
    }

    /// <summary>
    /// Loads the library and checks its version before anything reads struct fields by offset, turning a missing or
    /// different MuJoCo into one readable line instead of a DllNotFoundException or garbage reads.
    /// </summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref _checked)) return;
        if (TryLoad() == IntPtr.Zero) throw new PhysicsException(_loadError!);
        int v;
        try
        {
            v = mj_version();
        }
        catch (EntryPointNotFoundException)
        {
            // CBPGPU_MUJOCO_LIB named a library that loads but is not MuJoCo.
            string which = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } custom ? $"{PathVariable}={custom}" : "the library found";
            throw new PhysicsException($"{which} is not MuJoCo (it has no mj_version); point {PathVariable} at libmujoco.so.2.2.2 or unset it to use the system library (sudo apt-get install libmujoco2.2.2)");
        }
        if (v != MjLayout.HeaderVersion)
            throw new PhysicsException($"found MuJoCo {v / 100}.{v / 10 % 10}.{v % 10} but this build reads MuJoCo 2.2.2 structs; install it with: sudo apt-get install libmujoco2.2.2");
        Volatile.Write(ref _checked, true);
    }

    private static bool _checked;

    [LibraryImport(Lib)] public static partial int mj_version();
    [LibraryImport(Lib)] public static partial void mj_defaultVFS(byte* vfs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int mj_makeEmptyFileVFS(byte* vfs, string filename, int filesize);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int mj_findFileVFS(byte* vfs, string filename);
    [LibraryImport(Lib)] public static partial void mj_deleteVFS(byte* vfs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial IntPtr mj_loadXML(string filename, byte* vfs, byte* error, int errorSize);
    [LibraryImport(Lib)] public static partial IntPtr mj_copyModel(IntPtr dest, IntPtr src);
    [LibraryImport(Lib)] public static partial void mj_deleteModel(IntPtr m);
    [LibraryImport(Lib)] public static partial IntPtr mj_makeData(IntPtr m);
    [LibraryImport(Lib)] public static partial void mj_deleteData(IntPtr d);
    [LibraryImport(Lib)] public static partial void mj_resetData(IntPtr m, IntPtr d);

    [LibraryImport(Lib)] public static partial void mj_step(IntPtr m, IntPtr d);
    [LibraryImport(Lib)] public static partial void mj_forward(IntPtr m, IntPtr d);
    [LibraryImport(Lib)] public static partial void mj_kinematics(IntPtr m, IntPtr d);
    [LibraryImport(Lib)] public static partial void mj_rnePostConstraint(IntPtr m, IntPtr d);
}
