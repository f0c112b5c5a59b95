/* ssm.h — state-space and hybrid long-context kernels, single header, portable C.

   WHAT IT IS
   The kernels that state-space and hybrid long-context models run on, behind one C API:

     ssm_selective_scan   Mamba-1 selective scan (SPEC §1)
     ssm_state_update     one-token decode update of an SSM state, in place (SPEC §2)
     ssm_ssd              Mamba-2 SSD chunked scan (SPEC §3)
     ssm_conv1d           causal depthwise conv1d, prefill and decode (SPEC §4)
     ssm_hsa_select       RAMba hierarchical sparse attention: chunk top-k + weights (SPEC §5)
     ssm_hsa_attention    RAMba hierarchical sparse attention: per-chunk softmax attention (SPEC §5)

   SPEC.md (shipped beside this header in the project) is the contract: math, layouts, tolerances.
   Activations are f32, f16 or bf16 (16-bit values are uint16_t bit patterns); parameters and
   states are always f32. This header holds the API, the portable C kernels and the CPU dispatch;
   ssm_avx512.h / ssm_neon.h add ISA kernels behind the same calls, ssm_cuda.cuh device launchers.

   HOW TO INCLUDE IT
   Include it anywhere for the declarations. In exactly one C or C++ file, define the
   implementation first:

       #define SSM_IMPLEMENTATION
       #include "ssm.h"

   or define SSM_STATIC as well to get a private (static) copy in that translation unit.
   Link with -lm; add -fopenmp to let the kernels use OpenMP threads.

   EXAMPLE (conv1d with SiLU, contiguous tensors: a NULL stride pointer means contiguous)

       ssm_conv1d_params p = {0};
       p.B = 1; p.D = 4; p.L = 16; p.W = 4;
       p.x.data = x; p.weight.data = w; p.bias.data = bias; p.silu = 1;
       p.out.data = out;
       ssm_status st = ssm_conv1d(&p, NULL);          // NULL: default execution (threads)
       if (st != SSM_OK) fprintf(stderr, "%s\n", ssm_status_string(st));

   CONVENTIONS
   - Parameter structs: zero means "absent" (a tensor with data == NULL) or "default" (G = 0 is
     1 group, Q = 0 is the chunk size 256, ...). Name only what you use with designated
     initialisers; new fields are added at the end and break nobody.
   - Tensors: ssm_in (read) and ssm_out (written) hold a data pointer and an optional pointer to
     one int64 element stride per logical dimension, outermost first (SPEC §0). stride == NULL
     means contiguous. The stride arrays are always host memory, also for the device launchers
     of ssm_cuda.cuh, which read them at launch. Input strides may be 0 (broadcast, e.g. Mamba-2's A tied over P and N) or
     negative; output strides must be positive. ssm_contiguous_strides() fills an array.
   - Errors: every call returns ssm_status; ssm_status_string() names it. Arguments are validated
     before any work and nothing is written on error. The library never prints, aborts or exits.
   - Threads: ssm_exec (may be NULL) gives the thread count, an optional parallel_for callback
     from the caller's own pool, and an optional workspace. Without a callback the kernels use
     OpenMP when compiled with it, else run serially. Results are bit-identical for any count.
   - Workspace: ops that need scratch report its size with ssm_<op>_workspace_size(p, threads).
     Pass a buffer that large in ssm_exec to keep the call free of allocation; without one the
     call allocates it once (SSM_ERR_NOMEM if that fails).
   - CPU backend: chosen once from cpuid/xgetbv (or at compile time on AArch64). SSM_ISA=scalar|
     avx512|neon in the environment overrides it; an unavailable choice falls back to the best
     available. ssm_set_isa() switches it at run time, ssm_get_isa()/ssm_backend_name() tell
     which is in use, ssm_isa_supports() which op and dtype a backend implements.

   CONFIG MACROS (define before including)
     SSM_IMPLEMENTATION   emit the implementation in this translation unit (exactly one)
     SSM_STATIC           make every function static (private copy per translation unit)
     SSM_API              override the linkage/visibility of public functions (default extern)
     SSM_FORCE_ISA        compile-time backend choice: SSM_ISA_SCALAR, SSM_ISA_AVX512, ...;
                          the environment and ssm_set_isa() cannot override it
     SSM_NO_OPENMP        never use OpenMP even when compiled with -fopenmp
     SSM_NO_FTZ           keep subnormals inside the kernels (by default each worker sets
                          MXCSR flush-to-zero + denormals-are-zero for the call, then restores
                          it: subnormal operands cost Intel cores up to ~20x in SSD's decays)
     SSM_NO_AVX512        leave the AVX-512 backend out even when ssm_avx512.h is beside ssm.h
                          (nvcc always leaves the ISA backends out: put SSM_IMPLEMENTATION in a
                          host-compiled .c/.cpp file to have them)
     SSM_NO_NEON          leave the NEON backend out even when ssm_neon.h is beside ssm.h
     SSM_STACK_FLOATS     floats of per-call stack scratch a kernel may use (default 4096)
     SSM_MALLOC/SSM_FREE  allocator for the workspace a call makes when none is passed
                          (default malloc/free)

   Public names are ssm_ / SSM_; names with ssm__ / SSM__ are private.
*/
#ifndef SSM_H_INCLUDED
#define SSM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define SSM_VERSION_MAJOR 0
#define SSM_VERSION_MINOR 1
#define SSM_VERSION_PATCH 0
#define SSM_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons */
#define SSM_VERSION_NUMBER (SSM_VERSION_MAJOR * 10000 + SSM_VERSION_MINOR * 100 + SSM_VERSION_PATCH)

#ifndef SSM_API
#ifdef SSM_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define SSM_API static __attribute__((unused)) /* a private copy: unused functions are fine */
#else
#define SSM_API static
#endif
#else
#define SSM_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- status, dtypes, tensors */

typedef enum ssm_status {
    SSM_OK = 0,
    SSM_ERR_NULL,         /* a required pointer is NULL */
    SSM_ERR_SHAPE,        /* a dimension is out of range or inconsistent */
    SSM_ERR_STRIDE,       /* an output stride is zero or negative, or a stride the backend cannot use */
    SSM_ERR_ARG,          /* a bad value: index out of range, bad cu_seqlens, A > 0 for ssd, ... */
    SSM_ERR_OVERFLOW,     /* an element count or offset overflows int64 */
    SSM_ERR_UNSUPPORTED,  /* dtype, option or backend not available */
    SSM_ERR_DEVICE,       /* a GPU runtime call or launch failed */
    SSM_ERR_NOMEM,        /* an allocation failed */
    SSM_STATUS_COUNT
} ssm_status;

typedef enum ssm_dtype {
    SSM_F32 = 0,          /* the default */
    SSM_F16,              /* IEEE binary16, as uint16_t bit patterns */
    SSM_BF16,             /* bfloat16, as uint16_t bit patterns */
    SSM_DTYPE_COUNT
} ssm_dtype;

#define SSM_MAX_RANK 4

/* A tensor operand that is read. data == NULL: absent (optional operands) or empty. */
typedef struct ssm_in {
    const void *data;
    const int64_t *stride;   /* element strides, one per logical dimension; NULL: contiguous */
} ssm_in;

/* A tensor operand that is written (or read and written in place). */
typedef struct ssm_out {
    void *data;
    const int64_t *stride;   /* element strides, all > 0; NULL: contiguous */
} ssm_out;

SSM_API const char *ssm_status_string(ssm_status status);
SSM_API const char *ssm_dtype_name(ssm_dtype dtype);
SSM_API size_t ssm_dtype_size(ssm_dtype dtype);   /* bytes per element; 0 for an unknown dtype */

/* Conversions: round to nearest even; NaN stays NaN (sign and quiet bit kept); overflow to inf. */
SSM_API float ssm_f16_to_f32(uint16_t h);
SSM_API uint16_t ssm_f32_to_f16(float f);
SSM_API float ssm_bf16_to_f32(uint16_t h);
SSM_API uint16_t ssm_f32_to_bf16(float f);

/* Fills strides[0..rank) with the contiguous (row-major) strides of dims[0..rank). */
SSM_API void ssm_contiguous_strides(int rank, const int64_t *dims, int64_t *strides);

/* ---------------------------------------------------------------- execution (threads, workspace) */

/* A task body: the library calls it once for each task in [0, n_tasks). */
typedef void (*ssm_task_fn)(void *task_ctx, int64_t task);
/* A caller's pool: run fn(task_ctx, i) for every i in [0, n_tasks), possibly concurrently, and
   return when all have finished. n_tasks never exceeds ssm_exec.n_threads. */
typedef void (*ssm_parallel_for_fn)(void *pool, int64_t n_tasks, ssm_task_fn fn, void *task_ctx);

typedef struct ssm_exec {
    int n_threads;                     /* 0: omp_get_max_threads() under OpenMP without a
                                          parallel_for, else 1 */
    ssm_parallel_for_fn parallel_for;  /* NULL: OpenMP when compiled with it, else serial */
    void *pool;                        /* passed to parallel_for */
    void *workspace;                   /* NULL: the call allocates what it needs */
    size_t workspace_size;             /* bytes at workspace */
} ssm_exec;

/* ---------------------------------------------------------------- ops: parameter structs */

/* SPEC §1. u, delta, z, out: (B, D, L); A: (D, N); Bm, Cm: (B, G, N, L); Dskip, delta_bias: (D);
   h0, h_last: (B, D, N), or (nseq, D, N) with cu_seqlens (nseq + 1 int64 offsets, B == 1). */
typedef struct ssm_selective_scan_params {
    ssm_dtype dtype;                      /* activations: u, delta, Bm, Cm, z, out */
    int64_t B, D, L, N, G;                /* G = 0: 1 group */
    ssm_in u, delta, A, Bm, Cm;           /* required */
    ssm_in Dskip, z, delta_bias, h0;      /* optional */
    ssm_in cu_seqlens;                    /* optional: variable-length sequences */
    int64_t nseq;                         /* sequences in cu_seqlens */
    int delta_softplus;
    ssm_out out;                          /* required */
    ssm_out h_last;                       /* optional; may alias h0 exactly */
} ssm_selective_scan_params;

/* SPEC §2. state: (Ns, H, P, N) f32 in/out; x, dt, z, out: (B, H, P); A: (H, P, N);
   Bm, Cm: (B, G, N); Dskip, dt_bias: (H, P); state_index: (B) int32. Mamba-2 ties A, dt and
   dt_bias per head with stride 0 over P (and N); Mamba-1 is H = D, P = 1. */
typedef struct ssm_state_update_params {
    ssm_dtype dtype;                      /* activations: x, dt, Bm, Cm, z, out */
    int64_t B, H, P, N, G;                /* G = 0: 1 group */
    int64_t Ns;                           /* rows of the state cache; 0: B */
    ssm_out state;                        /* required, updated in place */
    ssm_in x, dt, A, Bm, Cm;              /* required */
    ssm_in Dskip, z, dt_bias;             /* optional */
    ssm_in state_index;                   /* optional: row of the cache per batch entry, < 0 pads */
    int dt_softplus;
    int dt_limit;                         /* nonzero: clamp dt' to [dt_min, dt_max] */
    float dt_min, dt_max;
    ssm_out out;                          /* required */
} ssm_state_update_params;

/* SPEC §3. x, z, out: (B, L, H, P); dt: (B, L, H); A, dt_bias: (H); Bm, Cm: (B, L, G, N);
   Dskip: (H, P) (per-head: stride 0 over P); h0, h_last: (B, H, P, N) or (nseq, H, P, N). */
typedef struct ssm_ssd_params {
    ssm_dtype dtype;                      /* activations: x, dt, Bm, Cm, z, out */
    int64_t B, L, H, P, N, G;             /* G = 0: 1 group */
    int64_t Q;                            /* chunk size; 0: 256 */
    ssm_in x, dt, A, Bm, Cm;              /* required; A <= 0 */
    ssm_in Dskip, z, dt_bias, h0;         /* optional */
    ssm_in cu_seqlens;                    /* optional (B == 1) */
    int64_t nseq;
    int dt_softplus;
    int dt_limit;                         /* nonzero: clamp dt' to [max(dt_min, 0), dt_max] */
    float dt_min, dt_max;
    ssm_out out;                          /* required */
    ssm_out h_last;                       /* optional; may alias h0 exactly */
} ssm_ssd_params;

/* SPEC §4. x, out: (B, D, L); weight: (D, W) f32; bias: (D) f32; state0, state_last:
   (B, D, W-1) f32, or (nseq, D, W-1) with cu_seqlens, or (Ns, D, W-1) cache rows picked by
   state_index (int32, one per batch entry or sequence; < 0: output 0, state untouched). */
typedef struct ssm_conv1d_params {
    ssm_dtype dtype;                      /* activations: x, out */
    int64_t B, D, L, W;                   /* 1 <= W <= 8 */
    int64_t Ns;                           /* rows of the state cache with state_index; 0: B or nseq */
    ssm_in x, weight;                     /* required */
    ssm_in bias, state0;                  /* optional */
    ssm_in state_index;                   /* optional */
    ssm_in cu_seqlens;                    /* optional (B == 1) */
    int64_t nseq;
    int silu;
    ssm_out out;                          /* required */
    ssm_out state_last;                   /* optional; may alias state0 exactly */
} ssm_conv1d_params;

typedef enum ssm_hsa_mode {
    SSM_HSA_STICK = 0,                    /* stick-breaking weights (default) */
    SSM_HSA_SOFTMAX,                      /* softmax over the selected chunks */
    SSM_HSA_MODE_COUNT
} ssm_hsa_mode;

/* SPEC §5. qr: (B, Lq, HR, R); lmk: (B, C, HR, R); idx (int32), w (f32): (B, Lq, HR, K). */
typedef struct ssm_hsa_select_params {
    ssm_dtype dtype;                      /* activations: qr, lmk */
    int64_t B, Lq, C, HR, R, K, S;        /* C may be 0 */
    int64_t q_offset;                     /* absolute position of query token 0 */
    int64_t window;                       /* sliding-window exclusion; 0: off */
    ssm_hsa_mode mode;
    ssm_in qr, lmk;                       /* required */
    ssm_out idx, w;                       /* required */
} ssm_hsa_select_params;

/* SPEC §5. q: (B, Lq, HQ, E); k: (B, Lk, HK, E); v: (B, Lk, HK, Ev); idx (int32), w (f32):
   (B, Lq, HK, K); o: (B, Lq, HQ, Ev); lse (f32): (B, Lq, HQ, K). */
typedef struct ssm_hsa_attention_params {
    ssm_dtype dtype;                      /* activations: q, k, v, o */
    int64_t B, Lq, Lk, HQ, HK, E, Ev, K, S;   /* Ev = 0: E; Lk % S == 0 */
    float scale;                          /* 0: 1 / sqrt(E) */
    float sm_n;                           /* softmax denominator offset (1: off-by-one) */
    ssm_in q, k, v, idx, w;               /* required */
    ssm_out o;                            /* required */
    ssm_out lse;                          /* optional */
} ssm_hsa_attention_params;

/* ---------------------------------------------------------------- ops: entry points */

/* Each op: validate(p) checks everything the call checks (host memory: index and cu_seqlens
   contents included) and returns the status the call would; validate_args(p) checks everything
   that needs no tensor contents (shapes, NULLs, strides, overflow, aliasing, scalar values), so
   device launchers share it; workspace_size(p, threads) is the scratch the call needs for that
   many threads (0: none). */
