namespace CbpGpu.Physics;
