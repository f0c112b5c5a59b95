/* cuda_emu.h — runs ssm_cuda.cuh's kernels on the CPU, for the tests of machines without a GPU.

   WHAT IT IS
   A test tool, not a backend: ssm_cuda.cuh and tests/test_cuda.cu compile as plain C++ (g++ or
   clang++, the CUDA toolkit's headers for the types) with this header forced in first
   (`-include tests/cuda_emu.h`), and tests/cuda_emu.cc supplies the runtime calls they make.
   Every thread of a block is a fiber on one OS thread; a block runs until all its threads end,
   then the next block starts. What it checks is the kernels' logic: indexing, masking, the
   fragment layouts of mma.sync and ldmatrix, the barriers a thread waits at, the launch
   configuration (threads per block, dynamic shared memory against what was opted in). It says
   nothing of speed, and it cannot see what only the hardware does (memory ordering between
   blocks, timing), so the H200 runs stay the test of record.

   HOW IT RUNS THREADS
   - A thread runs until it reaches __syncthreads(), a warp-wide operation (__shfl*_sync,
     __ballot_sync, __syncwarp, mma.sync, ldmatrix) or a wait (__nanosleep, an acquire load).
   - __syncthreads() lets the block go on when every thread that has not returned is there.
   - A warp-wide operation completes when every lane of its mask that has not returned has
     reached one; they must all be the same operation with the same mask, or the emulator
     stops with a message (as a GPU would misbehave).
   - The order in which runnable threads resume is shuffled (seeded, so runs repeat; set
     SSM_EMU_SEED to vary it): a read of shared memory that lacks its barrier sees stale data
     in some order and fails a test instead of passing by luck.
   - Blocks run one after another, so a block never waits on a later one: kernels that hand
     work along through flags and tickets see their dependencies already done.
   - Dynamic shared memory is refilled with NaN bytes (0xff) before each block.
   - cp.async copies complete at the cp.async.wait_group that lets them (the latest a GPU may),
     so a read that lacks its wait sees stale bytes.

   UNDER THE SANITIZERS (tests/cuda_emu.cc has the details)
   - AddressSanitizer (make sanitize's cuda-emulated leg): device buffers and each launch's
     dynamic shared memory are blocks of their exact size, so an access past them is reported,
     as compute-sanitizer memcheck would.
   - ThreadSanitizer (make sanitize's cuda-emulated-racecheck leg): each thread of a block is a
     fiber of its own and only barriers, warp operations, atomics and acquire/release flags
     order them, so a shared- or global-memory access that races another thread of its block
     is reported, as compute-sanitizer racecheck would.

   CONFIG
   SSM_EMU_SEED (environment variable)  seed of the resume order (default 1).
   SSM_EMU_SMS  (environment variable)  multiprocessor count the emulated device reports
                                        (default 132, an H200's, so launchers take the same
                                        paths as there).
   SSM_EMU_SMEM_OPTIN (environment variable)  shared memory a block may opt into, in bytes
                                        (default 227 KB, sm_90's); read at every query, so a
                                        test may set it to stand in for a smaller GPU. */
#ifndef SSM_TESTS_CUDA_EMU_H
#define SSM_TESTS_CUDA_EMU_H

#ifndef __cplusplus
#error "cuda_emu.h is for C++ (it stands in for nvcc's device side)"
#endif

#define SSM_CUDA_EMULATE 1

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

/* ---------------------------------------------------------------- the device-side language */

#undef __shared__
#define __shared__ static   /* one block at a time: a static is that block's shared memory */
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

/* The built-in variables of the thread now running (copies: the scheduler sets them, and under
   ThreadSanitizer its writes must not look like a kernel thread's). */
uint3 ssm_emu_thread_idx(void);
uint3 ssm_emu_block_idx(void);
dim3 ssm_emu_block_dim(void);
dim3 ssm_emu_grid_dim(void);
#define threadIdx (ssm_emu_thread_idx())
#define blockIdx (ssm_emu_block_idx())
#define blockDim (ssm_emu_block_dim())
#define gridDim (ssm_emu_grid_dim())