SSM_API ssm_status ssm_selective_scan(const ssm_selective_scan_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_selective_scan_validate(const ssm_selective_scan_params *p);
SSM_API ssm_status ssm_selective_scan_validate_args(const ssm_selective_scan_params *p);
SSM_API size_t ssm_selective_scan_workspace_size(const ssm_selective_scan_params *p, int n_threads);

SSM_API ssm_status ssm_state_update(const ssm_state_update_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_state_update_validate(const ssm_state_update_params *p);
SSM_API ssm_status ssm_state_update_validate_args(const ssm_state_update_params *p);
SSM_API size_t ssm_state_update_workspace_size(const ssm_state_update_params *p, int n_threads);

SSM_API ssm_status ssm_ssd(const ssm_ssd_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_ssd_validate(const ssm_ssd_params *p);
SSM_API ssm_status ssm_ssd_validate_args(const ssm_ssd_params *p);
SSM_API size_t ssm_ssd_workspace_size(const ssm_ssd_params *p, int n_threads);

SSM_API ssm_status ssm_conv1d(const ssm_conv1d_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_conv1d_validate(const ssm_conv1d_params *p);
SSM_API ssm_status ssm_conv1d_validate_args(const ssm_conv1d_params *p);
SSM_API size_t ssm_conv1d_workspace_size(const ssm_conv1d_params *p, int n_threads);

SSM_API ssm_status ssm_hsa_select(const ssm_hsa_select_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_hsa_select_validate(const ssm_hsa_select_params *p);
SSM_API ssm_status ssm_hsa_select_validate_args(const ssm_hsa_select_params *p);
SSM_API size_t ssm_hsa_select_workspace_size(const ssm_hsa_select_params *p, int n_threads);

SSM_API ssm_status ssm_hsa_attention(const ssm_hsa_attention_params *p, const ssm_exec *ex);
SSM_API ssm_status ssm_hsa_attention_validate(const ssm_hsa_attention_params *p);
SSM_API ssm_status ssm_hsa_attention_validate_args(const ssm_hsa_attention_params *p);
SSM_API size_t ssm_hsa_attention_workspace_size(const ssm_hsa_attention_params *p, int n_threads);

/* ---------------------------------------------------------------- backends and capabilities */

typedef enum ssm_isa {
    SSM_ISA_AUTO = 0,                     /* the best the machine has */
    SSM_ISA_SCALAR,                       /* portable C, always available */
    SSM_ISA_AVX512,                       /* ssm_avx512.h: x86-64 AVX-512 F/BW/VL/DQ */
    SSM_ISA_NEON,                         /* ssm_neon.h: AArch64 NEON */
    SSM_ISA_COUNT
} ssm_isa;

typedef enum ssm_op {
    SSM_OP_SELECTIVE_SCAN = 0,
    SSM_OP_STATE_UPDATE,
    SSM_OP_SSD,
    SSM_OP_CONV1D,
    SSM_OP_HSA_SELECT,
    SSM_OP_HSA_ATTENTION,
    SSM_OP_COUNT
} ssm_op;

SSM_API const char *ssm_isa_name(ssm_isa isa);     /* "auto", "scalar", "avx512", "neon" */
SSM_API const char *ssm_op_name(ssm_op op);        /* "selective_scan", ... as in SPEC.md */
/* Nonzero when this build contains the backend and this CPU can run it. */
SSM_API int ssm_isa_available(ssm_isa isa);
/* Nonzero when the backend is available and implements op for activation dtype. */
SSM_API int ssm_isa_supports(ssm_isa isa, ssm_op op, ssm_dtype dtype);
/* Selects the backend for later calls (process-wide). SSM_ISA_AUTO: the best available.
   SSM_ERR_UNSUPPORTED (nothing changes) for a backend this build or CPU lacks, or when
   SSM_FORCE_ISA fixed the choice at compile time. Not thread-safe against concurrent calls. */
SSM_API ssm_status ssm_set_isa(ssm_isa isa);
/* The backend in use (never SSM_ISA_AUTO). An op the backend lacks runs on the portable one. */
SSM_API ssm_isa ssm_get_isa(void);
SSM_API const char *ssm_backend_name(void);        /* ssm_isa_name(ssm_get_isa()) */

#ifdef __cplusplus
}
#endif

#endif /* SSM_H_INCLUDED */

/* ================================================================================================
   IMPLEMENTATION
   ================================================================================================ */
#if defined(SSM_IMPLEMENTATION) && !defined(SSM__IMPLEMENTATION_DONE)
#define SSM__IMPLEMENTATION_DONE

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(_OPENMP) && !defined(SSM_NO_OPENMP)
#include <omp.h>
#define SSM__OPENMP 1
#else
#define SSM__OPENMP 0
#endif

#ifndef SSM_STACK_FLOATS
#define SSM_STACK_FLOATS 4096
#endif
#ifndef SSM_MALLOC
#define SSM_MALLOC(size) malloc(size)
#define SSM_FREE(ptr) free(ptr)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define SSM__X86_64 1
#else
#define SSM__X86_64 0
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define SSM__AARCH64 1
#else
#define SSM__AARCH64 0
#endif

/* Subnormals are flushed inside the kernels (MXCSR FTZ + DAZ on x86-64, set by each worker for
   the duration of its work and restored): SSD's decays exp(seg) underflow into the subnormal
   range, and Intel cores take a microcode assist on every such operand (measured: the AVX-512
   SSD 17x slower on a Xeon than on an EPYC). SPEC §0 allows flushing below FLT_MIN. */
#if SSM__X86_64 && !defined(SSM_NO_FTZ)
#include <xmmintrin.h>
#define SSM__FTZ 1
#else
#define SSM__FTZ 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SSM__UNUSED __attribute__((unused))
#else
#define SSM__UNUSED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- names */

SSM_API const char *ssm_status_string(ssm_status status) {
    switch (status) {
    case SSM_OK: return "SSM_OK: success";
    case SSM_ERR_NULL: return "SSM_ERR_NULL: a required pointer is NULL";
    case SSM_ERR_SHAPE: return "SSM_ERR_SHAPE: a dimension is out of range or inconsistent";
    case SSM_ERR_STRIDE: return "SSM_ERR_STRIDE: an output stride is not positive, or a stride the backend cannot use";
    case SSM_ERR_ARG: return "SSM_ERR_ARG: a bad argument value (index, cu_seqlens, sign of A, dt limits, mode, aliasing)";
    case SSM_ERR_OVERFLOW: return "SSM_ERR_OVERFLOW: an element count or offset overflows int64";
    case SSM_ERR_UNSUPPORTED: return "SSM_ERR_UNSUPPORTED: dtype, option or backend not available";
    case SSM_ERR_DEVICE: return "SSM_ERR_DEVICE: a device runtime call or launch failed";
    case SSM_ERR_NOMEM: return "SSM_ERR_NOMEM: out of memory";
    default: return "unknown ssm_status";
    }
}

SSM_API const char *ssm_dtype_name(ssm_dtype dtype) {
    switch (dtype) {
    case SSM_F32: return "f32";
    case SSM_F16: return "f16";
    case SSM_BF16: return "bf16";
    default: return "unknown";
    }
}

SSM_API size_t ssm_dtype_size(ssm_dtype dtype) {
    switch (dtype) {
    case SSM_F32: return 4;
    case SSM_F16: case SSM_BF16: return 2;
    default: return 0;
    }
}

SSM_API const char *ssm_isa_name(ssm_isa isa) {
    switch (isa) {
    case SSM_ISA_AUTO: return "auto";
    case SSM_ISA_SCALAR: return "scalar";
    case SSM_ISA_AVX512: return "avx512";
    case SSM_ISA_NEON: return "neon";
    default: return "unknown";
    }
}

SSM_API const char *ssm_op_name(ssm_op op) {
    switch (op) {
    case SSM_OP_SELECTIVE_SCAN: return "selective_scan";
    case SSM_OP_STATE_UPDATE: return "state_update";
    case SSM_OP_SSD: return "ssd";
    case SSM_OP_CONV1D: return "conv1d";
    case SSM_OP_HSA_SELECT: return "hsa_select";
    case SSM_OP_HSA_ATTENTION: return "hsa_attention";
    default: return "unknown";
    }
}

/* ---------------------------------------------------------------- f16 / bf16 conversions */

static inline uint32_t ssm__f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ssm__bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float ssm__bf16_to_f32(uint16_t h) { return ssm__bits_f32((uint32_t)h << 16); }

static inline uint16_t ssm__f32_to_bf16(float f) {
    uint32_t u = ssm__f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN, keep sign */
    u += 0x7fffu + ((u >> 16) & 1u);                                              /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static inline float ssm__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1f) return ssm__bits_f32(sign | 0x7f800000u | (mant << 13)); /* inf, NaN */
    if (exp == 0) {                                                             /* zero, subnormal */
        float v = (float)mant * (1.0f / 16777216.0f);                          /* mant * 2^-24, exact */
        return sign ? -v : v;
    }
    return ssm__bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline uint16_t ssm__f32_to_f16(float f) {
    uint32_t u = ssm__f32_bits(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  /* >= 65520 rounds to inf (or is inf) */
    if (a < 0x38800000u) {                                    /* below 2^-14: f16 subnormal or zero */
        uint32_t e = a >> 23, m, shift, r, rem, half;
        if (e < 102) return (uint16_t)sign;                  /* below 2^-25: rounds to zero */
        m = (a & 0x7fffffu) | 0x800000u;
        shift = 126u - e;                                      /* value / 2^-24 = m >> shift */
        r = m >> shift;
        rem = m & ((1u << shift) - 1u);
        half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    a -= 0x38000000u;                                         /* rebias exponent 127 -> 15 */
    a = (a + 0x0fffu + ((a >> 13) & 1u)) >> 13;               /* round to nearest even */
    return (uint16_t)(sign | a);
}

SSM_API float ssm_f16_to_f32(uint16_t h) { return ssm__f16_to_f32(h); }
SSM_API uint16_t ssm_f32_to_f16(float f) { return ssm__f32_to_f16(f); }
SSM_API float ssm_bf16_to_f32(uint16_t h) { return ssm__bf16_to_f32(h); }
SSM_API uint16_t ssm_f32_to_bf16(float f) { return ssm__f32_to_bf16(f); }

SSM_API void ssm_contiguous_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    int i;
    for (i = rank - 1; i >= 0; --i) {
        strides[i] = s;
        s *= dims[i] > 0 ? dims[i] : 1;
    }
}

/* ---------------------------------------------------------------- strided tensor views

   Kernels see every operand as a view: a byte-free base pointer plus resolved element strides.
   Activation rows are converted to f32 tiles on load and rounded once on store (SPEC §0), so
   each kernel body is written once, in f32, for all three dtypes. */

typedef struct ssm__view {
    const void *data;
    int64_t st[SSM_MAX_RANK];
} ssm__view;

typedef struct ssm__mview {
    void *data;
    int64_t st[SSM_MAX_RANK];
} ssm__mview;

static void ssm__resolve_strides(const int64_t *given, int rank, const int64_t *dims, int64_t *st) {
    int i;
    for (i = 0; i < SSM_MAX_RANK; ++i) st[i] = 0;
    if (given) {
        for (i = 0; i < rank; ++i) st[i] = given[i];
    } else {
        ssm_contiguous_strides(rank, dims, st);
    }
}

static ssm__view ssm__in_view(ssm_in t, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    ssm__view v;
    int64_t dims[SSM_MAX_RANK];
    dims[0] = d0; dims[1] = d1; dims[2] = d2; dims[3] = d3;
    v.data = t.data;
    ssm__resolve_strides(t.stride, rank, dims, v.st);
    return v;
}

static inline float ssm__ld(const void *base, ssm_dtype dt, int64_t off) {
    switch (dt) {
    case SSM_F16: return ssm__f16_to_f32(((const uint16_t *)base)[off]);
    case SSM_BF16: return ssm__bf16_to_f32(((const uint16_t *)base)[off]);
    default: return ((const float *)base)[off];
    }
}

static inline void ssm__st(void *base, ssm_dtype dt, int64_t off, float v) {
    switch (dt) {
    case SSM_F16: ((uint16_t *)base)[off] = ssm__f32_to_f16(v); break;
    case SSM_BF16: ((uint16_t *)base)[off] = ssm__f32_to_bf16(v); break;
    default: ((float *)base)[off] = v; break;
    }
}

/* n elements starting at element offset off, step stride, converted to f32. */
static void ssm__load_f32(float *dst, const void *base, ssm_dtype dt, int64_t off, int64_t stride, int64_t n) {
    int64_t i;
    if (dt == SSM_F32) {
        const float *s = (const float *)base + off;
        for (i = 0; i < n; ++i) dst[i] = s[i * stride];
    } else if (dt == SSM_BF16) {
        const uint16_t *s = (const uint16_t *)base + off;
        for (i = 0; i < n; ++i) dst[i] = ssm__bf16_to_f32(s[i * stride]);
    } else {
        const uint16_t *s = (const uint16_t *)base + off;
        for (i = 0; i < n; ++i) dst[i] = ssm__f16_to_f32(s[i * stride]);
    }
}

static void ssm__store_f32(void *base, ssm_dtype dt, int64_t off, int64_t stride, const float *src, int64_t n) {
    int64_t i;
    if (dt == SSM_F32) {
        float *d = (float *)base + off;
        for (i = 0; i < n; ++i) d[i * stride] = src[i];
    } else if (dt == SSM_BF16) {
        uint16_t *d = (uint16_t *)base + off;
        for (i = 0; i < n; ++i) d[i * stride] = ssm__f32_to_bf16(src[i]);
    } else {
        uint16_t *d = (uint16_t *)base + off;
        for (i = 0; i < n; ++i) d[i * stride] = ssm__f32_to_f16(src[i]);
    }
}

static void ssm__store_zeros(void *base, ssm_dtype dt, int64_t off, int64_t stride, int64_t n) {
    int64_t i;
    for (i = 0; i < n; ++i) ssm__st(base, dt, off + i * stride, 0.0f);
}

/* ---------------------------------------------------------------- scalar math (SPEC §0) */

static inline float ssm__softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
static inline float ssm__silu(float x) { return x / (1.0f + expf(-x)); }
/* NaN-preserving clamp: comparisons with NaN are false, so NaN passes through. */
static inline float ssm__clamp(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* ---------------------------------------------------------------- argument validation

   Every op describes its operands once (shape, element size, role) in an ssm__operand list; one
   checker derives NULL, stride, overflow and aliasing errors from it, for every backend. Op
   specific checks (dimensions, value ranges, index contents) come before and after it. */

enum {
    SSM__REQUIRED = 1u,  /* must be non-NULL unless the operand is empty */
    SSM__OUTPUT = 2u     /* written: strides must be positive, must not alias an input */
};

typedef struct ssm__operand {
    const void *data;
    const int64_t *stride;
    int rank;
    int64_t dims[SSM_MAX_RANK];
    size_t elem;         /* bytes per element */
    unsigned flags;
    int alias_of;        /* output that may alias this input exactly: its index, else -1 */
} ssm__operand;

typedef struct ssm__operands {
    ssm__operand op[16];
    int n;
} ssm__operands;

static int ssm__add(ssm__operands *o, const void *data, const int64_t *stride, size_t elem, unsigned flags,
                    int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    ssm__operand *x = &o->op[o->n];
    x->data = data;
    x->stride = stride;
    x->rank = rank;
    x->dims[0] = d0; x->dims[1] = d1; x->dims[2] = d2; x->dims[3] = d3;
    x->elem = elem;
    x->flags = flags;
    x->alias_of = -1;
    return o->n++;
}

static int ssm__mul_overflows(int64_t a, int64_t b, int64_t *r) {
    if (a != 0 && b > INT64_MAX / a) return 1;
    *r = a * b;
    return 0;
}

static int64_t ssm__numel(const ssm__operand *x) {  /* -1 on overflow */
    int64_t n = 1;
    int i;
    for (i = 0; i < x->rank; ++i)
        if (ssm__mul_overflows(n, x->dims[i], &n)) return -1;
    return n;
}

/* The byte extent reached from data in either direction must fit int64 (and so a pointer). */
static int ssm__extent_overflows(const ssm__operand *x) {
    int64_t st[SSM_MAX_RANK], reach = 0, part;
    int i;
    ssm__resolve_strides(x->stride, x->rank, x->dims, st);
    for (i = 0; i < x->rank; ++i) {
        int64_t s = st[i];
        if (s == INT64_MIN) return 1;
        if (s < 0) s = -s;
        if (ssm__mul_overflows(s, x->dims[i] - 1, &part)) return 1;
        if (reach > INT64_MAX - part) return 1;
        reach += part;
    }
    return reach == INT64_MAX || ssm__mul_overflows(reach + 1, (int64_t)x->elem, &part);
}

static int ssm__same_strides(const ssm__operand *a, const ssm__operand *b) {
    int64_t sa[SSM_MAX_RANK], sb[SSM_MAX_RANK];
    int i;
    if (a->rank != b->rank) return 0;
    ssm__resolve_strides(a->stride, a->rank, a->dims, sa);
    ssm__resolve_strides(b->stride, b->rank, b->dims, sb);
    for (i = 0; i < a->rank; ++i)
        if (sa[i] != sb[i] && a->dims[i] > 1) return 0;
    return 1;
}

static ssm_status ssm__check_operands(const ssm__operands *o) {
    int i, j, k;
    for (i = 0; i < o->n; ++i) {  /* overflow first: nothing else is meaningful without it */
        const ssm__operand *x = &o->op[i];
        int64_t n = ssm__numel(x);
        if (n < 0) return SSM_ERR_OVERFLOW;
        if (n > 0 && x->data && ssm__extent_overflows(x)) return SSM_ERR_OVERFLOW;
    }
    for (i = 0; i < o->n; ++i) {
        const ssm__operand *x = &o->op[i];
        if (!x->data && (x->flags & SSM__REQUIRED) && ssm__numel(x) > 0) return SSM_ERR_NULL;
    }
    for (i = 0; i < o->n; ++i) {
        const ssm__operand *x = &o->op[i];
        if (!(x->flags & SSM__OUTPUT) || !x->data || !x->stride) continue;
        for (k = 0; k < x->rank; ++k)
            if (x->stride[k] <= 0) return SSM_ERR_STRIDE;
    }
    for (i = 0; i < o->n; ++i) {  /* identical pointers: the overlap that is cheap to see */
        const ssm__operand *x = &o->op[i];
        if (!(x->flags & SSM__OUTPUT) || !x->data || ssm__numel(x) == 0) continue;
        for (j = 0; j < o->n; ++j) {
            const ssm__operand *y = &o->op[j];
            if (j == i || y->data != x->data || ssm__numel(y) == 0) continue;
            if (y->alias_of == i && ssm__same_strides(x, y)) continue;  /* allowed in-place pair */
            return SSM_ERR_ARG;
        }
    }
    return SSM_OK;
}

/* cu_seqlens: nseq + 1 int64 offsets starting at 0, non-decreasing, ending at most at L. */
static ssm_status ssm__check_cu_seqlens(ssm_in cu, int64_t nseq, int64_t L) {
    ssm__view v = ssm__in_view(cu, 1, nseq + 1, 0, 0, 0);
    const int64_t *c = (const int64_t *)v.data;
    int64_t s;
    if (c[0] != 0) return SSM_ERR_ARG;
    for (s = 0; s < nseq; ++s) {
        int64_t a = c[s * v.st[0]], b = c[(s + 1) * v.st[0]];
        if (b < a || b > L) return SSM_ERR_ARG;
    }
    return SSM_OK;
}

/* state_index: every entry < rows; non-negative entries distinct (each cache row is updated by
   one writer). Negative entries are padding. */
static ssm_status ssm__check_state_index(ssm_in si, int64_t n, int64_t rows) {
    ssm__view v = ssm__in_view(si, 1, n, 0, 0, 0);
    const int32_t *x = (const int32_t *)v.data;
    unsigned char seen[8192];
    int64_t i, j;
    int use_bitmap = rows <= (int64_t)sizeof(seen) * 8;
    if (use_bitmap) memset(seen, 0, (size_t)((rows + 7) / 8));
    for (i = 0; i < n; ++i) {
        int64_t s = x[i * v.st[0]];
        if (s < 0) continue;
        if (s >= rows) return SSM_ERR_ARG;
        if (use_bitmap) {
            if (seen[s >> 3] & (1u << (s & 7))) return SSM_ERR_ARG;
            seen[s >> 3] |= (unsigned char)(1u << (s & 7));
        } else {
            for (j = 0; j < i; ++j)
                if (x[j * v.st[0]] == s) return SSM_ERR_ARG;
        }
    }
    return SSM_OK;
}

static int ssm__dtype_ok(ssm_dtype dt) { return dt == SSM_F32 || dt == SSM_F16 || dt == SSM_BF16; }

static ssm_status ssm__check_dt_limits(int on, float lo, float hi) {
    if (!on) return SSM_OK;
    if (lo != lo || hi != hi || lo > hi) return SSM_ERR_ARG;
    return SSM_OK;
}

/* ---------------------------------------------------------------- per-op operand lists */

static const void *ssm__ptr_in(ssm_in t) { return t.data; }
static const void *ssm__ptr_out(ssm_out t) { return t.data; }
#define SSM__IN(o, t, elem, fl, rank, d0, d1, d2, d3) \
    ssm__add(o, ssm__ptr_in(t), (t).stride, elem, fl, rank, d0, d1, d2, d3)
#define SSM__OUT(o, t, elem, fl, rank, d0, d1, d2, d3) \
    ssm__add(o, ssm__ptr_out(t), (t).stride, elem, (fl) | SSM__OUTPUT, rank, d0, d1, d2, d3)

static ssm__view ssm__opview(const ssm__operands *o, int i) {
    ssm__view v;
    v.data = o->op[i].data;
    ssm__resolve_strides(o->op[i].stride, o->op[i].rank, o->op[i].dims, v.st);
    return v;
}

static ssm__mview ssm__opmview(const ssm__operands *o, int i) {
    ssm__mview v;
    v.data = (void *)(uintptr_t)o->op[i].data;  /* an output: it came in as ssm_out */
    ssm__resolve_strides(o->op[i].stride, o->op[i].rank, o->op[i].dims, v.st);
    return v;
}

static int64_t ssm__or1(int64_t v) { return v == 0 ? 1 : v; }

/* selective_scan (SPEC §1) */
enum { SSM__SC_U, SSM__SC_DELTA, SSM__SC_A, SSM__SC_B, SSM__SC_C, SSM__SC_DSKIP, SSM__SC_Z, SSM__SC_DBIAS,
       SSM__SC_H0, SSM__SC_CU, SSM__SC_OUT, SSM__SC_HLAST };

static ssm_status ssm__scan_operands(const ssm_selective_scan_params *p, ssm__operands *o) {
    int64_t G = ssm__or1(p->G), B = p->B, D = p->D, L = p->L, N = p->N, R;
    size_t a = ssm_dtype_size(p->dtype);
    int varlen = p->cu_seqlens.data != NULL;
    if (B < 0 || L < 0 || D < 1 || N < 1 || G < 1 || D % G != 0) return SSM_ERR_SHAPE;
    if (varlen && (B != 1 || p->nseq < 0)) return SSM_ERR_SHAPE;
    if (varlen && p->nseq == INT64_MAX) return SSM_ERR_OVERFLOW;  /* nseq + 1 offsets */
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    R = varlen ? p->nseq : B;
    o->n = 0;
    SSM__IN(o, p->u, a, SSM__REQUIRED, 3, B, D, L, 0);
    SSM__IN(o, p->delta, a, SSM__REQUIRED, 3, B, D, L, 0);
    SSM__IN(o, p->A, 4, SSM__REQUIRED, 2, D, N, 0, 0);
    SSM__IN(o, p->Bm, a, SSM__REQUIRED, 4, B, G, N, L);
    SSM__IN(o, p->Cm, a, SSM__REQUIRED, 4, B, G, N, L);
    SSM__IN(o, p->Dskip, 4, 0, 1, D, 0, 0, 0);
    SSM__IN(o, p->z, a, 0, 3, B, D, L, 0);
    SSM__IN(o, p->delta_bias, 4, 0, 1, D, 0, 0, 0);
    SSM__IN(o, p->h0, 4, 0, 3, R, D, N, 0);
    SSM__IN(o, p->cu_seqlens, 8, 0, 1, varlen ? p->nseq + 1 : 0, 0, 0, 0);
    SSM__OUT(o, p->out, a, SSM__REQUIRED, 3, B, D, L, 0);
    SSM__OUT(o, p->h_last, 4, 0, 3, R, D, N, 0);
    o->op[SSM__SC_H0].alias_of = SSM__SC_HLAST;
    return SSM_OK;
}

static ssm_status ssm__scan_validate(const ssm_selective_scan_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__scan_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if (contents && p->cu_seqlens.data) return ssm__check_cu_seqlens(p->cu_seqlens, p->nseq, p->L);
    return SSM_OK;
}

/* state_update (SPEC §2) */
enum { SSM__SU_STATE, SSM__SU_X, SSM__SU_DT, SSM__SU_A, SSM__SU_B, SSM__SU_C, SSM__SU_DSKIP, SSM__SU_Z,
       SSM__SU_DTBIAS, SSM__SU_IDX, SSM__SU_OUT };

static int64_t ssm__step_rows(const ssm_state_update_params *p) { return p->Ns ? p->Ns : p->B; }

static ssm_status ssm__step_operands(const ssm_state_update_params *p, ssm__operands *o) {
    int64_t G = ssm__or1(p->G), B = p->B, H = p->H, P = p->P, N = p->N, Ns = ssm__step_rows(p);
    size_t a = ssm_dtype_size(p->dtype);
    if (B < 0 || H < 1 || P < 1 || N < 1 || G < 1 || H % G != 0 || Ns < 0) return SSM_ERR_SHAPE;
    if (!p->state_index.data && Ns < B) return SSM_ERR_SHAPE;
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    o->n = 0;
    SSM__OUT(o, p->state, 4, SSM__REQUIRED, 4, Ns, H, P, N);
    SSM__IN(o, p->x, a, SSM__REQUIRED, 3, B, H, P, 0);
    SSM__IN(o, p->dt, a, SSM__REQUIRED, 3, B, H, P, 0);
    SSM__IN(o, p->A, 4, SSM__REQUIRED, 3, H, P, N, 0);
    SSM__IN(o, p->Bm, a, SSM__REQUIRED, 3, B, G, N, 0);
    SSM__IN(o, p->Cm, a, SSM__REQUIRED, 3, B, G, N, 0);
    SSM__IN(o, p->Dskip, 4, 0, 2, H, P, 0, 0);
    SSM__IN(o, p->z, a, 0, 3, B, H, P, 0);
    SSM__IN(o, p->dt_bias, 4, 0, 2, H, P, 0, 0);
    SSM__IN(o, p->state_index, 4, 0, 1, B, 0, 0, 0);
    SSM__OUT(o, p->out, a, SSM__REQUIRED, 3, B, H, P, 0);
    return SSM_OK;
}

static ssm_status ssm__step_validate(const ssm_state_update_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__step_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if ((st = ssm__check_dt_limits(p->dt_limit, p->dt_min, p->dt_max)) != SSM_OK) return st;
    if (contents && p->state_index.data) return ssm__check_state_index(p->state_index, p->B, ssm__step_rows(p));
    return SSM_OK;
}

/* ssd (SPEC §3) */
enum { SSM__SD_X, SSM__SD_DT, SSM__SD_A, SSM__SD_B, SSM__SD_C, SSM__SD_DSKIP, SSM__SD_Z, SSM__SD_DTBIAS,
       SSM__SD_H0, SSM__SD_CU, SSM__SD_OUT, SSM__SD_HLAST };

static int64_t ssm__ssd_chunk(const ssm_ssd_params *p) { return p->Q ? p->Q : 256; }

static ssm_status ssm__ssd_operands(const ssm_ssd_params *p, ssm__operands *o) {
    int64_t G = ssm__or1(p->G), B = p->B, L = p->L, H = p->H, P = p->P, N = p->N, R;
    size_t a = ssm_dtype_size(p->dtype);
    int varlen = p->cu_seqlens.data != NULL;
    if (B < 0 || L < 0 || H < 1 || P < 1 || N < 1 || G < 1 || H % G != 0 || ssm__ssd_chunk(p) < 1)
        return SSM_ERR_SHAPE;
    if (varlen && (B != 1 || p->nseq < 0)) return SSM_ERR_SHAPE;
    if (varlen && p->nseq == INT64_MAX) return SSM_ERR_OVERFLOW;  /* nseq + 1 offsets */
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    R = varlen ? p->nseq : B;
    o->n = 0;
    SSM__IN(o, p->x, a, SSM__REQUIRED, 4, B, L, H, P);
    SSM__IN(o, p->dt, a, SSM__REQUIRED, 3, B, L, H, 0);
    SSM__IN(o, p->A, 4, SSM__REQUIRED, 1, H, 0, 0, 0);
    SSM__IN(o, p->Bm, a, SSM__REQUIRED, 4, B, L, G, N);
    SSM__IN(o, p->Cm, a, SSM__REQUIRED, 4, B, L, G, N);
    SSM__IN(o, p->Dskip, 4, 0, 2, H, P, 0, 0);
    SSM__IN(o, p->z, a, 0, 4, B, L, H, P);
    SSM__IN(o, p->dt_bias, 4, 0, 1, H, 0, 0, 0);
    SSM__IN(o, p->h0, 4, 0, 4, R, H, P, N);
    SSM__IN(o, p->cu_seqlens, 8, 0, 1, varlen ? p->nseq + 1 : 0, 0, 0, 0);
    SSM__OUT(o, p->out, a, SSM__REQUIRED, 4, B, L, H, P);
    SSM__OUT(o, p->h_last, 4, 0, 4, R, H, P, N);
    o->op[SSM__SD_H0].alias_of = SSM__SD_HLAST;
    return SSM_OK;
}

static ssm_status ssm__ssd_validate(const ssm_ssd_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__ssd_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if ((st = ssm__check_dt_limits(p->dt_limit, p->dt_min, p->dt_max)) != SSM_OK) return st;
    if (p->dt_limit && p->dt_max < 0.0f) return SSM_ERR_ARG;  /* dt' >= 0 always: empty range */
    if (!contents) return SSM_OK;
    {
        ssm__view A = ssm__opview(&o, SSM__SD_A);
        int64_t h;
        for (h = 0; h < p->H; ++h)
            if (((const float *)A.data)[h * A.st[0]] > 0.0f) return SSM_ERR_ARG;
    }
    if (p->cu_seqlens.data) return ssm__check_cu_seqlens(p->cu_seqlens, p->nseq, p->L);
    return SSM_OK;
}

/* conv1d (SPEC §4) */
enum { SSM__CV_X, SSM__CV_W, SSM__CV_BIAS, SSM__CV_S0, SSM__CV_IDX, SSM__CV_CU, SSM__CV_OUT, SSM__CV_SLAST };

static int64_t ssm__conv_seqs(const ssm_conv1d_params *p) { return p->cu_seqlens.data ? p->nseq : p->B; }
static int64_t ssm__conv_rows(const ssm_conv1d_params *p) {
    return p->state_index.data && p->Ns ? p->Ns : ssm__conv_seqs(p);
}

static ssm_status ssm__conv_operands(const ssm_conv1d_params *p, ssm__operands *o) {
    int64_t B = p->B, D = p->D, L = p->L, W = p->W, R = ssm__conv_rows(p);
    size_t a = ssm_dtype_size(p->dtype);
    int varlen = p->cu_seqlens.data != NULL;
    if (B < 0 || L < 0 || D < 1 || W < 1 || W > 8 || p->Ns < 0) return SSM_ERR_SHAPE;
    if (varlen && (B != 1 || p->nseq < 0)) return SSM_ERR_SHAPE;
    if (varlen && p->nseq == INT64_MAX) return SSM_ERR_OVERFLOW;  /* nseq + 1 offsets */
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    o->n = 0;
    SSM__IN(o, p->x, a, SSM__REQUIRED, 3, B, D, L, 0);
    SSM__IN(o, p->weight, 4, SSM__REQUIRED, 2, D, W, 0, 0);
    SSM__IN(o, p->bias, 4, 0, 1, D, 0, 0, 0);
    SSM__IN(o, p->state0, 4, p->state_index.data ? SSM__REQUIRED : 0, 3, R, D, W - 1, 0);  /* the cache */
    SSM__IN(o, p->state_index, 4, 0, 1, ssm__conv_seqs(p), 0, 0, 0);
    SSM__IN(o, p->cu_seqlens, 8, 0, 1, varlen ? p->nseq + 1 : 0, 0, 0, 0);
    SSM__OUT(o, p->out, a, SSM__REQUIRED, 3, B, D, L, 0);
    SSM__OUT(o, p->state_last, 4, 0, 3, R, D, W - 1, 0);
    o->op[SSM__CV_S0].alias_of = SSM__CV_SLAST;
    return SSM_OK;
}

static ssm_status ssm__conv_validate(const ssm_conv1d_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__conv_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if (!contents) return SSM_OK;
    if (p->cu_seqlens.data && (st = ssm__check_cu_seqlens(p->cu_seqlens, p->nseq, p->L)) != SSM_OK) return st;
    if (p->state_index.data) return ssm__check_state_index(p->state_index, ssm__conv_seqs(p), ssm__conv_rows(p));
    return SSM_OK;
}

/* hsa_select (SPEC §5) */
enum { SSM__HS_QR, SSM__HS_LMK, SSM__HS_IDX, SSM__HS_W };

static ssm_status ssm__hsel_operands(const ssm_hsa_select_params *p, ssm__operands *o) {
    size_t a = ssm_dtype_size(p->dtype);
    if (p->B < 0 || p->Lq < 0 || p->C < 0 || p->HR < 1 || p->R < 1 || p->K < 1 || p->S < 1) return SSM_ERR_SHAPE;
    if (p->C > INT32_MAX) return SSM_ERR_OVERFLOW;  /* chunk indices are int32 */
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    o->n = 0;
    SSM__IN(o, p->qr, a, SSM__REQUIRED, 4, p->B, p->Lq, p->HR, p->R);
    SSM__IN(o, p->lmk, a, SSM__REQUIRED, 4, p->B, p->C, p->HR, p->R);
    SSM__OUT(o, p->idx, 4, SSM__REQUIRED, 4, p->B, p->Lq, p->HR, p->K);
    SSM__OUT(o, p->w, 4, SSM__REQUIRED, 4, p->B, p->Lq, p->HR, p->K);
    return SSM_OK;
}

static ssm_status ssm__hsel_validate(const ssm_hsa_select_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    (void)contents;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__hsel_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if (p->q_offset < 0 || p->window < 0 || (unsigned)p->mode >= (unsigned)SSM_HSA_MODE_COUNT) return SSM_ERR_ARG;
    if (p->q_offset > INT64_MAX - p->Lq) return SSM_ERR_OVERFLOW;
    return SSM_OK;
}

/* hsa_attention (SPEC §5) */
enum { SSM__HA_Q, SSM__HA_K, SSM__HA_V, SSM__HA_IDX, SSM__HA_W, SSM__HA_O, SSM__HA_LSE };

static int64_t ssm__hatt_ev(const ssm_hsa_attention_params *p) { return p->Ev ? p->Ev : p->E; }

static ssm_status ssm__hatt_operands(const ssm_hsa_attention_params *p, ssm__operands *o) {
    int64_t Ev = ssm__hatt_ev(p);
    size_t a = ssm_dtype_size(p->dtype);
    if (p->B < 0 || p->Lq < 0 || p->Lk < 0 || p->HQ < 1 || p->HK < 1 || p->E < 1 || Ev < 1 || p->K < 1 ||
        p->S < 1 || p->HQ % p->HK != 0 || p->Lk % p->S != 0)
        return SSM_ERR_SHAPE;
    if (!ssm__dtype_ok(p->dtype)) return SSM_ERR_UNSUPPORTED;
    o->n = 0;
    SSM__IN(o, p->q, a, SSM__REQUIRED, 4, p->B, p->Lq, p->HQ, p->E);
    SSM__IN(o, p->k, a, SSM__REQUIRED, 4, p->B, p->Lk, p->HK, p->E);
    SSM__IN(o, p->v, a, SSM__REQUIRED, 4, p->B, p->Lk, p->HK, Ev);
    SSM__IN(o, p->idx, 4, SSM__REQUIRED, 4, p->B, p->Lq, p->HK, p->K);
    SSM__IN(o, p->w, 4, SSM__REQUIRED, 4, p->B, p->Lq, p->HK, p->K);
    SSM__OUT(o, p->o, a, SSM__REQUIRED, 4, p->B, p->Lq, p->HQ, Ev);
    SSM__OUT(o, p->lse, 4, 0, 4, p->B, p->Lq, p->HQ, p->K);
    return SSM_OK;
}

static ssm_status ssm__hatt_validate(const ssm_hsa_attention_params *p, int contents) {
    ssm__operands o;
    ssm_status st;
    if (!p) return SSM_ERR_NULL;
    if ((st = ssm__hatt_operands(p, &o)) != SSM_OK) return st;
    if ((st = ssm__check_operands(&o)) != SSM_OK) return st;
    if (!(p->scale == p->scale) || p->scale == INFINITY || p->scale == -INFINITY) return SSM_ERR_ARG;
    if (!(p->sm_n >= 0.0f) || p->sm_n == INFINITY) return SSM_ERR_ARG;
    if (!contents) return SSM_OK;
    {   /* every index in [-1, C): out-of-range indices are never read */
        ssm__view idx = ssm__opview(&o, SSM__HA_IDX);
        int64_t C = p->Lk / p->S, b, t, h, k;
        for (b = 0; b < p->B; ++b)
            for (t = 0; t < p->Lq; ++t)
                for (h = 0; h < p->HK; ++h)
                    for (k = 0; k < p->K; ++k) {
                        int64_t c = ((const int32_t *)idx.data)[b * idx.st[0] + t * idx.st[1] + h * idx.st[2] + k * idx.st[3]];
                        if (c < -1 || c >= C) return SSM_ERR_ARG;
                    }
    }
    return SSM_OK;
}

/* ---------------------------------------------------------------- threads and scratch (SPEC §0)

   A call splits its independent work items (channels, heads, rows) into at most T contiguous
   ranges, one per worker. Every item is computed by the same code in the same order whatever
   range it falls in, so results are bit-identical for any T. Each worker gets its own scratch:
   a bounded stack buffer when the kernel's per-worker need fits, else a slice of the workspace.
   A kernel may also ask for scratch shared by all workers (e.g. SSD's chunk-end states, written
   in one parallel phase and read in the next); it always lives in the workspace. */

typedef struct ssm__scratch {
    size_t shared;       /* bytes shared by all workers of the call */
    size_t per_worker;   /* bytes for each worker */
} ssm__scratch;

typedef struct ssm__run {
    int threads;
    ssm_parallel_for_fn parallel_for;
    void *pool;
    char *shared;        /* 64-byte aligned shared scratch, NULL when none was asked for */
    char *ws;            /* 64-byte aligned; worker i uses ws + i * ws_stride; NULL: stack scratch */
    size_t ws_stride;
    void *owned;         /* workspace this call allocated */
} ssm__run;

typedef void (*ssm__range_fn)(void *ctx, int64_t begin, int64_t end, void *scratch);

typedef struct ssm__split {
    ssm__range_fn fn;
    void *ctx;
    int64_t n, parts;
    const ssm__run *run;
} ssm__split;

#define SSM__STACK_BYTES ((size_t)SSM_STACK_FLOATS * sizeof(float))

static int ssm__threads(const ssm_exec *ex) {
    if (ex && ex->n_threads > 0) return ex->n_threads;
#if SSM__OPENMP
    if (!ex || !ex->parallel_for) return omp_get_max_threads();
#endif
    return 1;
}

static size_t ssm__round64(size_t n) { return (n + 63) & ~(size_t)63; }

static int ssm__on_stack(ssm__scratch need) { return need.per_worker <= SSM__STACK_BYTES; }

/* Workspace bytes: the shared part, plus T per-worker slices unless the stack serves them, plus
   alignment slack; 0 when nothing is needed; (size_t)-1 when the size overflows. */
static size_t ssm__workspace_bytes(ssm__scratch need, int threads) {
    size_t shared, slice;
    if (need.shared > (size_t)-1 / 4 || need.per_worker > (size_t)-1 / 4) return (size_t)-1;  /* before rounding */
    shared = ssm__round64(need.shared);
    slice = ssm__on_stack(need) ? 0 : ssm__round64(need.per_worker);
    if (threads < 1) threads = 1;
    if (shared == 0 && slice == 0) return 0;
    if (slice && slice > ((size_t)-1 / 4) / (size_t)threads) return (size_t)-1;
    return shared + slice * (size_t)threads + 64;
}

static void ssm__split_task(void *vs, int64_t i) {
    const ssm__split *s = (const ssm__split *)vs;
    float stack[SSM_STACK_FLOATS + 16];
    int64_t q = s->n / s->parts, r = s->n % s->parts;
    int64_t begin = i * q + (i < r ? i : r), end = begin + q + (i < r ? 1 : 0);
    void *scratch = s->run->ws ? (void *)(s->run->ws + (size_t)i * s->run->ws_stride)
                               : (void *)(((uintptr_t)stack + 63) & ~(uintptr_t)63);
#if SSM__FTZ
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u);  /* FTZ (bit 15) + DAZ (bit 6): see SSM__FTZ */
#endif
    if (begin < end) s->fn(s->ctx, begin, end, scratch);
#if SSM__FTZ
    _mm_setcsr(csr);
#endif
}

static void ssm__parallel(const ssm__run *run, int64_t n, ssm__range_fn fn, void *ctx) {
    ssm__split s;
    int64_t i;
    if (n <= 0) return;
    s.fn = fn;
    s.ctx = ctx;
    s.n = n;
    s.parts = n < run->threads ? n : run->threads;
    s.run = run;
    if (s.parts <= 1) {
        ssm__split_task(&s, 0);
    } else if (run->parallel_for) {
        run->parallel_for(run->pool, s.parts, ssm__split_task, &s);
    } else {
#if SSM__OPENMP
#pragma omp parallel for num_threads((int)s.parts) schedule(static, 1)
        for (i = 0; i < s.parts; ++i) ssm__split_task(&s, i);
#else
        for (i = 0; i < s.parts; ++i) ssm__split_task(&s, i);
#endif
    }
}

static ssm_status ssm__run_begin(ssm__run *run, const ssm_exec *ex, ssm__scratch need) {
    size_t bytes;
    char *base;
    run->threads = ssm__threads(ex);
    run->parallel_for = ex ? ex->parallel_for : NULL;
    run->pool = ex ? ex->pool : NULL;
    run->shared = NULL;
    run->ws = NULL;
    run->ws_stride = 0;
    run->owned = NULL;
    bytes = ssm__workspace_bytes(need, run->threads);
    if (bytes == 0) return SSM_OK;
    if (bytes == (size_t)-1) return SSM_ERR_NOMEM;
    if (ex && ex->workspace) {
        if (ex->workspace_size < bytes) return SSM_ERR_ARG;
        base = (char *)ex->workspace;
    } else {
        run->owned = SSM_MALLOC(bytes);
        if (!run->owned) return SSM_ERR_NOMEM;
        base = (char *)run->owned;
    }
    base = (char *)(((uintptr_t)base + 63) & ~(uintptr_t)63);
    if (need.shared) run->shared = base;
    if (!ssm__on_stack(need)) {
        run->ws = base + ssm__round64(need.shared);
        run->ws_stride = ssm__round64(need.per_worker);
    }
    return SSM_OK;
}

static void ssm__run_end(ssm__run *run) {
    if (run->owned) SSM_FREE(run->owned);
    run->owned = NULL;
}

/* ================================================================ portable kernels (scalar backend)

   Written as plain C loops over f32 tiles: activation rows are converted into SSM__TILE-long
   f32 buffers, the f32 body runs, and results are rounded once when stored. */

#define SSM__TILE 64

static inline int64_t ssm__min64(int64_t a, int64_t b) { return a < b ? a : b; }

static float ssm__param(ssm__view v, int64_t off, float absent) {
    return v.data ? ((const float *)v.data)[off] : absent;
}

static int64_t ssm__cu(ssm__view cu, int64_t s) { return ((const int64_t *)cu.data)[s * cu.st[0]]; }

/* ---------------------------------------------------------------- scratch sizes

   Sizes are computed in size_t with saturation: a shape whose scratch cannot be addressed asks
   for SIZE_MAX bytes, which the workspace code turns into SSM_ERR_NOMEM instead of wrapping. */

static size_t ssm__sat_mul(size_t a, size_t b) { return (a != 0 && b > (size_t)-1 / a) ? (size_t)-1 : a * b; }
static size_t ssm__sat_add(size_t a, size_t b) { return b > (size_t)-1 - a ? (size_t)-1 : a + b; }
static size_t ssm__sz(int64_t v) { return v > 0 ? (size_t)v : 0; }

/* ---------------------------------------------------------------- selective_scan (SPEC §1)

   One work item is one channel of one sequence: the N states live in scratch for the whole
   time loop, B/C tiles are transposed to [n][t] so the state loop reads them contiguously. */

typedef struct ssm__scan_ctx {
    const ssm_selective_scan_params *p;
    ssm__view u, delta, A, Bm, Cm, Dskip, z, dbias, h0, cu;
    ssm__mview out, hlast;
    int64_t per_group;  /* channels per group */
} ssm__scan_ctx;

static ssm__scratch ssm__scalar_scan_scratch(const ssm_selective_scan_params *p) {
    ssm__scratch s;
    s.shared = 0;
    s.per_worker = ssm__sat_mul(sizeof(float), ssm__sat_add(ssm__sat_mul(ssm__sz(p->N), 2 + 2 * SSM__TILE), 4 * SSM__TILE));
    return s;
}

static void ssm__scalar_scan_channel(const ssm__scan_ctx *c, int64_t b, int64_t d, int64_t row, int64_t t0,
                                     int64_t t1, float *scratch) {
    const ssm_selective_scan_params *p = c->p;
    const ssm_dtype dt_ = p->dtype;
    const int64_t N = p->N, g = d / c->per_group;
    float *h = scratch, *a = h + N, *Bt = a + N, *Ct = Bt + N * SSM__TILE;
    float *ut = Ct + N * SSM__TILE, *dt = ut + SSM__TILE, *zt = dt + SSM__TILE, *yt = zt + SSM__TILE;
    const float dskip = ssm__param(c->Dskip, d * c->Dskip.st[0], 0.0f);
    const float bias = ssm__param(c->dbias, d * c->dbias.st[0], 0.0f);
    int64_t n, ts, t;
    for (n = 0; n < N; ++n) {
        h[n] = ssm__param(c->h0, row * c->h0.st[0] + d * c->h0.st[1] + n * c->h0.st[2], 0.0f);
        a[n] = ((const float *)c->A.data)[d * c->A.st[0] + n * c->A.st[1]];
    }
    for (ts = t0; ts < t1; ts += SSM__TILE) {
        const int64_t nt = ssm__min64(SSM__TILE, t1 - ts);
        const int64_t act = b * c->u.st[0] + d * c->u.st[1] + ts * c->u.st[2];
        ssm__load_f32(ut, c->u.data, dt_, act, c->u.st[2], nt);
        ssm__load_f32(dt, c->delta.data, dt_, b * c->delta.st[0] + d * c->delta.st[1] + ts * c->delta.st[2],
                      c->delta.st[2], nt);
        for (t = 0; t < nt; ++t) {
            dt[t] += bias;
            if (p->delta_softplus) dt[t] = ssm__softplus(dt[t]);
        }
        if (c->z.data)
            ssm__load_f32(zt, c->z.data, dt_, b * c->z.st[0] + d * c->z.st[1] + ts * c->z.st[2], c->z.st[2], nt);
        for (n = 0; n < N; ++n) {
            ssm__load_f32(Bt + n * SSM__TILE, c->Bm.data, dt_,
                          b * c->Bm.st[0] + g * c->Bm.st[1] + n * c->Bm.st[2] + ts * c->Bm.st[3], c->Bm.st[3], nt);
            ssm__load_f32(Ct + n * SSM__TILE, c->Cm.data, dt_,
                          b * c->Cm.st[0] + g * c->Cm.st[1] + n * c->Cm.st[2] + ts * c->Cm.st[3], c->Cm.st[3], nt);
        }
        for (t = 0; t < nt; ++t) {
            const float dtu = dt[t] * ut[t];
            float y = 0.0f;
            for (n = 0; n < N; ++n) {
                h[n] = expf(dt[t] * a[n]) * h[n] + dtu * Bt[n * SSM__TILE + t];
                y += Ct[n * SSM__TILE + t] * h[n];
            }
            y += dskip * ut[t];
            if (c->z.data) y *= ssm__silu(zt[t]);
            yt[t] = y;
        }
        ssm__store_f32(c->out.data, dt_, b * c->out.st[0] + d * c->out.st[1] + ts * c->out.st[2], c->out.st[2], yt,
                       nt);
    }
    if (c->hlast.data)
        for (n = 0; n < N; ++n)
            ((float *)c->hlast.data)[row * c->hlast.st[0] + d * c->hlast.st[1] + n * c->hlast.st[2]] = h[n];
}

static void ssm__scalar_scan_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__scan_ctx *c = (const ssm__scan_ctx *)vc;
    const ssm_selective_scan_params *p = c->p;
    int64_t i;
    for (i = begin; i < end; ++i) {
        const int64_t r = i / p->D, d = i % p->D;
        if (!c->cu.data) {
            ssm__scalar_scan_channel(c, r, d, r, 0, p->L, (float *)scratch);
        } else if (r < p->nseq) {
            ssm__scalar_scan_channel(c, 0, d, r, ssm__cu(c->cu, r), ssm__cu(c->cu, r + 1), (float *)scratch);
        } else {  /* tokens past the last sequence are padding: written as 0 */
            const int64_t t0 = ssm__cu(c->cu, p->nseq);
            ssm__store_zeros(c->out.data, p->dtype, d * c->out.st[1] + t0 * c->out.st[2], c->out.st[2], p->L - t0);
        }
    }
}

static ssm_status ssm__scalar_selective_scan(const ssm_selective_scan_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__scan_ctx c;
    if (ssm__scan_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.u = ssm__opview(&o, SSM__SC_U);
    c.delta = ssm__opview(&o, SSM__SC_DELTA);
    c.A = ssm__opview(&o, SSM__SC_A);
    c.Bm = ssm__opview(&o, SSM__SC_B);
    c.Cm = ssm__opview(&o, SSM__SC_C);
    c.Dskip = ssm__opview(&o, SSM__SC_DSKIP);
    c.z = ssm__opview(&o, SSM__SC_Z);
    c.dbias = ssm__opview(&o, SSM__SC_DBIAS);
    c.h0 = ssm__opview(&o, SSM__SC_H0);
    c.cu = ssm__opview(&o, SSM__SC_CU);
    c.out = ssm__opmview(&o, SSM__SC_OUT);
    c.hlast = ssm__opmview(&o, SSM__SC_HLAST);
    c.per_group = p->D / ssm__or1(p->G);
    ssm__parallel(run, (c.cu.data ? p->nseq + 1 : p->B) * p->D, ssm__scalar_scan_range, &c);
    return SSM_OK;
}

/* ---------------------------------------------------------------- state_update (SPEC §2)

   One work item is one (batch entry, head): B and C of its group are converted once, then each
   of the P state rows is streamed once (read, update, write, dot with C). When A, dt and dt_bias
   are tied over P and N (stride 0, Mamba-2), exp(dt'A) is computed once per head. */

typedef struct ssm__step_ctx {
    const ssm_state_update_params *p;
    ssm__mview state, out;
    ssm__view x, dt, A, Bm, Cm, Dskip, z, dtbias, idx;
    int64_t per_group;
    int tied;
} ssm__step_ctx;

static ssm__scratch ssm__scalar_step_scratch(const ssm_state_update_params *p) {
    ssm__scratch s;
    s.shared = 0;
    s.per_worker = ssm__sat_mul(2 * sizeof(float), ssm__sz(p->N));
    return s;
}

static float ssm__step_dt(const ssm__step_ctx *c, int64_t b, int64_t h, int64_t p_) {
    const ssm_state_update_params *p = c->p;
    float v = ssm__ld(c->dt.data, p->dtype, b * c->dt.st[0] + h * c->dt.st[1] + p_ * c->dt.st[2]);
    v += ssm__param(c->dtbias, h * c->dtbias.st[0] + p_ * c->dtbias.st[1], 0.0f);
    if (p->dt_softplus) v = ssm__softplus(v);
    if (p->dt_limit) v = ssm__clamp(v, p->dt_min, p->dt_max);
    return v;
}

static void ssm__scalar_step_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__step_ctx *c = (const ssm__step_ctx *)vc;
    const ssm_state_update_params *p = c->p;
    const int64_t H = p->H, P = p->P, N = p->N;
    float *Bv = (float *)scratch, *Cv = Bv + N;
    float *state = (float *)c->state.data;
    const float *A = (const float *)c->A.data;
    int64_t i, j, n;
    for (i = begin; i < end; ++i) {
        const int64_t b = i / H, h = i % H, g = h / c->per_group;
        const int64_t s = c->idx.data ? ((const int32_t *)c->idx.data)[b * c->idx.st[0]] : b;
        float dt_tied = 0.0f, dA_tied = 0.0f;
        if (s < 0) {  /* padding entry: output 0, no state touched */
            ssm__store_zeros(c->out.data, p->dtype, b * c->out.st[0] + h * c->out.st[1], c->out.st[2], P);
            continue;
        }
        ssm__load_f32(Bv, c->Bm.data, p->dtype, b * c->Bm.st[0] + g * c->Bm.st[1], c->Bm.st[2], N);
        ssm__load_f32(Cv, c->Cm.data, p->dtype, b * c->Cm.st[0] + g * c->Cm.st[1], c->Cm.st[2], N);
        if (c->tied) {
            dt_tied = ssm__step_dt(c, b, h, 0);
            dA_tied = expf(dt_tied * A[h * c->A.st[0]]);
        }
        for (j = 0; j < P; ++j) {
            const float dtp = c->tied ? dt_tied : ssm__step_dt(c, b, h, j);
            const float x = ssm__ld(c->x.data, p->dtype, b * c->x.st[0] + h * c->x.st[1] + j * c->x.st[2]);
            const float dtx = dtp * x;
            float *row = state + s * c->state.st[0] + h * c->state.st[1] + j * c->state.st[2];
            const int64_t sn = c->state.st[3];
            float y = 0.0f;
            if (c->tied) {
                for (n = 0; n < N; ++n) {
                    const float v = dA_tied * row[n * sn] + dtx * Bv[n];
                    row[n * sn] = v;
                    y += v * Cv[n];
                }
            } else {
                const float *arow = A + h * c->A.st[0] + j * c->A.st[1];
                for (n = 0; n < N; ++n) {
                    const float v = expf(dtp * arow[n * c->A.st[2]]) * row[n * sn] + dtx * Bv[n];
                    row[n * sn] = v;
                    y += v * Cv[n];
                }
            }
            y += ssm__param(c->Dskip, h * c->Dskip.st[0] + j * c->Dskip.st[1], 0.0f) * x;
            if (c->z.data) y *= ssm__silu(ssm__ld(c->z.data, p->dtype, b * c->z.st[0] + h * c->z.st[1] + j * c->z.st[2]));
            ssm__st(c->out.data, p->dtype, b * c->out.st[0] + h * c->out.st[1] + j * c->out.st[2], y);
        }
    }
}

static ssm_status ssm__scalar_state_update(const ssm_state_update_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__step_ctx c;
    if (ssm__step_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.state = ssm__opmview(&o, SSM__SU_STATE);
    c.x = ssm__opview(&o, SSM__SU_X);
    c.dt = ssm__opview(&o, SSM__SU_DT);
    c.A = ssm__opview(&o, SSM__SU_A);
    c.Bm = ssm__opview(&o, SSM__SU_B);
    c.Cm = ssm__opview(&o, SSM__SU_C);
    c.Dskip = ssm__opview(&o, SSM__SU_DSKIP);
    c.z = ssm__opview(&o, SSM__SU_Z);
    c.dtbias = ssm__opview(&o, SSM__SU_DTBIAS);
    c.idx = ssm__opview(&o, SSM__SU_IDX);
    c.out = ssm__opmview(&o, SSM__SU_OUT);
    c.per_group = p->H / ssm__or1(p->G);
    c.tied = (p->P == 1 || (c.dt.st[2] == 0 && (!c.dtbias.data || c.dtbias.st[1] == 0) && c.A.st[1] == 0)) &&
             (p->N == 1 || c.A.st[2] == 0);
    ssm__parallel(run, p->B * p->H, ssm__scalar_step_range, &c);
    return SSM_OK;
}

/* ---------------------------------------------------------------- conv1d (SPEC §4)

   One work item is one channel of one sequence. The last W-1 inputs travel in front of each
   tile of x (ext = [carry | x tile]), so every output is a W-term dot product over ext and the
   carry left at the end is exactly state_last. */

typedef struct ssm__conv_ctx {
    const ssm_conv1d_params *p;
    ssm__view x, w, bias, s0, idx, cu;
    ssm__mview out, slast;
} ssm__conv_ctx;

static void ssm__scalar_conv_channel(const ssm__conv_ctx *c, int64_t b, int64_t d, int64_t row, int64_t t0,
                                     int64_t t1) {
    const ssm_conv1d_params *p = c->p;
    const int64_t W = p->W;
    float w[8], ext[8 + SSM__TILE], yt[SSM__TILE];
    const float bias = ssm__param(c->bias, d * c->bias.st[0], 0.0f);
    int64_t k, ts, t;
    for (k = 0; k < W; ++k) w[k] = ((const float *)c->w.data)[d * c->w.st[0] + k * c->w.st[1]];
    for (k = 0; k < W - 1; ++k)
        ext[k] = ssm__param(c->s0, row * c->s0.st[0] + d * c->s0.st[1] + k * c->s0.st[2], 0.0f);
    for (ts = t0; ts < t1; ts += SSM__TILE) {
        const int64_t nt = ssm__min64(SSM__TILE, t1 - ts);
        const int64_t off = b * c->x.st[0] + d * c->x.st[1] + ts * c->x.st[2];
        ssm__load_f32(ext + W - 1, c->x.data, p->dtype, off, c->x.st[2], nt);
        for (t = 0; t < nt; ++t) {
            float acc = bias;
            for (k = 0; k < W; ++k) acc += w[k] * ext[t + k];
            yt[t] = p->silu ? ssm__silu(acc) : acc;
        }
        ssm__store_f32(c->out.data, p->dtype, b * c->out.st[0] + d * c->out.st[1] + ts * c->out.st[2], c->out.st[2],
                       yt, nt);
        memmove(ext, ext + nt, (size_t)(W - 1) * sizeof(float));
    }
    if (c->slast.data)
        for (k = 0; k < W - 1; ++k)
            ((float *)c->slast.data)[row * c->slast.st[0] + d * c->slast.st[1] + k * c->slast.st[2]] = ext[k];
}

static void ssm__scalar_conv_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__conv_ctx *c = (const ssm__conv_ctx *)vc;
    const ssm_conv1d_params *p = c->p;
    int64_t i;
    (void)scratch;
    for (i = begin; i < end; ++i) {
        const int64_t r = i / p->D, d = i % p->D;
        const int64_t nseq = c->cu.data ? p->nseq : p->B;
        int64_t b = r, t0 = 0, t1 = p->L, row = r;
        if (c->cu.data) {
            b = 0;
            t0 = ssm__cu(c->cu, r);
            t1 = r < nseq ? ssm__cu(c->cu, r + 1) : p->L;
        }
        if (r < nseq && c->idx.data) row = ((const int32_t *)c->idx.data)[r * c->idx.st[0]];
        if (r >= nseq || row < 0) {  /* padding tokens, or a padded cache entry: output 0 */
            ssm__store_zeros(c->out.data, p->dtype, b * c->out.st[0] + d * c->out.st[1] + t0 * c->out.st[2],
                             c->out.st[2], t1 - t0);
            continue;
        }
        ssm__scalar_conv_channel(c, b, d, row, t0, t1);
    }
}

static ssm_status ssm__scalar_conv1d(const ssm_conv1d_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__conv_ctx c;
    if (ssm__conv_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.x = ssm__opview(&o, SSM__CV_X);
    c.w = ssm__opview(&o, SSM__CV_W);
    c.bias = ssm__opview(&o, SSM__CV_BIAS);
    c.s0 = ssm__opview(&o, SSM__CV_S0);
    c.idx = ssm__opview(&o, SSM__CV_IDX);
    c.cu = ssm__opview(&o, SSM__CV_CU);
    c.out = ssm__opmview(&o, SSM__CV_OUT);
    c.slast = ssm__opmview(&o, SSM__CV_SLAST);
    ssm__parallel(run, ((c.cu.data ? p->nseq + 1 : p->B)) * p->D, ssm__scalar_conv_range, &c);
    return SSM_OK;
}

/* y[0..n) += a * x[0..n): the inner loop of every GEMM-shaped loop nest below. Written in
   blocks of 8 through a local array so that -O2 (GCC's very-cheap vectoriser: known trip
   count, no alias checks) vectorises it too, not only -O3. Same arithmetic either way. */
static inline void ssm__axpy(float *y, float a, const float *x, int64_t n) {
    int64_t k = 0;
    int u;
    for (; k + 8 <= n; k += 8) {
        float t[8];
        for (u = 0; u < 8; ++u) t[u] = y[k + u] + a * x[k + u];
        for (u = 0; u < 8; ++u) y[k + u] = t[u];
    }
    for (; k < n; ++k) y[k] += a * x[k];
}

/* ---------------------------------------------------------------- ssd (SPEC §3)

   The chunked state-space-duality algorithm. Each sequence is cut into chunks of Q tokens from
   its own start, so a chunk never spans two sequences (cu_seqlens starts may fall anywhere) and
   the last chunk of a sequence may be shorter. One work item is one (sequence, head): it walks
   the sequence's chunks in order, carrying the state S (kept transposed, N x P) from chunk to
   chunk, and does per chunk of q tokens four GEMM-shaped loops on f32 tiles:

     CB  = C Bᵀ                              q x q, lower triangle      (1)
     Y   = (CB ∘ decay(t, j) ∘ dt'_j) X      q x P, j <= t              (2)
     Y  += (e_t C) S                         q x P, e_t = decay(start, t)   (5)
     S   = e_end S + (B ∘ w)ᵀ X              N x P, w_j = decay(j, end) dt'_j   (3, 4)

   then out = (Y + Dskip x) silu(z). Every innermost loop runs over a contiguous row (P, or
   tokens of B transposed), which is what a compiler vectorises and what the SIMD and GPU
   backends block further. CB depends only on the group: with several heads per group a first
   parallel phase computes it once per (chunk, group) into shared scratch (B·L·G·min(Q, L)
   floats) and the heads read it; with one head per group the item computes it itself.

   Decays: cumulative sums of dt'A within the chunk are kept in double and every segment is a
   double difference, rounded once and clamped to <= 0 before exp, so a factor never exceeds 1
   and a large dt' among small ones leaves the small segments exact (SPEC §3). Masks select
   (only j <= t is visited), so a NaN reaches only later tokens of its own sequence and head. */

typedef struct ssm__ssd_ctx {
    const ssm_ssd_params *p;
    ssm__view x, dt, A, Bm, Cm, Dskip, z, dtbias, h0, cu;
    ssm__mview out, hlast;
    int64_t G, per_group, Q, Qe, nseq;  /* Qe = min(Q, L): the longest chunk */
    float dt_lo, dt_hi;
    float *cb;                          /* shared C Bᵀ, NULL: each item computes its own */
    const int64_t *chunks;              /* (b, t0, q) per chunk, for the C Bᵀ phase */
} ssm__ssd_ctx;

/* Per-worker tiles, carved out of one scratch block (doubles first, for alignment). */
typedef struct ssm__ssd_tiles {
    double *cum;              /* Qe: cumulative dt'A within the chunk */
    float *S;                 /* N x P: state, transposed */
    float *C;                 /* Qe x N */
    float *BT;                /* N x Qe: B transposed */
    float *X, *Y;             /* Qe x P */
    float *dtp, *w;           /* Qe: dt', dt' times decay to the chunk end */
    float *row;               /* max(N, P): one row on its way in or out */
    float *dskip;             /* P */
    float *cb;                /* Qe x Qe, only when C Bᵀ is not shared */
} ssm__ssd_tiles;

static int64_t ssm__ssd_qe(const ssm_ssd_params *p) { return ssm__min64(ssm__ssd_chunk(p), p->L > 0 ? p->L : 1); }
static int64_t ssm__ssd_seqs(const ssm_ssd_params *p) { return p->cu_seqlens.data ? p->nseq : p->B; }
static int ssm__ssd_shares_cb(const ssm_ssd_params *p) {
    return p->H / ssm__or1(p->G) > 1 && p->B > 0 && p->L > 0;
}
/* Chunks in the whole call, at most: Σ ceil(len/Q) <= L/Q + nseq whatever cu_seqlens holds. */
static int64_t ssm__ssd_max_chunks(const ssm_ssd_params *p) {
    const int64_t Q = ssm__ssd_chunk(p), per_row = p->L / Q + 1;
    return p->cu_seqlens.data ? per_row + p->nseq : p->B * per_row;
}

static size_t ssm__ssd_tile_floats(const ssm_ssd_params *p) {
    const size_t Qe = ssm__sz(ssm__ssd_qe(p)), N = ssm__sz(p->N), P = ssm__sz(p->P);
    size_t n = ssm__sat_mul(2, Qe);                                 /* cum */
    n = ssm__sat_add(n, ssm__sat_mul(N, P));                        /* S */
    n = ssm__sat_add(n, ssm__sat_mul(2, ssm__sat_mul(Qe, N)));      /* C, BT */
    n = ssm__sat_add(n, ssm__sat_mul(2, ssm__sat_mul(Qe, P)));      /* X, Y */
    n = ssm__sat_add(n, ssm__sat_mul(2, Qe));                       /* dtp, w */
    n = ssm__sat_add(n, (N > P ? N : P) + P);                       /* row, dskip */
    if (!ssm__ssd_shares_cb(p)) n = ssm__sat_add(n, ssm__sat_mul(Qe, Qe));
    return n;
}

static ssm__scratch ssm__scalar_ssd_scratch(const ssm_ssd_params *p) {
    ssm__scratch s;
    s.per_worker = ssm__sat_mul(sizeof(float), ssm__ssd_tile_floats(p));
    s.shared = 0;
    if (ssm__ssd_shares_cb(p)) {
        const size_t rows = ssm__sat_mul(ssm__sz(p->B), ssm__sz(p->L));
        const size_t cb = ssm__sat_mul(ssm__sat_mul(rows, ssm__sz(ssm__ssd_qe(p))), ssm__sz(ssm__or1(p->G)));
        const size_t table = ssm__sat_mul(3 * sizeof(int64_t), ssm__sz(ssm__ssd_max_chunks(p)));
        s.shared = ssm__sat_add(ssm__round64(table), ssm__sat_mul(sizeof(float), cb));
    }
    return s;
}

static ssm__ssd_tiles ssm__ssd_carve(const ssm__ssd_ctx *c, void *scratch) {
    const int64_t Qe = c->Qe, N = c->p->N, P = c->p->P;
    ssm__ssd_tiles w;
    float *f;
    w.cum = (double *)scratch;
    f = (float *)(w.cum + Qe);
    w.S = f; f += N * P;
    w.C = f; f += Qe * N;
    w.BT = f; f += N * Qe;
    w.X = f; f += Qe * P;
    w.Y = f; f += Qe * P;
    w.dtp = f; f += Qe;
    w.w = f; f += Qe;
    w.row = f; f += N > P ? N : P;
    w.dskip = f; f += P;
    w.cb = c->cb ? NULL : f;
    return w;
}

/* The chunk of C (q x N) and B transposed (N x q, row stride Qe) of group g from token t0. */
static void ssm__ssd_load_bc(const ssm__ssd_ctx *c, const ssm__ssd_tiles *w, int64_t b, int64_t g, int64_t t0,
                             int64_t q) {
    const ssm_ssd_params *p = c->p;
    const int64_t N = p->N, Qe = c->Qe;
    int64_t i, n;
    for (i = 0; i < q; ++i) {
        const int64_t t = t0 + i;
        ssm__load_f32(w->C + i * N, c->Cm.data, p->dtype, b * c->Cm.st[0] + t * c->Cm.st[1] + g * c->Cm.st[2],
                      c->Cm.st[3], N);
        ssm__load_f32(w->row, c->Bm.data, p->dtype, b * c->Bm.st[0] + t * c->Bm.st[1] + g * c->Bm.st[2],
                      c->Bm.st[3], N);
        for (n = 0; n < N; ++n) w->BT[n * Qe + i] = w->row[n];
    }
}

/* (1) cb[i][j] = <C_i, B_j> for j <= i (row stride ld). */
static void ssm__ssd_cb(const float *C, const float *BT, int64_t q, int64_t N, int64_t ld, float *cb) {
    int64_t i, j, n;
    for (i = 0; i < q; ++i) {
        float *r = cb + i * ld;
        for (j = 0; j <= i; ++j) r[j] = 0.0f;
        for (n = 0; n < N; ++n) ssm__axpy(r, C[i * N + n], BT + n * ld, i + 1);
    }
}

/* Where the shared C Bᵀ of the chunk of row b starting at t0 (q tokens) keeps group g: the
   chunk's own token rows, so chunks never overlap whatever their lengths. */
static float *ssm__ssd_cb_at(const ssm__ssd_ctx *c, int64_t b, int64_t g, int64_t t0, int64_t q) {
    return c->cb + ((b * c->p->L + t0) * c->G + g * q) * c->Qe;
}

static void ssm__scalar_ssd_cb_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__ssd_ctx *c = (const ssm__ssd_ctx *)vc;
    ssm__ssd_tiles w = ssm__ssd_carve(c, scratch);
    int64_t i;
    for (i = begin; i < end; ++i) {
        const int64_t *ch = c->chunks + 3 * (i / c->G), g = i % c->G;
        ssm__ssd_load_bc(c, &w, ch[0], g, ch[1], ch[2]);
        ssm__ssd_cb(w.C, w.BT, ch[2], c->p->N, c->Qe, ssm__ssd_cb_at(c, ch[0], g, ch[1], ch[2]));
    }
}

/* NaN passes: exp(NaN) is NaN, and a NaN segment must not be clamped to 0 (factor 1). */
static inline float ssm__decay(double seg) { return expf(seg > 0.0 ? 0.0f : (float)seg); }

/* One chunk of q tokens starting at t0 of row b, head h; w->S holds the state entering it and
   receives the state leaving it. state_zero: S is known to be 0 (skips (5)). */
static void ssm__ssd_chunk_step(const ssm__ssd_ctx *c, const ssm__ssd_tiles *w, int64_t b, int64_t h, int64_t t0,
                                int64_t q, int state_zero) {
    const ssm_ssd_params *p = c->p;
    const ssm_dtype dt_ = p->dtype;
    const int64_t N = p->N, P = p->P, Qe = c->Qe, g = h / c->per_group;
    const double a = (double)((const float *)c->A.data)[h * c->A.st[0]];
    const float bias = ssm__param(c->dtbias, h * c->dtbias.st[0], 0.0f);
    const float *cb;
    double cum = 0.0;
    int64_t i, j, n, k;

    ssm__load_f32(w->dtp, c->dt.data, dt_, b * c->dt.st[0] + t0 * c->dt.st[1] + h * c->dt.st[2], c->dt.st[1], q);
    for (i = 0; i < q; ++i) {
        float v = w->dtp[i] + bias;
        if (p->dt_softplus) v = ssm__softplus(v);
        w->dtp[i] = ssm__clamp(v, c->dt_lo, c->dt_hi);
        cum += (double)w->dtp[i] * a;
        w->cum[i] = cum;
    }
    for (i = 0; i < q; ++i)
        ssm__load_f32(w->X + i * P, c->x.data, dt_, b * c->x.st[0] + (t0 + i) * c->x.st[1] + h * c->x.st[2],
                      c->x.st[3], P);
    ssm__ssd_load_bc(c, w, b, g, t0, q);
    if (c->cb) {
        cb = ssm__ssd_cb_at(c, b, g, t0, q);
    } else {
        ssm__ssd_cb(w->C, w->BT, q, N, Qe, w->cb);
        cb = w->cb;
    }

    /* (2) intra-chunk: Y[t] = sum_{j<=t} cb[t][j] decay(j..t) dt'_j X[j] */
    for (i = 0; i < q; ++i) {
        float *y = w->Y + i * P;
        for (k = 0; k < P; ++k) y[k] = 0.0f;
        for (j = 0; j <= i; ++j) {
            const float coef = cb[i * Qe + j] * ssm__decay(w->cum[i] - w->cum[j]) * w->dtp[j];
            ssm__axpy(y, coef, w->X + j * P, P);
        }
    }
    /* (5) the state entering the chunk, decayed to each token: Y[t] += e_t C_t S */
    if (!state_zero) {
        for (i = 0; i < q; ++i) {
            const float e = ssm__decay(w->cum[i]);
            float *y = w->Y + i * P;
            for (n = 0; n < N; ++n) ssm__axpy(y, e * w->C[i * N + n], w->S + n * P, P);
        }
    }
    /* out = (Y + Dskip x) * silu(z), rounded once */
    for (i = 0; i < q; ++i) {
        const int64_t t = t0 + i;
        float *y = w->Y + i * P;
        const float *x = w->X + i * P;
        for (k = 0; k < P; ++k) y[k] += w->dskip[k] * x[k];
        if (c->z.data) {
            ssm__load_f32(w->row, c->z.data, dt_, b * c->z.st[0] + t * c->z.st[1] + h * c->z.st[2], c->z.st[3], P);
            for (k = 0; k < P; ++k) y[k] *= ssm__silu(w->row[k]);
        }
        ssm__store_f32(c->out.data, dt_, b * c->out.st[0] + t * c->out.st[1] + h * c->out.st[2], c->out.st[3], y, P);
    }
    /* (3, 4) the state leaving the chunk: S = e_end S + sum_j (B_j decay(j..end) dt'_j) X_j */
    {
        const double last = w->cum[q - 1];
        const float e_end = ssm__decay(last);
        for (j = 0; j < q; ++j) w->w[j] = ssm__decay(last - w->cum[j]) * w->dtp[j];
        for (n = 0; n < N; ++n) {
            float *s = w->S + n * P;
            const float *bt = w->BT + n * Qe;
            if (state_zero) {
                for (k = 0; k < P; ++k) s[k] = 0.0f;
            } else {
                for (k = 0; k < P; ++k) s[k] *= e_end;
            }
            for (j = 0; j < q; ++j) ssm__axpy(s, bt[j] * w->w[j], w->X + j * P, P);
        }
    }
}

/* One sequence (row b, tokens [t0, t1), state row s) of head h. */
static void ssm__ssd_sequence(const ssm__ssd_ctx *c, const ssm__ssd_tiles *w, int64_t b, int64_t s, int64_t h,
                              int64_t t0, int64_t t1) {
    const ssm_ssd_params *p = c->p;
    const int64_t N = p->N, P = p->P;
    int state_zero = c->h0.data == NULL;
    int64_t n, k, ts, q;
    for (k = 0; k < P; ++k) w->dskip[k] = ssm__param(c->Dskip, h * c->Dskip.st[0] + k * c->Dskip.st[1], 0.0f);
    for (n = 0; n < N; ++n)
        for (k = 0; k < P; ++k)
            w->S[n * P + k] =
                ssm__param(c->h0, s * c->h0.st[0] + h * c->h0.st[1] + k * c->h0.st[2] + n * c->h0.st[3], 0.0f);
    for (ts = t0; ts < t1; ts += q) {  /* steps by q, not Q: ts + Q may overflow for a huge Q */
        q = ssm__min64(c->Q, t1 - ts);
        ssm__ssd_chunk_step(c, w, b, h, ts, q, state_zero);
        state_zero = 0;
    }
    if (c->hlast.data)  /* written after h0 was read: h_last may alias h0 */
        for (n = 0; n < N; ++n)
            for (k = 0; k < P; ++k)
                ((float *)c->hlast.data)[s * c->hlast.st[0] + h * c->hlast.st[1] + k * c->hlast.st[2] +
                                         n * c->hlast.st[3]] = w->S[n * P + k];
}

static void ssm__scalar_ssd_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__ssd_ctx *c = (const ssm__ssd_ctx *)vc;
    const ssm_ssd_params *p = c->p;
    ssm__ssd_tiles w = ssm__ssd_carve(c, scratch);
    int64_t i, t;
    for (i = begin; i < end; ++i) {
        const int64_t s = i / p->H, h = i % p->H;
        if (!c->cu.data) {
            ssm__ssd_sequence(c, &w, s, s, h, 0, p->L);
        } else if (s < c->nseq) {
            ssm__ssd_sequence(c, &w, 0, s, h, ssm__cu(c->cu, s), ssm__cu(c->cu, s + 1));
        } else {  /* tokens past the last sequence are padding: written as 0 */
            for (t = ssm__cu(c->cu, c->nseq); t < p->L; ++t)
                ssm__store_zeros(c->out.data, p->dtype, t * c->out.st[1] + h * c->out.st[2], c->out.st[3], p->P);
        }
    }
}

/* The (b, t0, q) list of every chunk, for the C Bᵀ phase; returns how many. */
static int64_t ssm__ssd_list_chunks(const ssm__ssd_ctx *c, int64_t *list) {
    const ssm_ssd_params *p = c->p;
    int64_t s, t, q, n = 0;
    for (s = 0; s < c->nseq; ++s) {
        const int64_t b = c->cu.data ? 0 : s;
        const int64_t t0 = c->cu.data ? ssm__cu(c->cu, s) : 0, t1 = c->cu.data ? ssm__cu(c->cu, s + 1) : p->L;
        for (t = t0; t < t1; t += q) {
            q = ssm__min64(c->Q, t1 - t);
            list[3 * n] = b;
            list[3 * n + 1] = t;
            list[3 * n + 2] = q;
            ++n;
        }
    }
    return n;
}

static ssm_status ssm__scalar_ssd(const ssm_ssd_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__ssd_ctx c;
    if (ssm__ssd_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.x = ssm__opview(&o, SSM__SD_X);
    c.dt = ssm__opview(&o, SSM__SD_DT);
    c.A = ssm__opview(&o, SSM__SD_A);
    c.Bm = ssm__opview(&o, SSM__SD_B);
    c.Cm = ssm__opview(&o, SSM__SD_C);
    c.Dskip = ssm__opview(&o, SSM__SD_DSKIP);
    c.z = ssm__opview(&o, SSM__SD_Z);
    c.dtbias = ssm__opview(&o, SSM__SD_DTBIAS);
    c.h0 = ssm__opview(&o, SSM__SD_H0);
    c.cu = ssm__opview(&o, SSM__SD_CU);
    c.out = ssm__opmview(&o, SSM__SD_OUT);
    c.hlast = ssm__opmview(&o, SSM__SD_HLAST);
    c.G = ssm__or1(p->G);
    c.per_group = p->H / c.G;
    c.Q = ssm__ssd_chunk(p);
    c.Qe = ssm__ssd_qe(p);
    c.nseq = ssm__ssd_seqs(p);
    /* dt' >= 0 always (every decay <= 1); the upper limit only when the caller set one */
    c.dt_lo = p->dt_limit && p->dt_min > 0.0f ? p->dt_min : 0.0f;
    c.dt_hi = p->dt_limit ? p->dt_max : INFINITY;
    c.cb = NULL;
    c.chunks = NULL;
    if (ssm__ssd_shares_cb(p)) {  /* phase 1: C Bᵀ once per (chunk, group) */
        int64_t *list = (int64_t *)(void *)run->shared;
        const int64_t n_chunks = ssm__ssd_list_chunks(&c, list);
        c.chunks = list;
        c.cb = (float *)(void *)(run->shared + ssm__round64(3 * sizeof(int64_t) * (size_t)ssm__ssd_max_chunks(p)));
        ssm__parallel(run, n_chunks * c.G, ssm__scalar_ssd_cb_range, &c);
    }
    /* phase 2: every (sequence, head), plus one item per head for varlen padding */
    ssm__parallel(run, (c.nseq + (c.cu.data ? 1 : 0)) * p->H, ssm__scalar_ssd_range, &c);
    return SSM_OK;
}

/* ---------------------------------------------------------------- hsa_select (SPEC §5)

   One work item is one (batch, query token, retrieval head). The eligible chunks are always a
   prefix [0, n_eligible) of the chunk list, so the scores are one small GEMV over it; the top-k
   is kept in a binary heap whose root is the worst chunk kept (O(C log K)), and the chosen
   chunks are then emitted by scanning a mark array downwards, which is the required order. */

typedef struct ssm__hsel_ctx {
    const ssm_hsa_select_params *p;
    ssm__view qr, lmk;
    ssm__mview idx, w;
    int64_t kmax;  /* min(K, C) */
} ssm__hsel_ctx;

static int64_t ssm__hsel_kmax(const ssm_hsa_select_params *p) { return ssm__min64(p->K, p->C); }

static ssm__scratch ssm__scalar_hsa_select_scratch(const ssm_hsa_select_params *p) {
    ssm__scratch s;
    const size_t R = ssm__sz(p->R), C = ssm__sz(p->C);
    size_t bytes = ssm__sat_mul(sizeof(int64_t), ssm__sz(ssm__hsel_kmax(p)));          /* heap */
    bytes = ssm__sat_add(bytes, ssm__sat_mul(sizeof(float), ssm__sat_add(2 * R, C))); /* qr, lmk row, scores */
    bytes = ssm__sat_add(bytes, C);                                                   /* marks */
    s.shared = 0;
    s.per_worker = bytes;
    return s;
}

static inline float ssm__softplus15(float x) { return x > 15.0f ? x : log1pf(expf(x)); }

/* Whether chunk a (score ra) ranks before chunk b: larger score, ties to the larger index,
   NaN last (NaNs among themselves by index). */
static int ssm__hsel_before(float ra, int64_t a, float rb, int64_t b) {
    const int na = ra != ra, nb = rb != rb;
    if (na || nb) return na != nb ? nb : a > b;
    if (ra != rb) return ra > rb;
    return a > b;
}

/* Restores the heap (root = the chunk ranked last) below position i. */
static void ssm__hsel_sift(int64_t *heap, int64_t n, int64_t i, const float *r) {
    for (;;) {
        int64_t l = 2 * i + 1, worst = i, x;
        if (l < n && ssm__hsel_before(r[heap[worst]], heap[worst], r[heap[l]], heap[l])) worst = l;
        if (l + 1 < n && ssm__hsel_before(r[heap[worst]], heap[worst], r[heap[l + 1]], heap[l + 1])) worst = l + 1;
        if (worst == i) return;
        x = heap[i]; heap[i] = heap[worst]; heap[worst] = x;
        i = worst;
    }
}

/* Chunks c with (c+1)*S <= pos (window: <= pos - window + S), written without overflow. */
static int64_t ssm__hsel_eligible(const ssm_hsa_select_params *p, int64_t pos) {
    int64_t n;
    if (p->window) n = pos >= p->window ? (pos - p->window) / p->S + 1 : 0;
    else n = pos / p->S;
    return ssm__min64(n, p->C);
}

/* From the scores r[0, n_el) of one (b, t, retrieval head) at idx/w offsets io/wo: the top
   min(K, n_el) chunks in SPEC §5's order, written as slots most recent first with their weights
   (in double), padded with -1 / 0. heap (kmax int64) and mark (C bytes) are scratch. Every CPU
   backend computes the scores its own way and finishes through here. */
static void ssm__hsel_emit(const ssm__hsel_ctx *c, const float *r, int64_t n_el, int64_t *heap, unsigned char *mark,
                           int64_t io, int64_t wo) {
    const ssm_hsa_select_params *p = c->p;
    const int64_t K = p->K, k = ssm__min64(K, n_el);
    int32_t *idx = (int32_t *)c->idx.data;
    float *wout = (float *)c->w.data;
    int64_t n_heap = 0, slot = 0, ch, i;
    for (ch = 0; ch < n_el; ++ch) mark[ch] = k == n_el;  /* everything eligible is chosen when it fits */
        if (k < n_el) {
            for (ch = 0; ch < n_el; ++ch) {
                if (n_heap < k) {  /* fill, then heapify once */
                    heap[n_heap++] = ch;
                    if (n_heap == k)
                        for (i = k / 2 - 1; i >= 0; --i) ssm__hsel_sift(heap, k, i, r);
                } else if (ssm__hsel_before(r[ch], ch, r[heap[0]], heap[0])) {
                    heap[0] = ch;
                    ssm__hsel_sift(heap, k, 0, r);
                }
            }
            for (i = 0; i < k; ++i) mark[heap[i]] = 1;
        }
        /* slots: chosen chunks, most recent first; weights from their scores */
        {
            double broken = 0.0, sum = 0.0;
            float m = -INFINITY;
            for (ch = n_el - 1; ch >= 0; --ch) {
                if (!mark[ch]) continue;
                idx[io + slot * c->idx.st[3]] = (int32_t)ch;
                if (p->mode == SSM_HSA_SOFTMAX) {
                    m = r[ch] > m ? r[ch] : m;
                } else {
                    broken += (double)ssm__softplus15(r[ch]);
                    wout[wo + slot * c->w.st[3]] = (float)exp((double)r[ch] - broken);
                }
                ++slot;
            }
            if (p->mode == SSM_HSA_SOFTMAX) {
                for (i = 0; i < slot; ++i) sum += exp((double)r[idx[io + i * c->idx.st[3]]] - (double)m);
                for (i = 0; i < slot; ++i)
                    wout[wo + i * c->w.st[3]] = (float)(exp((double)r[idx[io + i * c->idx.st[3]]] - (double)m) / sum);
            }
        }
        for (i = slot; i < K; ++i) {
            idx[io + i * c->idx.st[3]] = -1;
            wout[wo + i * c->w.st[3]] = 0.0f;
        }
}

static void ssm__scalar_hsa_select_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__hsel_ctx *c = (const ssm__hsel_ctx *)vc;
    const ssm_hsa_select_params *p = c->p;
    const int64_t R = p->R;
    const float inv_sqrt_r = 1.0f / sqrtf((float)R);
    int64_t *heap = (int64_t *)scratch;
    float *q = (float *)(heap + c->kmax), *lrow = q + R, *r = lrow + R;
    unsigned char *mark = (unsigned char *)(r + p->C);
    int64_t it, ch, e;
    for (it = begin; it < end; ++it) {
        const int64_t b = it / (p->Lq * p->HR), t = (it / p->HR) % p->Lq, h = it % p->HR;
        const int64_t n_el = ssm__hsel_eligible(p, p->q_offset + t);
        const int64_t io = b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2];
        const int64_t wo = b * c->w.st[0] + t * c->w.st[1] + h * c->w.st[2];
        ssm__load_f32(q, c->qr.data, p->dtype, b * c->qr.st[0] + t * c->qr.st[1] + h * c->qr.st[2], c->qr.st[3], R);
        for (ch = 0; ch < n_el; ++ch) {
            float dot = 0.0f;
            ssm__load_f32(lrow, c->lmk.data, p->dtype, b * c->lmk.st[0] + ch * c->lmk.st[1] + h * c->lmk.st[2],
                          c->lmk.st[3], R);
            for (e = 0; e < R; ++e) dot += q[e] * lrow[e];
            r[ch] = dot * inv_sqrt_r;
        }
        ssm__hsel_emit(c, r, n_el, heap, mark, io, wo);
    }
}

static ssm_status ssm__scalar_hsa_select(const ssm_hsa_select_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__hsel_ctx c;
    if (ssm__hsel_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.qr = ssm__opview(&o, SSM__HS_QR);
    c.lmk = ssm__opview(&o, SSM__HS_LMK);
    c.idx = ssm__opmview(&o, SSM__HS_IDX);
    c.w = ssm__opmview(&o, SSM__HS_W);
    c.kmax = ssm__hsel_kmax(p);
    ssm__parallel(run, p->B * p->Lq * p->HR, ssm__scalar_hsa_select_range, &c);
    return SSM_OK;
}

/* ---------------------------------------------------------------- hsa_attention (SPEC §5)

   One work item is one (batch, query token, KV head) with its G = HQ/HK query heads together,
   so each selected chunk's K and V are converted once and serve all G heads: per slot, the
   scores are a (G x E) (E x S) product against K transposed, a softmax per row, and a
   (G x S) (S x Ev) product into the accumulator, every inner loop over a contiguous row.
   With sm_n > 0 the extra denominator term is an implicit logit 0, so the running maximum
   starts at 0 and neither exp can overflow. */

typedef struct ssm__hatt_ctx {
    const ssm_hsa_attention_params *p;
    ssm__view q, k, v, idx, w;
    ssm__mview o, lse;
    int64_t G, Ev;
    float scale;
} ssm__hatt_ctx;

static ssm__scratch ssm__scalar_hsa_attention_scratch(const ssm_hsa_attention_params *p) {
    ssm__scratch s;
    const size_t G = ssm__sz(p->HQ / p->HK), E = ssm__sz(p->E), Ev = ssm__sz(ssm__hatt_ev(p)), S = ssm__sz(p->S);
    size_t n = ssm__sat_mul(G, ssm__sat_add(ssm__sat_add(E, Ev), S));  /* q, acc, scores */
    n = ssm__sat_add(n, ssm__sat_mul(S, ssm__sat_add(E, Ev)));          /* K transposed, V */
    n = ssm__sat_add(n, E > Ev ? E : Ev);                               /* row */
    s.shared = 0;
    s.per_worker = ssm__sat_mul(sizeof(float), n);
    return s;
}

static void ssm__scalar_hsa_attention_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__hatt_ctx *c = (const ssm__hatt_ctx *)vc;
    const ssm_hsa_attention_params *p = c->p;
    const int64_t G = c->G, E = p->E, Ev = c->Ev, S = p->S, K = p->K;
    float *q = (float *)scratch, *acc = q + G * E, *sc = acc + G * Ev, *KT = sc + G * S, *V = KT + E * S;
    float *row = V + S * Ev;
    int64_t it, gi, i, j, e;
    for (it = begin; it < end; ++it) {
        const int64_t b = it / (p->Lq * p->HK), t = (it / p->HK) % p->Lq, h = it % p->HK;
        for (gi = 0; gi < G; ++gi) {
            const int64_t hq = h * G + gi;
            ssm__load_f32(q + gi * E, c->q.data, p->dtype, b * c->q.st[0] + t * c->q.st[1] + hq * c->q.st[2],
                          c->q.st[3], E);
            for (e = 0; e < E; ++e) q[gi * E + e] *= c->scale;
            for (e = 0; e < Ev; ++e) acc[gi * Ev + e] = 0.0f;
        }
        for (i = 0; i < K; ++i) {
            const int64_t ch = ((const int32_t *)c->idx.data)[b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2] +
                                                             i * c->idx.st[3]];
            const float wi = ((const float *)c->w.data)[b * c->w.st[0] + t * c->w.st[1] + h * c->w.st[2] +
                                                        i * c->w.st[3]];
            if (ch < 0) {
                if (c->lse.data)
                    for (gi = 0; gi < G; ++gi)
                        ((float *)c->lse.data)[b * c->lse.st[0] + t * c->lse.st[1] + (h * G + gi) * c->lse.st[2] +
                                               i * c->lse.st[3]] = -INFINITY;
                continue;
            }
            for (j = 0; j < S; ++j) {
                const int64_t tk = ch * S + j;
                ssm__load_f32(row, c->k.data, p->dtype, b * c->k.st[0] + tk * c->k.st[1] + h * c->k.st[2],
                              c->k.st[3], E);
                for (e = 0; e < E; ++e) KT[e * S + j] = row[e];
                ssm__load_f32(V + j * Ev, c->v.data, p->dtype, b * c->v.st[0] + tk * c->v.st[1] + h * c->v.st[2],
                              c->v.st[3], Ev);
            }
            for (gi = 0; gi < G; ++gi) {
                float *s = sc + gi * S, *a = acc + gi * Ev, m, l = 0.0f;
                for (j = 0; j < S; ++j) s[j] = 0.0f;
                for (e = 0; e < E; ++e) ssm__axpy(s, q[gi * E + e], KT + e * S, S);
                m = s[0];
                for (j = 1; j < S; ++j) m = s[j] > m ? s[j] : m;
                if (p->sm_n > 0.0f) {  /* the sm_n term is a logit 0: max(m, 0), NaN kept */
                    if (m < 0.0f) m = 0.0f;
                    l = p->sm_n * expf(-m);
                }
                for (j = 0; j < S; ++j) {
                    s[j] = expf(s[j] - m);
                    l += s[j];
                }
                {
                    const float f = wi / l;
                    for (j = 0; j < S; ++j) ssm__axpy(a, s[j] * f, V + j * Ev, Ev);
                }
                if (c->lse.data)
                    ((float *)c->lse.data)[b * c->lse.st[0] + t * c->lse.st[1] + (h * G + gi) * c->lse.st[2] +
                                           i * c->lse.st[3]] = m + logf(l);
            }
        }
        for (gi = 0; gi < G; ++gi)
            ssm__store_f32(c->o.data, p->dtype, b * c->o.st[0] + t * c->o.st[1] + (h * G + gi) * c->o.st[2],
                           c->o.st[3], acc + gi * Ev, Ev);
    }
}

static ssm_status ssm__scalar_hsa_attention(const ssm_hsa_attention_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__hatt_ctx c;
    if (ssm__hatt_operands(p, &o) != SSM_OK) return SSM_ERR_ARG;  /* validated before: cannot happen */
    c.p = p;
    c.q = ssm__opview(&o, SSM__HA_Q);
    c.k = ssm__opview(&o, SSM__HA_K);
    c.v = ssm__opview(&o, SSM__HA_V);
    c.idx = ssm__opview(&o, SSM__HA_IDX);
    c.w = ssm__opview(&o, SSM__HA_W);
    c.o = ssm__opmview(&o, SSM__HA_O);
    c.lse = ssm__opmview(&o, SSM__HA_LSE);
    c.G = p->HQ / p->HK;
    c.Ev = ssm__hatt_ev(p);
    c.scale = p->scale != 0.0f ? p->scale : 1.0f / sqrtf((float)p->E);
    ssm__parallel(run, p->B * p->Lq * p->HK, ssm__scalar_hsa_attention_range, &c);
    return SSM_OK;
}

/* ================================================================ CPU features and dispatch

   The one place that looks at the CPU (cpuid + xgetbv on x86-64, the compile target on AArch64)
   and the one table of backends. Everything else asks ssm__backend_for(). */

typedef struct ssm__cpu_features {
    int avx512;       /* F + BW + VL + DQ, with ZMM and opmask state enabled by the OS */
    int avx512_bf16;
    int avx512_fp16;
    int amx_bf16;     /* AMX-BF16 + AMX-TILE, with tile state enabled by the OS (XCR0 bits 17/18) */
    int neon;
} ssm__cpu_features;

#if SSM__X86_64 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
static void ssm__cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static uint64_t ssm__xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));  /* xgetbv */
    return ((uint64_t)hi << 32) | lo;
}
#define SSM__HAVE_CPUID 1
#elif SSM__X86_64 && defined(_MSC_VER)
#include <intrin.h>
static void ssm__cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    int x[4];
    __cpuidex(x, (int)leaf, (int)sub);
    r[0] = (unsigned)x[0]; r[1] = (unsigned)x[1]; r[2] = (unsigned)x[2]; r[3] = (unsigned)x[3];
}
static uint64_t ssm__xgetbv0(void) { return _xgetbv(0); }
#define SSM__HAVE_CPUID 1
#endif

