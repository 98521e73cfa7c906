namespace CbpGpu.Physics.Native;

/// <summary>
/// An owned mjModel. Each env that may have its own friction holds its own copy, so writing geom_friction never
/// touches another env's physics.
/// </summary>
public sealed unsafe class MjModel : IDisposable
{
    private IntPtr _ptr;

    private MjModel(IntPtr ptr) => _ptr = ptr;

    /// <summary>Compiles MJCF text through MuJoCo's in-memory file system (no temp file).</summary>
    public static MjModel FromXml(string xml, string fileName = "model.xml")
    {
        MjNative.EnsureLoaded();
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(xml);
        byte* vfs = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)MjLayout.VfsSize);
        byte* error = stackalloc byte[1000];
        error[0] = 0;
        IntPtr m;
        try
        {
            MjNative.mj_defaultVFS(vfs);
            // One extra zero byte: the XML reader treats the buffer as a C string.
            if (MjNative.mj_makeEmptyFileVFS(vfs, fileName, bytes.Length + 1) != 0)
                throw new PhysicsException($"MuJoCo could not create the in-memory file {fileName}");
            int index = MjNative.mj_findFileVFS(vfs, fileName);
            byte* data = ((byte**)(vfs + MjLayout.VfsFiledata))[index];
            bytes.AsSpan().CopyTo(new Span<byte>(data, bytes.Length));
            data[bytes.Length] = 0;
            // mj_loadXML keeps global parser state, so compiles must not overlap.
            lock (LoadLock) m = MjNative.mj_loadXML(fileName, vfs, error, 1000);
        }
        finally
        {
            MjNative.mj_deleteVFS(vfs);
            System.Runtime.InteropServices.NativeMemory.Free(vfs);
        }
        if (m == IntPtr.Zero)
        {
            string msg = new string((sbyte*)error).ReplaceLineEndings(" ").Trim();
            throw new PhysicsException($"MuJoCo could not compile {fileName}: {msg}");
        }
        return new MjModel(m);
    }

    private static readonly Lock LoadLock = new();

    /// <summary>A deep copy (mj_copyModel) that can be changed independently.</summary>
    public MjModel Copy() => new(MjNative.mj_copyModel(IntPtr.Zero, Ptr));

    public IntPtr Ptr => _ptr != IntPtr.Zero ? _ptr : throw new ObjectDisposedException(nameof(MjModel));

    private int Int(int offset) => *(int*)((byte*)Ptr + offset);
    private double* Array(int offset) => *(double**)((byte*)Ptr + offset);

    public int Nq => Int(MjLayout.ModelNq);
    public int Nv => Int(MjLayout.ModelNv);
    public int Nu => Int(MjLayout.ModelNu);
    public int Na => Int(MjLayout.ModelNa);
    public int Nbody => Int(MjLayout.ModelNbody);
    public int Njnt => Int(MjLayout.ModelNjnt);
    public int Ngeom => Int(MjLayout.ModelNgeom);

    public double Timestep => *(double*)((byte*)Ptr + MjLayout.ModelOptTimestep);

    /// <summary>mjtIntegrator: 0 Euler, 1 RK4, 2 implicit.</summary>
    public int Integrator => Int(MjLayout.ModelOptIntegrator);

    /// <summary>Reference pose (nq).</summary>
    public ReadOnlySpan<double> Qpos0 => new(Array(MjLayout.ModelQpos0), Nq);

    /// <summary>Per geom: sliding, torsional, rolling friction (ngeom x 3). Writes take effect on the next mj_step.</summary>
    public Span<double> GeomFriction => new(Array(MjLayout.ModelGeomFriction), Ngeom * 3);

    internal double* GeomFrictionPtr => Array(MjLayout.ModelGeomFriction);
    internal double* Qpos0Ptr => Array(MjLayout.ModelQpos0);

    public void Dispose()
    {
        if (_ptr == IntPtr.Zero) return;
        MjNative.mj_deleteModel(_ptr);
        _ptr = IntPtr.Zero;
    }
}
