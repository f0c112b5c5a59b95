/* ssm_cuda.cuh — CUDA launchers for the ssm.h kernels (NVIDIA GPUs, built for Hopper first).

   WHAT IT IS
   The six ops of ssm.h run on the GPU, behind the same parameter structs: every tensor pointer
   in the struct is a device pointer, every stride array stays in host memory (it describes the
   layout; the launcher copies it into the kernel arguments). Each op has a launcher and a
   workspace query:

     ssm_cuda_selective_scan   Mamba-1 selective scan (SPEC §1)
     ssm_cuda_state_update     one-token decode update of an SSM state, in place (SPEC §2)
     ssm_cuda_ssd              Mamba-2 SSD chunked scan (SPEC §3)
     ssm_cuda_conv1d           causal depthwise conv1d, prefill and decode (SPEC §4)
     ssm_cuda_hsa_select       RAMba hierarchical sparse attention: chunk top-k + weights (SPEC §5)
     ssm_cuda_hsa_attention    RAMba hierarchical sparse attention: per-chunk softmax (SPEC §5)

       ssm_status ssm_cuda_<op>(const ssm_<op>_params *p, cudaStream_t stream,
                                void *workspace, size_t workspace_size);
       size_t ssm_cuda_<op>_workspace_size(const ssm_<op>_params *p);

   A launcher validates the arguments with ssm_<op>_validate_args() (everything that needs no
   tensor contents), then enqueues its kernels on `stream` and returns: it never allocates,
   never synchronises with the host and calls nothing a CUDA graph capture forbids (kernel
   launches and cudaMemsetAsync on the workspace only), so a call can be captured in a graph.

   HOW TO INCLUDE IT
   Include it in CUDA C++ (.cu) files for the declarations. In exactly one of them define the
   implementation first; ssm.h's own implementation must be somewhere in the program too (here
   or in a C file):

       #define SSM_IMPLEMENTATION          // unless another file of the program has it
       #include "ssm.h"
       #define SSM_CUDA_IMPLEMENTATION
       #include "ssm_cuda.cuh"

   Build for Hopper with -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=sm_90
   (any sm_80 or newer GPU works: the kernels use mma.sync and cp.async, nothing sm_90a-only).

   EXAMPLE (state_update on device buffers; d_* are cudaMalloc'ed)

       ssm_state_update_params p = {0};
       p.dtype = SSM_BF16; p.B = 64; p.H = 80; p.P = 64; p.N = 128;
       p.state.data = d_state; p.x.data = d_x; p.dt.data = d_dt; p.A.data = d_A;
       p.Bm.data = d_B; p.Cm.data = d_C; p.out.data = d_out;
       size_t ws = ssm_cuda_state_update_workspace_size(&p);        // 0 for this op
       ssm_status st = ssm_cuda_state_update(&p, stream, NULL, 0);
       if (st != SSM_OK) fprintf(stderr, "%s\n", ssm_status_string(st));

   BEHAVIOUR THAT DIFFERS FROM THE CPU
   - Tensor contents are never read on the host, so what ssm_<op>_validate() checks in memory
     (index ranges, cu_seqlens order, the sign of A for ssd) is not checked: an out-of-range
     state_index or hsa_attention idx entry is treated as padding / an empty slot (SPEC §2, §5),
     cu_seqlens offsets are clamped to [0, L], and nothing is ever read or written out of
     bounds. Give the CPU validate() a copy when you need the checks.
   - Workspace: ssd always needs one (work counters, flags and the f32 states passed between
     chunks: 2 x rows x H x P x N floats plus small parts; with SSM_CUDA_SSD_SHARED_CB also the
     C B^T tiles of every chunk, 36 KB per chunk and group);
     selective_scan needs one when it cuts time into chunks (small B*D); the other ops need
     none (size 0, NULL is fine). The query gives the size for the current device; pass at
     least that many bytes of device memory (any alignment); SSM_ERR_ARG when it is missing or
     too small. The size depends only on the shapes and the device, so one buffer sized for the
     largest call can be reused by calls ordered on one stream.
   - Errors: argument errors as on the CPU; SSM_ERR_UNSUPPORTED for selective_scan with
     N > 512 (the states of a channel live in registers), and where a block may not have the
     shared memory a call needs (selective_scan with N > 256: 131 KB, more than sm_86 and sm_89
     give; ssd: 66 KB), and for ssd with more than 2^31 (chunk, head) work items (x of over
     2^44 elements); SSM_ERR_DEVICE when a CUDA call or a kernel launch fails
     (cudaGetLastError is read, and so cleared, after the launches and after a failed call).
   - Smaller GPUs: fast kernels that need more shared memory than a block may have on the
     device give way to ones that need less (ssd's tensor-core kernels need 110-115 KB; the
     token-major hsa kernel runs fewer warps a block below 193 KB, the windowed one needs
     223 KB), with results as good.
   - ssd chunks: the tensor-core kernel runs chunks of min(Q, 128) tokens, the general one
     min(Q, 512), which computes the same function (SPEC §3: results must not depend on Q).
   - Results are not bit-identical to the CPU (other summation orders, tensor-core products)
     but meet SPEC §7. hsa_attention adds each row's per-chunk contributions in one fixed order:
     the same call gives the same bits every run.
   - Fast paths: tensor cores for ssd (P = 64, N = 64 or 128, unit-stride aligned rows) and
     hsa_attention (E = Ev = 64, S a multiple of 16 up to 64, K <= 64; C <= 1024, G K <= 4096
     unless G % 16 == 0) with 16-bit activations; 16-byte vector access for state_update
     (N <= 128, N % 4 == 0), conv1d and selective_scan (16-bit, N <= 16, L % 8 == 0) when innermost
     strides are 1 and rows are 16-byte aligned. Other shapes, strides and f32 run on general
     kernels (f32 arithmetic throughout, same results within SPEC §7), never a wrong answer.

   CONFIG MACROS (define before including)
     SSM_CUDA_IMPLEMENTATION  emit the kernels and launchers in this translation unit
     SSM_CUDA_API             linkage of the launchers (default extern; static with SSM_STATIC)
     SSM_CUDA_SSD_PRECISE     1 (default): the tensor-core ssd rounds its f32 intermediate
                              operands (decayed C B^T, the inter-chunk state) to two 16-bit
                              halves (hi + lo), so its 16-bit output error stays at the rounding
                              floor; 0: one 16-bit operand each (fewer
                              mma, a few % faster; one extra rounding: 1.34x the bf16 floor
                              on gpu.ssd.m2, which fails SPEC §7's elementwise check). The
                              chunk-state product is always split: the f32 h_last must meet
                              SPEC §7's f32 tolerance.
     SSM_CUDA_SSD_SHARED_CB   0 (default): off. N > 0: from N heads per group (H / G) on, the
                              tensor-core ssd takes C B^T from a pre-pass that computes it once
                              per (chunk, group) instead of once per (chunk, head), and runs 8
                              warps per item, two on each pair of row tiles; below it, 4 warps
                              per item compute C B^T themselves. Off because it measured slower
                              on an H100 (gpu.ssd.m2 2.35 ms against 1.76 ms: 128 registers
                              spill, 0.35 eligible warps of 4 per scheduler); the tests build
                              it with N = 4.
     SSM_CUDA_HSA_PRECISE     1 (default): the tensor-core hsa_attention feeds its softmax
                              probabilities to P V as two 16-bit halves (hi + lo), so their
                              rounding stays out of the bf16 output error; 0: one 16-bit operand
                              (half the P V products, the error peers measure).

     SSM_CUDA_EMULATE         set by tests/cuda_emu.h, never by users: the header compiles as
                              plain C++ for the CPU emulator that runs the CUDA test suite on
                              machines without a GPU (the few inline-PTX helpers, the launches
                              and the dynamic shared memory then go through the emulator).

   Public names are ssm_cuda_ / SSM_CUDA_; names with ssm__ are private.
*/
#ifndef SSM_CUDA_CUH_INCLUDED
#define SSM_CUDA_CUH_INCLUDED

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "ssm.h"

#ifndef SSM_CUDA_SSD_PRECISE
#define SSM_CUDA_SSD_PRECISE 1
#endif
#ifndef SSM_CUDA_HSA_PRECISE
#define SSM_CUDA_HSA_PRECISE 1
#endif
#ifndef SSM_CUDA_SSD_SHARED_CB
#define SSM_CUDA_SSD_SHARED_CB 0
#endif
#ifndef SSM__SSD_BANDS   /* experiment: 0 hands ssd items out in one band (the order before) */
#define SSM__SSD_BANDS 1
#endif

/* A kernel launch, SSM__CU_LAUNCH(grid, block, smem, stream, kernel)(args): the triple
   chevrons, unless tests/cuda_emu.h (SSM_CUDA_EMULATE) has put its CPU launch in their place. */
#ifndef SSM__CU_LAUNCH
#define SSM__CU_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<grid, block, smem, stream>>>
#endif

#ifndef SSM_CUDA_API
#ifdef SSM_STATIC
#define SSM_CUDA_API static
#else
#define SSM_CUDA_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

SSM_CUDA_API const char *ssm_cuda_backend_name(void);   /* "cuda" */
/* The config macros the kernels were compiled with, as "NAME=VALUE ..." (those of the unit that
   defined SSM_CUDA_IMPLEMENTATION, which may differ from the caller's). */
SSM_CUDA_API const char *ssm_cuda_config(void);