static ssm__cpu_features ssm__detect_cpu(void) {
    ssm__cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(SSM__HAVE_CPUID)
    {
        unsigned r[4], max_leaf, b7, d7, a71 = 0;
        uint64_t xcr0;
        ssm__cpuid(0, 0, r);
        max_leaf = r[0];
        ssm__cpuid(1, 0, r);
        if (max_leaf < 7 || !(r[2] & (1u << 27))) return f;  /* no leaf 7, or no OSXSAVE */
        xcr0 = ssm__xgetbv0();
        ssm__cpuid(7, 0, r);
        b7 = r[1];
        d7 = r[3];
        if (r[0] >= 1) {
            ssm__cpuid(7, 1, r);
            a71 = r[0];
        }
        /* XCR0: SSE(1) AVX(2) opmask(5) ZMM_Hi256(6) Hi16_ZMM(7) must all be OS-enabled */
        if ((xcr0 & 0xe6u) == 0xe6u && (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) &&
            (b7 & (1u << 31))) {
            f.avx512 = 1;
            f.avx512_bf16 = (a71 >> 5) & 1u;
            f.avx512_fp16 = (d7 >> 23) & 1u;
            f.amx_bf16 = ((d7 >> 22) & 1u) && ((d7 >> 24) & 1u) && ((xcr0 >> 17) & 3u) == 3u;
        }
    }
#endif
#if SSM__AARCH64
    f.neon = 1;
#endif
    return f;
}

