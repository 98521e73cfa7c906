using System.Runtime.InteropServices;

namespace CbpGpu.Physics.Native;

/// <summary>
/// The C functions of the Bullet Ant shim (native/bullet-ant/bullet_ant.cpp), which the build compiles against
/// Debian's libbullet (pkg-config bullet-float64) and copies next to this assembly. Loaded by path, bound once.
/// </summary>
internal static unsafe class BulletNative
{
    public const string FileName = "libcbp_bullet_ant.so";
    private const int AbiVersion = 2;

    /// <summary>Names the shim file to use instead of the one next to this assembly.</summary>
    public const string PathVariable = "CBPGPU_BULLET_SHIM";

    public static delegate* unmanaged<double, int, IntPtr> Create;
    public static delegate* unmanaged<IntPtr, void> Destroy;
    public static delegate* unmanaged<IntPtr, double, void> SetFloorFriction;
    public static delegate* unmanaged<IntPtr, double*, void> Frictions;
    public static delegate* unmanaged<IntPtr, double*, void> Links;
    public static delegate* unmanaged<IntPtr, double*, void> LinkPositions;
    public static delegate* unmanaged<IntPtr, float*, void> FootContacts;
    public static delegate* unmanaged<IntPtr, int*, int> SolverManifolds;
    public static delegate* unmanaged<IntPtr, int*, void> ProxyUids;
    public static delegate* unmanaged<IntPtr, double*, double*, double*, void> GetState;
    public static delegate* unmanaged<IntPtr, double*, double*, double*, float*, void> SetState;
    public static delegate* unmanaged<IntPtr, float*, float*, double*, int> Step;
    public static delegate* unmanaged<IntPtr*, int, int, float*, int, int, void> StepRaw;

    private static readonly Lock LoadLock = new();
    private static bool _loaded;

    /// <summary>Loads and binds the shim, or throws a PhysicsException whose message is one line naming the fix.</summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref _loaded)) return;
        lock (LoadLock)
        {
            if (_loaded) return;
            string? custom = Environment.GetEnvironmentVariable(PathVariable);
            string path = string.IsNullOrEmpty(custom) ? Path.Combine(AppContext.BaseDirectory, FileName) : custom;
            if (!File.Exists(path))
                throw new PhysicsException(string.IsNullOrEmpty(custom)
                    ? $"the Bullet Ant library {path} is missing; it is built with the project (dotnet build) and needs: sudo apt-get install libbullet-dev g++ pkg-config"
                    : $"the Bullet Ant library {PathVariable}={custom} does not exist; unset it to use the one built with the project");
            if (!NativeLibrary.TryLoad(path, out IntPtr h))
                throw new PhysicsException($"cannot load the Bullet Ant library {path} (is Bullet installed? sudo apt-get install libbullet3.24)");
            if (!NativeLibrary.TryGetExport(h, "cbp_bullet_abi_version", out IntPtr v) || ((delegate* unmanaged<int>)v)() != AbiVersion)
                throw new PhysicsException($"{path} is not the Bullet Ant library of this build (ABI {AbiVersion}); rebuild with dotnet build");
            Create = (delegate* unmanaged<double, int, IntPtr>)NativeLibrary.GetExport(h, "cbp_bullet_ant_create");
            Destroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_destroy");
            SetFloorFriction = (delegate* unmanaged<IntPtr, double, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_set_floor_friction");
            Frictions = (delegate* unmanaged<IntPtr, double*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_frictions");
            Links = (delegate* unmanaged<IntPtr, double*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_links");
            LinkPositions = (delegate* unmanaged<IntPtr, double*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_link_positions");
            FootContacts = (delegate* unmanaged<IntPtr, float*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_foot_contacts");
            SolverManifolds = (delegate* unmanaged<IntPtr, int*, int>)NativeLibrary.GetExport(h, "cbp_bullet_ant_solver_manifolds");
            ProxyUids = (delegate* unmanaged<IntPtr, int*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_proxy_uids");
            GetState = (delegate* unmanaged<IntPtr, double*, double*, double*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_get_state");
            SetState = (delegate* unmanaged<IntPtr, double*, double*, double*, float*, void>)NativeLibrary.GetExport(h, "cbp_bullet_ant_set_state");
            Step = (delegate* unmanaged<IntPtr, float*, float*, double*, int>)NativeLibrary.GetExport(h, "cbp_bullet_ant_step");
            StepRaw = (delegate* unmanaged<IntPtr*, int, int, float*, int, int, void>)NativeLibrary.GetExport(h, "cbp_bullet_ants_step_raw");
            Volatile.Write(ref _loaded, true);
        }
    }
}
