namespace CbpGpu.Kernels;

/// <summary>Argument checks shared by the CBP backends, with messages that name the fix.</summary>
internal static class CbpArguments
{
    public static void CheckActivations(HiddenLayerLayout layer, int length, int batchSize)
    {
        if (batchSize <= 0)
            throw new ArgumentException($"Batch size must be > 0, got {batchSize}.");
        if (length != (long)batchSize * layer.Units)
            throw new ArgumentException(
                $"Activations of {length} floats do not match [batch {batchSize} x {layer.Units} units]; pass the layer's post-activation output, row-major.");
    }

    public static void CheckReplacement(HiddenLayerLayout layer, ReadOnlySpan<int> units, ReadOnlySpan<ulong> keys)
    {
        if (units.Length != keys.Length)
            throw new ArgumentException($"{units.Length} units to replace but {keys.Length} noise keys; pass one key per unit.");
        for (int r = 0; r < units.Length; r++)
        {
            if ((uint)units[r] >= (uint)layer.Units)
                throw new ArgumentOutOfRangeException(nameof(units), $"Unit {units[r]} is outside [0, {layer.Units}).");
            if (units[..r].Contains(units[r]))
                throw new ArgumentException($"Unit {units[r]} appears twice; replace each unit once per step.");
        }
    }

    public static void CheckUnitState(HiddenLayerLayout layer, int age, int f, int u)
    {
        if (age != layer.Units || f != layer.Units || u != layer.Units)
            throw new ArgumentException($"Unit state of {layer.Units} units expected, got age {age}, f {f}, u {u}.");
    }
}
