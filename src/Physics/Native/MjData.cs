namespace CbpGpu.Physics.Native;

/// <summary>
/// An owned mjData with its array pointers cached once: MuJoCo allocates every array inside one buffer at
/// mj_makeData and never moves it, so the hot loop reads and writes through plain double*.
/// </summary>
public sealed unsafe class MjData : IDisposable
{
    private IntPtr _ptr;

    public MjData(MjModel model)
    {
        _ptr = MjNative.mj_makeData(model.Ptr);
        if (_ptr == IntPtr.Zero) throw new PhysicsException("MuJoCo could not allocate mjData (out of memory)");
        Nq = model.Nq; Nv = model.Nv; Nu = model.Nu; Na = model.Na; Nbody = model.Nbody; Ngeom = model.Ngeom;
        byte* p = (byte*)_ptr;
        TimePtr = (double*)(p + MjLayout.DataTime);
        QposPtr = *(double**)(p + MjLayout.DataQpos);
        QvelPtr = *(double**)(p + MjLayout.DataQvel);
        ActPtr = *(double**)(p + MjLayout.DataAct);
        QaccWarmstartPtr = *(double**)(p + MjLayout.DataQaccWarmstart);
        CtrlPtr = *(double**)(p + MjLayout.DataCtrl);
        XposPtr = *(double**)(p + MjLayout.DataXpos);
        GeomXposPtr = *(double**)(p + MjLayout.DataGeomXpos);
        CfrcExtPtr = *(double**)(p + MjLayout.DataCfrcExt);
    }

    public IntPtr Ptr => _ptr != IntPtr.Zero ? _ptr : throw new ObjectDisposedException(nameof(MjData));

    public int Nq { get; }
    public int Nv { get; }
    public int Nu { get; }
    public int Na { get; }
    public int Nbody { get; }
    public int Ngeom { get; }

    internal double* TimePtr { get; }
    internal double* QposPtr { get; }
    internal double* QvelPtr { get; }
    internal double* ActPtr { get; }
    internal double* QaccWarmstartPtr { get; }
    internal double* CtrlPtr { get; }
    internal double* XposPtr { get; }
    internal double* GeomXposPtr { get; }
    internal double* CfrcExtPtr { get; }

    public double Time { get => *TimePtr; set => *TimePtr = value; }
    public Span<double> Qpos => new(QposPtr, Nq);
    public Span<double> Qvel => new(QvelPtr, Nv);
    public Span<double> Act => new(ActPtr, Na);
    public Span<double> QaccWarmstart => new(QaccWarmstartPtr, Nv);
    public Span<double> Ctrl => new(CtrlPtr, Nu);
    /// <summary>Body frame positions (nbody x 3), from the kinematics of the last forward pass.</summary>
    public Span<double> Xpos => new(XposPtr, Nbody * 3);
    /// <summary>Geom centre positions (ngeom x 3), from the kinematics of the last forward pass.</summary>
    public Span<double> GeomXpos => new(GeomXposPtr, Ngeom * 3);
    /// <summary>External contact wrench per body (nbody x 6); filled only by mj_rnePostConstraint.</summary>
    public Span<double> CfrcExt => new(CfrcExtPtr, Nbody * 6);

    /// <summary>
    /// The state the next mj_step integrates from, as doubles: time, qpos, qvel, act, ctrl, the solver's warm start
    /// (docs/formats.md#checkpointbin); with <paramref name="xpos"/>, the body positions too (for an env whose reward
    /// reads them before stepping). Positions, contacts and forces are otherwise derived by the next step.
    /// </summary>
    public void WriteState(BinaryWriter w, bool xpos)
    {
        w.Write(Time);
        Write(w, Qpos);
        Write(w, Qvel);
        Write(w, Act);
        Write(w, Ctrl);
        Write(w, QaccWarmstart);
        if (xpos) Write(w, Xpos);
    }

    /// <summary>Reads <see cref="WriteState"/>'s doubles back in place.</summary>
    public void ReadState(BinaryReader r, bool xpos)
    {
        Time = r.ReadDouble();
        Read(r, Qpos);
        Read(r, Qvel);
        Read(r, Act);
        Read(r, Ctrl);
        Read(r, QaccWarmstart);
        if (xpos) Read(r, Xpos);
    }

    private static void Write(BinaryWriter w, ReadOnlySpan<double> values)
    {
        foreach (double v in values) w.Write(v);
    }

    private static void Read(BinaryReader r, Span<double> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = r.ReadDouble();
    }

    public void Step(MjModel m) => MjNative.mj_step(m.Ptr, Ptr);
    public void Forward(MjModel m) => MjNative.mj_forward(m.Ptr, Ptr);
    /// <summary>Positions and orientations of bodies and geoms from qpos alone (no dynamics).</summary>
    public void Kinematics(MjModel m) => MjNative.mj_kinematics(m.Ptr, Ptr);
    public void RnePostConstraint(MjModel m) => MjNative.mj_rnePostConstraint(m.Ptr, Ptr);
    public void ResetData(MjModel m) => MjNative.mj_resetData(m.Ptr, Ptr);

    public void Dispose()
    {
        if (_ptr == IntPtr.Zero) return;
        MjNative.mj_deleteData(_ptr);
        _ptr = IntPtr.Zero;
    }
}
