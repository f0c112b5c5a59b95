/* The one CUDA translation unit of the CUDA test and benchmark programs that holds the
   implementations: ssm.h's (compiled here by nvcc's host compiler, which is also the check that
   it builds as CUDA C++; under nvcc ssm.h leaves the CPU ISA headers out, the portable kernels
   are all the reference-side code needs) and ssm_cuda.cuh's kernels and launchers. */
#define SSM_IMPLEMENTATION
#include "../ssm.h"
#define SSM_CUDA_IMPLEMENTATION
#include "../ssm_cuda.cuh"
