using Xunit;
using System.Text;
using CbpGpu.Physics;
using CbpGpu.Physics.Native;

namespace CbpGpu.Tests.Physics;

public class MjLayoutTests
{
    [Fact]
    public void EveryBoundOffsetMatchesTheCompiledHeaders()
    {
        var src = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <mujoco.h>\nint main(void) {\n");
        foreach (var (expr, _) in MjLayout.All) src.Append($"  printf(\"%ld\\n\", (long)({expr}));\n");
        src.Append("  printf(\"%d\\n\", mj_version());\n  return 0;\n}\n");
        string exe = NativeCompiler.Build(src.ToString(), "offsets");
        var (code, output) = NativeCompiler.Exec(exe, []);
        Directory.Delete(Path.GetDirectoryName(exe)!, recursive: true);
        Assert.Equal(0, code);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(MjLayout.All.Count + 1, lines.Length);
        for (int i = 0; i < MjLayout.All.Count; i++)
            Assert.True(long.Parse(lines[i]) == MjLayout.All[i].Value,
                $"{MjLayout.All[i].CExpression}: C says {lines[i]}, C# has {MjLayout.All[i].Value}");
        Assert.Equal("222", lines[^1]); // the library the C program linked is 2.2.2 too
    }

    [Fact]
    public void AntModelSizesAndOptionsReadThroughTheBindings()
    {
        using var m = AntModel.Create();
        Assert.Equal(15, m.Nq);
        Assert.Equal(14, m.Nv);
        Assert.Equal(8, m.Nu);
        Assert.Equal(0, m.Na);
        Assert.Equal(14, m.Nbody);
        Assert.Equal(9, m.Njnt); // free joint + 8 hinges
        Assert.Equal(14, m.Ngeom);
        Assert.Equal(0.01, m.Timestep);
        Assert.Equal(1, m.Integrator); // mjINT_RK4
        double[] rest = [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(rest, m.Qpos0.ToArray());
        var f = m.GeomFriction;
        for (int g = 0; g < m.Ngeom; g++)
        {
            Assert.Equal(1.0, f[3 * g]);
            Assert.Equal(0.5, f[3 * g + 1]);
            Assert.Equal(0.5, f[3 * g + 2]);
        }
    }

    [Fact]
    public void AfterForwardTheTorsoFrameSitsAtTheFreeJointPosition()
    {
        using var m = AntModel.Create();
        using var d = new MjData(m);
        d.ResetData(m);
        double[] q = [0.3, -0.2, 0.61, 1, 0, 0, 0, 0.1, 0.6, -0.1, -0.6, 0.2, -0.7, -0.2, 0.7];
        q.CopyTo(d.Qpos);
        d.Forward(m);
        Assert.Equal(0.3, d.Xpos[3 * SlipperyAnt.TorsoBody + 0], 12);
        Assert.Equal(-0.2, d.Xpos[3 * SlipperyAnt.TorsoBody + 1], 12);
        Assert.Equal(0.61, d.Xpos[3 * SlipperyAnt.TorsoBody + 2], 12);
        // The world body stays at the origin and the first leg's jointless body sits at the torso origin.
        Assert.Equal([0.0, 0.0, 0.0], d.Xpos[..3].ToArray());
        Assert.Equal(0.3, d.Xpos[3 * 2], 12);
        // Leg 1's hip body is 0.2*sqrt(2) from the torso along (+x,+y) in the torso frame (identity orientation here).
        Assert.Equal(0.5, d.Xpos[3 * 3 + 0], 12);
        Assert.Equal(0.0, d.Xpos[3 * 3 + 1], 12);
        Assert.Equal(0.0, d.Time);
    }

    [Fact]
    public void StepAdvancesTimeByTheTimestepAndPlainStepLeavesContactForcesZero()
    {
        using var m = AntModel.Create();
        using var d = new MjData(m);
        d.ResetData(m);
        d.Forward(m);
        for (int i = 0; i < 100; i++) d.Step(m);
        Assert.Equal(1.0, d.Time, 12);
        Assert.True(d.CfrcExt.ToArray().All(v => v == 0));
        d.RnePostConstraint(m);
        // Standing on the floor after 1 s: some body now carries a contact wrench.
        Assert.Contains(d.CfrcExt.ToArray(), v => v != 0);
    }
}