SSM_CUDA_API ssm_status ssm_cuda_selective_scan(const ssm_selective_scan_params *p, cudaStream_t stream,
                                                void *workspace, size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_selective_scan_workspace_size(const ssm_selective_scan_params *p);

SSM_CUDA_API ssm_status ssm_cuda_state_update(const ssm_state_update_params *p, cudaStream_t stream,
                                              void *workspace, size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_state_update_workspace_size(const ssm_state_update_params *p);

SSM_CUDA_API ssm_status ssm_cuda_ssd(const ssm_ssd_params *p, cudaStream_t stream, void *workspace,
                                     size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_ssd_workspace_size(const ssm_ssd_params *p);

SSM_CUDA_API ssm_status ssm_cuda_conv1d(const ssm_conv1d_params *p, cudaStream_t stream, void *workspace,
                                        size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_conv1d_workspace_size(const ssm_conv1d_params *p);

SSM_CUDA_API ssm_status ssm_cuda_hsa_select(const ssm_hsa_select_params *p, cudaStream_t stream,
                                            void *workspace, size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_hsa_select_workspace_size(const ssm_hsa_select_params *p);

SSM_CUDA_API ssm_status ssm_cuda_hsa_attention(const ssm_hsa_attention_params *p, cudaStream_t stream,
                                               void *workspace, size_t workspace_size);
SSM_CUDA_API size_t ssm_cuda_hsa_attention_workspace_size(const ssm_hsa_attention_params *p);

#ifdef __cplusplus
}
#endif

#endif /* SSM_CUDA_CUH_INCLUDED */

/* ================================================================================================
   IMPLEMENTATION
   ================================================================================================ */
#if defined(SSM_CUDA_IMPLEMENTATION) && !defined(SSM__CUDA_IMPLEMENTATION_DONE)
#define SSM__CUDA_IMPLEMENTATION_DONE

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <float.h>
#include <math.h>
#include <string.h>


/* ---------------------------------------------------------------- operand views

   Kernels see every operand as a pointer plus four int64 element strides, resolved on the host
   (a NULL stride array means contiguous). Offsets are computed in int64 everywhere a tensor can
   exceed 2^31 elements. A NULL pointer is an absent optional operand. */

typedef struct ssm__cu_cv {
    const void *p;
    int64_t s[4];
} ssm__cu_cv;

static ssm__cu_cv ssm__cu_view(const void *data, const int64_t *stride, int rank, int64_t d0, int64_t d1, int64_t d2,
                            int64_t d3) {
    ssm__cu_cv v;
    int64_t dims[4];
    int i;
    dims[0] = d0; dims[1] = d1; dims[2] = d2; dims[3] = d3;
    v.p = data;
    for (i = 0; i < 4; ++i) v.s[i] = 0;
    if (stride) {
        for (i = 0; i < rank; ++i) v.s[i] = stride[i];
    } else {
        int64_t s = 1;
        for (i = rank - 1; i >= 0; --i) {
            v.s[i] = s;
            s *= dims[i] > 0 ? dims[i] : 1;
        }
    }
    return v;
}
#define SSM__IN_VIEW(t, rank, d0, d1, d2, d3) ssm__cu_view((t).data, (t).stride, rank, d0, d1, d2, d3)

static int ssm__cu_aligned(const void *p, size_t bytes) { return ((uintptr_t)p % bytes) == 0; }

/* Every stride except the innermost is a multiple of `elems` elements (rows stay aligned). */
static int ssm__cu_rows_multiple(const ssm__cu_cv *v, int rank, int64_t elems) {
    int i;
    for (i = 0; i < rank - 1; ++i)
        if (v->s[i] % elems != 0) return 0;
    return 1;
}

/* ---------------------------------------------------------------- device and workspace */

static int ssm__cu_dev_attr(cudaDeviceAttr attr) {   /* of the current device; 0 if unknown */
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return 0;
    if (cudaDeviceGetAttribute(&n, attr, dev) != cudaSuccess) return 0;
    return n;
}
static int ssm__cu_sm_count(void) { return ssm__cu_dev_attr(cudaDevAttrMultiProcessorCount); }

/* Whether a block whose dynamic shared memory is `bytes` can run on the current device: sm_90
   lets a block opt into 227 KB, sm_80 163 KB, sm_86 and sm_89 99 KB. Kernels that need more
   than the device has give way to ones that need less (the margin is for static shared memory). */
static int ssm__cu_smem_fits(size_t bytes) {
    return bytes + 1024 <= (size_t)ssm__cu_dev_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin);
}

/* Launch errors: a failed launch leaves its error to be read (and cleared) here. */
static ssm_status ssm__cu_launched(void) { return cudaGetLastError() == cudaSuccess ? SSM_OK : SSM_ERR_DEVICE; }
/* A failed runtime call: its error is cleared too, so that the next call's launches are not
   blamed for it. */
static ssm_status ssm__cu_failed(void) {
    (void)cudaGetLastError();
    return SSM_ERR_DEVICE;
}

/* Scratch carved from the caller's workspace, each piece 256-byte aligned. With base NULL it
   only counts, which is how the size queries use it. */
typedef struct ssm__cu_arena {
    char *base;
    size_t used;
} ssm__cu_arena;

static void *ssm__cu_take(ssm__cu_arena *a, size_t bytes) {
    size_t at = (a->used + 255) & ~(size_t)255;
    a->used = at + bytes;
    return a->base ? (void *)(a->base + at) : NULL;
}

static ssm__cu_arena ssm__cu_arena_of(void *workspace) {
    ssm__cu_arena a;
    a.base = workspace ? (char *)(((uintptr_t)workspace + 255) & ~(uintptr_t)255) : NULL;
    a.used = 0;
    return a;
}

/* Bytes a plan needs: what it carved plus the slack for aligning an arbitrary base. */
static size_t ssm__cu_arena_bytes(const ssm__cu_arena *a) { return a->used ? a->used + 256 : 0; }

static ssm_status ssm__cu_check_ws(size_t need, const void *workspace, size_t size) {
    if (need == 0) return SSM_OK;
    return workspace && size >= need ? SSM_OK : SSM_ERR_ARG;
}

static int64_t ssm__cu_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static unsigned ssm__cu_blocks(int64_t work, int threads, int sms) {
    int64_t want = ssm__cu_cdiv(work, threads), cap = (int64_t)sms * 32;
    if (want < 1) want = 1;
    return (unsigned)(want < cap ? want : cap);
}

/* The block's dynamic shared memory (16-byte aligned; the launch gives its size). */
static __device__ __forceinline__ unsigned char *ssm__cu_dyn_smem(void) {
#ifdef SSM_CUDA_EMULATE
    return (unsigned char *)ssm_emu_dyn_smem();
#else
    extern __shared__ __align__(16) unsigned char ssm__cu_smem[];
    return ssm__cu_smem;
#endif
}

/* ---------------------------------------------------------------- device math (SPEC §0)

   exp is ex2.approx of x*log2(e): relative error about 2^-22 + |x| 2^-24, inside SPEC's
   2^-20 (1 + |x|), +inf on overflow, NaN kept, flush to zero below FLT_MIN (allowed). */

static __device__ __forceinline__ float ssm__cu_ex2(float x) {
#ifdef SSM_CUDA_EMULATE
    return ssm_emu_ex2_approx_ftz(x);
#else
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
#endif
}
static __device__ __forceinline__ float ssm__cu_exp(float x) { return ssm__cu_ex2(x * 1.4426950408889634f); }
static __device__ __forceinline__ float ssm__cu_softplus(float x, float threshold) {
    return x > threshold ? x : log1pf(ssm__cu_exp(x));
}
static __device__ __forceinline__ float ssm__cu_silu(float x) { return __fdividef(x, 1.0f + ssm__cu_exp(-x)); }
/* NaN-preserving clamp: comparisons with NaN are false. */
static __device__ __forceinline__ float ssm__cu_clampf(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* ---------------------------------------------------------------- dtype helpers

   T is the storage type of activations: float, __half or __nv_bfloat16. Loads convert to f32,
   stores round once (round to nearest even). */

template <typename T> struct ssm__cu_ty;
template <> struct ssm__cu_ty<float> {
    static __device__ __forceinline__ float f(float v) { return v; }
    static __device__ __forceinline__ float to(float v) { return v; }
};
template <> struct ssm__cu_ty<__half> {
    static __device__ __forceinline__ float f(__half v) { return __half2float(v); }
    static __device__ __forceinline__ __half to(float v) { return __float2half_rn(v); }
};
template <> struct ssm__cu_ty<__nv_bfloat16> {
    static __device__ __forceinline__ float f(__nv_bfloat16 v) { return __bfloat162float(v); }
    static __device__ __forceinline__ __nv_bfloat16 to(float v) { return __float2bfloat16_rn(v); }
};

template <typename T> static __device__ __forceinline__ float ssm__cu_ld(const void *p, int64_t off) {
    return ssm__cu_ty<T>::f(((const T *)p)[off]);
}
template <typename T> static __device__ __forceinline__ float ssm__cu_ldg(const void *p, int64_t off) {
    return ssm__cu_ty<T>::f(__ldg((const T *)p + off));
}
/* outputs are views too (const void *): the launcher knows which operands are written */
template <typename T> static __device__ __forceinline__ void ssm__cu_st(const void *p, int64_t off, float v) {
    ((T *)(uintptr_t)p)[off] = ssm__cu_ty<T>::to(v);
}
static __device__ __forceinline__ float ssm__cu_ldf(const void *p, int64_t off) { return __ldg((const float *)p + off); }
/* An optional f32 parameter: its value, or `absent` when the operand is not given. */
static __device__ __forceinline__ float ssm__cu_param(const ssm__cu_cv &v, int64_t off, float absent) {
    return v.p ? __ldg((const float *)v.p + off) : absent;
}
static __device__ __forceinline__ int64_t ssm__cu_seq(const ssm__cu_cv &cu, int64_t s, int64_t L) {
    int64_t v = __ldg((const long long *)cu.p + s * cu.s[0]);
    return v < 0 ? 0 : (v > L ? L : v);   /* clamped: bad offsets never index out of bounds */
}
/* The sequence holding token t: the last s in [0, nseq] with cu[s] <= t (nseq: padding). */
static __device__ int64_t ssm__cu_find_seq(const ssm__cu_cv &cu, int64_t nseq, int64_t L, int64_t t) {
    int64_t lo = 0, hi = nseq;   /* binary search; offsets are assumed non-decreasing (the CPU's
                                    validate checks it), and bad ones only give bad results */
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (ssm__cu_seq(cu, mid, L) <= t) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* 8 consecutive activations, 16-byte aligned, to f32 and back. */
template <typename T> static __device__ __forceinline__ void ssm__cu_ld8(const T *p, float *v);
template <> __device__ __forceinline__ void ssm__cu_ld8<float>(const float *p, float *v) {
    float4 a = __ldg((const float4 *)p), b = __ldg((const float4 *)p + 1);
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
template <typename T> static __device__ __forceinline__ void ssm__cu_ld8_16(const T *p, float *v) {
    uint4 u = __ldg((const uint4 *)p);
    const T *e = (const T *)&u;
#pragma unroll
    for (int i = 0; i < 8; ++i) v[i] = ssm__cu_ty<T>::f(e[i]);
}
template <> __device__ __forceinline__ void ssm__cu_ld8<__half>(const __half *p, float *v) { ssm__cu_ld8_16(p, v); }
template <> __device__ __forceinline__ void ssm__cu_ld8<__nv_bfloat16>(const __nv_bfloat16 *p, float *v) {
    ssm__cu_ld8_16(p, v);
}
template <typename T> static __device__ __forceinline__ void ssm__cu_st8(T *p, const float *v) {
    uint4 u;
    T *e = (T *)&u;
#pragma unroll
    for (int i = 0; i < 8; ++i) e[i] = ssm__cu_ty<T>::to(v[i]);
    *(uint4 *)p = u;
}
template <> __device__ __forceinline__ void ssm__cu_st8<float>(float *p, const float *v) {
    ((float4 *)p)[0] = make_float4(v[0], v[1], v[2], v[3]);
    ((float4 *)p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}

static __device__ __forceinline__ float ssm__cu_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

#define SSM__DISPATCH_DTYPE(dtype, T, ...)                          \
    do {                                                            \
        if ((dtype) == SSM_F32) { typedef float T; __VA_ARGS__; }   \
        else if ((dtype) == SSM_F16) { typedef __half T; __VA_ARGS__; } \
        else { typedef __nv_bfloat16 T; __VA_ARGS__; }              \
    } while (0)

extern "C" {
SSM_CUDA_API const char *ssm_cuda_backend_name(void) { return "cuda"; }

#define SSM__CU_STR2(x) #x
#define SSM__CU_STR(x) SSM__CU_STR2(x)
SSM_CUDA_API const char *ssm_cuda_config(void) {
    return "SSM_CUDA_SSD_PRECISE=" SSM__CU_STR(SSM_CUDA_SSD_PRECISE) " SSM_CUDA_SSD_SHARED_CB=" SSM__CU_STR(
        SSM_CUDA_SSD_SHARED_CB) " SSM_CUDA_HSA_PRECISE=" SSM__CU_STR(SSM_CUDA_HSA_PRECISE);
}
}

/* ================================================================ conv1d (SPEC §4)

   Bandwidth-bound: one pass over x and out. A thread makes a few groups of 8 consecutive
   outputs of one row (ssm__cu_conv_ng); when the row is unit-stride and aligned and no tap falls
   before it, from one 16-byte load per 8 outputs (two for f32) plus those of the 8 inputs before
   them, all issued first. Otherwise group by group, each from 16 inputs (its 8 and the 8
   before); taps before a sequence start read the W-1 state values. W is a template argument so
   the tap window stays in registers. state_last is a second, tiny kernel that runs after the
   outputs, because it may overwrite state0 in place. */

typedef struct ssm__cu_conv_args {
    int64_t B, D, L, nseq, rows;   /* nseq: sequences (B without cu_seqlens); rows: state rows */
    int varlen, silu, vec;
    ssm__cu_cv x, w, bias, s0, idx, cu, out, slast;
} ssm__cu_conv_args;

static __device__ __forceinline__ int64_t ssm__cu_row(const ssm__cu_cv &idx, int64_t s) {
    return idx.p ? (int64_t)__ldg((const int *)idx.p + s * idx.s[0]) : s;
}

/* 8 outputs from 8 + 8 inputs xv (the 8 before the outputs' own): bias + the W taps, SiLU. */
template <int W>
static __device__ __forceinline__ void ssm__cu_conv_taps(const float *wk, float bias, int silu, const float *xv, float *yv) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        float acc = bias;
#pragma unroll
        for (int k = 0; k < W; ++k) acc += wk[k] * xv[i + k + 9 - W];
        yv[i] = silu ? ssm__cu_silu(acc) : acc;
    }
}

/* Tokens per thread: SSM__CONV_GROUPS groups of 8 (16-bit x), SSM__CONV_GROUPS_F32 for f32 x.
   Several 16-byte loads per thread are in flight at once, and in the fast path a group's previous
   8 inputs are the group before it, already in registers (one 8-token group per thread had every
   input read twice and one load in flight). */
#ifndef SSM__CONV_GROUPS
#define SSM__CONV_GROUPS 4
#endif
#ifndef SSM__CONV_GROUPS_F32
#define SSM__CONV_GROUPS_F32 2
#endif
template <typename T> struct ssm__cu_conv_ng {
    static constexpr int value = sizeof(T) == 4 ? SSM__CONV_GROUPS_F32 : SSM__CONV_GROUPS;
};

/* Outputs tb .. tb + 7 of a row (those before L): one 16-byte store when the row allows. */
template <typename T>
static __device__ __forceinline__ void ssm__cu_conv_store(const ssm__cu_conv_args &a, T *orow, int64_t tb, const float *yv) {
    if (a.vec && tb + 8 <= a.L) {
        ssm__cu_st8<T>(orow + tb, yv);
    } else {
#pragma unroll
        for (int i = 0; i < 8; ++i)
            if (tb + i < a.L) ssm__cu_st<T>(orow, (tb + i) * a.out.s[2], yv[i]);
    }
}

template <typename T, int W>
__global__ void __launch_bounds__(256) ssm__cu_conv_out_kernel(ssm__cu_conv_args a) {
    /* block: blockDim.y rows (b, d) x blockDim.x threads of NG x 8 tokens each */
    constexpr int NG = ssm__cu_conv_ng<T>::value;
    const int64_t rows = a.B * a.D, per_block = (int64_t)blockDim.x * 8 * NG, nyb = (a.L + per_block - 1) / per_block;
    const bool plain = a.vec && !a.varlen && !a.idx.p;   /* unit-stride rows, no sequence bookkeeping */
    for (int64_t row = (int64_t)blockIdx.x * blockDim.y + threadIdx.y; row < rows; row += (int64_t)gridDim.x * blockDim.y) {
        const int64_t b = row / a.D, d = row - b * a.D;
        const T *xrow = (const T *)a.x.p + b * a.x.s[0] + d * a.x.s[1];
        T *orow = (T *)(uintptr_t)a.out.p + b * a.out.s[0] + d * a.out.s[1];
        float wk[W];
#pragma unroll
        for (int k = 0; k < W; ++k) wk[k] = ssm__cu_ldf(a.w.p, d * a.w.s[0] + k * a.w.s[1]);
        const float bias = ssm__cu_param(a.bias, d * a.bias.s[0], 0.0f);
        for (int64_t yb = blockIdx.y; yb < nyb; yb += gridDim.y) {
            const int64_t t0 = (yb * blockDim.x + threadIdx.x) * 8 * NG;
            if (t0 >= a.L) continue;
            if (plain && t0 >= 8 && t0 + 8 * NG <= a.L) {   /* every tap inside x: all loads, then all outputs */
                float xv[8 * (NG + 1)];
#pragma unroll
                for (int g = 0; g <= NG; ++g) ssm__cu_ld8<T>(xrow + t0 - 8 + 8 * g, xv + 8 * g);
#pragma unroll
                for (int g = 0; g < NG; ++g) {
                    float yv[8];
                    ssm__cu_conv_taps<W>(wk, bias, a.silu, xv + 8 * g, yv);
                    ssm__cu_st8<T>(orow + t0 + 8 * g, yv);
                }
                continue;
            }
#pragma unroll 1
            for (int g = 0; g < NG; ++g) {   /* group by group; `continue` below goes to the next group */
                const int64_t tb = t0 + 8 * g;
                if (tb >= a.L) break;
                float xv[16], yv[8];
                if (a.vec && tb + 8 <= a.L) {
                    ssm__cu_ld8<T>(xrow + tb, xv + 8);
                    if (tb >= 8) ssm__cu_ld8<T>(xrow + tb - 8, xv);
                    else
#pragma unroll
                        for (int i = 0; i < 8; ++i) xv[i] = 0.0f;
                } else {
#pragma unroll
                    for (int i = 0; i < 16; ++i) {
                        const int64_t pos = tb - 8 + i;
                        xv[i] = pos >= 0 && pos < a.L ? ssm__cu_ldg<T>(xrow, pos * a.x.s[2]) : 0.0f;
                    }
                }
                if (!a.varlen && !a.idx.p && tb >= 8) {   /* every tap inside x: no sequence bookkeeping */
                    ssm__cu_conv_taps<W>(wk, bias, a.silu, xv, yv);
                    ssm__cu_conv_store<T>(a, orow, tb, yv);
                    continue;
                }
                int64_t s = b, sstart = 0, send = a.L;
                if (a.varlen) {
                    s = ssm__cu_find_seq(a.cu, a.nseq, a.L, tb);
                    sstart = ssm__cu_seq(a.cu, s, a.L);
                    send = s < a.nseq ? ssm__cu_seq(a.cu, s + 1, a.L) : a.L;
                }
                int64_t srow = s < a.nseq ? ssm__cu_row(a.idx, s) : -1;   /* state row of sequence s */
#pragma unroll
                for (int i = 0; i < 8; ++i) {
                    const int64_t t = tb + i;
                    yv[i] = 0.0f;
                    if (t >= a.L) continue;
                    if (a.varlen && s < a.nseq && t >= send) {
                        while (s < a.nseq && t >= send) {
                            ++s;
                            sstart = ssm__cu_seq(a.cu, s, a.L);
                            send = s < a.nseq ? ssm__cu_seq(a.cu, s + 1, a.L) : a.L;
                        }
                        srow = s < a.nseq ? ssm__cu_row(a.idx, s) : -1;
                    }
                    if (s >= a.nseq || t < sstart) continue;    /* padding token: 0 */
                    if (srow < 0 || srow >= a.rows) continue;   /* padded cache entry: 0 */
                    float acc = bias;
#pragma unroll
                    for (int k = 0; k < W; ++k) {
                        const int64_t pos = t - (W - 1) + k;
                        float v;
                        if (pos >= sstart) v = xv[i + k + 9 - W];
                        else v = a.s0.p ? ssm__cu_ldf(a.s0.p, srow * a.s0.s[0] + d * a.s0.s[1] + (pos - sstart + W - 1) * a.s0.s[2])
                                        : 0.0f;
                        acc += wk[k] * v;
                    }
                    yv[i] = a.silu ? ssm__cu_silu(acc) : acc;
                }
                ssm__cu_conv_store<T>(a, orow, tb, yv);
            }
        }
    }
}

template <typename T, int W>
__global__ void __launch_bounds__(256) ssm__cu_conv_state_kernel(ssm__cu_conv_args a) {
    const int64_t total = a.nseq * a.D;
    for (int64_t it = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; it < total;
         it += (int64_t)gridDim.x * blockDim.x) {
        const int64_t s = it / a.D, d = it % a.D, b = a.varlen ? 0 : s;
        int64_t sstart = 0, send = a.L;
        if (a.varlen) {
            sstart = ssm__cu_seq(a.cu, s, a.L);
            send = ssm__cu_seq(a.cu, s + 1, a.L);
            if (send < sstart) send = sstart;
        }
        const int64_t row = ssm__cu_row(a.idx, s);
        if (row < 0 || row >= a.rows) continue;
        const int64_t len = send - sstart;
        float v[8];
#pragma unroll
        for (int k = 0; k < W - 1; ++k) {   /* xe[len + k]: the last W-1 inputs of the extended row */
            const int64_t i = len + k;
            if (i < W - 1)
                v[k] = a.s0.p ? ssm__cu_ldf(a.s0.p, row * a.s0.s[0] + d * a.s0.s[1] + i * a.s0.s[2]) : 0.0f;
            else
                v[k] = ssm__cu_ldg<T>(a.x.p, b * a.x.s[0] + d * a.x.s[1] + (sstart + i - (W - 1)) * a.x.s[2]);
        }
#pragma unroll
        for (int k = 0; k < W - 1; ++k)
            ((float *)a.slast.p)[row * a.slast.s[0] + d * a.slast.s[1] + k * a.slast.s[2]] = v[k];
    }
}

template <typename T, int W>
static ssm_status ssm__cu_conv_launch(const ssm__cu_conv_args &a, int64_t W_, int sms, cudaStream_t stream) {
    (void)W_;
    if (a.B * a.D * a.L > 0) {
        /* threads along time: enough for the row (8 x NG tokens each), the rest of the 256 on rows */
        constexpr int NG = ssm__cu_conv_ng<T>::value;
        int tx = 1;
        while (tx < 256 && (int64_t)tx * 8 * NG < a.L) tx *= 2;
        const dim3 block((unsigned)tx, (unsigned)(256 / tx));
        const int64_t rows = a.B * a.D, nyb = ssm__cu_cdiv(a.L, (int64_t)tx * 8 * NG);
        const int64_t gx = ssm__cu_cdiv(rows, 256 / tx);
        const dim3 grid((unsigned)(gx < 2147483647 ? gx : 2147483647), (unsigned)(nyb < 65535 ? nyb : 65535));
        SSM__CU_LAUNCH(grid, block, 0, stream, ssm__cu_conv_out_kernel<T, W>)(a);
    }
    if (a.slast.p && W > 1 && a.nseq * a.D > 0)
        SSM__CU_LAUNCH(ssm__cu_blocks(a.nseq * a.D, 256, sms), 256, 0, stream, ssm__cu_conv_state_kernel<T, W>)(a);
    return ssm__cu_launched();
}

template <typename T>
static ssm_status ssm__cu_conv_dispatch(const ssm__cu_conv_args &a, int64_t W, int sms, cudaStream_t stream) {
    switch (W) {
    case 1: return ssm__cu_conv_launch<T, 1>(a, W, sms, stream);
    case 2: return ssm__cu_conv_launch<T, 2>(a, W, sms, stream);
    case 3: return ssm__cu_conv_launch<T, 3>(a, W, sms, stream);
    case 4: return ssm__cu_conv_launch<T, 4>(a, W, sms, stream);
    case 5: return ssm__cu_conv_launch<T, 5>(a, W, sms, stream);
    case 6: return ssm__cu_conv_launch<T, 6>(a, W, sms, stream);
    case 7: return ssm__cu_conv_launch<T, 7>(a, W, sms, stream);
    case 8: return ssm__cu_conv_launch<T, 8>(a, W, sms, stream);
    default: return SSM_ERR_UNSUPPORTED;
    }
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_conv1d_workspace_size(const ssm_conv1d_params *p) {
    (void)p;
    return 0;
}

SSM_CUDA_API ssm_status ssm_cuda_conv1d(const ssm_conv1d_params *p, cudaStream_t stream, void *workspace,
                                        size_t workspace_size) {
    ssm__cu_conv_args a;
    ssm_status st = ssm_conv1d_validate_args(p);
    int sms;
    (void)workspace;
    (void)workspace_size;
    if (st != SSM_OK) return st;
    a.B = p->B; a.D = p->D; a.L = p->L;
    a.varlen = p->cu_seqlens.data != NULL;
    a.nseq = a.varlen ? p->nseq : p->B;
    a.rows = p->state_index.data && p->Ns ? p->Ns : a.nseq;
    a.silu = p->silu != 0;
    a.x = SSM__IN_VIEW(p->x, 3, a.B, a.D, a.L, 0);
    a.w = SSM__IN_VIEW(p->weight, 2, a.D, p->W, 0, 0);
    a.bias = SSM__IN_VIEW(p->bias, 1, a.D, 0, 0, 0);
    a.s0 = SSM__IN_VIEW(p->state0, 3, a.rows, a.D, p->W - 1, 0);
    a.idx = SSM__IN_VIEW(p->state_index, 1, a.nseq, 0, 0, 0);
    a.cu = SSM__IN_VIEW(p->cu_seqlens, 1, a.nseq + 1, 0, 0, 0);
    a.out = SSM__IN_VIEW(p->out, 3, a.B, a.D, a.L, 0);
    a.slast = SSM__IN_VIEW(p->state_last, 3, a.rows, a.D, p->W - 1, 0);
    a.vec = a.x.s[2] == 1 && a.out.s[2] == 1 && ssm__cu_aligned(a.x.p, 16) && ssm__cu_aligned(a.out.p, 16) &&
            ssm__cu_rows_multiple(&a.x, 3, 8) && ssm__cu_rows_multiple(&a.out, 3, 8);
    if (a.B * a.D * a.L == 0 && !(a.slast.p && a.nseq * a.D > 0)) return SSM_OK;
    if ((sms = ssm__cu_sm_count()) <= 0) return ssm__cu_failed();
    SSM__DISPATCH_DTYPE(p->dtype, T, return ssm__cu_conv_dispatch<T>(a, p->W, sms, stream));
}

}   /* extern "C" */

/* ================================================================ state_update (SPEC §2)

   Bandwidth-bound: the state is read once and written once, so what matters is how many bytes
   each SM keeps in flight and how few instructions each byte costs. The vector path
   (unit-stride, 16-byte aligned state rows, N <= 128, N % 4 == 0) gives a block 32 rows of one
   (b, h), a warp 8 of them, lane l owning n = 4l..4l+3 of each row; y is a transposed warp
   reduction that leaves row r's sum in lanes 4r..4r+3. When A is tied over N (Mamba-2),
   exp(dt'A) is one scalar per row; when dt and dt_bias are tied over P, dt' is one per (b, h).
   Other layouts run a general kernel: a warp per row, strided scalar loop over n. */

typedef struct ssm__cu_step_args {
    int64_t B, H, P, N, per_group, Ns, PQ, items;   /* PQ: row blocks per (b, h); items: B*H*PQ */
    int softplus, limit, tied, dt_tied, narrow;   /* narrow: items < 2^32 */
    float dt_min, dt_max;
    ssm__cu_cv state, x, dt, A, Bm, Cm, Dskip, z, dtbias, idx, out;
} ssm__cu_step_args;

#define SSM__STEP_WARPS 8    /* general kernel: warps per block, one row each */
#define SSM__STEP_ROWS 8     /* vector path: rows per warp (the y reduction assumes 8) */
#define SSM__STEP_VWARPS 4   /* vector path: warps per block */

template <typename T>
static __device__ __forceinline__ float ssm__cu_step_dt(const ssm__cu_step_args &a, int64_t b, int64_t h, int64_t p) {
    float v = ssm__cu_ldg<T>(a.dt.p, b * a.dt.s[0] + h * a.dt.s[1] + p * a.dt.s[2]);
    v += ssm__cu_param(a.dtbias, h * a.dtbias.s[0] + p * a.dtbias.s[1], 0.0f);
    if (a.softplus) v = ssm__cu_softplus(v, 20.0f);
    if (a.limit) v = ssm__cu_clampf(v, a.dt_min, a.dt_max);
    return v;
}

/* y += D x, then the z gate; stored. */
template <typename T>
static __device__ __forceinline__ void ssm__cu_step_finish(const ssm__cu_step_args &a, int64_t b, int64_t h, int64_t p,
                                                        float y, float x, float dskip, float z) {
    y += dskip * x;
    if (a.z.p) y *= ssm__cu_silu(z);
    ssm__cu_st<T>(a.out.p, b * a.out.s[0] + h * a.out.s[1] + p * a.out.s[2], y);
}

/* The state row of batch entry b, or -1 for padding (negative or out-of-range index). */
static __device__ __forceinline__ int64_t ssm__cu_step_srow(const ssm__cu_step_args &a, int64_t b) {
    const int64_t s = ssm__cu_row(a.idx, b);
    return s < 0 || s >= a.Ns ? -1 : s;
}

/* General kernel: one block per (b, h), a warp per row p. */
template <typename T>
__global__ void __launch_bounds__(32 * SSM__STEP_WARPS) ssm__cu_step_kernel(ssm__cu_step_args a) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t nbh = a.B * a.H;
    for (int64_t bh = blockIdx.x; bh < nbh; bh += gridDim.x) {
        const int64_t b = bh / a.H, h = bh - b * a.H, g = h / a.per_group, s = ssm__cu_step_srow(a, b);
        if (s < 0) {   /* padding: out 0, no state */
            for (int64_t p = threadIdx.x; p < a.P; p += blockDim.x)
                ssm__cu_st<T>(a.out.p, b * a.out.s[0] + h * a.out.s[1] + p * a.out.s[2], 0.0f);
            continue;
        }
        float *srow0 = (float *)a.state.p + s * a.state.s[0] + h * a.state.s[1];
        const float *arow0 = (const float *)a.A.p + h * a.A.s[0];
        for (int64_t p = warp; p < a.P; p += SSM__STEP_WARPS) {
            const float dtp = ssm__cu_step_dt<T>(a, b, h, a.dt_tied ? 0 : p);
            const float x = ssm__cu_ldg<T>(a.x.p, b * a.x.s[0] + h * a.x.s[1] + p * a.x.s[2]);
            const float dtx = dtp * x;
            const float dA_tied = a.tied ? ssm__cu_exp(dtp * __ldg(arow0 + p * a.A.s[1])) : 0.0f;
            float *srow = srow0 + p * a.state.s[2];
            float y = 0.0f;
            for (int64_t n = lane; n < a.N; n += 32) {
                const float Bn = ssm__cu_ldg<T>(a.Bm.p, b * a.Bm.s[0] + g * a.Bm.s[1] + n * a.Bm.s[2]);
                const float Cn = ssm__cu_ldg<T>(a.Cm.p, b * a.Cm.s[0] + g * a.Cm.s[1] + n * a.Cm.s[2]);
                const float dA = a.tied ? dA_tied : ssm__cu_exp(dtp * __ldg(arow0 + p * a.A.s[1] + n * a.A.s[2]));
                const float v = dA * srow[n * a.state.s[3]] + dtx * Bn;
                srow[n * a.state.s[3]] = v;
                y += v * Cn;
            }
            y = ssm__cu_warp_sum(y);
            if (lane == 0)
                ssm__cu_step_finish<T>(a, b, h, p, y, x, ssm__cu_param(a.Dskip, h * a.Dskip.s[0] + p * a.Dskip.s[1], 0.0f),
                                       a.z.p ? ssm__cu_ldg<T>(a.z.p, b * a.z.s[0] + h * a.z.s[1] + p * a.z.s[2]) : 0.0f);
        }
    }
}

/* a / b, in 32 bits when `narrow` (a < 2^32): the 64-bit division is a long subroutine on the
   path to the item's first load. */
static __device__ __forceinline__ int64_t ssm__cu_step_div(int64_t a, int64_t b, int narrow) {
    return narrow ? (int64_t)((uint32_t)a / (uint32_t)b) : a / b;
}

/* Sum over the warp of 8 rows at once (v[r]: this lane's part of row r): 9 shuffles instead of
   40; each halving step keeps the half of the rows picked by one lane bit, so row r's total
   lands in lanes 4r..4r+3. */
static __device__ __forceinline__ float ssm__cu_step_reduce8(const float *v, int lane) {
    const bool b4 = (lane & 16) != 0, b2 = (lane & 8) != 0, b1 = (lane & 4) != 0;
    float k4[4], k2[2];
#pragma unroll
    for (int j = 0; j < 4; ++j) k4[j] = (b4 ? v[4 + j] : v[j]) + __shfl_xor_sync(0xffffffffu, b4 ? v[j] : v[4 + j], 16);
#pragma unroll
    for (int j = 0; j < 2; ++j) k2[j] = (b2 ? k4[2 + j] : k4[j]) + __shfl_xor_sync(0xffffffffu, b2 ? k4[j] : k4[2 + j], 8);
    float y = (b1 ? k2[1] : k2[0]) + __shfl_xor_sync(0xffffffffu, b1 ? k2[0] : k2[1], 4);
    y += __shfl_xor_sync(0xffffffffu, y, 2);
    y += __shfl_xor_sync(0xffffffffu, y, 1);
    return y;
}

/* Vector path: a block takes SSM__STEP_VWARPS * SSM__STEP_ROWS consecutive rows of one (b, h)
   (an item), a warp SSM__STEP_ROWS of them. Every state load of the warp's rows is issued before
   any is used (the bytes in flight are what set the bandwidth; a resident block has 16 KB
   outstanding), addresses are one base per item plus 32-bit row offsets, and lane 4r alone
   loads row r's operands and computes its dt' and exp(dt'A) (TIED: A tied over N), which the
   other lanes take by shuffle. TIED is a template parameter so that the tied kernel carries no
   registers for the untied one's per-element A loads: it fits in 80 registers without spills,
   6 blocks per SM (capped at 64 registers for 8 blocks it spilled and measured 1.6% slower). */
template <typename T, bool TIED>
__global__ void __launch_bounds__(32 * SSM__STEP_VWARPS, 6) ssm__cu_step_vec_kernel(ssm__cu_step_args a) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, own = lane >> 2;   /* lane 4r owns row r */
    const bool has_n = lane * 4 < a.N;
    for (int64_t item = blockIdx.x; item < a.items; item += gridDim.x) {
        const int64_t bh = ssm__cu_step_div(item, a.PQ, a.narrow), b = ssm__cu_step_div(bh, a.H, a.narrow), h = bh - b * a.H;
        const int64_t g = ssm__cu_step_div(h, a.per_group, a.narrow), s = ssm__cu_step_srow(a, b);
        const int64_t p0 = (item - bh * a.PQ) * (SSM__STEP_VWARPS * SSM__STEP_ROWS) + warp * SSM__STEP_ROWS;
        if (p0 >= a.P) continue;   /* warp-uniform: no shuffle partner is left behind */
        const int rs = (int)a.state.s[2];   /* the launcher checks that a warp's rows span < 2^31 elements */
        float4 *row0 = (float4 *)((float *)a.state.p + (s >= 0 ? s * a.state.s[0] + h * a.state.s[1] + p0 * rs : 0)) + lane;
        float4 st[SSM__STEP_ROWS];
#pragma unroll
        for (int r = 0; r < SSM__STEP_ROWS; ++r)
            st[r] = s >= 0 && has_n && p0 + r < a.P ? __ldcs((const float4 *)((float *)row0 + r * rs))
                                                    : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        float Bv[4], Cv[4];   /* 0 past N: lanes without states add nothing to y */
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int64_t n = lane * 4 + k;
            Bv[k] = n < a.N ? ssm__cu_ldg<T>(a.Bm.p, b * a.Bm.s[0] + g * a.Bm.s[1] + n * a.Bm.s[2]) : 0.0f;
            Cv[k] = n < a.N ? ssm__cu_ldg<T>(a.Cm.p, b * a.Cm.s[0] + g * a.Cm.s[1] + n * a.Cm.s[2]) : 0.0f;
        }
        const int64_t p = p0 + own;
        const bool owner = (lane & 3) == 0 && p < a.P;
        float x = 0.0f, z = 0.0f, dskip = 0.0f, dt = 0.0f, dA = 0.0f;
        if (owner) {
            x = ssm__cu_ldg<T>(a.x.p, b * a.x.s[0] + h * a.x.s[1] + p * a.x.s[2]);
            if (a.z.p) z = ssm__cu_ldg<T>(a.z.p, b * a.z.s[0] + h * a.z.s[1] + p * a.z.s[2]);
            dskip = ssm__cu_param(a.Dskip, h * a.Dskip.s[0] + p * a.Dskip.s[1], 0.0f);
            dt = ssm__cu_step_dt<T>(a, b, h, a.dt_tied ? 0 : p);
            if (TIED) dA = ssm__cu_exp(dt * __ldg((const float *)a.A.p + h * a.A.s[0] + p * a.A.s[1]));
        }
        const float dtx = dt * x;
        float ys[SSM__STEP_ROWS];
#pragma unroll
        for (int r = 0; r < SSM__STEP_ROWS; ++r) {
            const bool live = s >= 0 && has_n && p0 + r < a.P;
            const float dtx_r = __shfl_sync(0xffffffffu, dtx, 4 * r);
            float v[4] = {st[r].x, st[r].y, st[r].z, st[r].w};
            if (TIED) {
                const float dA_r = __shfl_sync(0xffffffffu, dA, 4 * r);
#pragma unroll
                for (int k = 0; k < 4; ++k) v[k] = dA_r * v[k] + dtx_r * Bv[k];
            } else {
                const float dt_r = __shfl_sync(0xffffffffu, dt, 4 * r);
                const float *arow = (const float *)a.A.p + h * a.A.s[0] + (p0 + r) * a.A.s[1];
#pragma unroll
                for (int k = 0; k < 4; ++k)
                    if (live) v[k] = ssm__cu_exp(dt_r * __ldg(arow + (lane * 4 + k) * a.A.s[2])) * v[k] + dtx_r * Bv[k];
            }
            ys[r] = (v[0] * Cv[0] + v[1] * Cv[1]) + (v[2] * Cv[2] + v[3] * Cv[3]);
            if (live) __stcs((float4 *)((float *)row0 + r * rs), make_float4(v[0], v[1], v[2], v[3]));
        }
        const float y = ssm__cu_step_reduce8(ys, lane);
        if (owner) {
            if (s < 0) ssm__cu_st<T>(a.out.p, b * a.out.s[0] + h * a.out.s[1] + p * a.out.s[2], 0.0f);
            else ssm__cu_step_finish<T>(a, b, h, p, y, x, dskip, z);
        }
    }
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_state_update_workspace_size(const ssm_state_update_params *p) {
    (void)p;
    return 0;
}

SSM_CUDA_API ssm_status ssm_cuda_state_update(const ssm_state_update_params *p, cudaStream_t stream,
                                              void *workspace, size_t workspace_size) {
    ssm__cu_step_args a;
    ssm_status st = ssm_state_update_validate_args(p);
    int vec;
    (void)workspace;
    (void)workspace_size;
    if (st != SSM_OK) return st;
    a.B = p->B; a.H = p->H; a.P = p->P; a.N = p->N;
    a.per_group = p->H / (p->G ? p->G : 1);
    a.Ns = p->Ns ? p->Ns : p->B;
    a.softplus = p->dt_softplus != 0;
    a.limit = p->dt_limit != 0;
    a.dt_min = p->dt_min;
    a.dt_max = p->dt_max;
    a.state = SSM__IN_VIEW(p->state, 4, a.Ns, a.H, a.P, a.N);
    a.x = SSM__IN_VIEW(p->x, 3, a.B, a.H, a.P, 0);
    a.dt = SSM__IN_VIEW(p->dt, 3, a.B, a.H, a.P, 0);
    a.A = SSM__IN_VIEW(p->A, 3, a.H, a.P, a.N, 0);
    a.Bm = SSM__IN_VIEW(p->Bm, 3, a.B, p->G ? p->G : 1, a.N, 0);
    a.Cm = SSM__IN_VIEW(p->Cm, 3, a.B, p->G ? p->G : 1, a.N, 0);
    a.Dskip = SSM__IN_VIEW(p->Dskip, 2, a.H, a.P, 0, 0);
    a.z = SSM__IN_VIEW(p->z, 3, a.B, a.H, a.P, 0);
    a.dtbias = SSM__IN_VIEW(p->dt_bias, 2, a.H, a.P, 0, 0);
    a.idx = SSM__IN_VIEW(p->state_index, 1, a.B, 0, 0, 0);
    a.out = SSM__IN_VIEW(p->out, 3, a.B, a.H, a.P, 0);
    /* Tied: exp(dt'A) is one scalar per row when A is stride 0 over N; dt' is one per (b, h)
       when dt and dt_bias are stride 0 over P. */
    a.tied = a.N == 1 || a.A.s[2] == 0;
    a.dt_tied = a.dt.s[2] == 0 && (!p->dt_bias.data || a.dtbias.s[1] == 0);
    a.PQ = ssm__cu_cdiv(a.P, SSM__STEP_VWARPS * SSM__STEP_ROWS);
    a.items = a.B * a.H * a.PQ;
    a.narrow = a.items < ((int64_t)1 << 32);
    vec = a.N <= 128 && a.N % 4 == 0 && a.state.s[3] == 1 && ssm__cu_aligned(a.state.p, 16) &&
          ssm__cu_rows_multiple(&a.state, 4, 4) && a.state.s[2] >= 0 && a.state.s[2] <= 2147483647 / SSM__STEP_ROWS;
    if (a.B * a.H == 0) return SSM_OK;
    if (vec) {
        const int64_t blocks = a.items < 2147483647 ? a.items : 2147483647;   /* the kernel strides over the rest */
        SSM__DISPATCH_DTYPE(p->dtype, T, {
            if (a.tied) SSM__CU_LAUNCH((unsigned)blocks, 32 * SSM__STEP_VWARPS, 0, stream, ssm__cu_step_vec_kernel<T, true>)(a);
            else SSM__CU_LAUNCH((unsigned)blocks, 32 * SSM__STEP_VWARPS, 0, stream, ssm__cu_step_vec_kernel<T, false>)(a);
        });
    } else {
        const int64_t blocks = a.B * a.H;   /* one per (b, h) */
        SSM__DISPATCH_DTYPE(p->dtype, T,
                            SSM__CU_LAUNCH((unsigned)(blocks < 2147483647 ? blocks : 2147483647),
                                           32 * SSM__STEP_WARPS, 0, stream, ssm__cu_step_kernel<T>)(a));
    }
    return ssm__cu_launched();
}

}   /* extern "C" */

/* ================================================================ selective_scan (SPEC §1)

   Exp-bound (one exp per state per token). A channel's N states are spread over LPC lanes of a
   warp, NPT states each, kept in registers for the whole time loop; y is a shuffle sum over the
   LPC lanes. A block of 128 threads holds 128/LPC channels and walks time in tiles of 32
   tokens: the tile's dt (bias and softplus applied once per element), u and silu(z) are staged
   in shared memory with coalesced loads, and so are B and C when all the block's channels share
   a group. Decays are exp2 of dt * (A log2 e).

   When B*D*LPC threads cannot fill the GPU, time is cut into NC chunks (time-parallel): a first
   kernel runs chunks 0..NC-2 from a zero state and keeps only each chunk's end state and decay
   (or a restart marker when a sequence starts inside it); the second kernel composes those to
   get each chunk's initial state, then runs its chunk for the outputs. Sequences (cu_seqlens)
   restart the state wherever they begin; final states are staged in the workspace when NC > 1
   (h_last may alias h0, which another chunk may still read). */

#define SSM__SCAN_THREADS 128
#define SSM__SCAN_TT 32
#define SSM__SCAN_VPT 2   /* VEC tiles: 64 channels (LPC = 2) x 32 tokens = 256 vectors of 8, 2 per thread */

typedef struct ssm__cu_scan_args {
    int64_t B, D, L, N, per_group, nseq, Lc;
    int varlen, softplus, LPC, NC, npad, shared_bc, stage_final, vec;
    ssm__cu_cv u, delta, A, Bm, Cm, Dskip, z, dbias, h0, cu, out, hlast;
    float *ws_h, *ws_dec, *ws_final;
} ssm__cu_scan_args;

template <typename T, int NPT, bool OUT, bool SHARED, bool VEC>
__global__ void __launch_bounds__(SSM__SCAN_THREADS, 4) ssm__cu_scan_kernel(ssm__cu_scan_args a) {
    const int tid = threadIdx.x, LPC = a.LPC, CPB = SSM__SCAN_THREADS / LPC;
    const int ch = tid / LPC, li = tid % LPC;
    const int TP = SSM__SCAN_TT + 1;
    float *s_dt = (float *)ssm__cu_dyn_smem(), *s_u = s_dt + CPB * TP, *s_g = s_u + CPB * TP, *s_y = s_g + CPB * TP;
    float *s_B = s_y + CPB * TP, *s_C = s_B + a.npad * SSM__SCAN_TT;
    const int64_t d0 = (int64_t)blockIdx.x * CPB, d = d0 + ch;
    const bool dvalid = d < a.D;
    const int64_t g_block = d0 / a.per_group, g = dvalid ? d / a.per_group : g_block;
    const int64_t nb = a.varlen ? 1 : a.B;
    const float dskip = dvalid ? ssm__cu_param(a.Dskip, d * a.Dskip.s[0], 0.0f) : 0.0f;
    float A2[NPT];
#pragma unroll
    for (int k = 0; k < NPT; ++k) {
        const int64_t n = (int64_t)li * NPT + k;
        A2[k] = dvalid && n < a.N ? ssm__cu_ldf(a.A.p, d * a.A.s[0] + n * a.A.s[1]) * 1.4426950408889634f : 0.0f;
    }

    for (int64_t yb = blockIdx.y; yb < nb * a.NC; yb += gridDim.y) {
        const int64_t c = yb % a.NC, b = yb / a.NC;
        const int64_t t0 = c * a.Lc, t1 = t0 + a.Lc < a.L ? t0 + a.Lc : a.L;
        float h[NPT];
#pragma unroll
        for (int k = 0; k < NPT; ++k) h[k] = 0.0f;
        if (OUT && a.NC > 1) {   /* compose the chunks before this one: restart marker < 0 */
            for (int64_t cc = 0; cc < c; ++cc) {
#pragma unroll
                for (int k = 0; k < NPT; ++k) {
                    const int64_t at = ((b * a.NC + cc) * a.D + (dvalid ? d : 0)) * a.npad + li * NPT + k;
                    const float dec = a.ws_dec[at], hl = a.ws_h[at];
                    h[k] = dec < 0.0f ? hl : dec * h[k] + hl;
                }
            }
        }
        int64_t s = b, sstart = 0, send = a.L;
        if (a.varlen) {
            s = ssm__cu_find_seq(a.cu, a.nseq, a.L, t0);
            sstart = ssm__cu_seq(a.cu, s, a.L);
            send = s < a.nseq ? ssm__cu_seq(a.cu, s + 1, a.L) : a.L;
        }
        bool restarted = false;
        double sumdt = 0.0;   /* exact enough over long chunks: the decay is exp2(A2 * sum dt) */

        /* VEC: 16-bit rows, unit stride, 16-byte aligned, N <= 32: the next tile's u, delta, z, B
           and C are loaded into registers (16-byte vectors) while the current one is computed */
        uint4 pu[SSM__SCAN_VPT], pd[SSM__SCAN_VPT], pz[SSM__SCAN_VPT], pbc[2];
        auto prefetch = [&](int64_t tq) {
#pragma unroll
            for (int k = 0; k < SSM__SCAN_VPT; ++k) {
                const int v = tid + k * SSM__SCAN_THREADS, cl = v >> 2;
                const int64_t dl = d0 + cl, t = tq + (v & 3) * 8;
                if (v < CPB * 4 && dl < a.D && t < t1) {
                    pd[k] = __ldg((const uint4 *)((const T *)a.delta.p + b * a.delta.s[0] + dl * a.delta.s[1] + t));
                    pu[k] = __ldg((const uint4 *)((const T *)a.u.p + b * a.u.s[0] + dl * a.u.s[1] + t));
                    if (OUT && a.z.p) pz[k] = __ldg((const uint4 *)((const T *)a.z.p + b * a.z.s[0] + dl * a.z.s[1] + t));
                }
            }
#pragma unroll
            for (int k = 0; k < 2; ++k) {
                const int v = tid + k * SSM__SCAN_THREADS, n = (v >> 2) % a.npad;
                const int64_t t = tq + (v & 3) * 8;
                const void *src = v < a.npad * 4 ? a.Bm.p : a.Cm.p;
                const int64_t s0 = v < a.npad * 4 ? a.Bm.s[0] : a.Cm.s[0], s1 = v < a.npad * 4 ? a.Bm.s[1] : a.Cm.s[1],
                              s2 = v < a.npad * 4 ? a.Bm.s[2] : a.Cm.s[2];
                if (v < a.npad * 8 && n < a.N && t < t1)
                    pbc[k] = __ldg((const uint4 *)((const T *)src + b * s0 + g_block * s1 + n * s2 + t));
            }
        };
        if (VEC) prefetch(t0);

        for (int64_t tt = t0; tt < t1; tt += SSM__SCAN_TT) {
            const int nt = (int)(t1 - tt < SSM__SCAN_TT ? t1 - tt : SSM__SCAN_TT);
            __syncthreads();   /* the previous tile's smem is consumed */
            if (VEC) {   /* registers -> shared memory: bias, softplus and the z gate applied once */
#pragma unroll
                for (int k = 0; k < SSM__SCAN_VPT; ++k) {
                    const int v = tid + k * SSM__SCAN_THREADS, cl = v >> 2, part = v & 3;
                    const int64_t dl = d0 + cl;
                    if (v >= CPB * 4) continue;
                    const bool ok = dl < a.D && tt + part * 8 < t1;
                    const float bias = ok ? ssm__cu_param(a.dbias, dl * a.dbias.s[0], 0.0f) : 0.0f;
                    const T *ed = (const T *)&pd[k], *eu = (const T *)&pu[k], *ez = (const T *)&pz[k];
#pragma unroll
                    for (int e = 0; e < 8; ++e) {
                        float dt = 0.0f, u = 0.0f, gate = 1.0f;
                        if (ok) {
                            dt = ssm__cu_ty<T>::f(ed[e]) + bias;
                            if (a.softplus) dt = ssm__cu_softplus(dt, 20.0f);
                            u = ssm__cu_ty<T>::f(eu[e]);
                            if (OUT && a.z.p) gate = ssm__cu_silu(ssm__cu_ty<T>::f(ez[e]));
                        }
                        s_dt[cl * TP + part * 8 + e] = dt;
                        s_u[cl * TP + part * 8 + e] = u;
                        s_g[cl * TP + part * 8 + e] = gate;
                    }
                }
#pragma unroll
                for (int k = 0; k < 2; ++k) {
                    const int v = tid + k * SSM__SCAN_THREADS, n = (v >> 2) % a.npad, part = v & 3;
                    if (v >= a.npad * 8) continue;
                    float *dst = (v < a.npad * 4 ? s_B : s_C) + n * SSM__SCAN_TT + part * 8;
                    const bool ok = n < a.N && tt + part * 8 < t1;
                    const T *e8 = (const T *)&pbc[k];
#pragma unroll
                    for (int e = 0; e < 8; ++e) dst[e] = ok ? ssm__cu_ty<T>::f(e8[e]) : 0.0f;
                }
            } else
            for (int e = tid; e < CPB * SSM__SCAN_TT; e += SSM__SCAN_THREADS) {
                const int cl = e / SSM__SCAN_TT, tl = e % SSM__SCAN_TT;
                const int64_t dl = d0 + cl;
                float dt = 0.0f, u = 0.0f, gate = 1.0f;
                if (dl < a.D && tl < nt) {
                    const int64_t t = tt + tl;
                    dt = ssm__cu_ldg<T>(a.delta.p, b * a.delta.s[0] + dl * a.delta.s[1] + t * a.delta.s[2]) +
                         ssm__cu_param(a.dbias, dl * a.dbias.s[0], 0.0f);
                    if (a.softplus) dt = ssm__cu_softplus(dt, 20.0f);
                    u = ssm__cu_ldg<T>(a.u.p, b * a.u.s[0] + dl * a.u.s[1] + t * a.u.s[2]);
                    if (OUT && a.z.p) gate = ssm__cu_silu(ssm__cu_ldg<T>(a.z.p, b * a.z.s[0] + dl * a.z.s[1] + t * a.z.s[2]));
                }
                s_dt[cl * TP + tl] = dt;
                s_u[cl * TP + tl] = u;
                s_g[cl * TP + tl] = gate;
            }
            if (SHARED && !VEC) {
                for (int e = tid; e < a.npad * SSM__SCAN_TT; e += SSM__SCAN_THREADS) {
                    const int n = e / SSM__SCAN_TT, tl = e % SSM__SCAN_TT;
                    float bv = 0.0f, cv = 0.0f;
                    if (n < a.N && tl < nt) {
                        const int64_t t = tt + tl;
                        bv = ssm__cu_ldg<T>(a.Bm.p, b * a.Bm.s[0] + g_block * a.Bm.s[1] + n * a.Bm.s[2] + t * a.Bm.s[3]);
                        cv = ssm__cu_ldg<T>(a.Cm.p, b * a.Cm.s[0] + g_block * a.Cm.s[1] + n * a.Cm.s[2] + t * a.Cm.s[3]);
                    }
                    s_B[n * SSM__SCAN_TT + tl] = bv;
                    s_C[n * SSM__SCAN_TT + tl] = cv;
                }
            }
            __syncthreads();
            if (VEC && tt + SSM__SCAN_TT < t1) prefetch(tt + SSM__SCAN_TT);
            /* the state recurrence of one token; pad: no update, output 0 */
            auto token = [&](int tl, bool pad) {
                const float dt = s_dt[ch * TP + tl], u = s_u[ch * TP + tl], dtu = dt * u;
                float y = 0.0f;
                if (!pad) {
#pragma unroll
                    for (int k = 0; k < NPT; ++k) {
                        const int64_t n = (int64_t)li * NPT + k;
                        float bv, cv;
                        if (SHARED) {
                            bv = s_B[n * SSM__SCAN_TT + tl];
                            cv = s_C[n * SSM__SCAN_TT + tl];
                        } else {
                            const int64_t t = tt + tl;
                            const bool on = dvalid && n < a.N;
                            bv = on ? ssm__cu_ldg<T>(a.Bm.p, b * a.Bm.s[0] + g * a.Bm.s[1] + n * a.Bm.s[2] + t * a.Bm.s[3]) : 0.0f;
                            cv = on ? ssm__cu_ldg<T>(a.Cm.p, b * a.Cm.s[0] + g * a.Cm.s[1] + n * a.Cm.s[2] + t * a.Cm.s[3]) : 0.0f;
                        }
                        h[k] = ssm__cu_ex2(dt * A2[k]) * h[k] + dtu * bv;
                        y += cv * h[k];
                    }
                    if (!OUT) sumdt += dt;
                }
                if (OUT) {
                    for (int o = LPC / 2; o > 0; o >>= 1) y += __shfl_xor_sync(0xffffffffu, y, o);
                    if (li == 0) s_y[ch * TP + tl] = pad ? 0.0f : (y + dskip * u) * s_g[ch * TP + tl];
                }
            };
            if (s < a.nseq && sstart < tt && send >= tt + nt) {   /* no sequence event in the tile */
                for (int tl = 0; tl < nt; ++tl) token(tl, false);
            } else
            for (int tl = 0; tl < nt; ++tl) {
                const int64_t t = tt + tl;
                if (a.varlen) {   /* block-uniform: every thread sees the same t */
                    while (s < a.nseq && t >= send) {
                        if (OUT && send > sstart && dvalid) {   /* sequence s ends inside this chunk */
#pragma unroll
                            for (int k = 0; k < NPT; ++k) {
                                const int64_t n = (int64_t)li * NPT + k;
                                if (n < a.N && a.hlast.p) {
                                    if (a.stage_final) a.ws_final[(s * a.D + d) * a.npad + n] = h[k];
                                    else ((float *)a.hlast.p)[s * a.hlast.s[0] + d * a.hlast.s[1] + n * a.hlast.s[2]] = h[k];
                                }
                            }
                        }
                        ++s;
                        sstart = ssm__cu_seq(a.cu, s, a.L);
                        send = s < a.nseq ? ssm__cu_seq(a.cu, s + 1, a.L) : a.L;
                    }
                }
                const bool pad = s >= a.nseq || t < sstart;
                if (!pad && t == sstart) {   /* a sequence starts: h0 or zeros */
#pragma unroll
                    for (int k = 0; k < NPT; ++k) {
                        const int64_t n = (int64_t)li * NPT + k;
                        h[k] = dvalid && n < a.N ? ssm__cu_param(a.h0, s * a.h0.s[0] + d * a.h0.s[1] + n * a.h0.s[2], 0.0f)
                                                 : 0.0f;
                    }
                    restarted = true;
                    sumdt = 0.0;
                }
                token(tl, pad);
            }
            if (OUT && VEC) {
                __syncthreads();
#pragma unroll
                for (int k = 0; k < SSM__SCAN_VPT; ++k) {
                    const int v = tid + k * SSM__SCAN_THREADS, cl = v >> 2, part = v & 3;
                    const int64_t dl = d0 + cl;
                    if (v < CPB * 4 && dl < a.D && tt + part * 8 < t1)
                        ssm__cu_st8<T>((T *)(uintptr_t)a.out.p + b * a.out.s[0] + dl * a.out.s[1] + tt + part * 8,
                                       s_y + cl * TP + part * 8);
                }
            } else if (OUT) {
                __syncthreads();
                for (int e = tid; e < CPB * SSM__SCAN_TT; e += SSM__SCAN_THREADS) {
                    const int cl = e / SSM__SCAN_TT, tl = e % SSM__SCAN_TT;
                    const int64_t dl = d0 + cl;
                    if (dl < a.D && tl < nt)
                        ssm__cu_st<T>(a.out.p, b * a.out.s[0] + dl * a.out.s[1] + (tt + tl) * a.out.s[2], s_y[cl * TP + tl]);
                }
            }
        }

        if (OUT) {   /* the sequence that ends exactly at this chunk's end */
            const bool ends = a.varlen ? (s < a.nseq && send == t1 && send > sstart) : t1 == a.L;
            if (ends && dvalid && a.hlast.p) {
#pragma unroll
                for (int k = 0; k < NPT; ++k) {
                    const int64_t n = (int64_t)li * NPT + k;
                    if (n >= a.N) continue;
                    if (a.stage_final) a.ws_final[(s * a.D + d) * a.npad + n] = h[k];
                    else ((float *)a.hlast.p)[s * a.hlast.s[0] + d * a.hlast.s[1] + n * a.hlast.s[2]] = h[k];
                }
            }
        } else {   /* chunk summary for the composition: end state and decay (or restart) */
#pragma unroll
            for (int k = 0; k < NPT; ++k) {
                const int64_t at = ((b * a.NC + c) * a.D + (dvalid ? d : 0)) * a.npad + li * NPT + k;
                if (!dvalid) continue;
                a.ws_h[at] = h[k];
                a.ws_dec[at] = restarted ? -1.0f : ssm__cu_ex2(A2[k] * (float)sumdt);
            }
        }
    }
}

/* ---------------------------------------------------------------- fast path: LPC lanes per channel

   The common prefill case (16-bit activations, N <= 16, no cu_seqlens, unit time strides,
   16-byte aligned rows, L % 8 == 0, all of a block's channels in one group, and enough rows to
   give every SM sub-partition a warp) keeps a channel's N states in the registers of LPC
   adjacent lanes, 8 each: LPC = 2 for N > 8, which doubles the warps of a thread per channel
   (~2 per scheduler, stalled on fixed-latency dependencies) for about the same instructions
   (gpu.scan.m1: 0.596 -> 0.499 ms; 4 lanes of 4 states measured 0.671 ms: register-capped at
   64 for a single wave, it spilled). Per state and token a lane costs 4 FMA-pipe instructions
   and one exp on the special-function unit (MUFU). The per-token work is not duplicated: the
   lanes walk time in steps of 8 * LPC tokens and lane j owns the j-th 8 of them: it reads their
   delta, u, z rows as 16-byte vectors (loaded AHEAD steps early), computes their dt' and dt' u,
   which the lanes swap through shared memory, and after the step sums the lanes' partial y of
   its tokens (shared memory again, one __syncwarp each way) and applies the D skip, the z gate
   and the 16-byte store. Split this way the per-token exps of softplus and silu are cheap enough
   on MUFU (FMA-pipe polynomials measured 0.532 ms). Tokens past L (L % (8 * LPC) != 0) get
   dt' = 0 and B = 0: the state stays. B and C of a 32-token tile are staged as f32 in shared
   memory (double-buffered, one barrier per tile) and read as broadcast 16-byte loads. */

#define SSM__SCANF_THREADS 128   /* threads per block */
#define SSM__SCANF_TT 32         /* tokens per tile */

/* softplus with threshold 20: max(x, 0) + log1p(t), t = exp(-|x|) in (0, 1], log1p(t) = t q(t)
   with q a degree-8 minimax fit of log1p(t)/t on [0, 1] (relative error 2e-7 in f32 over x in
   [-40, 20]): one MUFU exp instead of log1pf's longer sequence. A NaN x gives a NaN result. */
static __device__ __forceinline__ float ssm__cu_softplus_fast(float x) {
    const float t = ssm__cu_ex2(-fabsf(x) * 1.4426950408889634f);
    float q = 5.232694093e-03f;
    q = fmaf(q, t, -2.950523980e-02f);
    q = fmaf(q, t, 7.822595537e-02f);
    q = fmaf(q, t, -1.366324574e-01f);
    q = fmaf(q, t, 1.910600662e-01f);
    q = fmaf(q, t, -2.484298199e-01f);
    q = fmaf(q, t, 3.331909776e-01f);
    q = fmaf(q, t, -4.999949336e-01f);
    q = fmaf(q, t, 9.999999404e-01f);
    return x > 20.0f ? x : fmaf(q, t, fmaxf(x, 0.0f));
}

/* 8 activations of a 16-byte vector to f32. */
template <typename T> static __device__ __forceinline__ void ssm__cu_unpack8(const uint4 &u, float *v) {
    const T *e = (const T *)&u;
#pragma unroll
    for (int i = 0; i < 8; ++i) v[i] = ssm__cu_ty<T>::f(e[i]);
}

/* The fast kernel's layout: 8 states per lane, LPC lanes per channel, steps of TPI = 8 * LPC
   tokens; its shared memory (the exchange rows are padded by 4 floats so that a warp's channels
   fall in different banks). */
template <int LPC> struct ssm__cu_scanf_cfg {
    static constexpr int NPL = 8, NS = NPL * LPC, CPB = SSM__SCANF_THREADS / LPC, TPI = 8 * LPC, XC = LPC > 1 ? CPB : 1;
    struct smem {
        float bc[2][SSM__SCANF_TT][2 * NS];   /* per token: B[0..NS) then C[0..NS) */
        float x[XC][2 * TPI + 4];             /* per channel and step: (dt', dt' u) of each token */
        float y[XC][LPC * TPI + 4];           /* per channel and step: each lane's partial y of each token */
    };
};

/* One block's channels of batch row b, the whole sequence. */
template <typename T, int LPC>
static __device__ __forceinline__ void ssm__cu_scan_fast_row(const ssm__cu_scan_args &a, int64_t b, int tid,
                                                            typename ssm__cu_scanf_cfg<LPC>::smem &sm) {
    typedef ssm__cu_scanf_cfg<LPC> S;
    constexpr int NPL = S::NPL, NS = S::NS, TPI = S::TPI, TT = SSM__SCANF_TT, OCT = TT / 8, BCV = 2 * NS * OCT;   /* BCV: 16-byte B/C vectors per tile */
    constexpr int BCV_PT = (BCV + SSM__SCANF_THREADS - 1) / SSM__SCANF_THREADS;
    constexpr int AHEAD = LPC == 1 ? 2 : 1;   /* steps of delta, u, z loaded ahead: 128 state updates or more */
    const int ch = tid / LPC, j = tid % LPC, xc = LPC > 1 ? ch : 0;
    const int64_t d0 = (int64_t)blockIdx.x * S::CPB, d = d0 + ch;
    const bool dvalid = d < a.D;
    const int64_t dr = dvalid ? d : a.D - 1;   /* channels past D compute on the last one, store nothing */
    const int64_t g = d0 / a.per_group;
    const T *pd = (const T *)a.delta.p + b * a.delta.s[0] + dr * a.delta.s[1];
    const T *pu = (const T *)a.u.p + b * a.u.s[0] + dr * a.u.s[1];
    const T *pz = a.z.p ? (const T *)a.z.p + b * a.z.s[0] + dr * a.z.s[1] : NULL;
    T *po = (T *)(uintptr_t)a.out.p + b * a.out.s[0] + dr * a.out.s[1];
    const T *pB = (const T *)a.Bm.p + b * a.Bm.s[0] + g * a.Bm.s[1], *pC = (const T *)a.Cm.p + b * a.Cm.s[0] + g * a.Cm.s[1];
    const float bias = ssm__cu_param(a.dbias, dr * a.dbias.s[0], 0.0f), dskip = ssm__cu_param(a.Dskip, dr * a.Dskip.s[0], 0.0f);
    float A2[NPL], h[NPL];
#pragma unroll
    for (int k = 0; k < NPL; ++k) {
        const int n = j * NPL + k;
        const bool on = n < a.N;
        A2[k] = on ? ssm__cu_ldf(a.A.p, dr * a.A.s[0] + n * a.A.s[1]) * 1.4426950408889634f : 0.0f;
        h[k] = on ? ssm__cu_param(a.h0, b * a.h0.s[0] + dr * a.h0.s[1] + n * a.h0.s[2], 0.0f) : 0.0f;
    }

    uint4 rbc[BCV_PT];
    /* B and C of the tile at tt: vector v holds 8 tokens of B (jv < NS) or C of state n = jv % NS */
    auto load_bc = [&](int64_t tt) {
#pragma unroll
        for (int i = 0; i < BCV_PT; ++i) {
            const int v = tid + i * SSM__SCANF_THREADS, oct = v / (2 * NS), jv = v % (2 * NS), n = jv % NS;
            const int64_t t = tt + oct * 8;
            rbc[i] = make_uint4(0u, 0u, 0u, 0u);
            if (v < BCV && n < a.N && t < a.L)
                rbc[i] = __ldg((const uint4 *)((jv < NS ? pB + n * a.Bm.s[2] : pC + n * a.Cm.s[2]) + t));
        }
    };
    auto store_bc = [&](int buf) {
#pragma unroll
        for (int i = 0; i < BCV_PT; ++i) {
            const int v = tid + i * SSM__SCANF_THREADS, oct = v / (2 * NS), jv = v % (2 * NS);
            float e[8];
            ssm__cu_unpack8<T>(rbc[i], e);
            if (v < BCV) {
#pragma unroll
                for (int k = 0; k < 8; ++k) sm.bc[buf][oct * 8 + k][jv] = e[k];
            }
        }
    };
    /* this lane's 8 tokens of delta, u, z from t (slot q of the AHEAD + 1 in flight); 0 past L */
    uint4 rd[AHEAD + 1], ru[AHEAD + 1], rz[AHEAD + 1];
    auto load_rows = [&](int q, int64_t t) {
        rd[q] = ru[q] = rz[q] = make_uint4(0u, 0u, 0u, 0u);
        if (t < a.L) {
            rd[q] = __ldg((const uint4 *)(pd + t));
            ru[q] = __ldg((const uint4 *)(pu + t));
            if (pz) rz[q] = __ldg((const uint4 *)(pz + t));
        }
    };
    /* one token of this lane's states: returns its part of y */
    auto token = [&](int buf, int tt, float dt, float dtu) {
        const float4 *bc = (const float4 *)sm.bc[buf][tt];
        float Bv[NPL], Cv[NPL], y = 0.0f;
#pragma unroll
        for (int q = 0; q < NPL / 4; ++q) {
            const float4 bq = bc[(j * NPL) / 4 + q], cq = bc[(NS + j * NPL) / 4 + q];
            Bv[4 * q] = bq.x; Bv[4 * q + 1] = bq.y; Bv[4 * q + 2] = bq.z; Bv[4 * q + 3] = bq.w;
            Cv[4 * q] = cq.x; Cv[4 * q + 1] = cq.y; Cv[4 * q + 2] = cq.z; Cv[4 * q + 3] = cq.w;
        }
#pragma unroll
        for (int k = 0; k < NPL; ++k) {   /* one y chain: the next token's updates do not wait on it */
            h[k] = ssm__cu_ex2(dt * A2[k]) * h[k] + dtu * Bv[k];
            y = fmaf(Cv[k], h[k], y);
        }
        return y;
    };

#pragma unroll
    for (int q = 0; q <= AHEAD; ++q) load_rows(q, (int64_t)q * TPI + 8 * j);
    load_bc(0);
    int buf = 0;
#pragma unroll 1   /* a rolled loop: unrolled measured slower (instruction cache) */
    for (int64_t t0 = 0; t0 < a.L; t0 += TPI) {
        const int tl = (int)(t0 % TT);
        if (tl == 0) {   /* a new tile: stage its B and C (into the buffer last read two tiles ago:
                            every thread has passed a barrier since), fetch the next tile's */
            buf = (int)((t0 / TT) & 1);
            store_bc(buf);
            __syncthreads();
            if (t0 + TT < a.L) load_bc(t0 + TT);
        }
        const int64_t tg = t0 + 8 * j;   /* this lane's 8 tokens */
        const bool in = tg < a.L;        /* L % 8 == 0: all 8 or none */
        const uint4 cu = ru[0], cz = rz[0];
        float dt[8], dtu[8], yp[TPI], y[8];
        ssm__cu_unpack8<T>(rd[0], dt);
        ssm__cu_unpack8<T>(cu, dtu);
#pragma unroll
        for (int q = 0; q < AHEAD; ++q) {
            rd[q] = rd[q + 1]; ru[q] = ru[q + 1]; rz[q] = rz[q + 1];
        }
        load_rows(AHEAD, tg + (int64_t)TPI * (AHEAD + 1));
#pragma unroll
        for (int e = 0; e < 8; ++e) {
            float v = dt[e] + bias;
            if (a.softplus) v = ssm__cu_softplus_fast(v);
            dt[e] = in ? v : 0.0f;   /* past L: no decay (and u = 0, B = 0: no input) */
            dtu[e] *= dt[e];
        }
        if constexpr (LPC > 1) {   /* every lane needs every token's dt' and dt' u */
            float4 *x = (float4 *)sm.x[xc] + 4 * j;
#pragma unroll
            for (int i = 0; i < 4; ++i) x[i] = make_float4(dt[2 * i], dtu[2 * i], dt[2 * i + 1], dtu[2 * i + 1]);
            __syncwarp();
        }
#pragma unroll
        for (int e = 0; e < TPI; e += 2) {
            float4 q;
            if constexpr (LPC > 1) q = ((const float4 *)sm.x[xc])[e / 2];
            else q = make_float4(dt[e], dtu[e], dt[e + 1], dtu[e + 1]);
            yp[e] = token(buf, tl + e, q.x, q.y);
            yp[e + 1] = token(buf, tl + e + 1, q.z, q.w);
            if (LPC > 1 && e % 4 == 2)   /* partial sums out as they complete: fewer live registers */
                ((float4 *)sm.y[xc])[(j * TPI + e - 2) / 4] = make_float4(yp[e - 2], yp[e - 1], yp[e], yp[e + 1]);
        }
        if constexpr (LPC > 1) {   /* y of this lane's tokens: the sum of every lane's part */
            __syncwarp();
#pragma unroll
            for (int e = 0; e < 8; ++e) y[e] = 0.0f;
#pragma unroll
            for (int q = 0; q < LPC; ++q) {
#pragma unroll
                for (int i = 0; i < 2; ++i) {
                    const float4 s = ((const float4 *)(sm.y[xc] + q * TPI + 8 * j))[i];
                    y[4 * i] += s.x; y[4 * i + 1] += s.y; y[4 * i + 2] += s.z; y[4 * i + 3] += s.w;
                }
            }
        } else {
#pragma unroll
            for (int e = 0; e < 8; ++e) y[e] = yp[e];
        }
        float u[8], gate[8];
        ssm__cu_unpack8<T>(cu, u);
        ssm__cu_unpack8<T>(cz, gate);
#pragma unroll
        for (int e = 0; e < 8; ++e) y[e] = (y[e] + dskip * u[e]) * (pz ? ssm__cu_silu(gate[e]) : 1.0f);
        if (dvalid && in) ssm__cu_st8<T>(po + tg, y);
    }
    if (a.hlast.p && dvalid) {
#pragma unroll
        for (int k = 0; k < NPL; ++k) {
            const int n = j * NPL + k;
            if (n < a.N) ((float *)a.hlast.p)[b * a.hlast.s[0] + d * a.hlast.s[1] + n * a.hlast.s[2]] = h[k];
        }
    }
}

template <typename T, int LPC>
__global__ void __launch_bounds__(SSM__SCANF_THREADS, 2 * LPC) ssm__cu_scan_fast_kernel(ssm__cu_scan_args a) {
    __shared__ __align__(16) typename ssm__cu_scanf_cfg<LPC>::smem sm;
    for (int64_t b = blockIdx.y; b < a.B; b += gridDim.y) {
        ssm__cu_scan_fast_row<T, LPC>(a, b, (int)threadIdx.x, sm);
        __syncthreads();   /* the shared memory is reused by the next batch row */
    }
}

/* Final states: sequences with no tokens keep h0 (or zeros); staged ones are copied out. */
__global__ void __launch_bounds__(256) ssm__cu_scan_final_kernel(ssm__cu_scan_args a) {
    const int64_t nseq = a.varlen ? a.nseq : a.B, total = nseq * a.D * a.N;
    for (int64_t it = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; it < total; it += (int64_t)gridDim.x * blockDim.x) {
        const int64_t n = it % a.N, d = (it / a.N) % a.D, s = it / (a.N * a.D);
        const bool empty = a.varlen ? ssm__cu_seq(a.cu, s + 1, a.L) <= ssm__cu_seq(a.cu, s, a.L) : a.L == 0;
        float *dst = (float *)a.hlast.p + s * a.hlast.s[0] + d * a.hlast.s[1] + n * a.hlast.s[2];
        if (empty) *dst = ssm__cu_param(a.h0, s * a.h0.s[0] + d * a.h0.s[1] + n * a.h0.s[2], 0.0f);
        else if (a.stage_final) *dst = a.ws_final[(s * a.D + d) * a.npad + n];
    }
}

typedef struct ssm__cu_scan_plan {
    int npt, lpc, nc, fast;   /* fast: the thread-per-channel kernel, npt states per thread */
    int64_t Lc;
    size_t smem;
} ssm__cu_scan_plan;

/* The operand views and shape fields of the kernel arguments (the plan's fields come later). */
static void ssm__cu_scan_fill(ssm__cu_scan_args *a, const ssm_selective_scan_params *p) {
    const int64_t G = p->G ? p->G : 1;
    memset(a, 0, sizeof *a);
    a->B = p->B; a->D = p->D; a->L = p->L; a->N = p->N;
    a->per_group = p->D / G;
    a->varlen = p->cu_seqlens.data != NULL;
    a->nseq = a->varlen ? p->nseq : p->B;
    a->softplus = p->delta_softplus != 0;
    a->u = SSM__IN_VIEW(p->u, 3, a->B, a->D, a->L, 0);
    a->delta = SSM__IN_VIEW(p->delta, 3, a->B, a->D, a->L, 0);
    a->A = SSM__IN_VIEW(p->A, 2, a->D, a->N, 0, 0);
    a->Bm = SSM__IN_VIEW(p->Bm, 4, a->B, G, a->N, a->L);
    a->Cm = SSM__IN_VIEW(p->Cm, 4, a->B, G, a->N, a->L);
    a->Dskip = SSM__IN_VIEW(p->Dskip, 1, a->D, 0, 0, 0);
    a->z = SSM__IN_VIEW(p->z, 3, a->B, a->D, a->L, 0);
    a->dbias = SSM__IN_VIEW(p->delta_bias, 1, a->D, 0, 0, 0);
    a->h0 = SSM__IN_VIEW(p->h0, 3, a->nseq, a->D, a->N, 0);
    a->cu = SSM__IN_VIEW(p->cu_seqlens, 1, a->nseq + 1, 0, 0, 0);
    a->out = SSM__IN_VIEW(p->out, 3, a->B, a->D, a->L, 0);
    a->hlast = SSM__IN_VIEW(p->h_last, 3, a->nseq, a->D, a->N, 0);
}

/* 16-byte vectors along time: 16-bit activations, unit time strides, 16-byte aligned rows. */
static int ssm__cu_scan_vec_layout(const ssm__cu_scan_args *a, ssm_dtype dtype) {
    return dtype != SSM_F32 && a->L % 8 == 0 && a->u.s[2] == 1 && a->delta.s[2] == 1 && a->out.s[2] == 1 && a->Bm.s[3] == 1 &&
           a->Cm.s[3] == 1 && (!a->z.p || a->z.s[2] == 1) && ssm__cu_aligned(a->u.p, 16) && ssm__cu_aligned(a->delta.p, 16) &&
           ssm__cu_aligned(a->out.p, 16) && ssm__cu_aligned(a->Bm.p, 16) && ssm__cu_aligned(a->Cm.p, 16) &&
           (!a->z.p || ssm__cu_aligned(a->z.p, 16)) && ssm__cu_rows_multiple(&a->u, 3, 8) &&
           ssm__cu_rows_multiple(&a->delta, 3, 8) && ssm__cu_rows_multiple(&a->out, 3, 8) &&
           ssm__cu_rows_multiple(&a->Bm, 4, 8) && ssm__cu_rows_multiple(&a->Cm, 4, 8) &&
           (!a->z.p || ssm__cu_rows_multiple(&a->z, 3, 8));
}

static ssm__cu_scan_plan ssm__cu_scan_make_plan(const ssm__cu_scan_args *a, ssm_dtype dtype, int sms) {
    ssm__cu_scan_plan pl;
    const int64_t N = a->N, rows = (a->varlen ? 1 : a->B) * a->D;
    int64_t threads, want, maxnc;
    /* the fast path: 8 states per lane, 2 lanes per channel past 8; it wants a warp for every SM
       sub-partition (4 per SM) at least */
    pl.npt = 8;
    pl.lpc = N <= 8 ? 1 : 2;
    pl.fast = !a->varlen && N <= 16 && ssm__cu_scan_vec_layout(a, dtype) &&
              (a->per_group == a->D || a->per_group % (SSM__SCANF_THREADS / pl.lpc) == 0) &&
              rows * pl.lpc >= (int64_t)sms * 4 * 32;
    if (pl.fast) {
        pl.nc = 1;
        pl.Lc = a->L;
        pl.smem = 0;
        return pl;
    }
    pl.npt = N <= 1 ? 1 : N <= 2 ? 2 : N <= 4 ? 4 : N <= 256 ? 8 : 16;
    pl.lpc = 1;
    while ((int64_t)pl.lpc * pl.npt < N) pl.lpc *= 2;
    /* enough resident threads to keep the exp units busy: time-chunk when rows are few */
    threads = rows * pl.lpc;
    want = (int64_t)(sms > 0 ? sms : 1) * 1024;
    maxnc = a->L / (4 * SSM__SCAN_TT);
    pl.nc = 1;
    if (threads < want / 4 && maxnc > 1) {
        int64_t nc = ssm__cu_cdiv(want, threads > 0 ? threads : 1);
        if (nc > maxnc) nc = maxnc;
        if (nc > 64) nc = 64;
        pl.nc = (int)(nc > 1 ? nc : 1);
    }
    pl.Lc = ssm__cu_cdiv(ssm__cu_cdiv(a->L > 0 ? a->L : 1, pl.nc), SSM__SCAN_TT) * SSM__SCAN_TT;
    pl.nc = (int)ssm__cu_cdiv(a->L > 0 ? a->L : 1, pl.Lc);
    {
        const int cpb = SSM__SCAN_THREADS / pl.lpc, npad = pl.lpc * pl.npt;
        pl.smem = sizeof(float) * ((size_t)4 * cpb * (SSM__SCAN_TT + 1) + (size_t)2 * npad * SSM__SCAN_TT);
    }
    return pl;
}

static void ssm__cu_scan_carve(ssm__cu_arena *ar, const ssm_selective_scan_params *p, const ssm__cu_scan_plan *pl,
                            float **ws_h, float **ws_dec, float **ws_final) {
    const int64_t nb = p->cu_seqlens.data ? 1 : p->B, npad = (int64_t)pl->lpc * pl->npt;
    const int64_t nseq = p->cu_seqlens.data ? p->nseq : p->B;
    *ws_h = *ws_dec = *ws_final = NULL;
    if (pl->nc <= 1) return;
    *ws_h = (float *)ssm__cu_take(ar, sizeof(float) * (size_t)(nb * pl->nc * p->D * npad));
    *ws_dec = (float *)ssm__cu_take(ar, sizeof(float) * (size_t)(nb * pl->nc * p->D * npad));
    if (p->h_last.data) *ws_final = (float *)ssm__cu_take(ar, sizeof(float) * (size_t)(nseq * p->D * npad));
}

template <typename T, int NPT, bool SHARED, bool VEC>
static ssm_status ssm__cu_scan_run(const ssm__cu_scan_args &a, const ssm__cu_scan_plan &pl, cudaStream_t stream) {
    const int64_t nb = a.varlen ? 1 : a.B;
    dim3 grid((unsigned)ssm__cu_cdiv(a.D, SSM__SCAN_THREADS / a.LPC), (unsigned)(nb * a.NC < 65535 ? nb * a.NC : 65535));
    if (pl.smem > 48 * 1024) {
        if (cudaFuncSetAttribute(ssm__cu_scan_kernel<T, NPT, true, SHARED, VEC>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 (int)pl.smem) != cudaSuccess ||
            cudaFuncSetAttribute(ssm__cu_scan_kernel<T, NPT, false, SHARED, VEC>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 (int)pl.smem) != cudaSuccess)
            return ssm__cu_failed();
    }
    if (a.NC > 1) SSM__CU_LAUNCH(grid, SSM__SCAN_THREADS, pl.smem, stream, ssm__cu_scan_kernel<T, NPT, false, SHARED, VEC>)(a);
    SSM__CU_LAUNCH(grid, SSM__SCAN_THREADS, pl.smem, stream, ssm__cu_scan_kernel<T, NPT, true, SHARED, VEC>)(a);
    return ssm__cu_launched();
}

template <typename T, int NPT>
static ssm_status ssm__cu_scan_run2(const ssm__cu_scan_args &a, const ssm__cu_scan_plan &pl, cudaStream_t stream) {
    if (a.vec && sizeof(T) == 2 && NPT == 8) return ssm__cu_scan_run<T, NPT, true, true>(a, pl, stream);
    return a.shared_bc ? ssm__cu_scan_run<T, NPT, true, false>(a, pl, stream)
                       : ssm__cu_scan_run<T, NPT, false, false>(a, pl, stream);
}

template <typename T>
static ssm_status ssm__cu_scan_dispatch(const ssm__cu_scan_args &a, const ssm__cu_scan_plan &pl, cudaStream_t stream) {
    if constexpr (sizeof(T) == 2) {   /* the fast path takes 16-bit activations only */
        if (pl.fast) {
            const dim3 grid((unsigned)ssm__cu_cdiv(a.D, SSM__SCANF_THREADS / pl.lpc), (unsigned)(a.B < 65535 ? a.B : 65535));
            if (pl.lpc == 2) SSM__CU_LAUNCH(grid, SSM__SCANF_THREADS, 0, stream, ssm__cu_scan_fast_kernel<T, 2>)(a);
            else SSM__CU_LAUNCH(grid, SSM__SCANF_THREADS, 0, stream, ssm__cu_scan_fast_kernel<T, 1>)(a);
            return ssm__cu_launched();
        }
    }
    switch (pl.npt) {
    case 1: return ssm__cu_scan_run2<T, 1>(a, pl, stream);
    case 2: return ssm__cu_scan_run2<T, 2>(a, pl, stream);
    case 4: return ssm__cu_scan_run2<T, 4>(a, pl, stream);
    case 8: return ssm__cu_scan_run2<T, 8>(a, pl, stream);
    default: return ssm__cu_scan_run2<T, 16>(a, pl, stream);
    }
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_selective_scan_workspace_size(const ssm_selective_scan_params *p) {
    ssm__cu_arena ar = ssm__cu_arena_of(NULL);
    ssm__cu_scan_args a;
    ssm__cu_scan_plan pl;
    float *h, *dec, *fin;
    if (ssm_selective_scan_validate_args(p) != SSM_OK || p->N > 512) return 0;
    ssm__cu_scan_fill(&a, p);
    pl = ssm__cu_scan_make_plan(&a, p->dtype, ssm__cu_sm_count());
    ssm__cu_scan_carve(&ar, p, &pl, &h, &dec, &fin);
    return ssm__cu_arena_bytes(&ar);
}

SSM_CUDA_API ssm_status ssm_cuda_selective_scan(const ssm_selective_scan_params *p, cudaStream_t stream,
                                                void *workspace, size_t workspace_size) {
    ssm__cu_scan_args a;
    ssm__cu_scan_plan pl;
    ssm__cu_arena ar = ssm__cu_arena_of(workspace);
    ssm_status st = ssm_selective_scan_validate_args(p);
    int sms;
    if (st != SSM_OK) return st;
    if (p->N > 512) return SSM_ERR_UNSUPPORTED;
    if ((sms = ssm__cu_sm_count()) <= 0) return ssm__cu_failed();
    ssm__cu_scan_fill(&a, p);
    pl = ssm__cu_scan_make_plan(&a, p->dtype, sms);
    if (!ssm__cu_smem_fits(pl.smem)) return SSM_ERR_UNSUPPORTED;   /* N > 256 below 131 KB a block */
    ssm__cu_scan_carve(&ar, p, &pl, &a.ws_h, &a.ws_dec, &a.ws_final);
    if ((st = ssm__cu_check_ws(ssm__cu_arena_bytes(&ar), workspace, workspace_size)) != SSM_OK) return st;
    a.LPC = pl.lpc;
    a.NC = pl.nc;
    a.Lc = pl.Lc;
    a.npad = pl.lpc * pl.npt;
    a.stage_final = pl.nc > 1 && p->h_last.data != NULL;
    /* B and C from shared memory when every block's channels are in one group */
    a.shared_bc = a.per_group % (SSM__SCAN_THREADS / pl.lpc) == 0 || a.per_group == a.D;
    /* the general kernel's 16-byte vector tiles: also B/C in shared memory, 2 lanes per channel */
    a.vec = ssm__cu_scan_vec_layout(&a, p->dtype) && a.shared_bc && pl.lpc == 2 && pl.npt == 8;
    if (a.B > 0 && a.L > 0) {
        SSM__DISPATCH_DTYPE(p->dtype, T, st = ssm__cu_scan_dispatch<T>(a, pl, stream));
        if (st != SSM_OK) return st;
    }
    if (a.hlast.p && a.nseq > 0 && (a.varlen || a.L == 0 || a.stage_final)) {
        SSM__CU_LAUNCH(ssm__cu_blocks(a.nseq * a.D * a.N, 256, sms), 256, 0, stream, ssm__cu_scan_final_kernel)(a);
        return ssm__cu_launched();
    }
    return SSM_OK;
}

}   /* extern "C" */

/* ================================================================ hsa_select (SPEC §5)

   One warp per (b, t, head). Scores are double dot products (cached in shared memory for up to
   1024 eligible chunks, recomputed beyond that). The K-th best chunk (the threshold) comes from
   K rounds of a warp arg-max over the chunks ranked after the previous pick, with SPEC's order
   (larger score, then larger chunk index, NaN last); then one pass over the eligible chunks in
   descending order emits the chosen ones into slots (ballot + popc) with their weights, the
   stick-breaking prefix sums as a warp scan. Not a hot path: written to be exact and simple. */

#define SSM__HSEL_WARPS 4
#define SSM__HSEL_CACHE 1024

typedef struct ssm__cu_hsel_args {
    int64_t B, Lq, C, HR, R, K, S, q_offset, window;
    int mode;
    ssm__cu_cv qr, lmk, idx, w;
} ssm__cu_hsel_args;

template <typename T>
static __device__ double ssm__cu_hsel_score(const ssm__cu_hsel_args &a, int64_t b, int64_t t, int64_t h, int64_t c) {
    const int64_t qo = b * a.qr.s[0] + t * a.qr.s[1] + h * a.qr.s[2];
    const int64_t lo = b * a.lmk.s[0] + c * a.lmk.s[1] + h * a.lmk.s[2];
    double acc = 0.0;
    for (int64_t r = 0; r < a.R; ++r)
        acc += (double)ssm__cu_ldg<T>(a.qr.p, qo + r * a.qr.s[3]) * (double)ssm__cu_ldg<T>(a.lmk.p, lo + r * a.lmk.s[3]);
    return acc / sqrt((double)a.R);
}

/* Chunk ca (score ra) is picked before chunk cb (score rb). */
static __device__ __forceinline__ bool ssm__cu_hsel_before(double ra, int64_t ca, double rb, int64_t cb) {
    const bool na = isnan(ra), nb = isnan(rb);
    if (na || nb) return na != nb ? nb : ca > cb;
    if (ra != rb) return ra > rb;
    return ca > cb;
}

template <typename T>
__global__ void __launch_bounds__(32 * SSM__HSEL_WARPS) ssm__cu_hsel_kernel(ssm__cu_hsel_args a) {
    __shared__ double cache[SSM__HSEL_WARPS][SSM__HSEL_CACHE];
    const unsigned full = 0xffffffffu;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t total = a.B * a.Lq * a.HR;
    for (int64_t qi = (int64_t)blockIdx.x * SSM__HSEL_WARPS + warp; qi < total;
         qi += (int64_t)gridDim.x * SSM__HSEL_WARPS) {
        const int64_t h = qi % a.HR, t = (qi / a.HR) % a.Lq, b = qi / (a.HR * a.Lq);
        const int64_t pos = a.q_offset + t, lim = a.window ? pos - a.window + a.S : pos;
        const int64_t ne = lim >= a.S ? (lim / a.S < a.C ? lim / a.S : a.C) : 0;   /* eligible: [0, ne) */
        const bool cached = ne <= SSM__HSEL_CACHE;
        const int64_t obase = b * a.idx.s[0] + t * a.idx.s[1] + h * a.idx.s[2];
        const int64_t wbase = b * a.w.s[0] + t * a.w.s[1] + h * a.w.s[2];
        if (cached)
            for (int64_t c = lane; c < ne; c += 32) cache[warp][c] = ssm__cu_hsel_score<T>(a, b, t, h, c);
        __syncwarp();
#define SSM__HSEL_SCORE(c) (cached ? cache[warp][c] : ssm__cu_hsel_score<T>(a, b, t, h, c))
        const bool all = ne <= a.K;
        int64_t tau = -1;
        double rtau = 0.0;
        if (!all) {
            for (int64_t round = 0; round < a.K; ++round) {
                int64_t bc = -1;
                double br = 0.0;
                for (int64_t c = lane; c < ne; c += 32) {
                    const double r = SSM__HSEL_SCORE(c);
                    if (round > 0 && !ssm__cu_hsel_before(rtau, tau, r, c)) continue;   /* already taken */
                    if (bc < 0 || ssm__cu_hsel_before(r, c, br, bc)) { bc = c; br = r; }
                }
                for (int o = 16; o > 0; o >>= 1) {
                    const long long oc = __shfl_xor_sync(full, (long long)bc, o);
                    const double orr = __shfl_xor_sync(full, br, o);
                    if (oc >= 0 && (bc < 0 || ssm__cu_hsel_before(orr, oc, br, bc))) { bc = oc; br = orr; }
                }
                tau = bc;
                rtau = br;
            }
        }
        double m = -INFINITY, sum = 0.0;
        if (a.mode == SSM_HSA_SOFTMAX) {
            for (int64_t c = lane; c < ne; c += 32) {
                const double r = SSM__HSEL_SCORE(c);
                if (all || c == tau || ssm__cu_hsel_before(r, c, rtau, tau)) m = fmax(m, r);
            }
            for (int o = 16; o > 0; o >>= 1) m = fmax(m, __shfl_xor_sync(full, m, o));
            for (int64_t c = lane; c < ne; c += 32) {
                const double r = SSM__HSEL_SCORE(c);
                if (all || c == tau || ssm__cu_hsel_before(r, c, rtau, tau)) sum += exp(r - m);
            }
            for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(full, sum, o);
        }
        int64_t slot_base = 0;
        double carry = 0.0;
        for (int64_t base = ne - 1; base >= 0; base -= 32) {   /* descending chunk index */
            const int64_t c = base - lane;
            double r = 0.0;
            bool chosen = false;
            if (c >= 0) {
                r = SSM__HSEL_SCORE(c);
                chosen = all || c == tau || ssm__cu_hsel_before(r, c, rtau, tau);
            }
            const unsigned bal = __ballot_sync(full, chosen);
            const int64_t slot = slot_base + __popc(bal & ((1u << lane) - 1u));
            double wv;
            if (a.mode == SSM_HSA_SOFTMAX) {
                wv = exp(r - m) / sum;
            } else {
                double incl = chosen ? (r > 15.0 ? r : log1p(exp(r))) : 0.0;
                for (int o = 1; o < 32; o <<= 1) {
                    const double v = __shfl_up_sync(full, incl, o);
                    if (lane >= o) incl += v;
                }
                wv = exp(r - (carry + incl));
                carry += __shfl_sync(full, incl, 31);
            }
            if (chosen && slot < a.K) {
                ((int *)(uintptr_t)a.idx.p)[obase + slot * a.idx.s[3]] = (int)c;
                ((float *)(uintptr_t)a.w.p)[wbase + slot * a.w.s[3]] = (float)wv;
            }
            slot_base += __popc(bal);
        }
#undef SSM__HSEL_SCORE
        for (int64_t i = slot_base + lane; i < a.K; i += 32) {
            ((int *)(uintptr_t)a.idx.p)[obase + i * a.idx.s[3]] = -1;
            ((float *)(uintptr_t)a.w.p)[wbase + i * a.w.s[3]] = 0.0f;
        }
        __syncwarp();
    }
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_hsa_select_workspace_size(const ssm_hsa_select_params *p) {
    (void)p;
    return 0;
}

SSM_CUDA_API ssm_status ssm_cuda_hsa_select(const ssm_hsa_select_params *p, cudaStream_t stream, void *workspace,
                                            size_t workspace_size) {
    ssm__cu_hsel_args a;
    ssm_status st = ssm_hsa_select_validate_args(p);
    int sms;
    int64_t total;
    (void)workspace;
    (void)workspace_size;
    if (st != SSM_OK) return st;
    a.B = p->B; a.Lq = p->Lq; a.C = p->C; a.HR = p->HR; a.R = p->R; a.K = p->K; a.S = p->S;
    a.q_offset = p->q_offset;
    a.window = p->window;
    a.mode = (int)p->mode;
    a.qr = SSM__IN_VIEW(p->qr, 4, a.B, a.Lq, a.HR, a.R);
    a.lmk = SSM__IN_VIEW(p->lmk, 4, a.B, a.C, a.HR, a.R);
    a.idx = SSM__IN_VIEW(p->idx, 4, a.B, a.Lq, a.HR, a.K);
    a.w = SSM__IN_VIEW(p->w, 4, a.B, a.Lq, a.HR, a.K);
    total = a.B * a.Lq * a.HR;
    if (total == 0) return SSM_OK;
    if ((sms = ssm__cu_sm_count()) <= 0) return ssm__cu_failed();
    SSM__DISPATCH_DTYPE(p->dtype, T,
                        SSM__CU_LAUNCH(ssm__cu_blocks(total * 32, 32 * SSM__HSEL_WARPS, sms * 4),
                                       32 * SSM__HSEL_WARPS, 0, stream, ssm__cu_hsel_kernel<T>)(a));
    return ssm__cu_launched();
}

}   /* extern "C" */

/* ================================================================ hsa_attention (SPEC §5)

   Three kernels. The general one (any shape, f32, strides) gives one warp to each query row
   (b, t, hq): per slot, one pass for the chunk's softmax max and sum, one for the weighted sum
   of values, all in f32 (the sum over keys of exp in double where sm_n enters).

   The tensor-core ones (16-bit activations, E = Ev = 64, S % 16 == 0 and S <= 64) are described
   where they are defined, below the tensor-core helpers: token-major when G % 16 == 0, else
   windowed chunk-major. */

typedef struct ssm__cu_hatt_args {
    int64_t B, Lq, Lk, HQ, HK, E, Ev, K, S, C, G, TB;
    float scale, sm_n;
    int ovec;   /* o's rows take 16-byte stores (unit stride, aligned) */
    ssm__cu_cv q, k, v, idx, w, o, lse;
} ssm__cu_hatt_args;

#define SSM__HATT_EPL 4

template <typename T>
static __device__ __forceinline__ float ssm__cu_hatt_score(const ssm__cu_hatt_args &a, int64_t qoff, int64_t koff) {
    float acc = 0.0f;
    for (int64_t e = 0; e < a.E; ++e) acc += ssm__cu_ldg<T>(a.q.p, qoff + e * a.q.s[3]) * ssm__cu_ldg<T>(a.k.p, koff + e * a.k.s[3]);
    return a.scale * acc;
}

template <typename T>
__global__ void __launch_bounds__(128) ssm__cu_hatt_generic_kernel(ssm__cu_hatt_args a) {
    __shared__ float s_p[4][32];
    const unsigned full = 0xffffffffu;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t total = a.B * a.Lq * a.HQ;
    for (int64_t row = (int64_t)blockIdx.x * 4 + warp; row < total; row += (int64_t)gridDim.x * 4) {
        const int64_t hq = row % a.HQ, t = (row / a.HQ) % a.Lq, b = row / (a.HQ * a.Lq), h = hq / a.G;
        const int64_t qoff = b * a.q.s[0] + t * a.q.s[1] + hq * a.q.s[2];
        for (int64_t e0 = 0; e0 < a.Ev; e0 += 32 * SSM__HATT_EPL) {
            float acc[SSM__HATT_EPL];
#pragma unroll
            for (int r = 0; r < SSM__HATT_EPL; ++r) acc[r] = 0.0f;
            for (int64_t i = 0; i < a.K; ++i) {
                const int64_t c = __ldg((const int *)a.idx.p + b * a.idx.s[0] + t * a.idx.s[1] + h * a.idx.s[2] + i * a.idx.s[3]);
                float *lse = a.lse.p ? (float *)(uintptr_t)a.lse.p + b * a.lse.s[0] + t * a.lse.s[1] + hq * a.lse.s[2] +
                                           i * a.lse.s[3]
                                     : NULL;
                if (c < 0 || c >= a.C) {   /* empty slot (or an index outside [-1, C)) */
                    if (e0 == 0 && lse && lane == 0) *lse = -INFINITY;
                    continue;
                }
                const float wi = __ldg((const float *)a.w.p + b * a.w.s[0] + t * a.w.s[1] + h * a.w.s[2] + i * a.w.s[3]);
                const int64_t kbase = b * a.k.s[0] + c * a.S * a.k.s[1] + h * a.k.s[2];
                float m = -INFINITY, l = 0.0f;
                for (int64_t j = lane; j < a.S; j += 32) m = fmaxf(m, ssm__cu_hatt_score<T>(a, qoff, kbase + j * a.k.s[1]));
                for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(full, m, o));
                for (int64_t j = lane; j < a.S; j += 32) l += expf(ssm__cu_hatt_score<T>(a, qoff, kbase + j * a.k.s[1]) - m);
                l = ssm__cu_warp_sum(l);
                const double ld = (double)l + (a.sm_n != 0.0f ? (double)a.sm_n * exp(-(double)m) : 0.0);
                if (e0 == 0 && lse && lane == 0) *lse = (float)((double)m + log(ld));
                float part[SSM__HATT_EPL];
#pragma unroll
                for (int r = 0; r < SSM__HATT_EPL; ++r) part[r] = 0.0f;
                for (int64_t j0 = 0; j0 < a.S; j0 += 32) {
                    const int64_t j = j0 + lane;
                    s_p[warp][lane] = j < a.S ? expf(ssm__cu_hatt_score<T>(a, qoff, kbase + j * a.k.s[1]) - m) : 0.0f;
                    __syncwarp();
                    const int64_t jn = a.S - j0 < 32 ? a.S - j0 : 32;
                    for (int64_t jj = 0; jj < jn; ++jj) {
                        const float pj = s_p[warp][jj];
                        const int64_t vrow = b * a.v.s[0] + (c * a.S + j0 + jj) * a.v.s[1] + h * a.v.s[2];
#pragma unroll
                        for (int r = 0; r < SSM__HATT_EPL; ++r) {
                            const int64_t e = e0 + lane + 32 * r;
                            if (e < a.Ev) part[r] += pj * ssm__cu_ldg<T>(a.v.p, vrow + e * a.v.s[3]);
                        }
                    }
                    __syncwarp();
                }
                const float f = (float)((double)wi / ld);
#pragma unroll
                for (int r = 0; r < SSM__HATT_EPL; ++r) acc[r] += f * part[r];
            }
#pragma unroll
            for (int r = 0; r < SSM__HATT_EPL; ++r) {
                const int64_t e = e0 + lane + 32 * r;
                if (e < a.Ev) ssm__cu_st<T>(a.o.p, b * a.o.s[0] + t * a.o.s[1] + hq * a.o.s[2] + e * a.o.s[3], acc[r]);
            }
        }
    }
}

/* ---------------------------------------------------------------- tensor-core helpers (sm_80+) */

template <typename TT> struct ssm__cu_mm;
template <> struct ssm__cu_mm<__nv_bfloat16> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
        return *(uint32_t *)&v;
    }
    static __device__ __forceinline__ float half_at(uint32_t u, int i) {
        return __uint_as_float((i ? u & 0xffff0000u : u << 16));
    }
    static __device__ __forceinline__ void mma(float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
#ifdef SSM_CUDA_EMULATE
        ssm_emu_mma_m16n8k16(SSM_EMU_MMA_BF16, d, a, b0, b1);
#else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
    }
};
template <> struct ssm__cu_mm<__half> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __half2 v = __floats2half2_rn(lo, hi);
        return *(uint32_t *)&v;
    }
    static __device__ __forceinline__ float half_at(uint32_t u, int i) {
        __half2 v = *(__half2 *)&u;
        return i ? __high2float(v) : __low2float(v);
    }
    static __device__ __forceinline__ void mma(float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
#ifdef SSM_CUDA_EMULATE
        ssm_emu_mma_m16n8k16(SSM_EMU_MMA_F16, d, a, b0, b1);
#else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
    }
};