SSM__UNUSED static const ssm__cpu_features *ssm__cpu(void) {
    static ssm__cpu_features features;
    static volatile int ready = 0;  /* racing first calls compute the same value: benign */
    if (!ready) {
        features = ssm__detect_cpu();
        ready = 1;
    }
    return &features;
}

typedef struct ssm__backend {
    ssm_isa isa;
    unsigned dtypes[SSM_OP_COUNT];  /* per op: bit (1 << dtype) for each dtype implemented */
    ssm_status (*selective_scan)(const ssm_selective_scan_params *, const ssm__run *);
    ssm_status (*state_update)(const ssm_state_update_params *, const ssm__run *);
    ssm_status (*ssd)(const ssm_ssd_params *, const ssm__run *);
    ssm_status (*conv1d)(const ssm_conv1d_params *, const ssm__run *);
    ssm_status (*hsa_select)(const ssm_hsa_select_params *, const ssm__run *);
    ssm_status (*hsa_attention)(const ssm_hsa_attention_params *, const ssm__run *);
    /* scratch a call needs; NULL: none */
    ssm__scratch (*selective_scan_scratch)(const ssm_selective_scan_params *);
    ssm__scratch (*state_update_scratch)(const ssm_state_update_params *);
    ssm__scratch (*ssd_scratch)(const ssm_ssd_params *);
    ssm__scratch (*conv1d_scratch)(const ssm_conv1d_params *);
    ssm__scratch (*hsa_select_scratch)(const ssm_hsa_select_params *);
    ssm__scratch (*hsa_attention_scratch)(const ssm_hsa_attention_params *);
} ssm__backend;

