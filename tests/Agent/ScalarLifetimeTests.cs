using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// TorchSharp turns a number passed to an op into a <see cref="Scalar"/>, a native object with a finalizer, and reads
/// its handle before the native call; once the handle is read nothing keeps the Scalar alive, so a garbage collection
/// started by another thread (the evaluation worker, the env thread) can free it while libtorch still reads it
/// (dotnet/TorchSharp#1434). CI saw it: "Expected false to be true ... toFloat" from `policyLoss + valueLoss`, whose
/// `+` makes a Scalar 1 of its own. The Agent's rule (docs/ppo.md#scalars): every Scalar it passes is a field, a static,
/// or a `using` local, and it calls no TorchSharp member that makes one inside. This test reads the Agent's IL and
/// finds each call that breaks the rule.
/// </summary>
public class ScalarLifetimeTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private readonly record struct Instruction(int Offset, OpCode Code, int Token, int Local);

    [Fact]
    public void TheAgentPassesNoScalarThatTheGcMayFreeDuringTheCall()
    {
        var problems = new List<string>();
        var assembly = typeof(CbpGpu.Agent.PpoUpdate).Assembly;
        foreach (var type in assembly.GetTypes())
            foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
                problems.AddRange(Check(method));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheCheckFindsEachKindOfTemporaryScalar()
    {
        // The same reader over this class's own examples: each breaks the rule once, the last one keeps it.
        string[] found = typeof(ScalarLifetimeTests).GetMethods(All).Where(m => m.Name.StartsWith("Example", StringComparison.Ordinal))
            .OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => $"{m.Name}: {Check(m).Count()}").ToArray();
        Assert.Equal(["ExampleAddOperator: 1", "ExampleKeptInUsing: 0", "ExampleNumberArgument: 1", "ExampleNumberOperator: 1", "ExamplePlainLocal: 1"], found);
    }

    private static Tensor ExampleAddOperator(Tensor a, Tensor b) => a + b;

    private static Tensor ExampleNumberArgument(Tensor a) => a.clamp_max(1.0);

    private static Tensor ExampleNumberOperator(Tensor a) => a * 2.0;

    private static Tensor ExamplePlainLocal(Tensor a)
    {
        Scalar two = 2.0;   // dead once its handle is read: no `using`
        return a.mul(two);
    }

    private static Tensor ExampleKeptInUsing(Tensor a, Tensor b)
    {
        using Scalar one = 1.0;
        return a.add(b, one);
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<string> Check(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var code = Decode(il);
        for (int i = 0; i < code.Count; i++)
        {
            if (code[i].Code.OperandType != OperandType.InlineMethod) continue;
            MethodBase? callee;
            try
            {
                callee = method.Module.ResolveMethod(code[i].Token,
                    method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                    method.IsGenericMethod ? method.GetGenericArguments() : null);
            }
            catch (ArgumentException)
            {
                continue;
            }
            if (callee is null) continue;
            string where = $"{method.DeclaringType?.FullName}.{method.Name} at IL_{code[i].Offset:x4}";
            if (MakesScalar(callee) && !KeptAlive(code, i, method.Module))
                yield return $"{where}: a Scalar from {callee.Name} that is neither a field nor a `using` local";
            else if (MakesScalarInside(callee))
                yield return $"{where}: {callee.DeclaringType?.Name}.{callee.Name}({string.Join(", ", callee.GetParameters().Select(p => p.ParameterType.Name))}) makes a Scalar of its own";
        }
    }

    private static bool MakesScalar(MethodBase callee) =>
        callee is MethodInfo { ReturnType: var r } && r == typeof(Scalar) && callee.IsStatic
        && (callee.Name == "op_Implicit" || callee.Name == nameof(ScalarExtensionMethods.ToScalar));

    /// <summary>TorchSharp members that convert a number, or the alpha 1 of add, into a Scalar nothing outside keeps.</summary>
    private static bool MakesScalarInside(MethodBase callee)
    {
        if (callee.DeclaringType != typeof(Tensor)) return false;
        var parameters = callee.GetParameters();
        if (callee.Name.StartsWith("op_", StringComparison.Ordinal))
            return parameters.Any(p => p.ParameterType.IsPrimitive)
                || (callee.Name == "op_Addition" && parameters.All(p => p.ParameterType == typeof(Tensor)));
        // square() is pow(2): a Scalar 2 made inside TorchSharp (found by CI: pow_Tensor_Scalar read a freed Scalar).
        // add(x)/add_(x) of one Tensor or one Scalar: TorchSharp makes the alpha 1 itself (found by CI on 2026-12-04:
        // NaiveCbp's add_(Scalar) read a freed alpha in toDouble).
        return (callee.Name is "add" or "add_" && parameters.Length == 1
                && (parameters[0].ParameterType == typeof(Tensor) || parameters[0].ParameterType == typeof(TorchSharp.Scalar)))
            || (callee.Name is "square" or "square_" && parameters.Length == 0);
    }

    /// <summary>The new Scalar is stored in a field, or in a local that the method disposes (`using`).</summary>
    private static bool KeptAlive(List<Instruction> code, int call, Module module)
    {
        if (call + 1 >= code.Count) return false;
        var next = code[call + 1];
        if (next.Code == OpCodes.Stfld || next.Code == OpCodes.Stsfld) return true;
        if (next.Local < 0 || !next.Code.Name!.StartsWith("stloc", StringComparison.Ordinal)) return false;
        for (int j = 0; j + 1 < code.Count; j++)
            if (code[j].Local == next.Local && code[j].Code.Name!.StartsWith("ldloc", StringComparison.Ordinal)
                && IsDispose(code, j + 1, module))
                return true;
        return false;
    }

    private static bool IsDispose(List<Instruction> code, int k, Module module)
    {
        if (code[k].Code != OpCodes.Callvirt && code[k].Code != OpCodes.Call) return false;
        try
        {
            return module.ResolveMethod(code[k].Token)?.Name == "Dispose";
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static List<Instruction> Decode(byte[] il)
    {
        var list = new List<Instruction>();
        for (int pc = 0; pc < il.Length;)
        {
            int offset = pc;
            short value = il[pc++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[pc++]));
            var op = OpCodesByValue[value];
            int token = 0, local = -1;
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI: pc += 1; break;
                case OperandType.ShortInlineVar: local = il[pc]; pc += 1; break;
                case OperandType.InlineVar: local = BitConverter.ToUInt16(il, pc); pc += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: pc += 8; break;
                case OperandType.InlineSwitch: pc += 4 + 4 * BitConverter.ToInt32(il, pc); break;
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType
                    or OperandType.InlineString or OperandType.InlineSig:
                    token = BitConverter.ToInt32(il, pc); pc += 4; break;
                default: pc += 4; break;   // InlineBrTarget, InlineI, ShortInlineR is 4 too
            }
            if (op == OpCodes.Ldloc_0 || op == OpCodes.Stloc_0) local = 0;
            else if (op == OpCodes.Ldloc_1 || op == OpCodes.Stloc_1) local = 1;
            else if (op == OpCodes.Ldloc_2 || op == OpCodes.Stloc_2) local = 2;
            else if (op == OpCodes.Ldloc_3 || op == OpCodes.Stloc_3) local = 3;
            list.Add(new Instruction(offset, op, token, local));
        }
        return list;
    }
}
