namespace CbpGpu.Agent;