#define SSM__ALL_DTYPES ((1u << SSM_F32) | (1u << SSM_F16) | (1u << SSM_BF16))

static const ssm__backend ssm__scalar_backend = {
    SSM_ISA_SCALAR,
    {SSM__ALL_DTYPES, SSM__ALL_DTYPES, SSM__ALL_DTYPES, SSM__ALL_DTYPES, SSM__ALL_DTYPES, SSM__ALL_DTYPES},
    ssm__scalar_selective_scan, ssm__scalar_state_update, ssm__scalar_ssd, ssm__scalar_conv1d,
    ssm__scalar_hsa_select, ssm__scalar_hsa_attention,
    ssm__scalar_scan_scratch, ssm__scalar_step_scratch, ssm__scalar_ssd_scratch, NULL,
    ssm__scalar_hsa_select_scratch, ssm__scalar_hsa_attention_scratch,
};

/* ISA backends live in their own headers beside this one and are compiled in when present
   (SSM_NO_AVX512 / SSM_NO_NEON leave them out; so does nvcc: keep the implementation unit that
   should carry the SIMD kernels a .c/.cpp file compiled by the host compiler). Each defines SSM__<ISA>_BACKEND, the name of
   its ssm__backend table; its code uses function-level target attributes, so the rest of the
   build stays baseline and the binary runs on CPUs without the ISA. */