/* Warp-wide operations: each lane posts its part, the last lane to arrive completes them all. */
enum ssm_emu_op_kind { SSM_EMU_SYNCWARP = 1, SSM_EMU_SHFL, SSM_EMU_SHFL_XOR, SSM_EMU_SHFL_UP, SSM_EMU_BALLOT,
                       SSM_EMU_MMA_BF16, SSM_EMU_MMA_F16, SSM_EMU_LDSM, SSM_EMU_LDSM_T };
struct ssm_emu_op {
    int kind, arg, width;
    unsigned mask;
    uint64_t v;                 /* shuffled value / ballot predicate */
    uint32_t a[4], b[2];        /* mma fragments */
    float c[4];                 /* mma accumulator in, result out */
    uint16_t row[8];            /* ldmatrix: the row this lane's address names (read on arrival) */
    uint64_t r;                 /* shuffle / ballot result */
    uint32_t rr[4];             /* ldmatrix result */
};
ssm_emu_op *ssm_emu_my_op(void);                          /* this lane's slot */
void ssm_emu_warp_op(void);                               /* post it, wait for the warp */
void ssm_emu_syncthreads(void);
void ssm_emu_yield(void);                                 /* let the block's other threads run */
void *ssm_emu_dyn_smem(void);
void ssm_emu_cp_async(void *dst, const void *src, unsigned bytes);   /* cp.async: held back until a wait */
void ssm_emu_cp_commit(void);
void ssm_emu_cp_wait(unsigned n);

static inline void __syncthreads(void) { ssm_emu_syncthreads(); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) {
    ssm_emu_op *o = ssm_emu_my_op();
    o->kind = SSM_EMU_SYNCWARP;
    o->mask = mask;
    ssm_emu_warp_op();
}

template <typename T> static inline T ssm_emu_shfl(int kind, unsigned mask, T v, int arg, int width) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    ssm_emu_op *o = ssm_emu_my_op();
    o->kind = kind;
    o->mask = mask;
    o->arg = arg;
    o->width = width;
    o->v = 0;
    memcpy(&o->v, &v, sizeof(T));
    ssm_emu_warp_op();
    T r;
    memcpy(&r, &o->r, sizeof(T));
    return r;
}
template <typename T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return ssm_emu_shfl(SSM_EMU_SHFL, mask, v, src, width);
}
template <typename T> static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    return ssm_emu_shfl(SSM_EMU_SHFL_XOR, mask, v, lane_mask, width);
}
template <typename T> static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return ssm_emu_shfl(SSM_EMU_SHFL_UP, mask, v, (int)delta, width);
}
static inline unsigned __ballot_sync(unsigned mask, int pred) {
    return ssm_emu_shfl(SSM_EMU_BALLOT, mask, (uint64_t)(pred != 0), 0, 32) & 0xffffffffu;
}

/* Tensor-core and shared-memory-matrix instructions (the asm of ssm_cuda.cuh's helpers). */
void ssm_emu_mma_m16n8k16(int kind, float *d, const uint32_t *a, uint32_t b0, uint32_t b1);
void ssm_emu_ldmatrix_x4(int kind, uint32_t *r, const void *p);

/* Loads and stores with cache hints are plain ones here. */
template <typename T> static inline T __ldg(const T *p) { return *p; }
template <typename T> static inline T __ldcg(const T *p) { return *p; }
template <typename T> static inline T __ldcs(const T *p) { return *p; }
template <typename T> static inline void __stcg(T *p, T v) { *p = v; }
template <typename T> static inline void __stcs(T *p, T v) { *p = v; }

/* One OS thread: a compiler barrier is all a fence needs (ThreadSanitizer rejects fences; the
   kernels pair theirs with release stores, which it does see). */
static inline void __threadfence(void) { __asm__ __volatile__("" ::: "memory"); }
static inline void __nanosleep(unsigned) { ssm_emu_yield(); }

/* Atomics as compare-and-swap loops on the value's bits (one OS thread runs every fiber, so the
   first try succeeds; atomic builtins, so that ThreadSanitizer sees atomics, not races). */
