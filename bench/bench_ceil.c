/* bench_ceil.c — measured ceilings: triad bandwidth sweep, FMA peak, BF16 dot / AMX peaks, exp
   throughput. See bench_ceil.h. The kernels for wide ISAs use function-level target attributes
   and run only after a cpuid check, so this file builds with baseline flags. */
#define _GNU_SOURCE
#include "bench_ceil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define BENCH_X86 1
#else
#define BENCH_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define BENCH_BARRIER() __asm__ __volatile__("" ::: "memory")

/* ---------------------------------------------------------------- CPU features */

#if BENCH_X86
static uint64_t bench__xcr0(void) {
    uint32_t eax, edx;
    __asm__ __volatile__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
static int bench__osxsave(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 27) & 1;
}
#endif

int bench_cpu_has_avx512f(void) {
#if BENCH_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

int bench_cpu_has_avx512bf16(void) {
#if BENCH_X86
    unsigned a, b, c, d;
    if (!bench_cpu_has_avx512f()) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;
#else
    return 0;
#endif
}

int bench_cpu_has_amx_bf16(void) {
#if BENCH_X86
    static int cached = -1;
    if (cached >= 0) return cached;
    cached = 0;
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
    if (!amx_bf16 || !amx_tile || !bench__osxsave()) return 0;
    if ((bench__xcr0() & (3ull << 17)) != (3ull << 17)) return 0;
    /* Linux hands out the 8 KiB tile state only on request (ARCH_REQ_XCOMP_PERM, XTILEDATA) */
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */))
        return 0;
    cached = 1;
    return 1;
#else
    return 0;
#endif
}

/* ---------------------------------------------------------------- kernels */

static void bench__triad_scalar(double *restrict a, const double *restrict b,
                                const double *restrict c, double s, int64_t n) {
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

static void bench__update_scalar(double *restrict a, const double *restrict b, double s,
                                 int64_t n) {
    for (int64_t i = 0; i < n; i++) a[i] = s * a[i] + b[i];
}

#if BENCH_X86
__attribute__((target("avx512f"))) static void bench__triad_avx512(double *restrict a,
                                                                   const double *restrict b,
                                                                   const double *restrict c,
                                                                   double s, int64_t n) {
    __m512d vs = _mm512_set1_pd(s);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512d r0 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(c + i), _mm512_loadu_pd(b + i));
        __m512d r1 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(c + i + 8), _mm512_loadu_pd(b + i + 8));
        __m512d r2 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(c + i + 16), _mm512_loadu_pd(b + i + 16));
        __m512d r3 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(c + i + 24), _mm512_loadu_pd(b + i + 24));
        _mm512_storeu_pd(a + i, r0);
        _mm512_storeu_pd(a + i + 8, r1);
        _mm512_storeu_pd(a + i + 16, r2);
        _mm512_storeu_pd(a + i + 24, r3);
    }
    for (; i < n; i++) a[i] = b[i] + s * c[i];
}

/* In-place update a[i] = s*a[i] + b[i]: the same 24 counted bytes as the triad, but the
   written lines were just read, so no write-allocate traffic: the access pattern of an op that
   updates its state in place (state_update), which can beat the triad's counted bandwidth. */
__attribute__((target("avx512f"))) static void bench__update_avx512(double *restrict a,
                                                                    const double *restrict b,
                                                                    double s, int64_t n) {
    __m512d vs = _mm512_set1_pd(s);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512d r0 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i));
        __m512d r1 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(a + i + 8), _mm512_loadu_pd(b + i + 8));
        __m512d r2 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(a + i + 16), _mm512_loadu_pd(b + i + 16));
        __m512d r3 = _mm512_fmadd_pd(vs, _mm512_loadu_pd(a + i + 24), _mm512_loadu_pd(b + i + 24));
        _mm512_storeu_pd(a + i, r0);
        _mm512_storeu_pd(a + i + 8, r1);
        _mm512_storeu_pd(a + i + 16, r2);
        _mm512_storeu_pd(a + i + 24, r3);
    }
    for (; i < n; i++) a[i] = s * a[i] + b[i];
}

