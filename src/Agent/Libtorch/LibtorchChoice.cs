namespace CbpGpu.Agent.Libtorch;

/// <summary>The libtorch directory this process uses, where it was found, and whether it must be loaded before TorchSharp.</summary>
/// <param name="Source">How it was found, in words: "--libtorch", "CBPGPU_LIBTORCH", "this app", "python3".</param>
/// <param name="Preload">False for the app's own natives, which TorchSharp finds by itself.</param>
public sealed record LibtorchChoice(string Dir, string Source, string? Version, bool Preload)
{
    /// <summary>One line for the run's output: which libtorch, from where.</summary>
    public string Describe() => $"libtorch: {Dir} ({Version ?? "version unknown"}, from {Source})";

    /// <summary>
    /// One line when the version is not the one TorchSharp 0.107 was built against (its glue library calls libtorch's
    /// C++ API, which changes between releases), or null. A differing version may still work: scripts/gpu-check.sh
    /// checks the symbols the glue library needs against what the directory defines.
    /// </summary>
    public string? VersionWarning() => Version is string v && LibtorchDirectory.IsExpected(v)
        ? null
        : $"warning: libtorch {Version ?? "of unknown version"} in {Dir} is not {LibtorchDirectory.ExpectedVersion}, " +
          "which TorchSharp 0.107 was built against; if a libtorch symbol is missing it fails at load " +
          "(scripts/gpu-check.sh lists missing symbols with nm)";
}