#if SSM__X86_64 && !defined(SSM_NO_AVX512) && !defined(__CUDACC__) && defined(__has_include)
#if __has_include("ssm_avx512.h")
#include "ssm_avx512.h"
#endif
#endif
#if SSM__AARCH64 && !defined(SSM_NO_NEON) && !defined(__CUDACC__) && defined(__has_include)
#if __has_include("ssm_neon.h")
#include "ssm_neon.h"
#endif
#endif

/* The compiled-in backend of an ISA, if this CPU can run it. */
static const ssm__backend *ssm__backend_of(ssm_isa isa) {
    switch (isa) {
    case SSM_ISA_SCALAR: return &ssm__scalar_backend;
#if defined(SSM__AVX512_BACKEND)
    case SSM_ISA_AVX512: return ssm__cpu()->avx512 ? &SSM__AVX512_BACKEND : NULL;
#endif
#if defined(SSM__NEON_BACKEND)
    case SSM_ISA_NEON: return ssm__cpu()->neon ? &SSM__NEON_BACKEND : NULL;
#endif
    default: return NULL;
    }
}

static ssm_isa ssm__best_isa(void) {
    int i;
    for (i = SSM_ISA_COUNT - 1; i > SSM_ISA_SCALAR; --i)
        if (ssm__backend_of((ssm_isa)i)) return (ssm_isa)i;
    return SSM_ISA_SCALAR;
}