template <typename T, typename F> static inline T ssm_emu_atomic(T *p, F update) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "32- and 64-bit atomics");
    typedef typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type U;
    U *bits = (U *)(void *)p, seen = __atomic_load_n(bits, __ATOMIC_RELAXED), want;
    T old;
    do {
        memcpy(&old, &seen, sizeof old);
        const T next = update(old);
        memcpy(&want, &next, sizeof want);
    } while (!__atomic_compare_exchange_n(bits, &seen, want, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return old;
}
template <typename T> static inline T atomicAdd(T *p, T v) {
    return ssm_emu_atomic(p, [v](T o) { return (T)(o + v); });
}
template <typename T> static inline T atomicMax(T *p, T v) {
    return ssm_emu_atomic(p, [v](T o) { return v > o ? v : o; });
}
template <typename T> static inline T atomicMin(T *p, T v) {
    return ssm_emu_atomic(p, [v](T o) { return v < o ? v : o; });
}
template <typename T> static inline T atomicExch(T *p, T v) {
    return ssm_emu_atomic(p, [v](T) { return v; });
}

/* The device library's integer min and max (the kernels use the int ones). */
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }

/* Integer and float intrinsics. */
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned ssm_emu_per_half(unsigned a, unsigned b, bool take_max) {
    unsigned r = 0;
    for (int s = 0; s < 32; s += 16) {
        const unsigned x = (a >> s) & 0xffffu, y = (b >> s) & 0xffffu;
        r |= ((take_max ? (x > y ? x : y) : (x < y ? x : y)) & 0xffffu) << s;
    }
    return r;
}
static inline unsigned __vmaxu2(unsigned a, unsigned b) { return ssm_emu_per_half(a, b, true); }
static inline unsigned __vminu2(unsigned a, unsigned b) { return ssm_emu_per_half(a, b, false); }
static inline float __uint_as_float(unsigned u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline unsigned __float_as_uint(float f) {
    unsigned u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float __fdividef(float a, float b) { return a / b; }
#define __log2f(x) log2f(x)   /* glibc declares a __log2f of its own but does not export it */
static inline float ssm_emu_ex2_approx_ftz(float x) {
    const float y = exp2f(x);
    return fpclassify(y) == FP_SUBNORMAL ? 0.0f : y;
}

/* ---------------------------------------------------------------- launches */

/* The runtime's kernel-pointer overloads (cuda_runtime.h has them only under nvcc). */
template <typename... P> static inline cudaError_t cudaFuncSetAttribute(void (*k)(P...), cudaFuncAttribute attr, int v) {
    return cudaFuncSetAttribute(reinterpret_cast<const void *>(k), attr, v);
}
template <typename... P>
static inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *n, void (*k)(P...), int threads, size_t smem) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(n, reinterpret_cast<const void *>(k), threads, smem);
}

/* Runs `body(block, thread)` for every thread of the grid as described above; returns false
   (and records the error for cudaGetLastError) when the configuration is one a GPU rejects. */
bool ssm_emu_run_grid(dim3 grid, dim3 block, size_t smem, cudaStream_t stream, const void *kernel,
                      std::function<void(void)> body);

template <typename... P> struct ssm_emu_launcher {
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
    void (*kernel)(P...);
    template <typename... A> void operator()(A &&...args) const {
        std::tuple<typename std::decay<P>::type...> copy(std::forward<A>(args)...);
        void (*k)(P...) = kernel;
        ssm_emu_run_grid(grid, block, smem, stream, reinterpret_cast<const void *>(k), [k, copy]() { std::apply(k, copy); });
    }
};
template <typename... P>
static inline ssm_emu_launcher<P...> ssm_emu_launch(dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                                                    void (*kernel)(P...)) {
    return ssm_emu_launcher<P...>{grid, block, smem, stream, kernel};
}
#define SSM__CU_LAUNCH(grid, block, smem, stream, ...) ssm_emu_launch(grid, block, smem, stream, __VA_ARGS__)

#endif /* SSM_TESTS_CUDA_EMU_H */
