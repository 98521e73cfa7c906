using System.Runtime.CompilerServices;

// The tests drive the optimizers on other kernel backends (ILGPU's CPU accelerator) and read their state.
[assembly: InternalsVisibleTo("CbpGpu.Tests")]