static ssm_isa ssm__isa_from_env(void) {
    const char *e = getenv("SSM_ISA");
    int i;
    if (!e) return SSM_ISA_AUTO;
    for (i = SSM_ISA_SCALAR; i < SSM_ISA_COUNT; ++i)
        if (strcmp(e, ssm_isa_name((ssm_isa)i)) == 0) return (ssm_isa)i;
    return SSM_ISA_AUTO;
}

static volatile int ssm__isa_selected = SSM_ISA_AUTO;  /* AUTO until the first call decides */

static ssm_isa ssm__current_isa(void) {
    if (ssm__isa_selected == SSM_ISA_AUTO) {
#ifdef SSM_FORCE_ISA
        ssm_isa isa = ssm__backend_of(SSM_FORCE_ISA) ? SSM_FORCE_ISA : SSM_ISA_SCALAR;
#else
        ssm_isa isa = ssm__isa_from_env();
        if (isa == SSM_ISA_AUTO || !ssm__backend_of(isa)) isa = ssm__best_isa();
#endif
        ssm__isa_selected = isa;
    }
    return (ssm_isa)ssm__isa_selected;
}

static int ssm__implements(const ssm__backend *be, ssm_op op, ssm_dtype dtype) {
    return be && (unsigned)op < SSM_OP_COUNT && ssm__dtype_ok(dtype) && ((be->dtypes[op] >> dtype) & 1u);
}