/* f32 pair -> two 16-bit pairs, hi + lo, whose sum carries about 16 mantissa bits. The halves of
   hi are read back from the packed pair (bit operations for bf16): one paired conversion each for
   hi and lo, where rounding each value on its own costs a single-value conversion apiece, and
   those issue at a quarter of the FMA rate (CUDA's throughput table for sm_90: 16 a cycle per SM). */
template <typename TT>
static __device__ __forceinline__ void ssm__cu_split2(float x0, float x1, uint32_t *hi, uint32_t *lo) {
    typedef ssm__cu_mm<TT> M;
    const uint32_t h = M::pack(x0, x1);
    *hi = h;
    *lo = M::pack(x0 - M::half_at(h, 0), x1 - M::half_at(h, 1));
}

#ifdef SSM_CUDA_EMULATE
/* The CPU emulator (tests/cuda_emu.h): copies complete at the wait that lets them. */
static __device__ __forceinline__ void ssm__cu_cp16(void *dst, const void *src) { ssm_emu_cp_async(dst, src, 16); }
static __device__ __forceinline__ uint64_t ssm__cu_l2_evict_first(void) { return 0; }
static __device__ __forceinline__ void ssm__cu_cp16_policy(void *dst, const void *src, uint64_t) {
    ssm_emu_cp_async(dst, src, 16);
}
static __device__ __forceinline__ void ssm__cu_cp_commit(void) { ssm_emu_cp_commit(); }
template <int N> static __device__ __forceinline__ void ssm__cu_cp_wait(void) { ssm_emu_cp_wait(N); }
static __device__ __forceinline__ void ssm__cu_ldsm4(uint32_t *r, const void *p) { ssm_emu_ldmatrix_x4(SSM_EMU_LDSM, r, p); }
static __device__ __forceinline__ void ssm__cu_ldsm4t(uint32_t *r, const void *p) {
    ssm_emu_ldmatrix_x4(SSM_EMU_LDSM_T, r, p);
}
#else
static __device__ __forceinline__ uint32_t ssm__cu_smem_addr(const void *p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}
static __device__ __forceinline__ void ssm__cu_cp16(void *dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(ssm__cu_smem_addr(dst)), "l"(src));
}
/* An L2 policy for the activations, which are read (x, z) or written (out) once: evicted first,
   so that what is read again (the ring slots of the states, B and C, shared by the heads) stays
   in L2 while they stream past. */