/* 16 independent accumulators: enough to cover FMA latency x FMA ports on current cores */
#define BENCH_FMA16(OP)                                                                          \
    OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13)     \
    OP(14) OP(15)

__attribute__((target("avx512f"))) static float bench__fma_avx512(int64_t iters) {
#define DECL(k) __m512 acc##k = _mm512_set1_ps(0.001f * (float)(k + 1));
    BENCH_FMA16(DECL)
#undef DECL
    const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++) {
#define STEP(k) acc##k = _mm512_fmadd_ps(acc##k, mul, add);
        BENCH_FMA16(STEP)
#undef STEP
    }
    __m512 sum = _mm512_setzero_ps();
#define SUM(k) sum = _mm512_add_ps(sum, acc##k);
    BENCH_FMA16(SUM)
#undef SUM
    return _mm512_reduce_add_ps(sum);
}
#define BENCH_FMA_AVX512_FLOPS (16.0 * 16.0 * 2.0)

__attribute__((target("avx2,fma"))) static float bench__fma_avx2(int64_t iters) {
#define DECL(k) __m256 acc##k = _mm256_set1_ps(0.001f * (float)(k + 1));
    BENCH_FMA16(DECL)
#undef DECL
    const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++) {
#define STEP(k) acc##k = _mm256_fmadd_ps(acc##k, mul, add);
        BENCH_FMA16(STEP)
#undef STEP
    }
    __m256 sum = _mm256_setzero_ps();
#define SUM(k) sum = _mm256_add_ps(sum, acc##k);
    BENCH_FMA16(SUM)
#undef SUM
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}
#define BENCH_FMA_AVX2_FLOPS (16.0 * 8.0 * 2.0)

/* vdpbf16ps: each lane adds two bf16 products, 16 lanes: 64 flops per instruction */
__attribute__((target("avx512f,avx512bf16"))) static float bench__bf16_dot(int64_t iters) {
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.002f));
#define DECL(k) __m512 acc##k = _mm512_set1_ps(0.001f * (float)(k + 1));
    BENCH_FMA16(DECL)
#undef DECL
    for (int64_t i = 0; i < iters; i++) {
#define STEP(k) acc##k = _mm512_dpbf16_ps(acc##k, a, b);
        BENCH_FMA16(STEP)
#undef STEP
    }
    __m512 sum = _mm512_setzero_ps();
#define SUM(k) sum = _mm512_add_ps(sum, acc##k);
    BENCH_FMA16(SUM)
#undef SUM
    return _mm512_reduce_add_ps(sum);
}
#define BENCH_BF16_DOT_FLOPS (16.0 * 64.0)

/* AMX: four 16x16 f32 accumulator tiles fed by two A and two B tiles (16 rows x 32 bf16 pairs),
   the 2x2 register blocking that keeps the tile unit busy; 16*16*32*2 flops per tdpbf16ps. */
typedef struct bench_tilecfg {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} bench_tilecfg;

__attribute__((target("amx-tile,amx-bf16"))) static float bench__amx_bf16(int64_t iters) {
    static _Alignas(64) uint16_t a_tile[16 * 32], b_tile[16 * 32];
    static _Alignas(64) float c_tile[16 * 16];
    for (int i = 0; i < 16 * 32; i++) {
        a_tile[i] = 0x3f00;   /* bf16 0.5 */
        b_tile[i] = 0x3a83;   /* bf16 ~0.001 */
    }
    _Alignas(64) bench_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, a_tile, 64);
    _tile_loadd(5, a_tile, 64);
    _tile_loadd(6, b_tile, 64);
    _tile_loadd(7, b_tile, 64);
    for (int64_t i = 0; i < iters; i++) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c_tile, 64);
    _tile_release();
    return c_tile[0];
}
#define BENCH_AMX_FLOPS (4.0 * 16.0 * 16.0 * 32.0 * 2.0)