/* The backend in use when it implements op/dtype, else the portable one (if it does). */
static const ssm__backend *ssm__backend_for(ssm_op op, ssm_dtype dtype) {
    const ssm__backend *be = ssm__backend_of(ssm__current_isa());
    if (ssm__implements(be, op, dtype)) return be;
    return ssm__implements(&ssm__scalar_backend, op, dtype) ? &ssm__scalar_backend : NULL;
}

SSM_API int ssm_isa_available(ssm_isa isa) { return isa != SSM_ISA_AUTO && ssm__backend_of(isa) != NULL; }

SSM_API int ssm_isa_supports(ssm_isa isa, ssm_op op, ssm_dtype dtype) {
    if (isa == SSM_ISA_AUTO) isa = ssm__current_isa();
    return ssm__implements(ssm__backend_of(isa), op, dtype);
}

SSM_API ssm_status ssm_set_isa(ssm_isa isa) {
#ifdef SSM_FORCE_ISA
    return isa == ssm__current_isa() ? SSM_OK : SSM_ERR_UNSUPPORTED;
#else
    if (isa == SSM_ISA_AUTO) isa = ssm__best_isa();
    if (!ssm__backend_of(isa)) return SSM_ERR_UNSUPPORTED;
    ssm__isa_selected = isa;
    return SSM_OK;
#endif
}

SSM_API ssm_isa ssm_get_isa(void) { return ssm__current_isa(); }
SSM_API const char *ssm_backend_name(void) { return ssm_isa_name(ssm__current_isa()); }

/* ================================================================ public entry points

   Same three functions per op: validate (everything, index contents included), workspace size
   (largest need over the backends that could run it), and the call itself: validate, pick the
   backend, set up threads and scratch, run. */

static ssm__scratch ssm__no_scratch(void) {
    ssm__scratch s;
    s.shared = 0;
    s.per_worker = 0;
    return s;
}

#define SSM__DEFINE_OP(name, opid, params_t, validate)                                               \
    SSM_API ssm_status ssm_##name##_validate(const params_t *p) { return validate(p, 1); }          \
    SSM_API ssm_status ssm_##name##_validate_args(const params_t *p) { return validate(p, 0); }     \
    SSM_API size_t ssm_##name##_workspace_size(const params_t *p, int n_threads) {                  \
        size_t most = 0, bytes;                                                                      \
        int i, threads = n_threads > 0 ? n_threads : ssm__threads(NULL);                              \
        if (validate(p, 0) != SSM_OK) return 0;                                                      \
        for (i = SSM_ISA_SCALAR; i < SSM_ISA_COUNT; ++i) {                                          \
            const ssm__backend *be = ssm__backend_of((ssm_isa)i);                                    \
            if (!ssm__implements(be, opid, p->dtype) || !be->name##_scratch) continue;               \
            bytes = ssm__workspace_bytes(be->name##_scratch(p), threads);                            \
            if (bytes > most) most = bytes;                                                          \
        }                                                                                            \
        return most;                                                                                 \
    }                                                                                                \
    SSM_API ssm_status ssm_##name(const params_t *p, const ssm_exec *ex) {                          \
        ssm__run run;                                                                                \
        ssm_status st;                                                                               \
        const ssm__backend *be;                                                                      \
        if ((st = validate(p, 1)) != SSM_OK) return st;                                              \
        if (!(be = ssm__backend_for(opid, p->dtype))) return SSM_ERR_UNSUPPORTED;                    \
        st = ssm__run_begin(&run, ex, be->name##_scratch ? be->name##_scratch(p) : ssm__no_scratch()); \
        if (st != SSM_OK) return st;                                                                 \
        st = be->name(p, &run);                                                                      \
        ssm__run_end(&run);                                                                          \
        return st;                                                                                   \
    }

SSM__DEFINE_OP(selective_scan, SSM_OP_SELECTIVE_SCAN, ssm_selective_scan_params, ssm__scan_validate)
SSM__DEFINE_OP(state_update, SSM_OP_STATE_UPDATE, ssm_state_update_params, ssm__step_validate)
SSM__DEFINE_OP(ssd, SSM_OP_SSD, ssm_ssd_params, ssm__ssd_validate)
SSM__DEFINE_OP(conv1d, SSM_OP_CONV1D, ssm_conv1d_params, ssm__conv_validate)
SSM__DEFINE_OP(hsa_select, SSM_OP_HSA_SELECT, ssm_hsa_select_params, ssm__hsel_validate)
SSM__DEFINE_OP(hsa_attention, SSM_OP_HSA_ATTENTION, ssm_hsa_attention_params, ssm__hatt_validate)

#ifdef __cplusplus
}
#endif

#endif /* SSM_IMPLEMENTATION */