static __device__ __forceinline__ uint64_t ssm__cu_l2_evict_first(void) {
    uint64_t pol;
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(pol));
    return pol;
}
static __device__ __forceinline__ void ssm__cu_cp16_policy(void *dst, const void *src, uint64_t pol) {
    asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;" ::"r"(ssm__cu_smem_addr(dst)), "l"(src),
                 "l"(pol));
}
static __device__ __forceinline__ void ssm__cu_cp_commit(void) { asm volatile("cp.async.commit_group;"); }
/* Waits until at most N committed groups of copies are still in flight. */
template <int N> static __device__ __forceinline__ void ssm__cu_cp_wait(void) {
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}
static __device__ __forceinline__ void ssm__cu_ldsm4(uint32_t *r, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(ssm__cu_smem_addr(p)));
}
static __device__ __forceinline__ void ssm__cu_ldsm4t(uint32_t *r, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(ssm__cu_smem_addr(p)));
}
#endif
static __device__ __forceinline__ void ssm__cu_cp_wait_all(void) { ssm__cu_cp_wait<0>(); }

/* ---------------------------------------------------------------- hsa_attention, tensor cores

   16-bit activations, E = Ev = 64, S % 16 == 0 and S <= 64. A block walks windows of TB tokens
   of one (b, KV head); every (token, query head) of the window is an accumulator row in shared
   memory (TB * G <= 256 rows), so all G heads of a token and, for small G, many tokens share
   one chunk's K and V: that reuse is what keeps the L2 traffic down.

   The window's (token, slot) pairs are counting-sorted by chunk (a slot repeating an earlier
   slot's chunk goes after all the chunks, on its own); the sorted (pair, head) rows are cut into
   m16 tiles that never mix chunks. A tile: S = Q K^T, the per-row softmax in registers (each
   chunk has its own, so no online rescaling), then P V with P's accumulator fragments, scaled by
   w / l, as the A operand; the result is added to the rows' accumulators.

   Tiles go out statically in batches, one per warp: warp w takes tile NW * batch + w. Its one
   buffer holds the tile's chunk's K, then (once the scores are done) its V, then the next tile's
   K, which loads during the batch's additions. Measured (gpu.hsa.g1.16k, H200): 16 warps x one
   8 KB buffer 7.78 ms, 12 x one 7.97, 8 x a K and a V buffer with the next tile's in flight 8.9:
   the kernel is latency-bound, more warps beat deeper loads. A batch's results are added in phases
   separated by __syncthreads: the rows of a token that occur in several tiles of one batch add in
   sorted order (the phase of a row is the number of its token's earlier rows in the batch, computed
   with the sort), every other row in phase 0. So no row is written by two warps between barriers,
   and each row's additions come in one fixed order (ascending chunk, then the repeats): the same
   bits every run. */

#define SSM__HTC_WARPS 16     /* warps per block (one block per SM: shared memory, 128 registers) */
#define SSM__HTC_ROWS 256     /* accumulator rows per window: TB * G <= 256 */
#define SSM__HTC_PAIRS 2048   /* (token, slot) pairs per window: TB * K <= 2048 */
#define SSM__HTC_SROWS 4096   /* (pair, head) rows per window: TB * K * G <= 4096 (12 bits) */
#define SSM__HTC_TILES 2048   /* tiles per window: <= pairs for G <= 16, <= 256 + 4096 / G above */
#define SSM__HTC_KMAX 64      /* slots per token */
#define SSM__HTC_CMAX 1024    /* chunks of one sequence (histogram buckets, plus one for repeats) */
#define SSM__HTC_ACS 68       /* accumulator row stride (floats): padded against bank conflicts */
#define SSM__HTC_KV (64 * 64)   /* 16-bit elements of one warp's buffer: a chunk's K, then its V */
#define SSM__HTC_SMEM                                                                                         \
    ((size_t)SSM__HTC_ROWS * SSM__HTC_ACS * 4 + (size_t)SSM__HTC_WARPS * SSM__HTC_KV * 2 +                    \
     (size_t)SSM__HTC_PAIRS * 4 + (size_t)(SSM__HTC_CMAX + 2) * 4 + (size_t)SSM__HTC_TILES / SSM__HTC_WARPS * 4 + \
     (size_t)SSM__HTC_PAIRS * 2 + (size_t)(SSM__HTC_CMAX + 2) * 2 + (size_t)SSM__HTC_TILES * 2 +             \
     (size_t)SSM__HTC_SROWS)

/* A pair's packed description while sorting: chunk and repeat flag; after sorting, its chunk and
   "tile place" (16 * tile + row in tile of its head-0 row; tile = (place + head) / 16). */
#define SSM__HTC_RBIT (1 << 16)
static __device__ __forceinline__ int ssm__cu_htc_chunk(int pv) { return pv & 0xffff; }
static __device__ __forceinline__ int ssm__cu_htc_place(int pv) { return pv & 0xffff; }
static __device__ __forceinline__ int ssm__cu_htc_pchunk(int pv) { return pv >> 16; }
/* A tile: first sorted row (12 bits) and rows - 1 (4 bits). */
static __device__ __forceinline__ unsigned short ssm__cu_htc_tent(int r0, int n) {
    return (unsigned short)(r0 | (n - 1) << 12);
}

/* Element offset of (row, col) in a 64-wide 16-bit tile whose 16-byte chunks are XOR-swizzled
   by row, so that 8 rows read at one column hit 8 different bank groups. Only row & 7 enters the
   swizzle: rows 8 apart are 512 elements apart at the same column, so a lane's ldmatrix addresses
   are a few per-lane bases plus constant offsets. */
static __device__ __forceinline__ int ssm__cu_swz(int row, int col) {
    return row * 64 + ((((col >> 3) ^ row) & 7) << 3) + (col & 7);
}

/* What one window's tiles need to find their rows. */
typedef struct ssm__cu_htc_win {
    int64_t b, h, t0;
    const int *pair;                 /* per pair: chunk and tile place */
    const unsigned short *sorted;    /* pair indices, chunk order */
    const unsigned char *phase;      /* per (pair, head): phase of its addition in its batch */
} ssm__cu_htc_win;

/* The chunk size S of the tensor-core hsa kernels: SC when it is fixed at compile time (S = 64,
   the canonical size: the key loops then unroll with no branches, so the n-tiles' mma chains
   interleave), else the runtime value. */
template <int SC> static __device__ __forceinline__ int ssm__cu_htc_s(const ssm__cu_hatt_args &a) {
    return SC ? SC : (int)a.S;
}

/* The S rows of one chunk of k or v (b, h fixed by base) into a 64-wide swizzled tile. A lane
   copies 16-byte part lane % 8 of rows lane / 8 + 4 i, whose swizzled place alternates between
   two columns (row & 7 is r0 or r0 + 4), so the loop is one copy and two pointer steps. DENSE
   (the token-major kernel; the windowed one, at its register cap, would spill): with S fixed
   and rows 64 elements apart (one KV head, E = 64: the canonical shapes) every copy's source is
   the lane's base plus a constant, so no copy needs 64-bit address arithmetic. */