/* exp(x) for |x| < 88: x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial,
   then scaled by 2^n. About the work a library exp does per element. */
__attribute__((target("avx512f"))) static inline __m512 bench__exp512(__m512 x) {
    const __m512 log2e = _mm512_set1_ps(1.44269504f);
    const __m512 ln2_hi = _mm512_set1_ps(0.693145752f), ln2_lo = _mm512_set1_ps(1.42860677e-6f);
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
    r = _mm512_fnmadd_ps(n, ln2_lo, r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

__attribute__((target("avx512f"))) static void bench__exp_avx512(float *restrict y,
                                                                 const float *restrict x,
                                                                 int64_t n) {
    for (int64_t i = 0; i + 64 <= n; i += 64) {   /* four independent vectors in flight */
        __m512 y0 = bench__exp512(_mm512_loadu_ps(x + i));
        __m512 y1 = bench__exp512(_mm512_loadu_ps(x + i + 16));
        __m512 y2 = bench__exp512(_mm512_loadu_ps(x + i + 32));
        __m512 y3 = bench__exp512(_mm512_loadu_ps(x + i + 48));
        _mm512_storeu_ps(y + i, y0);
        _mm512_storeu_ps(y + i + 16, y1);
        _mm512_storeu_ps(y + i + 32, y2);
        _mm512_storeu_ps(y + i + 48, y3);
    }
}
#endif /* BENCH_X86 */

#if defined(__aarch64__)
static float bench__fma_neon(int64_t iters) {
#define BENCH_FMA16(OP)                                                                          \
    OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13)     \
    OP(14) OP(15)
#define DECL(k) float32x4_t acc##k = vdupq_n_f32(0.001f * (float)(k + 1));
    BENCH_FMA16(DECL)
#undef DECL
    const float32x4_t mul = vdupq_n_f32(0.999999f), add = vdupq_n_f32(1e-7f);
    for (int64_t i = 0; i < iters; i++) {
#define STEP(k) acc##k = vfmaq_f32(add, acc##k, mul);
        BENCH_FMA16(STEP)
#undef STEP
    }
    float32x4_t sum = vdupq_n_f32(0.0f);
#define SUM(k) sum = vaddq_f32(sum, acc##k);
    BENCH_FMA16(SUM)
#undef SUM
    return vaddvq_f32(sum);
}
#endif

/* Portable fallback: eight independent multiply-add chains (a compiler may or may not fuse). */
static float bench__fma_scalar(int64_t iters) {
    float acc[8];
    for (int k = 0; k < 8; k++) acc[k] = 0.001f * (float)(k + 1);
    for (int64_t i = 0; i < iters; i++)
        for (int k = 0; k < 8; k++) acc[k] = acc[k] * 0.999999f + 1e-7f;
    float sum = 0;
    for (int k = 0; k < 8; k++) sum += acc[k];
    return sum;
}

static void bench__exp_scalar(float *restrict y, const float *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

/* The clock probe: BENCH_CLOCK_ADDS dependent one-cycle adds per iteration, so an iteration
   takes that many core cycles whatever else runs beside the chain. On x86-64 with AVX-512 eight
   independent 512-bit FMAs ride along (half the FMA ports' rate, never the bottleneck): the
   core then runs at the frequency it grants heavy 512-bit work. Returns the chain's value so
   that nothing is optimised away. */
#define BENCH_CLOCK_ADDS 8
#define BENCH_ADD8(insn) insn insn insn insn insn insn insn insn
#if BENCH_X86
__attribute__((target("avx512f"))) static int64_t bench__clock_avx512(int64_t iters) {
    int64_t x = 0;
    __asm__ __volatile__("vxorps %%xmm1, %%xmm1, %%xmm1" ::: "xmm1");
    for (int64_t i = 0; i < iters; i++)
        __asm__ __volatile__(
            "vfmadd231ps %%zmm1, %%zmm1, %%zmm2\n\tvfmadd231ps %%zmm1, %%zmm1, %%zmm3\n\t"
            "vfmadd231ps %%zmm1, %%zmm1, %%zmm4\n\tvfmadd231ps %%zmm1, %%zmm1, %%zmm5\n\t"
            "vfmadd231ps %%zmm1, %%zmm1, %%zmm6\n\tvfmadd231ps %%zmm1, %%zmm1, %%zmm7\n\t"
            "vfmadd231ps %%zmm1, %%zmm1, %%zmm8\n\tvfmadd231ps %%zmm1, %%zmm1, %%zmm9\n\t"
            BENCH_ADD8("add %1, %0\n\t")
            : "+r"(x) : "r"(i) : "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9");
    __asm__ __volatile__("vzeroupper" ::: "memory");
    return x;
}
static int64_t bench__clock_scalar(int64_t iters) {
    int64_t x = 0;
    for (int64_t i = 0; i < iters; i++) __asm__ __volatile__(BENCH_ADD8("add %1, %0\n\t") : "+r"(x) : "r"(i));
    return x;
}
#elif defined(__aarch64__)
static int64_t bench__clock_scalar(int64_t iters) {
    int64_t x = 0;
    for (int64_t i = 0; i < iters; i++) __asm__ __volatile__(BENCH_ADD8("add %0, %0, %1\n\t") : "+r"(x) : "r"(i));
    return x;
}
#endif

/* ---------------------------------------------------------------- per-thread task plumbing */

#define BENCH_MAX_POOL 1024

typedef enum bench_kernel { K_TRIAD, K_UPDATE, K_FMA, K_BF16, K_AMX, K_EXP, K_CLOCK } bench_kernel;

typedef struct bench_ceil_ctx {
    bench_kernel kernel;
    int use_avx512, use_avx2;
    int64_t n;            /* triad elements per thread / exp elements */
    int64_t reps;         /* passes or iterations */
    int64_t alloc_n;      /* triad elements allocated per thread */
    double *a[BENCH_MAX_POOL], *b[BENCH_MAX_POOL], *c[BENCH_MAX_POOL];
    float *ex[BENCH_MAX_POOL], *ey[BENCH_MAX_POOL];
    volatile float sink[BENCH_MAX_POOL];
} bench_ceil_ctx;

#define BENCH_EXP_N 2048   /* 16 KiB of inputs and outputs: stays in L1 */

static void bench__alloc_task(void *ctx_ptr, int64_t t) {
    bench_ceil_ctx *ctx = ctx_ptr;
    size_t bytes = (size_t)ctx->alloc_n * sizeof(double);
    bytes = (bytes + 63) / 64 * 64;
    ctx->a[t] = aligned_alloc(64, bytes);
    ctx->b[t] = aligned_alloc(64, bytes);
    ctx->c[t] = aligned_alloc(64, bytes);
    ctx->ex[t] = aligned_alloc(64, BENCH_EXP_N * sizeof(float));
    ctx->ey[t] = aligned_alloc(64, BENCH_EXP_N * sizeof(float));
    if (!ctx->a[t] || !ctx->b[t] || !ctx->c[t] || !ctx->ex[t] || !ctx->ey[t]) return;
    for (int64_t i = 0; i < ctx->alloc_n; i++) {   /* first touch by the pinned owner */
        ctx->a[t][i] = 0.0;
        ctx->b[t][i] = 1.0 + (double)(i & 7);
        ctx->c[t][i] = 0.5;
    }
    for (int i = 0; i < BENCH_EXP_N; i++) ctx->ex[t][i] = -20.0f + 40.0f * (float)i / BENCH_EXP_N;
}

static void bench__free_task(void *ctx_ptr, int64_t t) {
    bench_ceil_ctx *ctx = ctx_ptr;
    free(ctx->a[t]);
    free(ctx->b[t]);
    free(ctx->c[t]);
    free(ctx->ex[t]);
    free(ctx->ey[t]);
    ctx->a[t] = ctx->b[t] = ctx->c[t] = NULL;
    ctx->ex[t] = ctx->ey[t] = NULL;
}

static void bench__kernel_task(void *ctx_ptr, int64_t t) {
    bench_ceil_ctx *ctx = ctx_ptr;
    float sink = 0;
    switch (ctx->kernel) {
    case K_TRIAD:
        for (int64_t r = 0; r < ctx->reps; r++) {
#if BENCH_X86
            if (ctx->use_avx512)
                bench__triad_avx512(ctx->a[t], ctx->b[t], ctx->c[t], 0.5, ctx->n);
            else
#endif
                bench__triad_scalar(ctx->a[t], ctx->b[t], ctx->c[t], 0.5, ctx->n);
            BENCH_BARRIER();
        }
        sink = (float)ctx->a[t][ctx->n - 1];
        break;
    case K_UPDATE:
        for (int64_t r = 0; r < ctx->reps; r++) {
#if BENCH_X86
            if (ctx->use_avx512) bench__update_avx512(ctx->a[t], ctx->b[t], 0.5, ctx->n);
            else
#endif
                bench__update_scalar(ctx->a[t], ctx->b[t], 0.5, ctx->n);
            BENCH_BARRIER();
        }
        sink = (float)ctx->a[t][ctx->n - 1];
        break;
    case K_FMA:
#if BENCH_X86
        if (ctx->use_avx512) sink = bench__fma_avx512(ctx->reps);
        else if (ctx->use_avx2) sink = bench__fma_avx2(ctx->reps);
        else
#elif defined(__aarch64__)
        if (1) sink = bench__fma_neon(ctx->reps);
        else
#endif
            sink = bench__fma_scalar(ctx->reps);
        break;
    case K_BF16:
#if BENCH_X86
        sink = bench__bf16_dot(ctx->reps);
#endif
        break;
    case K_AMX:
#if BENCH_X86
        sink = bench__amx_bf16(ctx->reps);
#endif
        break;
    case K_EXP:
        for (int64_t r = 0; r < ctx->reps; r++) {
#if BENCH_X86
            if (ctx->use_avx512) bench__exp_avx512(ctx->ey[t], ctx->ex[t], BENCH_EXP_N);
            else
#endif
                bench__exp_scalar(ctx->ey[t], ctx->ex[t], BENCH_EXP_N);
            BENCH_BARRIER();
        }
        sink = ctx->ey[t][BENCH_EXP_N / 2];
        break;
    case K_CLOCK:
#if BENCH_X86
        sink = (float)(ctx->use_avx512 ? bench__clock_avx512(ctx->reps) : bench__clock_scalar(ctx->reps));
#elif defined(__aarch64__)
        sink = (float)bench__clock_scalar(ctx->reps);
#endif
        break;
    }
    ctx->sink[t] = sink;
}

/* Runs the kernel on `threads` pool threads with ctx->reps chosen so one trial lasts about
   `target_s`, and returns the best (shortest) trial time for that many reps. */
static double bench__time_kernel(bench_ceil_ctx *ctx, bench_pool *pool, int threads,
                                 double target_s, int trials) {
    int64_t reps = 1;
    double t = 0;
    for (;;) {   /* calibrate: double until a trial is long enough to scale from */
        ctx->reps = reps;
        /* on this thread alone: waking the pool's threads can take longer than a short
           kernel, and calibrating on that latency would leave the trials mostly latency */
        double t0 = bench_now();
        bench__kernel_task(ctx, 0);
        t = bench_now() - t0;
        if (t >= target_s / 8 || reps > ((int64_t)1 << 40)) break;
        reps *= 2;
    }
    if (t < target_s) {
        double scale = target_s / (t > 0 ? t : 1e-9);
        ctx->reps = (int64_t)((double)reps * scale) + 1;
    }
    double best = INFINITY;
    for (int i = 0; i < trials; i++) {
        double t0 = bench_now();
        bench_parallel_for(pool, threads, bench__kernel_task, ctx);
        double dt = bench_now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* ---------------------------------------------------------------- sweep */

static void bench__levels(bench_ceilings *c, const bench_machine *m) {
    c->n_levels = 0;
    int last = 0;
    for (int i = 0; i < m->n_caches && c->n_levels < BENCH_MAX_LEVELS - 1; i++) {
        const bench_cache *k = &m->caches[i];
        if (strcmp(k->type, "instruction") == 0 || k->level == last) continue;
        bench_level *l = &c->levels[c->n_levels++];
        snprintf(l->name, sizeof l->name, "L%d", k->level);
        l->cache_level = k->level;
        last = k->level;
    }
    bench_level *dram = &c->levels[c->n_levels++];
    snprintf(dram->name, sizeof dram->name, "DRAM");
    dram->cache_level = 0;
}

/* Per-thread triad working set for level li with T threads: midway between what the inner level
   holds and what this level holds per thread, so the data overflows the one and fits the other.
   DRAM: several times the whole last-level cache (at least 256 MiB). */
static uint64_t bench__triad_ws_per_thread(const bench_ceilings *c, const bench_machine *m, int li,
                                           int threads, int quick) {
    const bench_level *l = &c->levels[li];
    if (l->cache_level == 0) {
        uint64_t llc = bench_cache_capacity(m, bench_llc_level(m), m->cores);
        uint64_t total = 4 * llc;
        uint64_t floor_bytes = (quick ? 64ull : 256ull) << 20;
        if (total < floor_bytes) total = floor_bytes;
        if (m->memory_bytes && total > m->memory_bytes / 4) total = m->memory_bytes / 4;
        return total / (uint64_t)threads;
    }
    uint64_t share = bench_cache_capacity(m, l->cache_level, threads) / (uint64_t)threads;
    uint64_t inner = li > 0 ? bench_cache_capacity(m, c->levels[li - 1].cache_level, threads) /
                                  (uint64_t)threads
                            : 0;
    if (inner >= share) inner = 0;
    return (inner + share) / 2;
}

static void bench__keep_max(double *dst, double src) {
    if (!(*dst >= src)) *dst = src;   /* NaN in dst takes src */
}

void bench_ceilings_merge(bench_ceilings *dst, const bench_ceilings *src) {
    if (dst->n_tcounts != src->n_tcounts || dst->n_levels != src->n_levels) return;
    for (int ti = 0; ti < dst->n_tcounts; ti++) {
        if (dst->tcounts[ti] != src->tcounts[ti] || dst->n_sweep[ti] != src->n_sweep[ti]) return;
        bench__keep_max(&dst->fma_gflops[ti], src->fma_gflops[ti]);
        bench__keep_max(&dst->exp_per_s[ti], src->exp_per_s[ti]);
        bench__keep_max(&dst->clock_ghz[ti], src->clock_ghz[ti]);
        bench__keep_max(&dst->bf16_dot_gflops[ti], src->bf16_dot_gflops[ti]);
        bench__keep_max(&dst->amx_bf16_gflops[ti], src->amx_bf16_gflops[ti]);
        for (int li = 0; li < dst->n_levels; li++)
            bench__keep_max(&dst->triad_gbs[ti][li], src->triad_gbs[ti][li]);
        for (int k = 0; k < dst->n_sweep[ti]; k++) {
            bench__keep_max(&dst->sweep_gbs[ti][k], src->sweep_gbs[ti][k]);
            bench__keep_max(&dst->sweep_update_gbs[ti][k], src->sweep_update_gbs[ti][k]);
        }
    }
    dst->seconds += src->seconds;
    dst->passes += src->passes;
}

int bench_ceilings_tindex(const bench_ceilings *c, int threads) {
    int best = 0;
    for (int i = 0; i < c->n_tcounts; i++)
        if (c->tcounts[i] <= threads) best = i;
    return best;
}

double bench_bandwidth_for(const bench_ceilings *c, uint64_t bytes, int threads, uint64_t *ws) {
    int ti = bench_ceilings_tindex(c, threads);
    int n = c->n_sweep[ti], pick = 0;
    for (int k = 0; k < n; k++)
        if (c->sweep_ws[ti][k] <= bytes) pick = k;
    if (ws) *ws = n ? c->sweep_ws[ti][pick] : 0;
    /* Bandwidth cannot grow with the working set, and noise only ever lowers a measurement:
       the best figure (triad or in-place update) at this point or any larger one is what the
       machine can do here. */
    double best = NAN;
    for (int k = pick; k < n; k++) {
        if (!(c->sweep_gbs[ti][k] <= best)) best = c->sweep_gbs[ti][k];
        if (!(c->sweep_update_gbs[ti][k] <= best)) best = c->sweep_update_gbs[ti][k];
    }
    return best;
}

int bench_level_of(const bench_ceilings *c, const bench_machine *m, uint64_t bytes, int threads) {
    for (int li = 0; li < c->n_levels; li++) {
        if (c->levels[li].cache_level == 0) return li;
        if (bytes <= bench_cache_capacity(m, c->levels[li].cache_level, threads)) return li;
    }
    return c->n_levels - 1;
}

void bench_ceilings_measure(bench_ceilings *c, const bench_machine *m, bench_pool *pool,
                            const int *tcounts, int n_tcounts, int quick) {
    double start = bench_now();
    memset(c, 0, sizeof *c);
    bench__levels(c, m);
    int avx512 = bench_cpu_has_avx512f();
    int avx2 = 0;
#if BENCH_X86
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    int bf16 = bench_cpu_has_avx512bf16();
    int amx = bench_cpu_has_amx_bf16();
    c->triad_isa = avx512 ? "avx512" : "scalar";
    c->exp_isa = avx512 ? "avx512 (degree-6 polynomial)" : "scalar (libm expf)";
#if defined(__aarch64__)
    c->fma_isa = "neon";
#else
    c->fma_isa = avx512 ? "avx512" : avx2 ? "avx2+fma" : "scalar";
#endif
    /* many short trials: best-of-N survives other work on the machine better than a few long */
    double target = quick ? 0.01 : 0.02;
    int trials = quick ? 5 : 9;

    static bench_ceil_ctx ctx;   /* large: keep it off the stack */
    for (int ti = 0; ti < n_tcounts && c->n_tcounts < BENCH_MAX_TCOUNTS; ti++) {
        int T = tcounts[ti];
        if (T < 1 || T > bench_pool_size(pool) || T > BENCH_MAX_POOL) continue;
        int slot = c->n_tcounts++;
        c->tcounts[slot] = T;
        memset(&ctx, 0, sizeof ctx);
        ctx.use_avx512 = avx512;
        ctx.use_avx2 = avx2;
        ctx.alloc_n = (int64_t)(bench__triad_ws_per_thread(c, m, c->n_levels - 1, T, quick) / 24);
        bench_parallel_for(pool, T, bench__alloc_task, &ctx);
        int ok = 1;
        for (int t = 0; t < T; t++) ok &= ctx.a[t] && ctx.b[t] && ctx.c[t] && ctx.ex[t] && ctx.ey[t];
        uint64_t first = bench__triad_ws_per_thread(c, m, 0, T, quick);
        uint64_t last = (uint64_t)ctx.alloc_n * 24;
        for (uint64_t ws = first; ok && c->n_sweep[slot] < BENCH_MAX_SWEEP; ws *= 2) {
            if (ws > last) ws = last;
            int64_t n = (int64_t)(ws / 24) / 32 * 32;
            if (n < 32) n = 32;
            ctx.kernel = K_TRIAD;
            ctx.n = n;
            double t = bench__time_kernel(&ctx, pool, T, target / 2, quick ? 3 : 5);
            int k = c->n_sweep[slot]++;
            c->sweep_ws[slot][k] = (uint64_t)n * 24 * (uint64_t)T;
            c->sweep_gbs[slot][k] = 24.0 * (double)n * (double)ctx.reps * T / t * 1e-9;
            /* the in-place update over the same working set: two arrays of 1.5 n (n when
               that would not fit the allocation, only at the DRAM end), 24 bytes counted per
               element as for the triad */
            ctx.kernel = K_UPDATE;
            ctx.n = (n + n / 2) / 32 * 32 <= ctx.alloc_n ? (n + n / 2) / 32 * 32 : n;
            t = bench__time_kernel(&ctx, pool, T, target / 2, quick ? 3 : 5);
            c->sweep_update_gbs[slot][k] = 24.0 * (double)ctx.n * (double)ctx.reps * T / t * 1e-9;
            if (ws >= last) break;
        }
        for (int li = 0; li < c->n_levels; li++) {
            uint64_t ws = bench__triad_ws_per_thread(c, m, li, T, quick);
            int64_t n = (int64_t)(ws / 24) / 32 * 32;
            if (n < 32) n = 32;
            if (n > ctx.alloc_n) n = ctx.alloc_n;
            c->triad_ws[slot][li] = (uint64_t)n * 24 * (uint64_t)T;
            c->triad_gbs[slot][li] = NAN;
            if (!ok) continue;
            ctx.kernel = K_TRIAD;
            ctx.n = n;
            double t = bench__time_kernel(&ctx, pool, T, target, trials);
            c->triad_gbs[slot][li] = 24.0 * (double)n * (double)ctx.reps * T / t * 1e-9;
        }
        ctx.kernel = K_FMA;
        double t = bench__time_kernel(&ctx, pool, T, target, trials);
        double per_iter = avx512 ? BENCH_FMA_AVX512_FLOPS : 16.0;
#if BENCH_X86
        if (!avx512 && avx2) per_iter = BENCH_FMA_AVX2_FLOPS;
#elif defined(__aarch64__)
        per_iter = 16.0 * 4.0 * 2.0;
#endif
        c->fma_gflops[slot] = per_iter * (double)ctx.reps * T / t * 1e-9;

        c->bf16_dot_gflops[slot] = -1;
        c->amx_bf16_gflops[slot] = -1;
#if BENCH_X86
        if (bf16) {
            ctx.kernel = K_BF16;
            t = bench__time_kernel(&ctx, pool, T, target, trials);
            c->bf16_dot_gflops[slot] = BENCH_BF16_DOT_FLOPS * (double)ctx.reps * T / t * 1e-9;
        }
        if (amx) {
            ctx.kernel = K_AMX;
            t = bench__time_kernel(&ctx, pool, T, target, trials);
            c->amx_bf16_gflops[slot] = BENCH_AMX_FLOPS * (double)ctx.reps * T / t * 1e-9;
        }
#else
        (void)bf16;
        (void)amx;
#endif
        c->exp_per_s[slot] = NAN;
        if (ok) {
            ctx.kernel = K_EXP;
            t = bench__time_kernel(&ctx, pool, T, target, trials);
            int64_t per_pass = avx512 ? BENCH_EXP_N / 64 * 64 : BENCH_EXP_N;
            c->exp_per_s[slot] = (double)per_pass * (double)ctx.reps * T / t;
        }
        c->clock_ghz[slot] = NAN;
#if BENCH_X86 || defined(__aarch64__)
        ctx.kernel = K_CLOCK;
        t = bench__time_kernel(&ctx, pool, T, target, trials);
        c->clock_ghz[slot] = BENCH_CLOCK_ADDS * (double)ctx.reps / t * 1e-9;
#endif
        bench_parallel_for(pool, T, bench__free_task, &ctx);
    }
    c->seconds = bench_now() - start;
    c->passes = 1;
}
