namespace CbpGpu.Kernels;