template <typename TT, int SC, bool DENSE = false>
static __device__ __forceinline__ void ssm__cu_htc_load(const ssm__cu_hatt_args &a, const ssm__cu_cv &src, int64_t base,
                                                         int chunk, TT *buf, int lane) {
    const int part = lane % 8, r0 = lane / 8;
    const int64_t rs = src.s[1];
    const int S = ssm__cu_htc_s<SC>(a);
    const TT *g = (const TT *)src.p + base + ((int64_t)chunk * S + r0) * rs + part * 8;
    TT *d = buf + r0 * 64;
    const int c0 = ((part ^ r0) & 7) << 3, c1 = 4 * 64 + (((part ^ (r0 + 4)) & 7) << 3);
    if (DENSE && SC && rs == 64) {
#pragma unroll
        for (int i = 0; i < SC / 8; ++i) {
            ssm__cu_cp16(d + c0 + i * 512, g + i * 512);
            ssm__cu_cp16(d + c1 + i * 512, g + 256 + i * 512);
        }
        return;
    }
#pragma unroll 8   /* S <= 64: whole */
    for (int i = 0; i < S / 8; ++i) {   /* S % 16 == 0: rows in steps of 8 */
        ssm__cu_cp16(d + c0, g);
        ssm__cu_cp16(d + c1, g + 4 * rs);
        d += 8 * 64;
        g += 8 * rs;
    }
}

/* A 16-row tile's Q as m16n8k16 A fragments (k = E): rows gq and gq + 8 of the tile start at
   qrow[0] and qrow[1] (NULL: a row outside the tile, zeros). */
template <typename TT>
static __device__ __forceinline__ void ssm__cu_htc_qfrag(const TT *const *qrow, int lane, uint32_t (&qa)[4][4]) {
    const int cq = lane % 4;
#pragma unroll
    for (int ks = 0; ks < 4; ++ks)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh)
#pragma unroll
            for (int hr = 0; hr < 2; ++hr)
                qa[ks][hr + 2 * hh] = qrow[hr] ? __ldg((const unsigned *)(qrow[hr] + ks * 16 + hh * 8 + 2 * cq)) : 0u;
}

/* Each row's softmax numerators of raw scores sc in place, sc = 2^(sl2 sc - m), m the row's
   largest sl2 sc (log2 units, sl2 = scale log2 e); mx = m and sum per half-tile row (gq, gq + 8),
   reduced over the quad. FOLD (sl2 > 0, so that the largest sl2 sc is sl2 times the largest sc,
   rounding being monotonic): sl2 goes into the exponent's FFMA, not one multiply per score. */
template <bool FOLD>
static __device__ __forceinline__ void ssm__cu_htc_softmax(float sl2, int nkt, float (&sc)[8][4], float *mx, float *sum) {
    const unsigned full = 0xffffffffu;
    mx[0] = mx[1] = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
        if (nt < nkt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                if (!FOLD) sc[nt][e] *= sl2;
                mx[e >> 1] = fmaxf(mx[e >> 1], sc[nt][e]);
            }
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        mx[hr] = fmaxf(mx[hr], __shfl_xor_sync(full, mx[hr], 1));
        mx[hr] = fmaxf(mx[hr], __shfl_xor_sync(full, mx[hr], 2));
        if (FOLD) mx[hr] *= sl2;
    }
    sum[0] = sum[1] = 0.0f;
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
        if (nt < nkt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                sc[nt][e] = ssm__cu_ex2(FOLD ? fmaf(sc[nt][e], sl2, -mx[e >> 1]) : sc[nt][e] - mx[e >> 1]);
                sum[e >> 1] += sc[nt][e];
            }
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        sum[hr] += __shfl_xor_sync(full, sum[hr], 1);
        sum[hr] += __shfl_xor_sync(full, sum[hr], 2);
    }
}

/* S = Q K^T for one 16-row tile (Q fragments qa) against the chunk's keys staged in kbuf, then
   each row's softmax numerators in place (ssm__cu_htc_softmax; FOLD: with a positive scale
   folded into the exponent, in the token-major kernel: the windowed one, at its register cap,
   would spill). */
template <typename TT, int SC, bool FOLD = false>
static __device__ __forceinline__ void ssm__cu_htc_scores(const ssm__cu_hatt_args &a, const uint32_t (&qa)[4][4],
                                                           const TT *kbuf, int lane, float (&sc)[8][4], float *mx,
                                                           float *sum) {
    const int nkt = ssm__cu_htc_s<SC>(a) / 8;
    const TT *kb[2] = {kbuf + ssm__cu_swz(lane & 7, (lane >> 3) * 8), kbuf + ssm__cu_swz(lane & 7, 32 + (lane >> 3) * 8)};
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
        sc[nt][0] = sc[nt][1] = sc[nt][2] = sc[nt][3] = 0.0f;
        if (nt < nkt) {
#pragma unroll
            for (int kp = 0; kp < 2; ++kp) {
                uint32_t bb[4];   /* rows nt * 8 + (lane & 7), columns kp * 32 + (lane >> 3) * 8 */
                ssm__cu_ldsm4(bb, kb[kp] + nt * 512);
                ssm__cu_mm<TT>::mma(sc[nt], qa[2 * kp], bb[0], bb[1]);
                ssm__cu_mm<TT>::mma(sc[nt], qa[2 * kp + 1], bb[2], bb[3]);
            }
        }
    }
    const float sl2 = a.scale * 1.4426950408889634f;
    if (FOLD && sl2 > 0.0f) ssm__cu_htc_softmax<true>(sl2, nkt, sc, mx, sum);
    else ssm__cu_htc_softmax<false>(sl2, nkt, sc, mx, sum);
}

/* A row's factor w / l for its P V product, and its lse (natural log), from the max (log2
   units) and sum of ssm__cu_htc_scores. */
static __device__ __forceinline__ float ssm__cu_htc_factor(const ssm__cu_hatt_args &a, float mx, float sum, float wi,
                                                           float *lse) {
    const float ln2 = 0.6931471805599453f;
    if (a.sm_n == 0.0f) {   /* sum >= 1 (the max key contributes 1) */
        *lse = (mx + __log2f(sum)) * ln2;
        return __fdividef(wi, sum);
    }
    /* sm_n exp(-m) can exceed the f32 range: in double */
    const double m = (double)mx * 0.6931471805599453;
    const double ld = (double)sum + (double)a.sm_n * exp(-m);
    *lse = (float)(m + log(ld));
    return (float)((double)wi / ld);
}

/* acc += (f P) V: P's accumulator fragments, scaled by their row's f, are the A operand (k =
   keys). With SSM_CUDA_HSA_PRECISE f P goes in as two 16-bit halves (hi + lo), so its rounding
   stays out of the output error. */
template <typename TT, int SC>
static __device__ __forceinline__ void ssm__cu_htc_pv(const ssm__cu_hatt_args &a, const float (&sc)[8][4], const float *f,
                                                       const TT *vbuf, int lane, float (&acc)[8][4]) {
    const int m = lane >> 3, vr = (m & 1) * 8 + (lane & 7);
    const TT *vb[4] = {vbuf + ssm__cu_swz(vr, (m >> 1) * 8), vbuf + ssm__cu_swz(vr, 16 + (m >> 1) * 8),
                       vbuf + ssm__cu_swz(vr, 32 + (m >> 1) * 8), vbuf + ssm__cu_swz(vr, 48 + (m >> 1) * 8)};
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
        if (ks * 16 >= ssm__cu_htc_s<SC>(a)) break;
        const float p00 = sc[2 * ks][0] * f[0], p01 = sc[2 * ks][1] * f[0], p02 = sc[2 * ks][2] * f[1],
                    p03 = sc[2 * ks][3] * f[1], p10 = sc[2 * ks + 1][0] * f[0], p11 = sc[2 * ks + 1][1] * f[0],
                    p12 = sc[2 * ks + 1][2] * f[1], p13 = sc[2 * ks + 1][3] * f[1];
        uint32_t pa[4], pl[4];
#if SSM_CUDA_HSA_PRECISE
        ssm__cu_split2<TT>(p00, p01, &pa[0], &pl[0]);
        ssm__cu_split2<TT>(p02, p03, &pa[1], &pl[1]);
        ssm__cu_split2<TT>(p10, p11, &pa[2], &pl[2]);
        ssm__cu_split2<TT>(p12, p13, &pa[3], &pl[3]);
#else
        pa[0] = ssm__cu_mm<TT>::pack(p00, p01);
        pa[1] = ssm__cu_mm<TT>::pack(p02, p03);
        pa[2] = ssm__cu_mm<TT>::pack(p10, p11);
        pa[3] = ssm__cu_mm<TT>::pack(p12, p13);
        (void)pl;
#endif
#pragma unroll
        for (int np = 0; np < 4; ++np) {
            uint32_t bb[4];   /* rows ks * 16 + vr, columns np * 16 + (m >> 1) * 8 */
            ssm__cu_ldsm4t(bb, vb[np] + ks * 1024);
            ssm__cu_mm<TT>::mma(acc[2 * np], pa, bb[0], bb[1]);
            ssm__cu_mm<TT>::mma(acc[2 * np + 1], pa, bb[2], bb[3]);
#if SSM_CUDA_HSA_PRECISE
            ssm__cu_mm<TT>::mma(acc[2 * np], pl, bb[0], bb[1]);
            ssm__cu_mm<TT>::mma(acc[2 * np + 1], pl, bb[2], bb[3]);
#endif
        }
    }
}

/* The window's accumulator rows to o: 8 values a thread, one 16-byte store when o's rows allow. */
template <typename TT>
static __device__ __forceinline__ void ssm__cu_htc_store(const ssm__cu_hatt_args &a, const float *acc, int64_t b,
                                                          int64_t h, int64_t t0, int nrows) {
    const int G = (int)a.G;
    for (int i = threadIdx.x; i < nrows * 8; i += blockDim.x) {
        const int r = i / 8, e = i % 8 * 8, tl = r / G, j = r - tl * G;
        const float *src = acc + r * SSM__HTC_ACS + e;
        const int64_t off = b * a.o.s[0] + (t0 + tl) * a.o.s[1] + (h * G + j) * a.o.s[2];
        if (a.ovec) {
            ssm__cu_st8<TT>((TT *)(uintptr_t)a.o.p + off + e, src);
        } else {
            for (int k = 0; k < 8; ++k) ssm__cu_st<TT>(a.o.p, off + (e + k) * a.o.s[3], src[k]);
        }
    }
}

/* What a tile needs before its chunk: per half-row (gq, gq + 8) its accumulator row and phase
   (-1: outside the tile), weight and lse offset, and Q as m16n8k16 A fragments. Read one tile
   ahead, while the current tile's V loads, so that the Q and w loads are in flight early. */
typedef struct ssm__cu_htc_rows {
    int racc[2], rph[2];
    float rw[2];
    int64_t lse[2];
    uint32_t qa[4][4];
} ssm__cu_htc_rows;

/* The rows of tile `ent`: sorted rows r0 .. r0 + n - 1, row = sorted position * G + head
   (ent < 0: no tile, no rows). */
template <typename TT>
static __device__ __forceinline__ void ssm__cu_htc_prep(const ssm__cu_hatt_args &a, const ssm__cu_htc_win &w, int ent,
                                                         int lane, ssm__cu_htc_rows &r) {
    const int gq = lane / 4, G = (int)a.G, K = (int)a.K, r0 = ent & 4095, n = ent < 0 ? 0 : (ent >> 12) + 1;
    const TT *qrow[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const bool ok = gq + 8 * hr < n;
        const int rr = r0 + gq + 8 * hr, pos = rr / G, j = rr - pos * G;
        const int p = ok ? w.sorted[pos] : 0, tl = p / K, slot = p - tl * K;
        const int64_t t = w.t0 + tl, hq = w.h * G + j;
        r.racc[hr] = ok ? tl * G + j : -1;
        r.rph[hr] = ok ? w.phase[p * G + j] : -1;
        r.rw[hr] = ok ? __ldg((const float *)a.w.p + w.b * a.w.s[0] + t * a.w.s[1] + w.h * a.w.s[2] + slot * a.w.s[3])
                      : 0.0f;
        r.lse[hr] = w.b * a.lse.s[0] + t * a.lse.s[1] + hq * a.lse.s[2] + slot * a.lse.s[3];
        qrow[hr] = ok ? (const TT *)a.q.p + w.b * a.q.s[0] + t * a.q.s[1] + hq * a.q.s[2] : NULL;
    }
    ssm__cu_htc_qfrag<TT>(qrow, lane, r.qa);
}

/* A tile's contribution in ov: its rows r (ssm__cu_htc_prep) against the chunk's K in kbuf and
   V in vbuf. mid() runs between the reads of K and of V. */
template <typename TT, int SC, typename Mid>
static __device__ __forceinline__ void ssm__cu_htc_tile(const ssm__cu_hatt_args &a, const ssm__cu_htc_rows &r,
                                                         const TT *kbuf, const TT *vbuf, int lane, Mid mid,
                                                         float (&ov)[8][4]) {
    float sc[8][4], mx[2], sum[2], f[2];
    ssm__cu_htc_scores<TT, SC>(a, r.qa, kbuf, lane, sc, mx, sum);
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        f[hr] = 0.0f;
        if (r.racc[hr] >= 0) {
            float lse;
            f[hr] = ssm__cu_htc_factor(a, mx[hr], sum[hr], r.rw[hr], &lse);
            if (a.lse.p && lane % 4 == 0) ((float *)(uintptr_t)a.lse.p)[r.lse[hr]] = lse;
        }
    }
    mid();
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) ov[nt][0] = ov[nt][1] = ov[nt][2] = ov[nt][3] = 0.0f;
    ssm__cu_htc_pv<TT, SC>(a, sc, f, vbuf, lane, ov);
}

/* The window's setup, after the indices are in pair (chunk or -1) and the histogram is zero:
   repeats, counting sort by chunk, the tile list, each pair's tile place, each row's phase and
   each batch's phase count. Returns the number of tiles. Every step is one barrier interval. */
static __device__ int ssm__cu_htc_setup(const ssm__cu_hatt_args &a, int ntok, int clo, int range, int *pair, int *hist,
                                         int *nph, unsigned short *sorted, unsigned short *btile,
                                         unsigned short *tiles, unsigned char *phase, int *s_nv, int *s_nt) {
    const unsigned full = 0xffffffffu;
    const int tid = threadIdx.x, lane = tid % 32, G = (int)a.G, K = (int)a.K, npairs = ntok * K;
    const int gt = (G + 15) / 16;   /* tiles of one repeat */
    /* per token: a slot repeating an earlier slot's chunk goes to the repeat bucket (range) */
    for (int tl = tid; tl < ntok; tl += blockDim.x) {
        int *tp = pair + tl * K;
        for (int i = 0; i < K; ++i) {
            if (tp[i] < 0) continue;
            bool r = false;
            for (int j = 0; j < i && !r; ++j) r = ssm__cu_htc_chunk(tp[j]) == tp[i];
            if (r) tp[i] |= SSM__HTC_RBIT;
            atomicAdd(&hist[r ? range : tp[i] - clo], 1);
        }
    }
    __syncthreads();
    if (tid < 32) {   /* exclusive scans of pairs and tiles over the buckets; the tile list */
        const int nb = range + 1, per = (nb + 31) / 32, blo = lane * per, bhi = min(blo + per, nb);
        auto ntiles_of = [&](int i, int n) { return i < range ? (n * G + 15) / 16 : n * gt; };
        int cnt = 0, nt = 0;
        for (int i = blo; i < bhi; ++i) {
            cnt += hist[i];
            nt += ntiles_of(i, hist[i]);
        }
        int icnt = cnt, itl = nt;
        for (int o = 1; o < 32; o <<= 1) {
            const int v1 = __shfl_up_sync(full, icnt, o), v2 = __shfl_up_sync(full, itl, o);
            if (lane >= o) {
                icnt += v1;
                itl += v2;
            }
        }
        int run = icnt - cnt, trun = itl - nt;
        for (int i = blo; i < bhi; ++i) {
            const int n = hist[i];
            hist[i] = run;
            btile[i] = (unsigned short)trun;
            if (i < range) {   /* one chunk's rows, cut into tiles */
                for (int r = 0; r < n * G; r += 16) tiles[trun++] = ssm__cu_htc_tent(run * G + r, min(16, n * G - r));
            } else {           /* each repeat's G rows on their own */
                for (int k = 0; k < n; ++k)
                    for (int r = 0; r < G; r += 16) tiles[trun++] = ssm__cu_htc_tent((run + k) * G + r, min(16, G - r));
            }
            run += n;
        }
        if (lane == 31) {
            *s_nv = icnt;
            *s_nt = itl;
        }
    }
    __syncthreads();
    for (int p = tid; p < npairs; p += blockDim.x) {
        const int pv = pair[p];
        if (pv >= 0) sorted[atomicAdd(&hist[pv & SSM__HTC_RBIT ? range : pv - clo], 1)] = (unsigned short)p;
    }
    __syncthreads();
    /* after the scatter hist[i] is the end of bucket i */
    const int nvalid = *s_nv, rstart = range > 0 ? hist[range - 1] : 0;
    if (nvalid - rstart > 1) {   /* repeats (only from hand-made indices): in pair order */
        if (tid == 0)
            for (int i = rstart + 1; i < nvalid; ++i) {
                const unsigned short x = sorted[i];
                int j = i;
                for (; j > rstart && sorted[j - 1] > x; --j) sorted[j] = sorted[j - 1];
                sorted[j] = x;
            }
        __syncthreads();
    }
    for (int pos = tid; pos < nvalid; pos += blockDim.x) {   /* each pair's chunk and tile place */
        const int p = sorted[pos], pv = pair[p], c = ssm__cu_htc_chunk(pv);
        int place;
        if (pv & SSM__HTC_RBIT) {
            place = 16 * (btile[range] + (pos - rstart) * gt);
        } else {
            const int bk = c - clo, start = bk > 0 ? hist[bk - 1] : 0;
            place = 16 * btile[bk] + (pos - start) * G;
        }
        pair[p] = place | c << 16;
    }
    __syncthreads();
    /* each (token, head) row: its phase in each batch it is added in, the number of its token's
       rows before it (sorted order = tile place order) in the same batch */
    for (int rw = tid; rw < ntok * G; rw += blockDim.x) {
        const int tl = rw / G, j = rw - tl * G;
        const int *tp = pair + tl * K;
        for (int i = 0; i < K; ++i) {
            if (tp[i] < 0) continue;
            const int pl = ssm__cu_htc_place(tp[i]), bt = (pl + j) / 16 / SSM__HTC_WARPS;
            int ph = 0;
            for (int i2 = 0; i2 < K; ++i2) {
                const int pl2 = ssm__cu_htc_place(tp[i2]);
                ph += tp[i2] >= 0 && pl2 < pl && (pl2 + j) / 16 / SSM__HTC_WARPS == bt;
            }
            phase[(tl * K + i) * G + j] = (unsigned char)ph;
            atomicMax(&nph[bt], ph + 1);
        }
    }
    __syncthreads();
    return *s_nt;
}

/* Adds a tile's contribution (ov, from ssm__cu_htc_tile) to its rows' accumulators, in the
   batch's phases, a barrier after each: all warps of the block call it with the same nph. */
static __device__ __forceinline__ void ssm__cu_htc_add(float *acc, const float (&ov)[8][4], const ssm__cu_htc_rows &r,
                                                        int nph, int lane) {
    for (int ph = 0; ph < nph; ++ph) {
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
            if (r.rph[hr] != ph) continue;
            float *arow = acc + r.racc[hr] * SSM__HTC_ACS + 2 * (lane % 4);
#pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
                float2 *pp = (float2 *)(arow + nt * 8), x = *pp;
                x.x += ov[nt][2 * hr];
                x.y += ov[nt][2 * hr + 1];
                *pp = x;
            }
        }
        __syncthreads();
    }
}

template <typename TT, int SC>
__global__ void __launch_bounds__(32 * SSM__HTC_WARPS, 1) ssm__cu_hatt_tc_kernel(ssm__cu_hatt_args a) {
    float *s_acc = (float *)ssm__cu_dyn_smem();
    TT *s_kv = (TT *)(s_acc + SSM__HTC_ROWS * SSM__HTC_ACS);
    int *s_pair = (int *)(s_kv + SSM__HTC_WARPS * SSM__HTC_KV);
    int *s_hist = s_pair + SSM__HTC_PAIRS;
    int *s_nph = s_hist + SSM__HTC_CMAX + 2;   /* per batch: phases */
    unsigned short *s_sorted = (unsigned short *)(s_nph + SSM__HTC_TILES / SSM__HTC_WARPS);
    unsigned short *s_btile = s_sorted + SSM__HTC_PAIRS;   /* per bucket: its first tile */
    unsigned short *s_tiles = s_btile + SSM__HTC_CMAX + 2;
    unsigned char *s_phase = (unsigned char *)(s_tiles + SSM__HTC_TILES);
    __shared__ int s_lo, s_hi, s_nv, s_nt;
    const unsigned full = 0xffffffffu;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int G = (int)a.G, K = (int)a.K;   /* small: checked by the launcher */
    const int64_t nblk = (a.Lq + a.TB - 1) / a.TB, total = a.B * a.HK * nblk;
    TT *buf = s_kv + warp * SSM__HTC_KV;
    ssm__cu_htc_win win;
    win.pair = s_pair;
    win.sorted = s_sorted;
    win.phase = s_phase;

    for (int64_t blk = blockIdx.x; blk < total; blk += gridDim.x) {
        const int64_t tb = blk % nblk;
        win.h = (blk / nblk) % a.HK;
        win.b = blk / (nblk * a.HK);
        win.t0 = tb * a.TB;
        const int64_t b = win.b, h = win.h, t0 = win.t0;
        const int ntok = (int)(a.Lq - t0 < a.TB ? a.Lq - t0 : a.TB), npairs = ntok * K, nrows = ntok * G;
        const int64_t kbase = b * a.k.s[0] + h * a.k.s[2], vbase = b * a.v.s[0] + h * a.v.s[2];
        __syncthreads();   /* the previous window is written out */
        for (int i = tid; i < nrows * 16; i += blockDim.x)
            *(float4 *)(s_acc + (i / 16) * SSM__HTC_ACS + (i % 16) * 4) = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        for (int i = tid; i < SSM__HTC_TILES / SSM__HTC_WARPS; i += blockDim.x) s_nph[i] = 0;
        if (tid == 0) {
            s_lo = 0x7fffffff;
            s_hi = -1;
        }
        __syncthreads();
        /* the window's indices; empty slots (any index outside [0, C)) get lse = -inf */
        int lo = 0x7fffffff, hi = -1;
        for (int p = tid; p < npairs; p += blockDim.x) {
            const int tl = p / K, i = p - tl * K;
            const int64_t t = t0 + tl;
            const int64_t c = __ldg((const int *)a.idx.p + b * a.idx.s[0] + t * a.idx.s[1] + h * a.idx.s[2] + i * a.idx.s[3]);
            const bool ok = c >= 0 && c < a.C;
            s_pair[p] = ok ? (int)c : -1;
            if (ok) {
                lo = min(lo, (int)c);
                hi = max(hi, (int)c);
            } else if (a.lse.p) {
                for (int j = 0; j < G; ++j)
                    ((float *)(uintptr_t)a.lse.p)[b * a.lse.s[0] + t * a.lse.s[1] + (h * G + j) * a.lse.s[2] + i * a.lse.s[3]] =
                        -INFINITY;
            }
        }
        for (int o = 16; o > 0; o >>= 1) {
            lo = min(lo, __shfl_xor_sync(full, lo, o));
            hi = max(hi, __shfl_xor_sync(full, hi, o));
        }
        if (lane == 0) {
            atomicMin(&s_lo, lo);
            atomicMax(&s_hi, hi);
        }
        __syncthreads();
        const int clo = s_lo, range = s_hi >= 0 ? s_hi - s_lo + 1 : 0;   /* buckets: chunks, then repeats */
        for (int i = tid; i <= range; i += blockDim.x) s_hist[i] = 0;
        __syncthreads();
        const int ntiles = ssm__cu_htc_setup(a, ntok, clo, range, s_pair, s_hist, s_nph, s_sorted, s_btile, s_tiles,
                                                 s_phase, &s_nv, &s_nt);

        /* the batches; a warp's buffer holds its tile's K, then its V, then the next tile's K,
           which loads during the additions. */
        auto chunk_of = [&](int t) { return ssm__cu_htc_pchunk(s_pair[s_sorted[(s_tiles[t] & 4095) / G]]); };
        int cur = warp;
        if (cur < ntiles) ssm__cu_htc_load<TT, SC>(a, a.k, kbase, chunk_of(cur), buf, lane);
        ssm__cu_cp_commit();
        ssm__cu_htc_rows rows, next;
        ssm__cu_htc_prep<TT>(a, win, cur < ntiles ? s_tiles[cur] : -1, lane, rows);
        for (int bt = 0; bt * SSM__HTC_WARPS < ntiles; ++bt, cur += SSM__HTC_WARPS) {
            const int nx = cur + SSM__HTC_WARPS;
            float ov[8][4];
            ssm__cu_cp_wait_all();   /* K in */
            __syncwarp();
            auto mid = [&]() {
                __syncwarp();   /* K is read */
                if (cur < ntiles) ssm__cu_htc_load<TT, SC>(a, a.v, vbase, chunk_of(cur), buf, lane);
                ssm__cu_cp_commit();
                ssm__cu_htc_prep<TT>(a, win, nx < ntiles ? s_tiles[nx] : -1, lane, next);
                ssm__cu_cp_wait_all();   /* V in */
                __syncwarp();
            };
            if (cur < ntiles) ssm__cu_htc_tile<TT, SC>(a, rows, buf, buf, lane, mid, ov);
            else mid();
            __syncwarp();   /* V is read */
            if (nx < ntiles) ssm__cu_htc_load<TT, SC>(a, a.k, kbase, chunk_of(nx), buf, lane);
            ssm__cu_cp_commit();
            ssm__cu_htc_add(s_acc, ov, rows, s_nph[bt], lane);
            rows = next;
        }
        ssm__cu_cp_wait_all();
        __syncthreads();
        ssm__cu_htc_store<TT>(a, s_acc, b, h, t0, nrows);
    }
}

/* ---------------------------------------------------------------- hsa_attention, token-major

   The tensor-core path when a token's G query heads fill whole 16-row tiles (G % 16 == 0): a
   warp owns one tile (token, 16 query heads) from start to end. Its Q fragments and f32
   accumulators stay in registers and it adds the token's slots in slot order, so the result is
   the same every run with nothing handed between warps. The slots' K and V tiles stream
   through the warp's own ring of SSM__HTK_NB 64 x 64 buffers (cp.async, swizzled rows), the
   next NB - 1 loads in flight while one is used. K and V come from L2 once per (token, slot):
   a window of tokens sharing a chunk's copy would read less, but its rows then need an add
   order across warps (the kernel above). */

#ifndef SSM__HTK_WARPS
#define SSM__HTK_WARPS 12   /* warps per block, one block per SM (shared memory) */
#endif
#ifndef SSM__HTK_NB
#define SSM__HTK_NB 2       /* K / V buffers per warp. The kernel is issue-bound, so warps beat depth
                               (gpu.hsa.4k, bf16, H200): 12 warps x 2 buffers 0.64 ms, 8 x 3 0.78,
                               7 x 4 1.03, 4 x 6 1.51 (the last two before the load loop was trimmed) */
#endif
#define SSM__HTK_BUF (64 * 64)           /* 16-bit elements of one K or V buffer */
#define SSM__HTK_SMEM ((size_t)SSM__HTK_WARPS * SSM__HTK_NB * SSM__HTK_BUF * 2)

/* Slot i's value: lane i % 32 of v[i / 32]. */
static __device__ __forceinline__ int ssm__cu_htk_at(const int (&v)[2], int i) {
    const int lo = __shfl_sync(0xffffffffu, v[0], i & 31), hi = __shfl_sync(0xffffffffu, v[1], i & 31);
    return i < 32 ? lo : hi;
}
static __device__ __forceinline__ float ssm__cu_htk_atf(const float (&v)[2], int i) {
    const float lo = __shfl_sync(0xffffffffu, v[0], i & 31), hi = __shfl_sync(0xffffffffu, v[1], i & 31);
    return i < 32 ? lo : hi;
}
/* The lowest slot left in the mask (and its removal), or -1. */
static __device__ __forceinline__ int ssm__cu_htk_next(unsigned long long *rest) {
    if (!*rest) return -1;
    const int i = __ffsll((long long)*rest) - 1;
    *rest &= *rest - 1;
    return i;
}

