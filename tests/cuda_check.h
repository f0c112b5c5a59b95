/* cuda_check.h — CK(call): every CUDA runtime call of the test and benchmark programs goes
   through it; a failure prints the error and where, and exits with status 2 (a broken device
   or driver is not a test result). */
#ifndef SSM_TESTS_CUDA_CHECK_H
#define SSM_TESTS_CUDA_CHECK_H

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#define CK(call)                                                                                          \
    do {                                                                                                  \
        cudaError_t e_ = (call);                                                                          \
        if (e_ != cudaSuccess) {                                                                          \
            fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__);      \
            exit(2);                                                                                      \
        }                                                                                                 \
    } while (0)

#endif /* SSM_TESTS_CUDA_CHECK_H */