template <typename TT, int SC>
__global__ void __launch_bounds__(32 * SSM__HTK_WARPS, 1) ssm__cu_hatt_tok_kernel(ssm__cu_hatt_args a) {
    const unsigned full = 0xffffffffu;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gq = lane / 4, cq = lane % 4;
    const int K = (int)a.K, nsub = (int)(a.G / 16);
    TT *ring = (TT *)ssm__cu_dyn_smem() + warp * SSM__HTK_NB * SSM__HTK_BUF;
    const int64_t ntiles = a.B * a.HK * a.Lq * nsub;
    const int nwarps = blockDim.x / 32;   /* SSM__HTK_WARPS, or fewer where shared memory is smaller */
    for (int64_t tile = (int64_t)blockIdx.x * nwarps + warp; tile < ntiles; tile += (int64_t)gridDim.x * nwarps) {
        const int sub = (int)(tile % nsub);
        const int64_t t = (tile / nsub) % a.Lq, h = (tile / (nsub * a.Lq)) % a.HK, b = tile / (nsub * a.Lq * a.HK);
        const int64_t hq0 = h * a.G + sub * 16, kbase = b * a.k.s[0] + h * a.k.s[2], vbase = b * a.v.s[0] + h * a.v.s[2];
        /* the token's slots: chunk and weight of slot i in lane i % 32 of [i / 32]; empty slots
           (any index outside [0, C)) get lse = -inf */
        int cs[2] = {-1, -1};
        float ws[2] = {0.0f, 0.0f};
        unsigned long long rest = 0;
        for (int r = 0; r < 2 && 32 * r < K; ++r) {
            const int i = lane + 32 * r;
            const int64_t c = i < K ? __ldg((const int *)a.idx.p + b * a.idx.s[0] + t * a.idx.s[1] + h * a.idx.s[2] +
                                            i * a.idx.s[3])
                                    : -1;
            const bool ok = c >= 0 && c < a.C;
            cs[r] = ok ? (int)c : -1;
            if (ok) ws[r] = __ldg((const float *)a.w.p + b * a.w.s[0] + t * a.w.s[1] + h * a.w.s[2] + i * a.w.s[3]);
            else if (i < K && a.lse.p)
                for (int j = 0; j < 16; ++j)
                    ((float *)(uintptr_t)a.lse.p)[b * a.lse.s[0] + t * a.lse.s[1] + (hq0 + j) * a.lse.s[2] +
                                                  i * a.lse.s[3]] = -INFINITY;
            rest |= (unsigned long long)__ballot_sync(full, ok) << (32 * r);
        }
        const TT *qrow[2] = {(const TT *)a.q.p + b * a.q.s[0] + t * a.q.s[1] + (hq0 + gq) * a.q.s[2],
                             (const TT *)a.q.p + b * a.q.s[0] + t * a.q.s[1] + (hq0 + gq + 8) * a.q.s[2]};
        uint32_t qa[4][4];
        ssm__cu_htc_qfrag<TT>(qrow, lane, qa);
        float acc[8][4];
#pragma unroll
        for (int nt = 0; nt < 8; ++nt) acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.0f;

        /* load m (K of the j-th valid slot: m = 2j, its V: 2j + 1) goes to buffer m % NB, NB - 1
           loads ahead of the one in use; past the last load, empty groups keep the count */
        const int nload = 2 * __popcll(rest);
        unsigned long long irest = rest;
        int islot = -1;
        auto issue = [&](int m) {
            if (m < nload) {
                if (!(m & 1)) islot = ssm__cu_htk_next(&irest);
                ssm__cu_htc_load<TT, SC, true>(a, (m & 1) ? a.v : a.k, (m & 1) ? vbase : kbase, ssm__cu_htk_at(cs, islot),
                                     ring + m % SSM__HTK_NB * SSM__HTK_BUF, lane);
            }
            ssm__cu_cp_commit();
        };
        __syncwarp();   /* the previous tile's last reads of the ring are done */
        if (nload > 0)
            for (int m = 0; m < SSM__HTK_NB - 1; ++m) issue(m);
        for (int j = 0; 2 * j < nload; ++j) {
            const int cur = ssm__cu_htk_next(&rest);
            __syncwarp();   /* buffer (2j - 1) % NB is read */
            issue(2 * j + SSM__HTK_NB - 1);
            ssm__cu_cp_wait<SSM__HTK_NB - 1>();   /* K_j in */
            __syncwarp();
            float sc[8][4], mx[2], sum[2], f[2];
            ssm__cu_htc_scores<TT, SC, true>(a, qa, ring + 2 * j % SSM__HTK_NB * SSM__HTK_BUF, lane, sc, mx, sum);
            const float wi = ssm__cu_htk_atf(ws, cur);
#pragma unroll
            for (int hr = 0; hr < 2; ++hr) {
                float lse;
                f[hr] = ssm__cu_htc_factor(a, mx[hr], sum[hr], wi, &lse);
                if (a.lse.p && cq == 0)
                    ((float *)(uintptr_t)a.lse.p)[b * a.lse.s[0] + t * a.lse.s[1] + (hq0 + gq + 8 * hr) * a.lse.s[2] +
                                                  cur * a.lse.s[3]] = lse;
            }
            __syncwarp();   /* K_j's buffer is read */
            issue(2 * j + SSM__HTK_NB);
            ssm__cu_cp_wait<SSM__HTK_NB - 1>();   /* V_j in */
            __syncwarp();
            ssm__cu_htc_pv<TT, SC>(a, sc, f, ring + (2 * j + 1) % SSM__HTK_NB * SSM__HTK_BUF, lane, acc);
        }
        ssm__cu_cp_wait_all();
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
            const int64_t orow = b * a.o.s[0] + t * a.o.s[1] + (hq0 + gq + 8 * hr) * a.o.s[2];
#pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
                ssm__cu_st<TT>(a.o.p, orow + (nt * 8 + 2 * cq) * a.o.s[3], acc[nt][2 * hr]);
                ssm__cu_st<TT>(a.o.p, orow + (nt * 8 + 2 * cq + 1) * a.o.s[3], acc[nt][2 * hr + 1]);
            }
        }
    }
}

/* A tensor-core hsa kernel with its dynamic shared memory. */
static ssm_status ssm__cu_hatt_launch(void (*k)(ssm__cu_hatt_args), unsigned grid, int threads, size_t smem,
                                     cudaStream_t stream, const ssm__cu_hatt_args &a) {
    if (cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem) != cudaSuccess)
        return ssm__cu_failed();
    SSM__CU_LAUNCH(grid, threads, smem, stream, k)(a);
    return ssm__cu_launched();
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_hsa_attention_workspace_size(const ssm_hsa_attention_params *p) {
    (void)p;
    return 0;
}

SSM_CUDA_API ssm_status ssm_cuda_hsa_attention(const ssm_hsa_attention_params *p, cudaStream_t stream,
                                               void *workspace, size_t workspace_size) {
    ssm__cu_hatt_args a;
    ssm_status st = ssm_hsa_attention_validate_args(p);
    int sms, tc;
    (void)workspace;
    (void)workspace_size;
    if (st != SSM_OK) return st;
    a.B = p->B; a.Lq = p->Lq; a.Lk = p->Lk; a.HQ = p->HQ; a.HK = p->HK; a.E = p->E;
    a.Ev = p->Ev ? p->Ev : p->E;
    a.K = p->K; a.S = p->S;
    a.C = p->Lk / p->S;
    a.G = p->HQ / p->HK;
    a.scale = p->scale != 0.0f ? p->scale : (float)(1.0 / sqrt((double)p->E));
    a.sm_n = p->sm_n;
    a.q = SSM__IN_VIEW(p->q, 4, a.B, a.Lq, a.HQ, a.E);
    a.k = SSM__IN_VIEW(p->k, 4, a.B, a.Lk, a.HK, a.E);
    a.v = SSM__IN_VIEW(p->v, 4, a.B, a.Lk, a.HK, a.Ev);
    a.idx = SSM__IN_VIEW(p->idx, 4, a.B, a.Lq, a.HK, a.K);
    a.w = SSM__IN_VIEW(p->w, 4, a.B, a.Lq, a.HK, a.K);
    a.o = SSM__IN_VIEW(p->o, 4, a.B, a.Lq, a.HQ, a.Ev);
    a.lse = SSM__IN_VIEW(p->lse, 4, a.B, a.Lq, a.HQ, a.K);
    a.ovec = a.o.s[3] == 1 && ssm__cu_aligned(a.o.p, 16) && ssm__cu_rows_multiple(&a.o, 4, 8);
    if (a.B * a.Lq * a.HQ == 0) return SSM_OK;
    if ((sms = ssm__cu_sm_count()) <= 0) return ssm__cu_failed();
    tc = p->dtype != SSM_F32 && a.E == 64 && a.Ev == 64 && a.S % 16 == 0 && a.S <= 64 && a.K <= SSM__HTC_KMAX &&
         a.q.s[3] == 1 && a.k.s[3] == 1 && a.v.s[3] == 1 && ssm__cu_aligned(a.q.p, 4) &&
         ssm__cu_rows_multiple(&a.q, 4, 2) && ssm__cu_aligned(a.k.p, 16) && ssm__cu_rows_multiple(&a.k, 4, 8) &&
         ssm__cu_aligned(a.v.p, 16) && ssm__cu_rows_multiple(&a.v, 4, 8);
    /* token-major: whole tiles per token; SSM__HTK_WARPS warps a block (192 KB of K / V buffers),
       fewer where a block may have less shared memory */
    int nw = SSM__HTK_WARPS;
    while (nw > 0 && !ssm__cu_smem_fits(SSM__HTK_SMEM / SSM__HTK_WARPS * (size_t)nw)) --nw;
    if (tc && a.G % 16 == 0 && nw > 0) {
        a.TB = 0;
        const int64_t warps = a.B * a.HK * a.Lq * (a.G / 16);
        const int64_t blocks = ssm__cu_cdiv(warps, nw);
        const unsigned grid = (unsigned)(blocks < (int64_t)sms ? blocks : (int64_t)sms);   /* one block per SM */
        const bool bf = p->dtype == SSM_BF16, s64 = a.S == 64;
        return ssm__cu_hatt_launch(bf ? (s64 ? ssm__cu_hatt_tok_kernel<__nv_bfloat16, 64> : ssm__cu_hatt_tok_kernel<__nv_bfloat16, 0>)
                                      : (s64 ? ssm__cu_hatt_tok_kernel<__half, 64> : ssm__cu_hatt_tok_kernel<__half, 0>),
                                   grid, 32 * nw, SSM__HTK_SMEM / SSM__HTK_WARPS * (size_t)nw, stream, a);
    }
    if (tc && a.G <= SSM__HTC_ROWS && a.G * a.K <= SSM__HTC_SROWS && a.C <= SSM__HTC_CMAX && ssm__cu_smem_fits(SSM__HTC_SMEM)) {
        int64_t tb = SSM__HTC_ROWS / a.G;
        if (tb * a.K > SSM__HTC_PAIRS) tb = SSM__HTC_PAIRS / a.K;
        if (tb * a.K * a.G > SSM__HTC_SROWS) tb = SSM__HTC_SROWS / (a.K * a.G);
        a.TB = tb;
        const int64_t blocks = a.B * a.HK * ssm__cu_cdiv(a.Lq, tb);
        const unsigned grid = (unsigned)(blocks < (int64_t)sms ? blocks : (int64_t)sms);   /* one block per SM */
        const bool bf = p->dtype == SSM_BF16, s64 = a.S == 64;
        return ssm__cu_hatt_launch(bf ? (s64 ? ssm__cu_hatt_tc_kernel<__nv_bfloat16, 64> : ssm__cu_hatt_tc_kernel<__nv_bfloat16, 0>)
                                      : (s64 ? ssm__cu_hatt_tc_kernel<__half, 64> : ssm__cu_hatt_tc_kernel<__half, 0>),
                                   grid, 32 * SSM__HTC_WARPS, SSM__HTC_SMEM, stream, a);
    }
    a.TB = 0;
    SSM__DISPATCH_DTYPE(p->dtype, T,
                        SSM__CU_LAUNCH(ssm__cu_blocks(a.B * a.Lq * a.HQ * 32, 128, sms * 8), 128, 0,
                                       stream, ssm__cu_hatt_generic_kernel<T>)(a));
    return ssm__cu_launched();
}

}   /* extern "C" */

/* ================================================================ ssd (SPEC §3)

   The chunked SSD algorithm in one pass over x, z and out. Work items are (chunk, head) and are
   taken in order from a ticket counter by a persistent grid. An item computes, from its own
   chunk only, the intra-chunk output (C B^T masked by the decays, times dt x) and the chunk's
   contribution to the state (x^T times the decayed dt B); then it waits for the previous chunk
   of its sequence and head to publish its end state, publishes its own end state
   (exp(seg) S_in + local), and adds the inter-chunk output exp(cum) C S_in^T. States stay f32
   and live in a two-slot ring per (sequence row, head) in the workspace; a flag per
   (chunk, head) is released after the state is written (and after the previous slot was last
   read), acquired before it is read. Items are handed out in chunk order, so the chunk an item
   waits for is always held by a running block: no deadlock, whatever the grid.

   Decays are exp(min(seg, 0)) of segment sums taken as differences of per-chunk prefix sums
   in double (accurate to the segment's own rounding, SPEC §3). Chunks never straddle a sequence
   start: with cu_seqlens each sequence is chunked from its own start (a small kernel builds the
   chunk table), so a chunk's initial state is the previous chunk's end state or the sequence's
   h0. Two kernels implement an item: tensor cores (mma.sync, 16-bit operands, f32
   accumulation; f32 operands that are not inputs are split into hi + lo halves) for 16-bit
   activations with P = 64, N in {64, 128}; f32 arithmetic in 64x64 shared-memory tiles for
   everything else. The tensor-core kernel streams x, z and out past L2 (evict-first), so that
   the state ring, B and C stay there, and loads dt, dt_bias and A one item ahead. C B^T does not
   depend on the head: with SSM_CUDA_SSD_SHARED_CB (off by default: slower so far), when many
   heads share a group (e.g. Mamba-2's G = 1) a pre-pass computes it once per (chunk, group)
   into the workspace, and the item kernel (8 warps, twice the 4 of the other) copies it into
   shared memory instead of recomputing it for every head. */

typedef struct ssm__cu_ssd_chunk {
    long long t0, t1;
    int s, flags;   /* flags: 1 first chunk of its sequence, 2 last */
} ssm__cu_ssd_chunk;

typedef struct ssm__cu_ssd_args {
    int64_t B, L, H, P, N, per_group, q, nseq, nk_row, nk_max;
    int64_t band;   /* fixed-length rows: rows per band of the ticket order (see ssm__cu_ssd_ticket) */
    int varlen, softplus;
    float dt_lo, dt_hi;
    ssm__cu_cv x, dt, A, Bm, Cm, Dskip, z, dtbias, h0, cu, out, hlast;
    unsigned long long *ticket;
    int *err, *count;
    unsigned *flags;
    float *slots;
    float *cbt;   /* C B^T tiles of every (chunk, group), from the pre-pass (shared kernel only) */
    ssm__cu_ssd_chunk *table;
} ssm__cu_ssd_args;

typedef struct ssm__cu_ssd_item {
    int64_t b, t0, t1, s, kk, row;
    int64_t pk;   /* the chunk whose end state this one starts from (its flag), or -1 */
    int par;      /* ring slot this chunk's end state goes to; the predecessor's is the other */
    bool first, last;
} ssm__cu_ssd_item;

static __device__ __forceinline__ float ssm__cu_min0(float x) { return x > 0.0f ? 0.0f : x; }   /* NaN stays */

/* Fixed-length rows are handed out chunk-major (chunk c of every row, then c + 1): a chunk's
   predecessor is B items earlier, so B x H independent state chains are in flight at once. */
static __device__ __forceinline__ ssm__cu_ssd_item ssm__cu_ssd_item_of(const ssm__cu_ssd_args &a, int64_t kk) {
    ssm__cu_ssd_item it;
    it.kk = kk;
    if (!a.varlen) {
        const int64_t c = (uint32_t)kk / (uint32_t)a.B;   /* kk < 2^31, see ssm__cu_ssd_ticket */
        it.b = kk - c * a.B;
        it.t0 = c * a.q;
        it.t1 = it.t0 + a.q < a.L ? it.t0 + a.q : a.L;
        it.s = it.b;
        it.first = c == 0;
        it.last = c == a.nk_row - 1;
        it.row = it.b;
        it.pk = c > 0 ? kk - a.B : -1;
        it.par = (int)(c & 1);
    } else {
        const ssm__cu_ssd_chunk e = a.table[kk];
        it.b = 0;
        it.t0 = e.t0;
        it.t1 = e.t1;
        it.s = e.s;
        it.first = (e.flags & 1) != 0;
        it.last = (e.flags & 2) != 0;
        it.row = 0;
        it.pk = kk > 0 ? kk - 1 : -1;   /* ring reuse: wait even across a sequence start */
        it.par = (int)(kk & 1);
    }
    return it;
}

/* The work item of ticket t: chunk kk (as ssm__cu_ssd_item_of takes it) and head h. Fixed-length
   rows go band by band, a band being `band` rows (all their chunks, chunk-major, every head):
   a chunk's predecessor is then band x H tickets earlier, which the launch makes at least the
   blocks in flight (so that it is done when asked for; not in a shorter last band, nor where
   B x H is smaller) and not many more, so that the state it left in the ring is still in L2
   (the whole ring, 2 B H P N floats, can be larger than L2). */
static __device__ __forceinline__ void ssm__cu_ssd_ticket(const ssm__cu_ssd_args &a, int64_t t, int64_t *kk, int64_t *h) {
    if (a.varlen) {
        *kk = t / a.H;
        *h = t % a.H;
        return;
    }
    /* 32-bit: the launcher keeps tickets below 2^31 */
    const uint32_t H = (uint32_t)a.H, band = (uint32_t)a.band, per_band = band * (uint32_t)a.nk_row * H;
    const uint32_t k = (uint32_t)t / per_band, r = (uint32_t)t - k * per_band, left = (uint32_t)a.B - k * band;
    const uint32_t rows = left < band ? left : band, c = r / (rows * H), e = r - c * rows * H, bh = e / H;
    *h = e - bh * H;
    *kk = (int64_t)c * a.B + k * band + bh;
}

/* The ring slot of the item's (row, head) that holds the state after a chunk of parity `par`. */
static __device__ __forceinline__ float *ssm__cu_ssd_slot(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h,
                                                       int par) {
    return a.slots + ((it.row * a.H + h) * 2 + par) * a.P * a.N;
}

#ifdef SSM_CUDA_EMULATE
static __device__ __forceinline__ unsigned ssm__cu_ld_acquire(const unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static __device__ __forceinline__ void ssm__cu_st_release(unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
#else
static __device__ __forceinline__ unsigned ssm__cu_ld_acquire(const unsigned *p) {
    unsigned v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}
static __device__ __forceinline__ void ssm__cu_st_release(unsigned *p, unsigned v) {
    asm volatile("st.release.gpu.global.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}
#endif
/* One thread waits; a bound turns a broken dependency into a flagged error instead of a hang. */
static __device__ void ssm__cu_wait_flag(const unsigned *f, int *err) {
    long long spins = 0;
    while (ssm__cu_ld_acquire(f) == 0) {
        __nanosleep(64);
        if (++spins > (1ll << 27)) {
            atomicExch(err, 1);
            break;
        }
    }
}

/* Takes the next item for the block; all threads get it. */
static __device__ __forceinline__ int64_t ssm__cu_next_item(unsigned long long *ticket) {
    __shared__ unsigned long long s_item;
    __syncthreads();
    if (threadIdx.x == 0) s_item = atomicAdd(ticket, 1ull);
    __syncthreads();
    return (int64_t)s_item;
}

/* dt' and the in-chunk prefix sums of dt' A (double) of tokens [t0, t0 + q), by warp 0;
   tokens [q, qpad) get dt' = 0 and the chunk total. */
template <typename T>
static __device__ void ssm__cu_ssd_prefix(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h, int q, int qpad,
                                       float *s_dt, double *s_cum) {
    if (threadIdx.x >= 32) return;
    const int lane = threadIdx.x;
    const double Ah = (double)ssm__cu_ldf(a.A.p, h * a.A.s[0]);
    const float bias = ssm__cu_param(a.dtbias, h * a.dtbias.s[0], 0.0f);
    const int per = (q + 31) / 32, lo = lane * per, hi = lo + per < q ? lo + per : q;
    double run = 0.0;
    for (int t = lo; t < hi; ++t) {
        float v = ssm__cu_ldg<T>(a.dt.p, it.b * a.dt.s[0] + (it.t0 + t) * a.dt.s[1] + h * a.dt.s[2]) + bias;
        if (a.softplus) v = ssm__cu_softplus(v, 20.0f);
        v = ssm__cu_clampf(v, a.dt_lo, a.dt_hi);
        s_dt[t] = v;
        run += (double)v * Ah;
        s_cum[t] = run;
    }
    double incl = run;
    for (int o = 1; o < 32; o <<= 1) {
        const double v = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += v;
    }
    const double off = incl - run, total = __shfl_sync(0xffffffffu, incl, 31);
    for (int t = lo; t < hi; ++t) s_cum[t] += off;
    for (int t = q + lane; t < qpad; t += 32) {
        s_dt[t] = 0.0f;
        s_cum[t] = total;
    }
}

/* dt (unconverted, so that nothing waits for the load) and dt_bias of this thread's token
   (threadIdx.x) of work item `item` (0 past the chunk or past the last item), and A of its head:
   loaded one item ahead, so that their latency hides behind the current item. */
template <typename T> struct ssm__cu_ssd_dt_next {
    T d;
    float bias, A;
    __device__ __forceinline__ float biased() const { return ssm__cu_ty<T>::f(d) + bias; }
};
template <typename T>
static __device__ __forceinline__ ssm__cu_ssd_dt_next<T> ssm__cu_ssd_dt_ahead(const ssm__cu_ssd_args &a, int64_t item,
                                                                          int64_t n_items) {
    ssm__cu_ssd_dt_next<T> r;
    r.d = ssm__cu_ty<T>::to(0.0f);
    r.bias = r.A = 0.0f;
    if (item >= n_items) return r;
    int64_t kk, h;
    ssm__cu_ssd_ticket(a, item, &kk, &h);
    r.A = ssm__cu_ldf(a.A.p, h * a.A.s[0]);
    const ssm__cu_ssd_item it = ssm__cu_ssd_item_of(a, kk);
    const int t = threadIdx.x;
    if (t >= it.t1 - it.t0) return r;
    r.d = __ldg((const T *)a.dt.p + it.b * a.dt.s[0] + (it.t0 + t) * a.dt.s[1] + h * a.dt.s[2]);
    r.bias = ssm__cu_param(a.dtbias, h * a.dtbias.s[0], 0.0f);
    return r;
}

/* The same with one thread per token (threads [0, qpad); qpad a multiple of 32, later threads
   only take part in the barrier): dt' in parallel from dt + dt_bias of the thread's token
   (`biased`) and the head's A, then a block scan of the double increments (warp scans, then the
   warp totals). */
static __device__ void ssm__cu_ssd_prefix_block(const ssm__cu_ssd_args &a, int q, int qpad, float biased, float A,
                                             float *s_dt, double *s_cum) {
    __shared__ double s_part[32];
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    float v = 0.0f;
    double inc = 0.0;
    if (t < q) {
        v = biased;
        if (a.softplus) v = ssm__cu_softplus(v, 20.0f);
        v = ssm__cu_clampf(v, a.dt_lo, a.dt_hi);
        inc = (double)v * (double)A;
    }
    if (t < qpad) s_dt[t] = v;
    double incl = inc;
    for (int o = 1; o < 32; o <<= 1) {
        const double u = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += u;
    }
    if (lane == 31) s_part[warp] = incl;
    __syncthreads();
    double off = 0.0;
    for (int w = 0; w < warp; ++w) off += s_part[w];
    if (t < qpad) s_cum[t] = incl + off;   /* tokens past q add 0: they get the chunk total */
}

/* The state before the chunk, element (p, n): h0 (or 0) for a sequence's first chunk, else the
   previous chunk's published state (read past L1: the ring slot is rewritten by other blocks). */
static __device__ __forceinline__ float ssm__cu_ssd_sin(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h,
                                                     const float *prev, int64_t p, int64_t n) {
    if (it.first) return ssm__cu_param(a.h0, it.s * a.h0.s[0] + h * a.h0.s[1] + p * a.h0.s[2] + n * a.h0.s[3], 0.0f);
    return __ldcg(prev + p * a.N + n);
}

/* Epilogue of one output element: + D x, z gate, store. */
template <typename T>
static __device__ __forceinline__ float ssm__cu_ssd_finish(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h,
                                                        int64_t i, int64_t p, float y, float x) {
    y += ssm__cu_param(a.Dskip, h * a.Dskip.s[0] + p * a.Dskip.s[1], 0.0f) * x;
    if (a.z.p) y *= ssm__cu_silu(ssm__cu_ldg<T>(a.z.p, it.b * a.z.s[0] + (it.t0 + i) * a.z.s[1] + h * a.z.s[2] + p * a.z.s[3]));
    return y;
}

/* ---------------------------------------------------------------- ssd, f32 tiles (general) */

#define SSM__SSDG_QMAX 512
#define SSM__SSDG_SMEM ((size_t)SSM__SSDG_QMAX * 12 + (size_t)(64 * 33 + 3 * 64 * 65) * 4)

/* acc[r][c] += sum over k < K of A(r, k) B(k, c) for the 4x4 register tile a thread of the f32
   fallback owns: A(r, k) = a[r * ars + k * aks] (row- or column-major staging), B(k, c) =
   b[k * 65 + c] (the 65-float pitch keeps the 16 column groups on distinct banks). */
template <int K>
static __device__ __forceinline__ void ssm__cu_tile4x4(float (&acc)[4][4], const float *a, int ars, int aks, const float *b) {
#pragma unroll 8
    for (int k = 0; k < K; ++k) {
        float av[4], bv[4];
#pragma unroll
        for (int r = 0; r < 4; ++r) av[r] = a[r * ars + k * aks];
#pragma unroll
        for (int c = 0; c < 4; ++c) bv[c] = b[k * 65 + c];
#pragma unroll
        for (int r = 0; r < 4; ++r)
#pragma unroll
            for (int c = 0; c < 4; ++c) acc[r][c] += av[r] * bv[c];
    }
}

template <typename T>
__global__ void __launch_bounds__(256) ssm__cu_ssd_generic_kernel(ssm__cu_ssd_args a) {
    double *s_cum = (double *)ssm__cu_dyn_smem();
    float *s_dt = (float *)(s_cum + SSM__SSDG_QMAX);
    float *sA = s_dt + SSM__SSDG_QMAX, *sB = sA + 64 * 33, *sM = sB + 64 * 65, *sX = sM + 64 * 65;
    const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
    const int64_t n_items = (a.varlen ? (int64_t)*a.count : a.B * a.nk_row) * a.H;
    const int64_t P = a.P, N = a.N;
    for (;;) {
        const int64_t item = ssm__cu_next_item(a.ticket);
        if (item >= n_items) break;
        int64_t kk, h;
        ssm__cu_ssd_ticket(a, item, &kk, &h);
        const ssm__cu_ssd_item it = ssm__cu_ssd_item_of(a, kk);
        const int64_t g = h / a.per_group;
        const int q = (int)(it.t1 - it.t0);
        const float *prev = ssm__cu_ssd_slot(a, it, h, it.par ^ 1);
        float *cur = ssm__cu_ssd_slot(a, it, h, it.par);
        if (it.pk >= 0 && tid == 0) ssm__cu_wait_flag(a.flags + it.pk * a.H + h, a.err);
        ssm__cu_ssd_prefix<T>(a, it, h, q, q, s_dt, s_cum);
        __syncthreads();
        const int64_t xb = it.b * a.x.s[0] + it.t0 * a.x.s[1] + h * a.x.s[2];
        const int64_t cb = it.b * a.Cm.s[0] + it.t0 * a.Cm.s[1] + g * a.Cm.s[2];
        const int64_t bb = it.b * a.Bm.s[0] + it.t0 * a.Bm.s[1] + g * a.Bm.s[2];

        for (int64_t p0 = 0; p0 < P; p0 += 64) {
            for (int i0 = 0; i0 < q; i0 += 64) {
                float acc[4][4] = {};
                /* Y_off = C S_in^T, scaled by exp(cum_i) */
                for (int64_t n0 = 0; n0 < N; n0 += 32) {
                    __syncthreads();
                    for (int e = tid; e < 64 * 32; e += 256) {
                        const int ii = e / 32, nn = e % 32;
                        const int64_t i = i0 + ii, n = n0 + nn;
                        sA[ii * 33 + nn] = i < q && n < N ? ssm__cu_ldg<T>(a.Cm.p, cb + i * a.Cm.s[1] + n * a.Cm.s[3]) : 0.0f;
                    }
                    for (int e = tid; e < 32 * 64; e += 256) {
                        const int nn = e / 64, pp = e % 64;
                        const int64_t n = n0 + nn, p = p0 + pp;
                        sB[nn * 65 + pp] = n < N && p < P ? ssm__cu_ssd_sin(a, it, h, prev, p, n) : 0.0f;
                    }
                    __syncthreads();
                    ssm__cu_tile4x4<32>(acc, sA + ty * 4 * 33, 33, 1, sB + tx * 4);
                }
#pragma unroll
                for (int r = 0; r < 4; ++r) {
                    const int i = i0 + ty * 4 + r;
                    const float f = i < q ? ssm__cu_exp(ssm__cu_min0((float)s_cum[i])) : 0.0f;
#pragma unroll
                    for (int c = 0; c < 4; ++c) acc[r][c] *= f;
                }
                /* Y_diag = (C B^T o decay) (dt x) over the column tiles up to the diagonal */
                for (int j0 = 0; j0 <= i0; j0 += 64) {
                    float m[4][4] = {};
                    for (int64_t n0 = 0; n0 < N; n0 += 32) {
                        __syncthreads();
                        for (int e = tid; e < 64 * 32; e += 256) {
                            const int ii = e / 32, nn = e % 32;
                            const int64_t i = i0 + ii, n = n0 + nn;
                            sA[ii * 33 + nn] = i < q && n < N ? ssm__cu_ldg<T>(a.Cm.p, cb + i * a.Cm.s[1] + n * a.Cm.s[3]) : 0.0f;
                        }
                        for (int e = tid; e < 32 * 64; e += 256) {
                            const int nn = e / 64, jj = e % 64;
                            const int64_t j = j0 + jj, n = n0 + nn;
                            sB[nn * 65 + jj] = j < q && n < N ? ssm__cu_ldg<T>(a.Bm.p, bb + j * a.Bm.s[1] + n * a.Bm.s[3]) : 0.0f;
                        }
                        __syncthreads();
                        ssm__cu_tile4x4<32>(m, sA + ty * 4 * 33, 33, 1, sB + tx * 4);
                    }
#pragma unroll
                    for (int r = 0; r < 4; ++r)
#pragma unroll
                        for (int c = 0; c < 4; ++c) {
                            const int i = i0 + ty * 4 + r, j = j0 + tx * 4 + c;
                            float v = 0.0f;
                            if (j <= i && i < q && j < q)
                                v = m[r][c] * ssm__cu_exp(ssm__cu_min0((float)(s_cum[i] - s_cum[j]))) * s_dt[j];
                            sM[(ty * 4 + r) * 65 + tx * 4 + c] = v;
                        }
                    for (int e = tid; e < 64 * 64; e += 256) {
                        const int jj = e / 64, pp = e % 64;
                        const int64_t j = j0 + jj, p = p0 + pp;
                        sX[jj * 65 + pp] = j < q && p < P ? ssm__cu_ldg<T>(a.x.p, xb + j * a.x.s[1] + p * a.x.s[3]) : 0.0f;
                    }
                    __syncthreads();
                    ssm__cu_tile4x4<64>(acc, sM + ty * 4 * 65, 65, 1, sX + tx * 4);
                }
#pragma unroll
                for (int r = 0; r < 4; ++r)
#pragma unroll
                    for (int c = 0; c < 4; ++c) {
                        const int64_t i = i0 + ty * 4 + r, p = p0 + tx * 4 + c;
                        if (i >= q || p >= P) continue;
                        const float x = ssm__cu_ldg<T>(a.x.p, xb + i * a.x.s[1] + p * a.x.s[3]);
                        const float y = ssm__cu_ssd_finish<T>(a, it, h, i, p, acc[r][c], x);
                        ssm__cu_st<T>(a.out.p, it.b * a.out.s[0] + (it.t0 + i) * a.out.s[1] + h * a.out.s[2] + p * a.out.s[3], y);
                    }
            }
        }

        /* S_out = exp(cum_end) S_in + sum_j exp(cum_end - cum_j) dt_j x_j B_j^T */
        const double cum_end = s_cum[q - 1];
        const float e_end = ssm__cu_exp(ssm__cu_min0((float)cum_end));
        for (int64_t p0 = 0; p0 < P; p0 += 64) {
            for (int64_t n0 = 0; n0 < N; n0 += 64) {
                float acc[4][4] = {};
                for (int j0 = 0; j0 < q; j0 += 32) {
                    __syncthreads();
                    for (int e = tid; e < 32 * 64; e += 256) {
                        const int jj = e / 64, cc = e % 64;
                        const int j = j0 + jj;
                        const int64_t p = p0 + cc, n = n0 + cc;
                        sX[jj * 65 + cc] = j < q && p < P ? ssm__cu_ldg<T>(a.x.p, xb + j * a.x.s[1] + p * a.x.s[3]) : 0.0f;
                        float wv = 0.0f;
                        if (j < q && n < N)
                            wv = ssm__cu_exp(ssm__cu_min0((float)(cum_end - s_cum[j]))) * s_dt[j] *
                                 ssm__cu_ldg<T>(a.Bm.p, bb + j * a.Bm.s[1] + n * a.Bm.s[3]);
                        sB[jj * 65 + cc] = wv;
                    }
                    __syncthreads();
                    ssm__cu_tile4x4<32>(acc, sX + ty * 4, 1, 65, sB + tx * 4);
                }
#pragma unroll
                for (int r = 0; r < 4; ++r)
#pragma unroll
                    for (int c = 0; c < 4; ++c) {
                        const int64_t p = p0 + ty * 4 + r, n = n0 + tx * 4 + c;
                        if (p >= P || n >= N) continue;
                        const float v = e_end * ssm__cu_ssd_sin(a, it, h, prev, p, n) + acc[r][c];
                        __stcg(cur + p * N + n, v);
                        if (it.last && a.hlast.p)
                            ((float *)(uintptr_t)a.hlast.p)[it.s * a.hlast.s[0] + h * a.hlast.s[1] + p * a.hlast.s[2] +
                                                            n * a.hlast.s[3]] = v;
                    }
            }
        }
        __threadfence();
        __syncthreads();
        if (tid == 0) ssm__cu_st_release(a.flags + kk * a.H + h, 1u);
    }
}

/* ---------------------------------------------------------------- ssd, tensor cores

   One block of 4 warps per item, chunks of SSM__SSDT_Q = 128 tokens at most (a longer Q runs as
   128-token chunks: the same function, half the causal C B^T work per token of a 256-token
   chunk, and a block small enough for two per multiprocessor, so that one block's loads, waits
   and epilogue overlap the other's products). B and x of the chunk are copied token-major into
   shared memory (cp.async; rows padded by 16 bytes, so ldmatrix is conflict-free), and every
   tensor-core operand that is not in registers is loaded with ldmatrix.

   State: S_loc = (w x)^T B with w_j = exp(cum_end - cum_j) dt_j; w x is split into hi + lo
   16-bit halves once per item (the f32 h_last must meet SPEC §7's f32 tolerance), and warp w
   owns a quarter of the n columns. Outputs: warp w owns the 16-row tiles w and 7 - w (balanced
   causal work) and keeps their C fragments in registers; C B^T comes out as accumulator
   fragments that, scaled, are exactly the A operand of the product with x.

   Decays are factored so that only the diagonal 16 x 16 tiles take an exp per element. For a
   row i of tile I (first row i0) and a column j of an earlier tile J (last column j1):
       exp(cum_i - cum_j) = r_i R_IJ g_j,   r_i = exp(cum_i - cum_i0),  R_IJ = exp(cum_i0 - cum_j1),
                                            g_j = exp(cum_j1 - cum_j),
   each an exp(min(., 0)) of a difference of double prefix sums, so no factor, and no product,
   exceeds 1. g_j dt_j and R_IJ scale the C B^T fragments; r_i scales the finished row, which
   already holds exp(cum_i0) C S_in^T (Y_off = r_i exp(cum_i0) C S_in^T); the diagonal tile then
   adds its terms with exp(min(v_i - v_j, 0)), v relative to the tile's first token (an anchor at
   most 15 tokens away, SPEC §3). PRECISE splits the decayed C B^T and S_in into hi + lo too. */

#define SSM__SSDT_Q 128
#define SSM__SSDT_TILES (SSM__SSDT_Q / 16 * (SSM__SSDT_Q / 16 + 1) / 2)   /* C B^T tiles (I, J <= I) of a chunk */

/* Shared memory of the tensor-core kernel for state size NN: the layout (host and device).
   SHARED: B's memory takes the chunk's C B^T tiles once the local state is done with B. */
template <int NN, bool SHARED> struct ssm__cu_ssdt_shape {
    static constexpr int MT = SSM__SSDT_Q / 16, BS = NN + 8, XS = 64 + 8;
    static constexpr size_t bb_bytes = (size_t)SSM__SSDT_Q * BS * 2, cbt_bytes = SHARED ? (size_t)SSM__SSDT_TILES * 256 * 4 : 0;
    static constexpr size_t b_bytes = bb_bytes > cbt_bytes ? bb_bytes : cbt_bytes, x_bytes = (size_t)SSM__SSDT_Q * XS * 2;
    static constexpr size_t xw_bytes = (size_t)2 * SSM__SSDT_Q * XS * 2, s_bytes = (size_t)2 * 64 * BS * 2;
    static constexpr size_t u_bytes = xw_bytes > s_bytes ? xw_bytes : s_bytes;   /* w x, then S_in */
    static constexpr size_t f_floats = (size_t)SSM__SSDT_Q * 5 + MT * MT + MT + 64;
    static constexpr size_t smem = b_bytes + 2 * x_bytes + u_bytes + (size_t)SSM__SSDT_Q * 8 + f_floats * 4;
};

/* The kernel's shared-memory tiles and per-token factors, carved from one base. */
template <typename TT> struct ssm__cu_ssdt_tiles {
    TT *b, *x, *z, *xwh, *xwl, *sh, *sl;   /* B, x, z token-major; w x hi/lo; S_in for Y_off (same memory as w x) */
    float *cbt;                            /* SHARED: C B^T tiles (same memory as B) */
    double *cum;                           /* in-chunk prefix sums of dt' A */
    float *dt, *w, *g, *r, *v, *R, *E, *D; /* per token, per tile pair, per row tile, per p */
};

template <typename TT, int NN, bool SHARED>
static __device__ __forceinline__ ssm__cu_ssdt_tiles<TT> ssm__cu_ssdt_carve(unsigned char *base) {
    typedef ssm__cu_ssdt_shape<NN, SHARED> SH;
    constexpr int QT = SSM__SSDT_Q;
    ssm__cu_ssdt_tiles<TT> t;
    t.b = (TT *)base;
    t.cbt = (float *)base;
    t.x = (TT *)(base + SH::b_bytes);
    t.z = t.x + QT * SH::XS;
    t.xwh = t.z + QT * SH::XS;
    t.xwl = t.xwh + QT * SH::XS;
    t.sh = t.xwh;
    t.sl = t.sh + 64 * SH::BS;
    t.cum = (double *)((unsigned char *)t.xwh + SH::u_bytes);
    t.dt = (float *)(t.cum + QT);
    t.w = t.dt + QT;
    t.g = t.w + QT;
    t.r = t.g + QT;
    t.v = t.r + QT;
    t.R = t.v + QT;
    t.E = t.R + SH::MT * SH::MT;
    t.D = t.E + SH::MT;
    return t;
}

/* 8 16-bit activations times w, split into hi + lo halves. */
template <typename TT>
static __device__ __forceinline__ void ssm__cu_split8(uint4 u, float w, uint4 *hi, uint4 *lo) {
    typedef ssm__cu_mm<TT> M;
    ssm__cu_split2<TT>(w * M::half_at(u.x, 0), w * M::half_at(u.x, 1), &hi->x, &lo->x);
    ssm__cu_split2<TT>(w * M::half_at(u.y, 0), w * M::half_at(u.y, 1), &hi->y, &lo->y);
    ssm__cu_split2<TT>(w * M::half_at(u.z, 0), w * M::half_at(u.z, 1), &hi->z, &lo->z);
    ssm__cu_split2<TT>(w * M::half_at(u.w, 0), w * M::half_at(u.w, 1), &hi->w, &lo->w);
}

/* A operand pair from 8 f32 values (two m16n8 accumulator halves): one 16-bit operand, or hi + lo. */
template <typename TT, bool SPLIT>
static __device__ __forceinline__ void ssm__cu_operand(const float (*mv)[4], uint32_t *ah, uint32_t *al) {
    typedef ssm__cu_mm<TT> M;
    if (SPLIT) {
        ssm__cu_split2<TT>(mv[0][0], mv[0][1], &ah[0], &al[0]);
        ssm__cu_split2<TT>(mv[0][2], mv[0][3], &ah[1], &al[1]);
        ssm__cu_split2<TT>(mv[1][0], mv[1][1], &ah[2], &al[2]);
        ssm__cu_split2<TT>(mv[1][2], mv[1][3], &ah[3], &al[3]);
    } else {
        ah[0] = M::pack(mv[0][0], mv[0][1]);
        ah[1] = M::pack(mv[0][2], mv[0][3]);
        ah[2] = M::pack(mv[1][0], mv[1][1]);
        ah[3] = M::pack(mv[1][2], mv[1][3]);
    }
}

/* C_I B_J^T for one 16 x 16 tile: cb[hf * 2 + k parity] (two chains per column half). */
template <typename TT, int NN>
static __device__ __forceinline__ void ssm__cu_ssdt_cb(const uint32_t (*cf)[4], const TT *s_b, int j0, int lane, float (*cb)[4]) {
    constexpr int BS = NN + 8;
#pragma unroll
    for (int c4 = 0; c4 < 4; ++c4) cb[c4][0] = cb[c4][1] = cb[c4][2] = cb[c4][3] = 0.0f;
    const TT *base = s_b + (j0 + (lane >> 4) * 8 + (lane & 7)) * BS + ((lane >> 3) & 1) * 8;
#pragma unroll
    for (int k = 0; k < NN / 16; ++k) {
        uint32_t bb[4];
        ssm__cu_ldsm4(bb, base + k * 16);
        ssm__cu_mm<TT>::mma(cb[k & 1], cf[k], bb[0], bb[1]);
        ssm__cu_mm<TT>::mma(cb[2 + (k & 1)], cf[k], bb[2], bb[3]);
    }
}

/* The C B^T tile (row tile mt, column tile jt <= mt): SHARED, the pre-pass's sums (in cb[0]
   and cb[2]; see ssm__cu_ssd_cb_kernel) from shared memory, else computed here from C's
   fragments and B in shared memory. ssm__cu_ssdt_cbsum reads element e of column half hf either way. */
template <typename TT, int NN, bool SHARED>
static __device__ __forceinline__ void ssm__cu_ssdt_cbtile(const uint32_t (*cf)[4], const TT *s_b, const float *cbt, int mt,
                                                        int jt, int lane, float (*cb)[4]) {
    if (SHARED) {
        const float *t = cbt + (mt * (mt + 1) / 2 + jt) * 256 + lane * 4;
        const float4 u = *(const float4 *)t, v = *(const float4 *)(t + 128);
        cb[0][0] = u.x, cb[0][1] = u.y, cb[0][2] = u.z, cb[0][3] = u.w;
        cb[2][0] = v.x, cb[2][1] = v.y, cb[2][2] = v.z, cb[2][3] = v.w;
    } else {
        ssm__cu_ssdt_cb<TT, NN>(cf, s_b, jt * 16, lane, cb);
    }
}
template <bool SHARED> static __device__ __forceinline__ float ssm__cu_ssdt_cbsum(const float (*cb)[4], int hf, int e) {
    return SHARED ? cb[hf * 2][e] : cb[hf * 2][e] + cb[hf * 2 + 1][e];
}

/* y[pt] += A (16 x 16, rows of the tile, columns j0..j0+15) times x[j0..j0+15][0..63]. */
template <typename TT, bool SPLIT>
static __device__ __forceinline__ void ssm__cu_ssdt_ax(float (*y)[4], const uint32_t *ah, const uint32_t *al, const TT *s_x,
                                                    int j0, int lane) {
    constexpr int XS = 64 + 8;
    const TT *base = s_x + (j0 + (lane & 7) + ((lane >> 3) & 1) * 8) * XS + (lane >> 4) * 8;
#pragma unroll
    for (int pp = 0; pp < 4; ++pp) {
        uint32_t xb[4];
        ssm__cu_ldsm4t(xb, base + pp * 16);
        ssm__cu_mm<TT>::mma(y[2 * pp], ah, xb[0], xb[1]);
        ssm__cu_mm<TT>::mma(y[2 * pp + 1], ah, xb[2], xb[3]);
        if (SPLIT) {
            ssm__cu_mm<TT>::mma(y[2 * pp], al, xb[0], xb[1]);
            ssm__cu_mm<TT>::mma(y[2 * pp + 1], al, xb[2], xb[3]);
        }
    }
}

/* The state before the chunk at this thread's fragment positions of the state product: rows
   (mb + mt) * 16 + gq (+ 8), mt < MTW, columns n0 + nt * 8 + 2 cq (+ 1). The previous chunk's
   slot is read at constant offsets from one base, every load issued before any is used; a
   sequence's first chunk reads h0 (or 0). */
template <int NN, int NTW, int MTW>
static __device__ __forceinline__ void ssm__cu_ssdt_sin(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h,
                                                     const float *prev, int mb, int n0, int lane, float2 (*sv)[NTW][2]) {
    const int gq = lane / 4, cq = lane % 4;
    if (it.first) {
#pragma unroll
        for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
            for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
                for (int hr = 0; hr < 2; ++hr) {
                    const int p = (mb + mt) * 16 + gq + hr * 8, n = n0 + nt * 8 + 2 * cq;
                    sv[mt][nt][hr] =
                        make_float2(ssm__cu_ssd_sin(a, it, h, prev, p, n), ssm__cu_ssd_sin(a, it, h, prev, p, n + 1));
                }
        return;
    }
    const float *base = prev + (mb * 16 + gq) * NN + n0 + 2 * cq;
#pragma unroll
    for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
        for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
            for (int hr = 0; hr < 2; ++hr) sv[mt][nt][hr] = __ldcg((const float2 *)(base + (mt * 16 + hr * 8) * NN + nt * 8));
}

/* A-operand fragments of rows i0 + gq and i0 + gq + 8 of a token-major N-wide tile (C, or B
   for the pre-pass's B^T operand), row stride ld; zero past the chunk. */
template <typename TT, int NN>
static __device__ __forceinline__ void ssm__cu_ssdt_cfrag(const TT *cg, int64_t ld, int i0, int q, int lane, uint32_t (*cf)[4]) {
    const int ia = i0 + lane / 4, ib = ia + 8, cq = lane % 4;
    const TT *ra = cg + (int64_t)ia * ld, *rb = cg + (int64_t)ib * ld;
#pragma unroll
    for (int k = 0; k < NN / 16; ++k) {
        cf[k][0] = ia < q ? __ldg((const unsigned *)(ra + k * 16 + 2 * cq)) : 0u;
        cf[k][1] = ib < q ? __ldg((const unsigned *)(rb + k * 16 + 2 * cq)) : 0u;
        cf[k][2] = ia < q ? __ldg((const unsigned *)(ra + k * 16 + 8 + 2 * cq)) : 0u;
        cf[k][3] = ib < q ? __ldg((const unsigned *)(rb + k * 16 + 8 + 2 * cq)) : 0u;
    }
}

/* PRECISE Y_off: S_in goes in as two 16-bit halves (hi + lo), scaled by a power of two into the
   f16 range (which f16 halves need; for bf16 it changes nothing): for a largest finite magnitude
   whose float exponent field is `ef` (so it is below 2^(ef - 126)), 2^(14 - e) brings it below
   2^14 and 2^(e - 14) undoes that, e = ef - 126 clamped to [-110, 128] so that both factors are
   normal floats; values far below the largest lose only what lies under 2^-24 of it.
   (One f16 operand instead, 3 more bits than bf16 and half the products, was used for bf16
   activations until 2026-12-05: where the outputs cancel a large S_in, e.g. h0 of 2e4 against C
   of 3e-3, its 2^-12 rounding left single outputs ~4% off, past SPEC §7's elementwise bound.) */
static __device__ __forceinline__ int ssm__cu_f16_shift(uint32_t ef) {
    const int e = (int)ef - 126;
    return e < -110 ? -110 : e > 128 ? 128 : e;
}
static __device__ __forceinline__ float ssm__cu_pow2(int k) { return __uint_as_float((uint32_t)(127 + k) << 23); }
static __device__ __forceinline__ float ssm__cu_finite_abs(float v) { return fabsf(v) < INFINITY ? fabsf(v) : 0.0f; }

/* The outputs of row tile mt are built in steps (ssm__cu_ssdt_rows strings them together):
   ssm__cu_ssdt_yoff sets y to exp(cum_i0) C S_in^T, ssm__cu_ssdt_cols adds a range of earlier
   column tiles, ssm__cu_ssdt_finish applies r_i, adds the diagonal tile, D x and the z gate, and
   stores. The shared kernel splits a row tile's column range over two warps (see
   ssm__cu_ssd_tc_kernel).

   Y_off: PRECISE, S_in in shared memory is hi + lo, scaled by 1 / s_un (see ssm__cu_f16_shift). */
template <typename TT, int NN, bool PRECISE>
static __device__ __forceinline__ void ssm__cu_ssdt_yoff(const uint32_t (*cf)[4], const ssm__cu_ssdt_tiles<TT> &s, int mt,
                                                      float s_un, int lane, float (*y)[4]) {
    typedef ssm__cu_mm<TT> M;
    constexpr int BS = NN + 8;
#pragma unroll
    for (int pt = 0; pt < 8; ++pt) y[pt][0] = y[pt][1] = y[pt][2] = y[pt][3] = 0.0f;
    const int srow = (lane >> 4) * 8 + (lane & 7), scol = ((lane >> 3) & 1) * 8;
    float f = s.E[mt];
#pragma unroll
    for (int k = 0; k < NN / 16; ++k)
#pragma unroll
        for (int pp = 0; pp < 4; ++pp) {
            uint32_t sb[4];
            ssm__cu_ldsm4(sb, s.sh + (pp * 16 + srow) * BS + k * 16 + scol);
            M::mma(y[2 * pp], cf[k], sb[0], sb[1]);
            M::mma(y[2 * pp + 1], cf[k], sb[2], sb[3]);
            if (PRECISE) {
                ssm__cu_ldsm4(sb, s.sl + (pp * 16 + srow) * BS + k * 16 + scol);
                M::mma(y[2 * pp], cf[k], sb[0], sb[1]);
                M::mma(y[2 * pp + 1], cf[k], sb[2], sb[3]);
            }
        }
    if (PRECISE) f *= s_un;
#pragma unroll
    for (int pt = 0; pt < 8; ++pt) y[pt][0] *= f, y[pt][1] *= f, y[pt][2] *= f, y[pt][3] *= f;
}

/* y += column tiles [jt0, jt1) of row tile mt (jt1 <= mt): (C B^T) R_IJ g_j dt_j, times x. cb holds
   C B^T of tile (mt, jt0) on entry and of (mt, jt1) on return: it is taken one tile ahead, so that
   its mma chains (or its loads) overlap the previous tile's products with x (the loop is
   otherwise serial: each tile's C B^T feeds its own product). */
template <typename TT, int NN, bool PRECISE, bool SHARED>
static __device__ __forceinline__ void ssm__cu_ssdt_cols(const uint32_t (*cf)[4], const ssm__cu_ssdt_tiles<TT> &s, int mt,
                                                      int jt0, int jt1, int lane, float (*cb)[4], float (*y)[4]) {
    constexpr int MT = SSM__SSDT_Q / 16;
    const int cq = lane % 4;
    for (int jt = jt0; jt < jt1; ++jt) {
        const int j0 = jt * 16;
        float mv[2][4];
        const float R = s.R[mt * MT + jt];
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
            const float2 gj = *(const float2 *)(s.g + j0 + hf * 8 + 2 * cq);
            const float f0 = R * gj.x, f1 = R * gj.y;
            mv[hf][0] = ssm__cu_ssdt_cbsum<SHARED>(cb, hf, 0) * f0;
            mv[hf][1] = ssm__cu_ssdt_cbsum<SHARED>(cb, hf, 1) * f1;
            mv[hf][2] = ssm__cu_ssdt_cbsum<SHARED>(cb, hf, 2) * f0;
            mv[hf][3] = ssm__cu_ssdt_cbsum<SHARED>(cb, hf, 3) * f1;
        }
        uint32_t ah[4], al[4];
        ssm__cu_operand<TT, PRECISE>(mv, ah, al);
        ssm__cu_ssdt_cbtile<TT, NN, SHARED>(cf, s.b, s.cbt, mt, jt + 1, lane, cb);
        ssm__cu_ssdt_ax<TT, PRECISE>(y, ah, al, s.x, j0, lane);
    }
}

/* y *= r_i, then the diagonal tile (its C B^T in cb): exp(min(v_i - v_j, 0)) dt_j for j <= i;
   then D x, the z gate and the store. */
template <typename TT, bool PRECISE, bool SHARED>
static __device__ __forceinline__ void ssm__cu_ssdt_finish(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h, int q,
                                                        int mt, const ssm__cu_ssdt_tiles<TT> &s, const float (*cb)[4], int lane,
                                                        float (*y)[4]) {
    typedef ssm__cu_mm<TT> M;
    constexpr int XS = 64 + 8;
    const int i0 = mt * 16, gq = lane / 4, cq = lane % 4, ia = i0 + gq, ib = ia + 8;
    {
        const float ra = s.r[ia], rb = s.r[ib];
#pragma unroll
        for (int pt = 0; pt < 8; ++pt) y[pt][0] *= ra, y[pt][1] *= ra, y[pt][2] *= rb, y[pt][3] *= rb;
    }
    {
        float mv[2][4];
        const float va = s.v[ia], vb = s.v[ib];
#pragma unroll
        for (int hf = 0; hf < 2; ++hf)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int j = i0 + hf * 8 + 2 * cq + (e & 1), i = (e >> 1) ? ib : ia;
                const float seg = ((e >> 1) ? vb : va) - s.v[j];
                const float v = ssm__cu_ssdt_cbsum<SHARED>(cb, hf, e) * s.dt[j];
                mv[hf][e] = j <= i ? v * ssm__cu_exp(ssm__cu_min0(seg)) : 0.0f;
            }
        uint32_t ah[4], al[4];
        ssm__cu_operand<TT, PRECISE>(mv, ah, al);
        ssm__cu_ssdt_ax<TT, PRECISE>(y, ah, al, s.x, i0, lane);
    }
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const int i = hr ? ib : ia;
        if (i >= q) continue;
        TT *orow = (TT *)(uintptr_t)a.out.p + it.b * a.out.s[0] + (it.t0 + i) * a.out.s[1] + h * a.out.s[2];
#pragma unroll
        for (int pt = 0; pt < 8; ++pt) {
            const int p = pt * 8 + 2 * cq;
            float y0 = y[pt][2 * hr], y1 = y[pt][2 * hr + 1];
            if (a.Dskip.p) {
                const uint32_t xx = *(const uint32_t *)(s.x + i * XS + p);
                y0 += s.D[p] * M::half_at(xx, 0);
                y1 += s.D[p + 1] * M::half_at(xx, 1);
            }
            if (a.z.p) {
                const uint32_t zz = *(const uint32_t *)(s.z + i * XS + p);
                y0 *= ssm__cu_silu(M::half_at(zz, 0));
                y1 *= ssm__cu_silu(M::half_at(zz, 1));
            }
            __stcs((unsigned *)(orow + p), M::pack(y0, y1));   /* streamed past L2 (see ssm__cu_l2_evict_first) */
        }
    }
}

/* All of row tile mt on one warp. */
template <typename TT, int NN, bool PRECISE, bool SHARED>
static __device__ __forceinline__ void ssm__cu_ssdt_rows(const ssm__cu_ssd_args &a, const ssm__cu_ssd_item &it, int64_t h, int q,
                                                      int mt, const uint32_t (*cf)[4], const ssm__cu_ssdt_tiles<TT> &s,
                                                      float s_un, int lane) {
    float y[8][4], cb[4][4];
    ssm__cu_ssdt_yoff<TT, NN, PRECISE>(cf, s, mt, s_un, lane, y);
    ssm__cu_ssdt_cbtile<TT, NN, SHARED>(cf, s.b, s.cbt, mt, 0, lane, cb);
    ssm__cu_ssdt_cols<TT, NN, PRECISE, SHARED>(cf, s, mt, 0, mt, lane, cb, y);
    ssm__cu_ssdt_finish<TT, PRECISE, SHARED>(a, it, h, q, mt, s, cb, lane, y);
}

/* Copies rows [0, q) of a token-major tile of `parts` 16-byte parts per row into shared memory
   (cp.async, row stride `ld` elements; with an L2 policy when STREAM) and zeroes rows
   [q, SSM__SSDT_Q), with NT threads. */
template <typename TT, bool STREAM, int NT>
static __device__ __forceinline__ void ssm__cu_ssdt_stage(TT *dst, int ld, const TT *src, int64_t src_ld, int parts, int q,
                                                       uint64_t pol) {
    /* parts divides the block size: each thread copies one part of every step-th row */
    const int part = threadIdx.x % parts, step = NT / parts;
    int t = threadIdx.x / parts;
    TT *d = dst + t * ld + part * 8;
    const TT *g = src + t * src_ld + part * 8;
    for (; t < SSM__SSDT_Q; t += step, d += step * ld, g += step * src_ld) {
        if (t >= q) *(uint4 *)d = make_uint4(0u, 0u, 0u, 0u);
        else if (STREAM) ssm__cu_cp16_policy(d, g, pol);
        else ssm__cu_cp16(d, g);
    }
}

/* The pre-pass of the shared kernel: C B^T of every (chunk, group), a warp per 16 x 16 tile
   (I, J), J <= I, at tile index I (I + 1) / 2 + J of the (chunk, group)'s SSM__SSDT_TILES. A
   tile is stored in its consumer's accumulator-fragment order: column half hf's element e of
   lane l at 128 hf + 4 l + e, so that each of a warp's two 16-byte loads a lane reads 512
   contiguous bytes (conflict-free in shared memory, coalesced here).
   The sums are those the 4-warp kernel forms itself (same chains, same order): both kernels
   give the same bits. Row tiles past the chunk are not written (never read). */
#define SSM__SSDT_CBW 4   /* pre-pass: warps per block */
template <typename TT, int NN>
__global__ void __launch_bounds__(32 * SSM__SSDT_CBW) ssm__cu_ssd_cb_kernel(ssm__cu_ssd_args a) {
    const int lane = threadIdx.x % 32;
    const int64_t wid = (int64_t)blockIdx.x * SSM__SSDT_CBW + threadIdx.x / 32, G = a.H / a.per_group;
    const int64_t n_chunks = a.varlen ? (int64_t)*a.count : a.B * a.nk_row, kg = wid / SSM__SSDT_TILES;
    if (kg >= n_chunks * G) return;
    const int tile = (int)(wid % SSM__SSDT_TILES);
    int I = 0, J = tile;
    while (J > I) J -= ++I;   /* row I holds tiles I (I + 1) / 2 .. + I */
    const int64_t kk = kg / G, g = kg % G;
    const ssm__cu_ssd_item it = ssm__cu_ssd_item_of(a, kk);
    const int q = (int)(it.t1 - it.t0);
    if (I * 16 >= q) return;
    const TT *cg = (const TT *)a.Cm.p + it.b * a.Cm.s[0] + it.t0 * a.Cm.s[1] + g * a.Cm.s[2];
    const TT *bg = (const TT *)a.Bm.p + it.b * a.Bm.s[0] + it.t0 * a.Bm.s[1] + g * a.Bm.s[2];
    uint32_t cf[NN / 16][4], bf[NN / 16][4];
    ssm__cu_ssdt_cfrag<TT, NN>(cg, a.Cm.s[1], I * 16, q, lane, cf);
    ssm__cu_ssdt_cfrag<TT, NN>(bg, a.Bm.s[1], J * 16, q, lane, bf);   /* B rows: the B^T operand's columns */
    float cb[4][4];
#pragma unroll
    for (int c4 = 0; c4 < 4; ++c4) cb[c4][0] = cb[c4][1] = cb[c4][2] = cb[c4][3] = 0.0f;
#pragma unroll
    for (int k = 0; k < NN / 16; ++k) {
        ssm__cu_mm<TT>::mma(cb[k & 1], cf[k], bf[k][0], bf[k][2]);
        ssm__cu_mm<TT>::mma(cb[2 + (k & 1)], cf[k], bf[k][1], bf[k][3]);
    }
    float *dst = a.cbt + (kg * SSM__SSDT_TILES + tile) * 256 + lane * 4;
    *(float4 *)dst = make_float4(cb[0][0] + cb[1][0], cb[0][1] + cb[1][1], cb[0][2] + cb[1][2], cb[0][3] + cb[1][3]);
    *(float4 *)(dst + 128) = make_float4(cb[2][0] + cb[3][0], cb[2][1] + cb[3][1], cb[2][2] + cb[3][2], cb[2][3] + cb[3][3]);
}

/* An item on W warps: 4, each on two row tiles (mt, 7 - mt), computing C B^T itself; or SHARED,
   8, C B^T from the pre-pass, two warps on each pair of row tiles (see the row tiles below). The
   local state is split over the warps by n (4 ranges) and, with 8 warps, by p (2 halves). */
template <typename TT, int NN, bool PRECISE, bool SHARED>
__global__ void __launch_bounds__(SHARED ? 256 : 128, 2) ssm__cu_ssd_tc_kernel(ssm__cu_ssd_args a) {
    typedef ssm__cu_ssdt_shape<NN, SHARED> SH;
    typedef ssm__cu_mm<TT> M;
    constexpr int W = SHARED ? 8 : 4, NT = 32 * W, MTW = 16 / W;
    constexpr int QT = SSM__SSDT_Q, MT = SH::MT, BS = SH::BS, XS = SH::XS, NTW = NN / 8 / 4;
    __shared__ unsigned long long s_next;
    __shared__ float s_smax[W];   /* per warp: largest finite |S_in| */
    const ssm__cu_ssdt_tiles<TT> s = ssm__cu_ssdt_carve<TT, NN, SHARED>(ssm__cu_dyn_smem());
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, gq = lane / 4, cq = lane % 4;
    const int mb = SHARED ? (warp / 4) * MTW : 0, nw = SHARED ? warp % 4 : warp;   /* local state: p tiles mb.., n tiles nw NTW.. */
    const int64_t n_items = (a.varlen ? (int64_t)*a.count : a.B * a.nk_row) * a.H;

    if (tid == 0) s_next = atomicAdd(a.ticket, 1ull);
    __syncthreads();
    ssm__cu_ssd_dt_next<TT> dt_ahead = ssm__cu_ssd_dt_ahead<TT>(a, (int64_t)s_next, n_items);
    for (;;) {
        __syncthreads();   /* the previous item is done with shared memory; s_next is set */
        const int64_t item = (int64_t)s_next;
        if (item >= n_items) break;
        /* the next ticket, fetched while this item runs (tickets stay in order per block, and the
           smallest one held is always being worked on: no deadlock) */
        unsigned long long next = 0;
        if (tid == 0) next = atomicAdd(a.ticket, 1ull);
        int64_t kk, h;
        ssm__cu_ssd_ticket(a, item, &kk, &h);
        const ssm__cu_ssd_item it = ssm__cu_ssd_item_of(a, kk);
        const int64_t g = h / a.per_group;
        const int q = (int)(it.t1 - it.t0);
        const float *prev = ssm__cu_ssd_slot(a, it, h, it.par ^ 1);
        float *cur = ssm__cu_ssd_slot(a, it, h, it.par);
        const TT *cg = (const TT *)a.Cm.p + it.b * a.Cm.s[0] + it.t0 * a.Cm.s[1] + g * a.Cm.s[2];

        const uint64_t stream = ssm__cu_l2_evict_first();
        ssm__cu_ssdt_stage<TT, false, NT>(s.b, BS, (const TT *)a.Bm.p + it.b * a.Bm.s[0] + it.t0 * a.Bm.s[1] + g * a.Bm.s[2],
                                          a.Bm.s[1], NN / 8, q, stream);
        ssm__cu_ssdt_stage<TT, true, NT>(s.x, XS, (const TT *)a.x.p + it.b * a.x.s[0] + it.t0 * a.x.s[1] + h * a.x.s[2], a.x.s[1],
                                         8, q, stream);
        if (a.z.p)
            ssm__cu_ssdt_stage<TT, true, NT>(s.z, XS, (const TT *)a.z.p + it.b * a.z.s[0] + it.t0 * a.z.s[1] + h * a.z.s[2],
                                             a.z.s[1], 8, q, stream);
        ssm__cu_cp_commit();

        /* per-token and per-tile decay factors (see above); tokens past q have dt' = 0 */
        ssm__cu_ssd_prefix_block(a, q, QT, dt_ahead.biased(), dt_ahead.A, s.dt, s.cum);
        if (tid < 64) s.D[tid] = ssm__cu_param(a.Dskip, h * a.Dskip.s[0] + tid * a.Dskip.s[1], 0.0f);
        __syncthreads();
        if (tid == 0) s_next = next;   /* every thread read s_next before the barrier above */
        if (NT == QT || tid < QT) {
            const int t = tid;
            const double c = s.cum[t];
            const float d = s.dt[t], v = (float)(c - s.cum[t & ~15]);
            s.w[t] = ssm__cu_exp(ssm__cu_min0((float)(s.cum[q - 1] - c))) * d;
            s.g[t] = ssm__cu_exp(ssm__cu_min0((float)(s.cum[t | 15] - c))) * d;
            s.v[t] = v;
            s.r[t] = ssm__cu_exp(ssm__cu_min0(v));
            if (t < MT * MT) {
                const int I = t / MT, J = t % MT;
                s.R[t] = J < I ? ssm__cu_exp(ssm__cu_min0((float)(s.cum[I * 16] - s.cum[J * 16 + 15]))) : 0.0f;
            }
            if (t < MT) s.E[t] = ssm__cu_exp(ssm__cu_min0((float)s.cum[t * 16]));
        }
        ssm__cu_cp_wait_all();
        __syncthreads();
        dt_ahead = ssm__cu_ssd_dt_ahead<TT>(a, (int64_t)s_next, n_items);   /* lands during this item */
        for (int e = tid; e < QT * 8; e += NT) {   /* w x, split */
            const int t = e / 8, part = e % 8;
            uint4 hi, lo;
            ssm__cu_split8<TT>(*(const uint4 *)(s.x + t * XS + part * 8), s.w[t], &hi, &lo);
            *(uint4 *)(s.xwh + t * XS + part * 8) = hi;
            *(uint4 *)(s.xwl + t * XS + part * 8) = lo;
        }
        /* the previous chunk's end state: waited for here, and read (each thread the elements of
           its own state fragments, so every element is read once) while the local state is
           computed */
        if (it.pk >= 0 && tid == 0) ssm__cu_wait_flag(a.flags + it.pk * a.H + h, a.err);
        __syncthreads();
        float2 sv[MTW][NTW][2];
        ssm__cu_ssdt_sin<NN, NTW, MTW>(a, it, h, prev, mb, nw * NTW * 8, lane, sv);

        /* local state: S_loc[p][n] = sum_j (w x)[j][p] B[j][n] over the warp's p and n tiles */
        float st[MTW][NTW][4];
#pragma unroll
        for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
            for (int nt = 0; nt < NTW; ++nt) st[mt][nt][0] = st[mt][nt][1] = st[mt][nt][2] = st[mt][nt][3] = 0.0f;
        {
            const int arow = (lane & 7) + ((lane >> 4) & 1) * 8, acol = mb * 16 + ((lane >> 3) & 1) * 8;
            const int brow = (lane & 7) + ((lane >> 3) & 1) * 8, bcol = nw * NTW * 8 + (lane >> 4) * 8;
            for (int j0 = 0; j0 < q; j0 += 16) {
                uint32_t ah[MTW][4], al[MTW][4];
#pragma unroll
                for (int mt = 0; mt < MTW; ++mt) {
                    ssm__cu_ldsm4t(ah[mt], s.xwh + (j0 + arow) * XS + mt * 16 + acol);
                    ssm__cu_ldsm4t(al[mt], s.xwl + (j0 + arow) * XS + mt * 16 + acol);
                }
#pragma unroll
                for (int np = 0; np < NTW / 2; ++np) {
                    uint32_t bf[4];
                    ssm__cu_ldsm4t(bf, s.b + (j0 + brow) * BS + bcol + np * 16);
#pragma unroll
                    for (int mt = 0; mt < MTW; ++mt) {
                        M::mma(st[mt][2 * np], ah[mt], bf[0], bf[1]);
                        M::mma(st[mt][2 * np + 1], ah[mt], bf[2], bf[3]);
                        M::mma(st[mt][2 * np], al[mt], bf[0], bf[1]);
                        M::mma(st[mt][2 * np + 1], al[mt], bf[2], bf[3]);
                    }
                }
            }
        }

        /* Row tiles. 4 warps: warp w takes tiles w and 7 - w, whole. SHARED, 8 warps: warps w and
           w + 4 share tiles lo = w and hi = 7 - w, nine column tiles (and two Y_off) in all. Warp w
           takes Y_off of hi and its column tiles 0..3; warp w + 4 all of lo, then hi's column
           tiles 4..hi - 1, the barrier, warp w's partial sum (left in shared memory, in the place
           of the C B^T tiles it has used), hi's diagonal tile and the stores. Each has Y_off and
           four column tiles' work before the barrier. The first row tile's C loads while S_in is
           added in and published (SHARED: while it is published, when the local state's
           registers are free). */
        const int lo = nw, hi = MT - 1 - nw;
        const int first = SHARED ? (warp < 4 ? hi : lo) : warp;
        uint32_t cf0[NN / 16][4];
        if (!SHARED && first * 16 < q) ssm__cu_ssdt_cfrag<TT, NN>(cg, a.Cm.s[1], first * 16, q, lane, cf0);

        /* S_in is added in and stored as Y_off's operand (in the memory of w x, which every warp
           is done with after the barrier): PRECISE, hi + lo scaled by a power of two from its
           largest finite magnitude (block-wide, see ssm__cu_f16_shift), else 16-bit as is. All
           reads of S_in happened before anything is written: h_last may be h0 */
        if (PRECISE) {
            float m = 0.0f;
#pragma unroll
            for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
                for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
                    for (int hr = 0; hr < 2; ++hr)
                        m = fmaxf(m, fmaxf(ssm__cu_finite_abs(sv[mt][nt][hr].x), ssm__cu_finite_abs(sv[mt][nt][hr].y)));
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
            if (lane == 0) s_smax[warp] = m;
        }
        __syncthreads();
        if (SHARED) {   /* B is done with: the chunk's C B^T tiles (those of its row tiles) take its memory */
            const int mq = (q + 15) / 16, parts = mq * (mq + 1) / 2 * 64;
            const float *cbt = a.cbt + (kk * (a.H / a.per_group) + g) * SSM__SSDT_TILES * 256;
            for (int e = tid; e < parts; e += NT) ssm__cu_cp16(s.cbt + e * 4, cbt + e * 4);
            ssm__cu_cp_commit();
        }
        float s_un = 1.0f;   /* undoes the scale of S_in in Y_off */
        {
            const float e_end = ssm__cu_exp(ssm__cu_min0((float)s.cum[q - 1]));
            float sc = 1.0f;
            if (PRECISE) {
                float m = s_smax[0];
#pragma unroll
                for (int w = 1; w < W; ++w) m = fmaxf(m, s_smax[w]);
                const int e = ssm__cu_f16_shift(__float_as_uint(m) >> 23);
                sc = ssm__cu_pow2(14 - e);
                s_un = ssm__cu_pow2(e - 14);
            }
#pragma unroll
            for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
                for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
                    for (int hr = 0; hr < 2; ++hr) {
                        const int p = (mb + mt) * 16 + gq + hr * 8, n = (nw * NTW + nt) * 8 + 2 * cq;
                        const float2 v = sv[mt][nt][hr];
                        st[mt][nt][2 * hr] += e_end * v.x;
                        st[mt][nt][2 * hr + 1] += e_end * v.y;
                        uint32_t *dh = (uint32_t *)(s.sh + p * BS + n), *dl = (uint32_t *)(s.sl + p * BS + n);
                        if (!PRECISE) *dh = M::pack(v.x, v.y);
                        else ssm__cu_split2<TT>(v.x * sc, v.y * sc, dh, dl);
                    }
        }
        __syncthreads();
        {
            float *cbase = cur + (mb * 16 + gq) * NN + nw * NTW * 8 + 2 * cq;   /* constant offsets below */
#pragma unroll
            for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
                for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
                    for (int hr = 0; hr < 2; ++hr)
                        __stcg((float2 *)(cbase + (mt * 16 + hr * 8) * NN + nt * 8),
                               make_float2(st[mt][nt][2 * hr], st[mt][nt][2 * hr + 1]));
        }
        if (SHARED && first * 16 < q) ssm__cu_ssdt_cfrag<TT, NN>(cg, a.Cm.s[1], first * 16, q, lane, cf0);
        if (SHARED) ssm__cu_cp_wait_all();   /* C B^T tiles, visible to all after the barrier */
        if (it.last && a.hlast.p) {
#pragma unroll
            for (int mt = 0; mt < MTW; ++mt)
#pragma unroll
                for (int nt = 0; nt < NTW; ++nt)
#pragma unroll
                    for (int hr = 0; hr < 2; ++hr) {
                        const int p = (mb + mt) * 16 + gq + hr * 8, n = (nw * NTW + nt) * 8 + 2 * cq;
                        float *hl = (float *)(uintptr_t)a.hlast.p + it.s * a.hlast.s[0] + h * a.hlast.s[1] + p * a.hlast.s[2];
                        hl[n * a.hlast.s[3]] = st[mt][nt][2 * hr];
                        hl[(n + 1) * a.hlast.s[3]] = st[mt][nt][2 * hr + 1];
                    }
        }
        /* the barrier orders every thread's state stores before thread 0's release (a gpu-scope
           release is cumulative), as it orders their reads of the previous slot */
        __syncthreads();
        if (tid == 0) ssm__cu_st_release(a.flags + kk * a.H + h, 1u);

        if (!SHARED) {   /* the second row tile's C loads during the first */
            const int second = MT - 1 - warp;
            uint32_t cf1[NN / 16][4];
            if (second * 16 < q) ssm__cu_ssdt_cfrag<TT, NN>(cg, a.Cm.s[1], second * 16, q, lane, cf1);
            if (first * 16 < q) ssm__cu_ssdt_rows<TT, NN, PRECISE, false>(a, it, h, q, first, cf0, s, s_un, lane);
            if (second * 16 < q) ssm__cu_ssdt_rows<TT, NN, PRECISE, false>(a, it, h, q, second, cf1, s, s_un, lane);
        } else {
            float y[8][4], cb[4][4];
            float *part = s.cbt + hi * (hi + 1) / 2 * 256 + lane * 4;   /* hi's C B^T tiles 0..3 */
            if (warp < 4) {
                if (hi * 16 < q) {
                    ssm__cu_ssdt_yoff<TT, NN, PRECISE>(cf0, s, hi, s_un, lane, y);
                    ssm__cu_ssdt_cbtile<TT, NN, true>(cf0, s.b, s.cbt, hi, 0, lane, cb);
                    ssm__cu_ssdt_cols<TT, NN, PRECISE, true>(cf0, s, hi, 0, 4, lane, cb, y);
                    /* each lane overwrites only the tile elements it read itself */
#pragma unroll
                    for (int pt = 0; pt < 8; ++pt) *(float4 *)(part + pt * 128) = make_float4(y[pt][0], y[pt][1], y[pt][2], y[pt][3]);
                }
            } else {
                if (lo * 16 < q) ssm__cu_ssdt_rows<TT, NN, PRECISE, true>(a, it, h, q, lo, cf0, s, s_un, lane);
                if (hi * 16 < q) {
#pragma unroll
                    for (int pt = 0; pt < 8; ++pt) y[pt][0] = y[pt][1] = y[pt][2] = y[pt][3] = 0.0f;
                    ssm__cu_ssdt_cbtile<TT, NN, true>(cf0, s.b, s.cbt, hi, 4, lane, cb);
                    ssm__cu_ssdt_cols<TT, NN, PRECISE, true>(cf0, s, hi, 4, hi, lane, cb, y);
                }
            }
            __syncthreads();   /* warp w's partial sum of hi is in */
            if (warp >= 4 && hi * 16 < q) {
#pragma unroll
                for (int pt = 0; pt < 8; ++pt) {
                    const float4 u = *(const float4 *)(part + pt * 128);
                    y[pt][0] += u.x, y[pt][1] += u.y, y[pt][2] += u.z, y[pt][3] += u.w;
                }
                ssm__cu_ssdt_finish<TT, PRECISE, true>(a, it, h, q, hi, s, cb, lane, y);
            }
        }
    }
}

/* varlen: the chunk table (each sequence chunked from its own start), one block */
__global__ void __launch_bounds__(1024) ssm__cu_ssd_table_kernel(ssm__cu_ssd_args a) {
    __shared__ long long s_off, s_warp[32];
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    if (tid == 0) s_off = 0;
    __syncthreads();
    for (int64_t base = 0; base < a.nseq; base += 1024) {
        const int64_t s = base + tid;
        int64_t st = 0, en = 0;
        if (s < a.nseq) {
            st = ssm__cu_seq(a.cu, s, a.L);
            en = ssm__cu_seq(a.cu, s + 1, a.L);
            if (en < st) en = st;
        }
        const long long cnt = (en - st + a.q - 1) / a.q;
        long long incl = cnt;
        for (int o = 1; o < 32; o <<= 1) {
            const long long v = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= o) incl += v;
        }
        if (lane == 31) s_warp[warp] = incl;
        __syncthreads();
        if (warp == 0) {
            long long v = s_warp[lane], wi = v;
            for (int o = 1; o < 32; o <<= 1) {
                const long long u = __shfl_up_sync(0xffffffffu, wi, o);
                if (lane >= o) wi += u;
            }
            s_warp[lane] = wi - v;
        }
        __syncthreads();
        const long long pos = s_off + s_warp[warp] + incl - cnt;
        for (long long k = 0; k < cnt; ++k) {
            if (pos + k >= a.nk_max) break;
            ssm__cu_ssd_chunk e;
            e.t0 = st + k * a.q;
            e.t1 = st + (k + 1) * a.q < en ? st + (k + 1) * a.q : en;
            e.s = (int)s;
            e.flags = (k == 0 ? 1 : 0) | (k == cnt - 1 ? 2 : 0);
            a.table[pos + k] = e;
        }
        __syncthreads();
        if (tid == 1023) s_off = pos + cnt;
        __syncthreads();
    }
    if (tid == 0) *a.count = (int)(s_off < a.nk_max ? s_off : a.nk_max);
}

/* varlen padding tokens (past the last sequence) are written as 0 */
template <typename T>
__global__ void __launch_bounds__(256) ssm__cu_ssd_pad_kernel(ssm__cu_ssd_args a) {
    const int64_t end = ssm__cu_seq(a.cu, a.nseq, a.L), total = (a.L - end) * a.H * a.P;
    for (int64_t it = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; it < total; it += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = it % a.P, h = (it / a.P) % a.H, t = end + it / (a.P * a.H);
        ssm__cu_st<T>(a.out.p, t * a.out.s[1] + h * a.out.s[2] + p * a.out.s[3], 0.0f);
    }
}

/* sequences without tokens: h_last = h0 (or 0) */
__global__ void __launch_bounds__(256) ssm__cu_ssd_empty_kernel(ssm__cu_ssd_args a) {
    const int64_t total = a.nseq * a.H * a.P * a.N;
    for (int64_t it = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; it < total; it += (int64_t)gridDim.x * blockDim.x) {
        const int64_t n = it % a.N, p = (it / a.N) % a.P, h = (it / (a.N * a.P)) % a.H, s = it / (a.N * a.P * a.H);
        const bool empty = a.varlen ? ssm__cu_seq(a.cu, s + 1, a.L) <= ssm__cu_seq(a.cu, s, a.L) : a.L == 0;
        if (empty)
            ((float *)(uintptr_t)a.hlast.p)[s * a.hlast.s[0] + h * a.hlast.s[1] + p * a.hlast.s[2] + n * a.hlast.s[3]] =
                ssm__cu_param(a.h0, s * a.h0.s[0] + h * a.h0.s[1] + p * a.h0.s[2] + n * a.h0.s[3], 0.0f);
    }
}

/* Which kernel runs a call, and its chunk length. */
typedef struct ssm__cu_ssd_plan {
    int tc;          /* tensor-core kernel */
    int shared;      /* ... with C B^T from the pre-pass, once per group (see SSM_CUDA_SSD_SHARED_CB) */
    int64_t q;       /* chunk length */
    size_t smem;
} ssm__cu_ssd_plan;

static ssm__cu_ssd_plan ssm__cu_ssd_make_plan(const ssm_ssd_params *p) {
    ssm__cu_ssd_plan pl;
    const int64_t Q = p->Q ? p->Q : 256, G = p->G ? p->G : 1;
    ssm__cu_cv x = SSM__IN_VIEW(p->x, 4, p->B, p->L, p->H, p->P), z = SSM__IN_VIEW(p->z, 4, p->B, p->L, p->H, p->P);
    ssm__cu_cv o = SSM__IN_VIEW(p->out, 4, p->B, p->L, p->H, p->P);
    ssm__cu_cv bm = SSM__IN_VIEW(p->Bm, 4, p->B, p->L, G, p->N), cm = SSM__IN_VIEW(p->Cm, 4, p->B, p->L, G, p->N);
    pl.tc = p->dtype != SSM_F32 && p->P == 64 && (p->N == 64 || p->N == 128) && x.s[3] == 1 &&
            ssm__cu_aligned(x.p, 16) && ssm__cu_rows_multiple(&x, 4, 8) && o.s[3] == 1 && ssm__cu_aligned(o.p, 4) &&
            ssm__cu_rows_multiple(&o, 4, 2) && (!z.p || (z.s[3] == 1 && ssm__cu_aligned(z.p, 4) && ssm__cu_rows_multiple(&z, 4, 2))) &&
            bm.s[3] == 1 && ssm__cu_aligned(bm.p, 16) && ssm__cu_rows_multiple(&bm, 4, 8) && cm.s[3] == 1 &&
            ssm__cu_aligned(cm.p, 4) && ssm__cu_rows_multiple(&cm, 4, 2);
    /* the tensor-core kernels' shared memory (110-115 KB with N = 128) must fit the device */
    const size_t s4 = p->N == 64 ? ssm__cu_ssdt_shape<64, false>::smem : ssm__cu_ssdt_shape<128, false>::smem;
    const size_t s8 = p->N == 64 ? ssm__cu_ssdt_shape<64, true>::smem : ssm__cu_ssdt_shape<128, true>::smem;
    pl.shared = pl.tc && SSM_CUDA_SSD_SHARED_CB > 0 && p->H / G >= SSM_CUDA_SSD_SHARED_CB && ssm__cu_smem_fits(s8);
    pl.tc = pl.tc && (pl.shared || ssm__cu_smem_fits(s4));
    if (pl.tc) {
        pl.q = Q < SSM__SSDT_Q ? Q : SSM__SSDT_Q;
        pl.smem = pl.shared ? s8 : s4;
    } else {
        pl.q = Q < SSM__SSDG_QMAX ? Q : SSM__SSDG_QMAX;
        pl.smem = SSM__SSDG_SMEM;
    }
    return pl;
}

static void ssm__cu_ssd_carve(ssm__cu_arena *ar, const ssm_ssd_params *p, const ssm__cu_ssd_plan *pl, ssm__cu_ssd_args *a,
                           size_t *head_bytes, size_t *flag_bytes) {
    const int varlen = p->cu_seqlens.data != NULL;
    const int64_t nk_row = ssm__cu_cdiv(p->L, pl->q), nk_max = nk_row + (varlen ? p->nseq : 0);
    const int64_t nk_total = varlen ? nk_max : p->B * nk_row, rows = varlen ? 1 : p->B;
    char *head = (char *)ssm__cu_take(ar, 256);
    a->ticket = (unsigned long long *)head;
    a->err = head ? (int *)(head + 8) : NULL;
    a->count = head ? (int *)(head + 12) : NULL;
    *head_bytes = 256;
    *flag_bytes = sizeof(unsigned) * (size_t)(nk_total * p->H);
    a->flags = (unsigned *)ssm__cu_take(ar, *flag_bytes);
    a->slots = (float *)ssm__cu_take(ar, sizeof(float) * (size_t)(rows * p->H * 2 * p->P * p->N));
    a->table = varlen ? (ssm__cu_ssd_chunk *)ssm__cu_take(ar, sizeof(ssm__cu_ssd_chunk) * (size_t)nk_max) : NULL;
    a->cbt = pl->shared ? (float *)ssm__cu_take(ar, sizeof(float) * (size_t)(nk_total * (p->G ? p->G : 1) * SSM__SSDT_TILES * 256))
                        : NULL;
    a->nk_row = nk_row;
    a->nk_max = nk_max;
}

/* A persistent kernel: as many blocks as fit on the device at once, capped by the items. */
static ssm_status ssm__cu_ssd_launch(void (*k)(ssm__cu_ssd_args), const ssm__cu_ssd_args &a, int threads, size_t smem,
                                    int64_t items, int sms, cudaStream_t stream) {
    int per_sm = 1;
    if (cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem) != cudaSuccess ||
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, threads, smem) != cudaSuccess)
        return ssm__cu_failed();
    if (per_sm < 1) per_sm = 1;
    const int64_t want = (int64_t)sms * per_sm, grid = items < want ? items : want;
    ssm__cu_ssd_args b = a;   /* bands of the fewest rows that keep a chunk's predecessor a grid behind */
    b.band = SSM__SSD_BANDS ? ssm__cu_cdiv(grid, a.H) : a.B;
    if (b.band > a.B) b.band = a.B;
    if (b.band < 1) b.band = 1;
    SSM__CU_LAUNCH((unsigned)grid, threads, smem, stream, k)(b);
    return ssm__cu_launched();
}

/* The tensor-core kernels of a call: the pre-pass (SHARED) and the item kernel, for state size
   N; only the SSM_CUDA_SSD_PRECISE flavour is built. Returns the item kernel's block size. */
template <typename TT, bool SHARED>
static int ssm__cu_ssd_tc_pick(int64_t N, void (**pre)(ssm__cu_ssd_args), void (**item)(ssm__cu_ssd_args)) {
    constexpr bool precise = SSM_CUDA_SSD_PRECISE != 0;
    *pre = SHARED ? (N == 64 ? ssm__cu_ssd_cb_kernel<TT, 64> : ssm__cu_ssd_cb_kernel<TT, 128>) : NULL;
    *item = N == 64 ? ssm__cu_ssd_tc_kernel<TT, 64, precise, SHARED> : ssm__cu_ssd_tc_kernel<TT, 128, precise, SHARED>;
    return SHARED ? 256 : SSM__SSDT_Q;
}

/* The tensor-core path: the pre-pass if the plan shares C B^T, then the persistent item kernel. */
template <typename TT>
static ssm_status ssm__cu_ssd_tc_run(const ssm__cu_ssd_args &a, const ssm__cu_ssd_plan &pl, int64_t items, int sms,
                                    cudaStream_t stream) {
    void (*pre)(ssm__cu_ssd_args), (*item)(ssm__cu_ssd_args);
    const int threads = pl.shared ? ssm__cu_ssd_tc_pick<TT, true>(a.N, &pre, &item) : ssm__cu_ssd_tc_pick<TT, false>(a.N, &pre, &item);
    if (pre) {
        const int64_t warps = (a.varlen ? a.nk_max : a.B * a.nk_row) * (a.H / a.per_group) * SSM__SSDT_TILES;
        SSM__CU_LAUNCH((unsigned)ssm__cu_cdiv(warps, SSM__SSDT_CBW), 32 * SSM__SSDT_CBW, 0, stream, pre)(a);
        const ssm_status st = ssm__cu_launched();
        if (st != SSM_OK) return st;
    }
    return ssm__cu_ssd_launch(item, a, threads, pl.smem, items, sms, stream);
}

extern "C" {

SSM_CUDA_API size_t ssm_cuda_ssd_workspace_size(const ssm_ssd_params *p) {
    ssm__cu_arena ar = ssm__cu_arena_of(NULL);
    ssm__cu_ssd_plan pl;
    ssm__cu_ssd_args a;
    size_t hb, fb;
    if (ssm_ssd_validate_args(p) != SSM_OK) return 0;
    pl = ssm__cu_ssd_make_plan(p);
    ssm__cu_ssd_carve(&ar, p, &pl, &a, &hb, &fb);
    return ssm__cu_arena_bytes(&ar);
}

SSM_CUDA_API ssm_status ssm_cuda_ssd(const ssm_ssd_params *p, cudaStream_t stream, void *workspace,
                                     size_t workspace_size) {
    ssm__cu_ssd_args a;
    ssm__cu_ssd_plan pl;
    ssm__cu_arena ar = ssm__cu_arena_of(workspace);
    ssm_status st = ssm_ssd_validate_args(p);
    size_t head_bytes, flag_bytes;
    int sms;
    int64_t G, items;
    if (st != SSM_OK) return st;
    pl = ssm__cu_ssd_make_plan(p);
    if (!ssm__cu_smem_fits(pl.smem)) return SSM_ERR_UNSUPPORTED;   /* no kernel fits (below sm_80) */
    ssm__cu_ssd_carve(&ar, p, &pl, &a, &head_bytes, &flag_bytes);
    if ((st = ssm__cu_check_ws(ssm__cu_arena_bytes(&ar), workspace, workspace_size)) != SSM_OK) return st;
    if ((sms = ssm__cu_sm_count()) <= 0) return ssm__cu_failed();
    G = p->G ? p->G : 1;
    a.B = p->B; a.L = p->L; a.H = p->H; a.P = p->P; a.N = p->N;
    a.per_group = p->H / G;
    a.q = pl.q;
    a.varlen = p->cu_seqlens.data != NULL;
    a.nseq = a.varlen ? p->nseq : p->B;
    a.softplus = p->dt_softplus != 0;
    a.dt_lo = p->dt_limit ? (p->dt_min > 0.0f ? p->dt_min : 0.0f) : 0.0f;
    a.dt_hi = p->dt_limit ? p->dt_max : INFINITY;
    a.x = SSM__IN_VIEW(p->x, 4, a.B, a.L, a.H, a.P);
    a.dt = SSM__IN_VIEW(p->dt, 3, a.B, a.L, a.H, 0);
    a.A = SSM__IN_VIEW(p->A, 1, a.H, 0, 0, 0);
    a.Bm = SSM__IN_VIEW(p->Bm, 4, a.B, a.L, G, a.N);
    a.Cm = SSM__IN_VIEW(p->Cm, 4, a.B, a.L, G, a.N);
    a.Dskip = SSM__IN_VIEW(p->Dskip, 2, a.H, a.P, 0, 0);
    a.z = SSM__IN_VIEW(p->z, 4, a.B, a.L, a.H, a.P);
    a.dtbias = SSM__IN_VIEW(p->dt_bias, 1, a.H, 0, 0, 0);
    a.h0 = SSM__IN_VIEW(p->h0, 4, a.nseq, a.H, a.P, a.N);
    a.cu = SSM__IN_VIEW(p->cu_seqlens, 1, a.nseq + 1, 0, 0, 0);
    a.out = SSM__IN_VIEW(p->out, 4, a.B, a.L, a.H, a.P);
    a.hlast = SSM__IN_VIEW(p->h_last, 4, a.nseq, a.H, a.P, a.N);
    items = (a.varlen ? a.nk_max : a.B * a.nk_row) * a.H;
    if (items > INT32_MAX) return SSM_ERR_UNSUPPORTED;   /* tickets are 32-bit: x would hold over 2^44 elements */
    if (a.B > 0 && a.L > 0 && items > 0) {
        if (cudaMemsetAsync(a.ticket, 0, head_bytes, stream) != cudaSuccess ||
            cudaMemsetAsync(a.flags, 0, flag_bytes, stream) != cudaSuccess)
            return ssm__cu_failed();
        if (a.varlen) SSM__CU_LAUNCH(1, 1024, 0, stream, ssm__cu_ssd_table_kernel)(a);
        if (pl.tc) {
            st = p->dtype == SSM_BF16 ? ssm__cu_ssd_tc_run<__nv_bfloat16>(a, pl, items, sms, stream)
                                      : ssm__cu_ssd_tc_run<__half>(a, pl, items, sms, stream);
        } else {
            SSM__DISPATCH_DTYPE(p->dtype, T, st = ssm__cu_ssd_launch(ssm__cu_ssd_generic_kernel<T>, a, 256, pl.smem, items, sms, stream));
        }
        if (st != SSM_OK) return st;
        if (a.varlen) {
            SSM__DISPATCH_DTYPE(p->dtype, T, SSM__CU_LAUNCH(ssm__cu_blocks(a.L * a.H * a.P, 256, sms), 256, 0, stream, ssm__cu_ssd_pad_kernel<T>)(a));
            if ((st = ssm__cu_launched()) != SSM_OK) return st;
        }
    }
    if (a.hlast.p && a.nseq > 0 && (a.varlen || a.L == 0)) {
        SSM__CU_LAUNCH(ssm__cu_blocks(a.nseq * a.H * a.P * a.N, 256, sms), 256, 0, stream, ssm__cu_ssd_empty_kernel)(a);
        return ssm__cu_launched();
    }
    return SSM_OK;
}

}   /* extern "C" */

#endif /* SSM_CUDA_IMPLEMENTATION */
