/* bench_cuda — the GPU canonical shapes of BENCH.md on the CUDA backend, with the device's
   ceilings measured in the same run, one JSON file in the BENCH.md schema.

   - Ceilings: device copy bandwidth (cudaMemcpyAsync device to device, bytes read + written),
     FP32 FMA peak (independent FMA chains in registers), exp throughput (ex2.approx chains),
     bf16 tensor-core peak (cuBLAS GEMM 8192^3 on random data when built with cuBLAS, and an
     mma.sync register loop, the instruction the kernels use), TF32 GEMM; coarse CPU ceilings
     (triad, FMA, exp; 1 thread and all) so the file has the CPU fields too.
   - Each case: random inputs (never zeros; A < 0; Mamba-like dt), one call checked against the
     float64 reference (ssm_ref_*; large shapes on a seeded sample of rows or heads, sub-problems
     built by pointer offsets and strides into the same buffers), then timed with CUDA events
     on the stream, the L2 flushed (a 512 MiB memset) before every repetition: cold L2.
   - Work counts are BENCH.md's fixed formulas; roof = max(FLOPs / matching ceiling (bf16
     tensor cores for 16-bit ssd and hsa_attention, FP32 otherwise), exps / exp ceiling, bytes /
     copy bandwidth).

   usage: bench_cuda [--out FILE] [--quick] [--only SUBSTRING] [--no-f32] [--profile] [--no-ceilings]
   (--profile: few repetitions, no ceilings, for a profiler; --no-ceilings: timings only, for
   A/B comparisons; both write placeholder ceilings, so their roof figures are meaningless) */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#ifdef BENCH_HAVE_CUBLAS
#include <cublas_v2.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../reference/ssm_ref.h"
#include "../ssm_cuda.cuh"
#include "../tests/check.h"
extern "C" {   /* bench_json.h is C without C++ guards */
#include "bench_json.h"
}

#ifndef BENCH_FLAGS
#define BENCH_FLAGS "?"
#endif
#ifndef BENCH_GIT
#define BENCH_GIT "?"
#endif

#include "../tests/cuda_check.h"

static cudaStream_t g_stream;
static int g_quick, g_reps_cap = 64;

/* ================================================================ random numbers */

static uint64_t rng_state = 0x5EED5EEDull;
static uint64_t rnext(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double runiform(void) { return ((double)(rnext() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
static double rnormal(void) { return sqrt(-2.0 * log(runiform())) * cos(6.283185307179586 * runiform()); }

/* ================================================================ host/device buffers */

/* One operand: host copy (activation dtype or f32/int) and its device copy. */
typedef struct buf {
    void *h, *d;
    size_t bytes;
} buf;

static buf buf_new(size_t bytes) {
    buf b;
    b.bytes = bytes;
    b.h = malloc(bytes ? bytes : 1);
    if (!b.h) {
        fprintf(stderr, "out of host memory (%zu bytes)\n", bytes);
        exit(2);
    }
    CK(cudaMalloc(&b.d, bytes ? bytes : 16));
    return b;
}
static void buf_free(buf *b) {
    free(b->h);
    CK(cudaFree(b->d));
    b->h = b->d = NULL;
}
static void buf_up(const buf *b) { CK(cudaMemcpy(b->d, b->h, b->bytes, cudaMemcpyHostToDevice)); }
static void buf_down(const buf *b) { CK(cudaMemcpy(b->h, b->d, b->bytes, cudaMemcpyDeviceToHost)); }

/* Normal random activations, drawn on the device (hashed counters, Box-Muller) and copied back
   for the reference: gigabytes of inputs in milliseconds. */
__global__ void k_normal(void *p, int dtype, int64_t n, uint64_t seed, float mean, float sd) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const float u1 = ((float)(z >> 40) + 0.5f) * (1.0f / 16777216.0f), u2 = (float)((z >> 16) & 0xffffff) * (1.0f / 16777216.0f);
        const float v = mean + sd * sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
        if (dtype == SSM_F32) ((float *)p)[i] = v;
        else if (dtype == SSM_F16) ((__half *)p)[i] = __float2half_rn(v);
        else ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v);
    }
}
static buf act_normal(ssm_dtype dt, int64_t n, double mean, double sd) {
    buf b = buf_new((size_t)n * ssm_dtype_size(dt));
    k_normal<<<2048, 256, 0, g_stream>>>(b.d, (int)dt, n, rnext(), (float)mean, (float)sd);
    CK(cudaStreamSynchronize(g_stream));
    buf_down(&b);
    return b;
}
static buf f32_fill(int64_t n, double (*f)(void)) {
    buf b = buf_new((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) ((float *)b.h)[i] = (float)f();
    buf_up(&b);
    return b;
}
static double gen_normal(void) { return rnormal(); }
static double gen_negA(void) { return -exp(runiform() * log(16.0)); }
/* dt bias of Mamba: softplus^-1 of dt in [0.001, 0.1] (log-uniform) */
static double gen_dtbias(void) {
    double dtv = exp(log(0.001) + runiform() * (log(0.1) - log(0.001)));
    return log(expm1(dtv));
}
static buf out_buf(ssm_dtype dt, int64_t n) {
    buf b = buf_new((size_t)n * ssm_dtype_size(dt));
    CK(cudaMemset(b.d, 0xff, b.bytes));   /* NaN pattern: an unwritten element fails the check */
    return b;
}

/* A host pointer into an activation buffer at element offset i. */
static const void *hat(const buf *b, ssm_dtype dt, int64_t i) { return (const char *)b->h + (size_t)i * ssm_dtype_size(dt); }
static const void *hatf(const buf *b, int64_t i) { return (const char *)b->h + (size_t)i * 4; }

/* ================================================================ ceilings */

__global__ void k_fma(float *out, int iters) {
    float a[8];
    for (int i = 0; i < 8; i++) a[i] = threadIdx.x * 0.001f + i;
    const float m = 0.999f, c = 0.0001f;
    for (int it = 0; it < iters; it++)
#pragma unroll
        for (int i = 0; i < 8; i++) a[i] = fmaf(a[i], m, c);
    float s = 0;
    for (int i = 0; i < 8; i++) s += a[i];
    if (s == 12345.0f) out[0] = s;
}

__global__ void k_exp(float *out, int iters) {
    float a[8];
    for (int i = 0; i < 8; i++) a[i] = -0.001f * (threadIdx.x + i);
    for (int it = 0; it < iters; it++)
#pragma unroll
        for (int i = 0; i < 8; i++) {
            float y;
            asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(a[i]));
            a[i] = y - 1.0f;
        }
    float s = 0;
    for (int i = 0; i < 8; i++) s += a[i];
    if (s == 12345.0f) out[0] = s;
}

__global__ void k_mma(float *out, int iters) {
    uint32_t a[4] = {0x3f803f80u ^ threadIdx.x, 0x3f003f00u, 0x3e803e80u, 0x3f403f40u}, b0 = 0x3f803f80u, b1 = 0x3f003f00u;
    float d[4][4] = {};
    for (int it = 0; it < iters; it++)
#pragma unroll
        for (int j = 0; j < 4; j++)
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                         "{%0,%1,%2,%3};"
                         : "+f"(d[j][0]), "+f"(d[j][1]), "+f"(d[j][2]), "+f"(d[j][3])
                         : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    float s = 0;
    for (int j = 0; j < 4; j++) s += d[j][0] + d[j][1] + d[j][2] + d[j][3];
    if (s == 12345.0f) out[0] = s;
}

/* Reads n 16-byte vectors `passes` times over (the whole grid sweeps the buffer each pass),
   so that with a buffer well inside L2 every pass after the first is served by L2. */
__global__ void k_l2_read(const uint4 *p, int64_t n, int passes, float *out) {
    uint32_t acc = 0;
    for (int r = 0; r < passes; r++)
        for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
            const uint4 v = __ldcg(p + i);   /* past L1: every byte comes from L2 */
            acc ^= v.x ^ v.y ^ v.z ^ v.w;
        }
    if (acc == 0x12345678u) out[0] = 1.0f;
}

typedef struct gpu_ceil {
    double l2_read_gbs;   /* L2 hits, read only */
    double copy_gbs, fp32_tflops, exp_per_s, bf16_mma_tflops, bf16_mmasync_tflops, tf32_tflops;
    const char *bf16_source;
} gpu_ceil;

static double time_kernel_ms(void (*launch)(void *), void *ctx, int reps) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    launch(ctx);
    CK(cudaStreamSynchronize(g_stream));
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        CK(cudaEventRecord(a, g_stream));
        launch(ctx);
        CK(cudaEventRecord(b, g_stream));
        CK(cudaEventSynchronize(b));
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        if (ms < best) best = ms;
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return best;
}

typedef struct kctx {
    int sms, iters;
    float *out;
    void *x, *y;
    size_t bytes;
} kctx;
static void l_fma(void *c) {
    kctx *k = (kctx *)c;
    k_fma<<<k->sms * 8, 256, 0, g_stream>>>(k->out, k->iters);
}
static void l_exp(void *c) {
    kctx *k = (kctx *)c;
    k_exp<<<k->sms * 8, 256, 0, g_stream>>>(k->out, k->iters);
}
static void l_mma(void *c) {
    kctx *k = (kctx *)c;
    k_mma<<<k->sms * 4, 256, 0, g_stream>>>(k->out, k->iters);
}
static void l_l2(void *c) {
    kctx *k = (kctx *)c;
    k_l2_read<<<k->sms * 8, 256, 0, g_stream>>>((const uint4 *)k->x, (int64_t)(k->bytes / 16), k->iters, k->out);
}
static void l_copy(void *c) {
    kctx *k = (kctx *)c;
    CK(cudaMemcpyAsync(k->y, k->x, k->bytes, cudaMemcpyDeviceToDevice, g_stream));
}

#ifdef BENCH_HAVE_CUBLAS
typedef struct gemm_ctx {
    cublasHandle_t h;
    void *A, *B, *C;
    int n;
    cudaDataType_t ab;
    cublasComputeType_t compute;
} gemm_ctx;
static void l_gemm(void *c) {
    gemm_ctx *g = (gemm_ctx *)c;
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = cublasGemmEx(g->h, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->n, g->n, &one, g->A, g->ab, g->n, g->B,
                                    g->ab, g->n, &zero, g->C, g->ab == CUDA_R_32F ? CUDA_R_32F : g->ab, g->n,
                                    g->compute, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) fprintf(stderr, "cublasGemmEx failed: %d\n", (int)s);
}
__global__ void k_fill_random(uint16_t *p, int64_t n, uint64_t seed, int f32) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        float v = (float)((z >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
        if (f32) ((float *)p)[i] = v;
        else p[i] = __bfloat16_as_ushort(__float2bfloat16_rn(v));
    }
}
#endif

static gpu_ceil measure_gpu(int sms) {
    gpu_ceil g;
    memset(&g, 0, sizeof g);
    kctx k;
    memset(&k, 0, sizeof k);
    k.sms = sms;
    CK(cudaMalloc(&k.out, 64));
    k.bytes = (size_t)2 << 30;
    CK(cudaMalloc(&k.x, k.bytes));
    CK(cudaMalloc(&k.y, k.bytes));
    CK(cudaMemset(k.x, 1, k.bytes));
    double ms = time_kernel_ms(l_copy, &k, 10);
    g.copy_gbs = 2.0 * (double)k.bytes / (ms * 1e-3) / 1e9;
    CK(cudaFree(k.x));
    CK(cudaFree(k.y));
    /* L2 read bandwidth: 16 MiB (well inside the 50-60 MB L2 of an H100 / H200) read 64 times;
       time_kernel_ms's untimed first launch leaves it in L2 */
    k.bytes = (size_t)16 << 20;
    k.iters = 64;
    CK(cudaMalloc(&k.x, k.bytes));
    CK(cudaMemset(k.x, 3, k.bytes));
    ms = time_kernel_ms(l_l2, &k, 10);
    g.l2_read_gbs = (double)k.iters * (double)k.bytes / (ms * 1e-3) / 1e9;
    CK(cudaFree(k.x));
    k.iters = 1 << 14;
    ms = time_kernel_ms(l_fma, &k, 5);
    g.fp32_tflops = 2.0 * 8 * (double)k.iters * sms * 8 * 256 / (ms * 1e-3) / 1e12;
    ms = time_kernel_ms(l_exp, &k, 5);
    g.exp_per_s = 8.0 * (double)k.iters * sms * 8 * 256 / (ms * 1e-3);
    k.iters = 1 << 12;
    ms = time_kernel_ms(l_mma, &k, 5);
    g.bf16_mmasync_tflops = 4096.0 * 4 * (double)k.iters * sms * 4 * 8 / (ms * 1e-3) / 1e12;
    g.bf16_mma_tflops = g.bf16_mmasync_tflops;
    g.bf16_source = "mma.sync register loop";
#ifdef BENCH_HAVE_CUBLAS
    {
        gemm_ctx c;
        c.n = 8192;
        size_t n2 = (size_t)c.n * c.n;
        if (cublasCreate(&c.h) == CUBLAS_STATUS_SUCCESS) {
            cublasSetStream(c.h, g_stream);
            CK(cudaMalloc(&c.A, n2 * 4));
            CK(cudaMalloc(&c.B, n2 * 4));
            CK(cudaMalloc(&c.C, n2 * 4));
            k_fill_random<<<1024, 256, 0, g_stream>>>((uint16_t *)c.A, (int64_t)n2, 1, 0);
            k_fill_random<<<1024, 256, 0, g_stream>>>((uint16_t *)c.B, (int64_t)n2, 2, 0);
            c.ab = CUDA_R_16BF;
            c.compute = CUBLAS_COMPUTE_32F;
            ms = time_kernel_ms(l_gemm, &c, 10);
            g.bf16_mma_tflops = 2.0 * c.n * (double)c.n * c.n / (ms * 1e-3) / 1e12;
            g.bf16_source = "cuBLAS bf16 GEMM 8192^3, random data";
            k_fill_random<<<1024, 256, 0, g_stream>>>((uint16_t *)c.A, (int64_t)n2, 3, 1);
            k_fill_random<<<1024, 256, 0, g_stream>>>((uint16_t *)c.B, (int64_t)n2, 4, 1);
            c.ab = CUDA_R_32F;
            c.compute = CUBLAS_COMPUTE_32F_FAST_TF32;
            ms = time_kernel_ms(l_gemm, &c, 5);
            g.tf32_tflops = 2.0 * c.n * (double)c.n * c.n / (ms * 1e-3) / 1e12;
            CK(cudaFree(c.A));
            CK(cudaFree(c.B));
            CK(cudaFree(c.C));
            cublasDestroy(c.h);
        }
    }
#endif
    CK(cudaFree(k.out));
    return g;
}

/* Coarse CPU ceilings, so the file carries the CPU fields too (the CPU suite measures them
   properly): a double triad over 3 x 256 MiB, independent f32 FMA chains, a scalar exp loop. */
typedef struct cpu_ceil {
    double triad_1t, triad_all, fma_1t, fma_all, exp_1t;
    int threads;
} cpu_ceil;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double triad(double *a, const double *b, const double *c, int64_t n, int threads) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t i = 0; i < n; i++) a[i] = b[i] + 1.5 * c[i];
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    return 24.0 * (double)n / best / 1e9;
}

static double fma_rate(int threads) {
    const int64_t iters = 20000000;
    double t0 = now_s(), sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
        float a[16];
        for (int i = 0; i < 16; i++) a[i] = 1.0f + 0.001f * i;
        for (int64_t it = 0; it < iters; it++)
            for (int i = 0; i < 16; i++) a[i] = a[i] * 0.9999f + 0.0001f;
        for (int i = 0; i < 16; i++) sink += a[i];
    }
    double t = now_s() - t0;
    if (sink == 12345.0) printf(" ");
    return 2.0 * 16.0 * (double)iters * threads / t / 1e9;
}

static double exp_rate(void) {
    const int64_t n = 20000000;
    double t0 = now_s();
    float s = 0, x = -1.0f;
    for (int64_t i = 0; i < n; i++) {
        s += expf(x);
        x -= 1e-7f;
    }
    double t = now_s() - t0;
    if (s == 12345.0f) printf(" ");
    return (double)n / t;
}

static cpu_ceil measure_cpu(void) {
    cpu_ceil c;
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    c.threads = threads;
    const int64_t n = (int64_t)32 << 20;
    double *a = (double *)malloc(sizeof(double) * (size_t)n), *b = (double *)malloc(sizeof(double) * (size_t)n),
           *cc = (double *)malloc(sizeof(double) * (size_t)n);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        a[i] = 0;
        b[i] = 1;
        cc[i] = 2;
    }
    c.triad_1t = triad(a, b, cc, n, 1);
    c.triad_all = triad(a, b, cc, n, threads);
    free(a);
    free(b);
    free(cc);
    c.fma_1t = fma_rate(1);
    c.fma_all = fma_rate(threads);
    c.exp_1t = exp_rate();
    return c;
}

/* ================================================================ timing */

typedef struct timing {
    double median, min, max;
    int reps;
} timing;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef ssm_status (*op_fn)(void *params, void *ws, size_t ws_size);

static void *g_flush;
static size_t g_flush_bytes = (size_t)512 << 20;

/* Median of reps event-timed calls, each after an L2 flush. */
static timing time_op(op_fn fn, void *params, void *ws, size_t ws_size, int reps_max) {
    timing t;
    cudaEvent_t a, b;
    double tm[64];
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    fn(params, ws, ws_size);   /* warm-up */
    CK(cudaStreamSynchronize(g_stream));
    int reps = 0;
    double spent = 0;
    while (reps < reps_max && reps < g_reps_cap && (reps < 5 || spent < 3.0)) {
        CK(cudaMemsetAsync(g_flush, reps & 0xff, g_flush_bytes, g_stream));
        CK(cudaEventRecord(a, g_stream));
        ssm_status st = fn(params, ws, ws_size);
        CK(cudaEventRecord(b, g_stream));
        CK(cudaEventSynchronize(b));
        if (st != SSM_OK) {
            fprintf(stderr, "timed call failed: %s\n", ssm_status_string(st));
            exit(2);
        }
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        tm[reps++] = ms * 1e-3;
        spent += ms * 1e-3;
    }
    qsort(tm, (size_t)reps, sizeof tm[0], cmp_d);
    t.median = reps % 2 ? tm[reps / 2] : 0.5 * (tm[reps / 2 - 1] + tm[reps / 2]);
    t.min = tm[0];
    t.max = tm[reps - 1];
    t.reps = reps;
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return t;
}

static ssm_status f_scan(void *p, void *ws, size_t n) {
    return ssm_cuda_selective_scan((const ssm_selective_scan_params *)p, g_stream, ws, n);
}
static ssm_status f_step(void *p, void *ws, size_t n) {
    return ssm_cuda_state_update((const ssm_state_update_params *)p, g_stream, ws, n);
}
static ssm_status f_ssd(void *p, void *ws, size_t n) { return ssm_cuda_ssd((const ssm_ssd_params *)p, g_stream, ws, n); }
static ssm_status f_conv(void *p, void *ws, size_t n) {
    return ssm_cuda_conv1d((const ssm_conv1d_params *)p, g_stream, ws, n);
}
static ssm_status f_hsa(void *p, void *ws, size_t n) {
    return ssm_cuda_hsa_attention((const ssm_hsa_attention_params *)p, g_stream, ws, n);
}

/* ================================================================ checks */

/* Accumulates sampled outputs and their reference, then judges them once (SPEC §7). */
typedef struct sample {
    double *ref, *got;
    int64_t n, cap;
    int failed_call;
    char sample[96];
} sample;

static void sample_add(sample *s, const double *ref, const double *got, int64_t n) {
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->ref = (double *)realloc(s->ref, sizeof(double) * (size_t)s->cap);
        s->got = (double *)realloc(s->got, sizeof(double) * (size_t)s->cap);
    }
    memcpy(s->ref + s->n, ref, sizeof(double) * (size_t)n);
    memcpy(s->got + s->n, got, sizeof(double) * (size_t)n);
    s->n += n;
}

static double act_value(const buf *b, ssm_dtype dt, int64_t i) {
    if (dt == SSM_F32) return ((const float *)b->h)[i];
    if (dt == SSM_F16) return ssm_f16_to_f32(((const uint16_t *)b->h)[i]);
    return ssm_bf16_to_f32(((const uint16_t *)b->h)[i]);
}

typedef struct result_check {
    int passed;
    double rel_l2, max_err, floor;
    int sixteen;
    char reason[200], sample[96];
    /* a second output (states) */
    int has2;
    int passed2;
    double rel_l2_2, max_err_2;
    char name2[16];
} result_check;

static check_result judge(const sample *s, check_class cls) {
    /* the got values are doubles of what the kernel stored: compare as f64 values */
    return check_array(check_f64(s->got), s->ref, s->n, cls);
}

/* ================================================================ one benchmark result */

typedef struct result {
    char name[64];
    const char *op;
    ssm_dtype dtype;
    char shape[512];   /* JSON members, written verbatim */
    timing t;
    double flops, bytes, exps;
    int tensor_cores;
    result_check check;
} result;

static result g_results[64];
static int g_nresults;

static void report_line(const result *r, const gpu_ceil *g) {
    const double fl_ceil = r->tensor_cores ? g->bf16_mma_tflops * 1e12 : g->fp32_tflops * 1e12;
    double tf = r->flops / fl_ceil, te = r->exps / g->exp_per_s, tb = r->bytes / (g->copy_gbs * 1e9);
    double roof = tf > te ? (tf > tb ? tf : tb) : (te > tb ? te : tb);
    printf("%-18s %-5s %10.4f ms  (min %.4f, %2d reps)  %8.1f GFLOP/s %7.0f GB/s  roof %.4f ms (%s) %5.1f%%  check %s rel_l2=%.3g",
           r->name, ssm_dtype_name(r->dtype), r->t.median * 1e3, r->t.min * 1e3, r->t.reps, r->flops / r->t.median / 1e9,
           r->bytes / r->t.median / 1e9, roof * 1e3, roof == tf ? "flops" : roof == te ? "exps" : "bytes",
           100.0 * roof / r->t.median, r->check.passed ? "pass" : "FAIL", r->check.rel_l2);
    if (r->check.sixteen && r->check.floor > 0) printf(" (%.2fx floor)", r->check.rel_l2 / r->check.floor);
    if (r->check.has2) printf(" %s rel_l2=%.3g %s", r->check.name2, r->check.rel_l2_2, r->check.passed2 ? "" : "FAIL");
    if (!r->check.passed) printf(" [%s]", r->check.reason);
    printf("\n");
    fflush(stdout);
}

static void set_check(result_check *rc, const sample *s, ssm_dtype stored, ssm_dtype act) {
    check_class cls = check_class_of(stored, act);
    check_result c = judge(s, cls);
    rc->passed = c.pass && !s->failed_call;
    rc->rel_l2 = c.rel_l2;
    rc->max_err = c.max_err;
    rc->floor = c.floor;
    rc->sixteen = stored != SSM_F32;
    snprintf(rc->reason, sizeof rc->reason, "%s", s->failed_call ? "reference call failed" : c.reason);
    snprintf(rc->sample, sizeof rc->sample, "%s", s->sample);
}

static void set_check2(result_check *rc, const sample *s, ssm_dtype act, const char *name) {
    check_result c = judge(s, check_class_of(SSM_F32, act));
    rc->has2 = 1;
    rc->passed2 = c.pass;
    rc->rel_l2_2 = c.rel_l2;
    rc->max_err_2 = c.max_err;
    snprintf(rc->name2, sizeof rc->name2, "%s", name);
    if (!c.pass) {
        rc->passed = 0;
        snprintf(rc->reason, sizeof rc->reason, "%s: %s", name, c.reason);
    }
}

static void sample_free(sample *s) {
    free(s->ref);
    free(s->got);
    memset(s, 0, sizeof *s);
}

static void *g_ws;
static size_t g_ws_size;
static void *ws_for(size_t n) {
    if (n > g_ws_size) {
        if (g_ws) CK(cudaFree(g_ws));
        CK(cudaMalloc(&g_ws, n));
        g_ws_size = n;
    }
    return n ? g_ws : NULL;
}

static int64_t pick(int64_t n) { return (int64_t)(rnext() % (uint64_t)n); }

/* ================================================================ gpu.scan.m1 */

static void bench_scan(const char *name, ssm_dtype dt, int64_t B, int64_t D, int64_t L, int64_t N) {
    const int64_t G = 1, b = (int64_t)ssm_dtype_size(dt);
    buf u = act_normal(dt, B * D * L, 0, 1), delta = act_normal(dt, B * D * L, 0, 1), z = act_normal(dt, B * D * L, 0, 1);
    buf Bm = act_normal(dt, B * G * N * L, 0, 1), Cm = act_normal(dt, B * G * N * L, 0, 1);
    buf A = f32_fill(D * N, gen_negA), Dk = f32_fill(D, gen_normal), bias = f32_fill(D, gen_dtbias);
    buf out = out_buf(dt, B * D * L);
    ssm_selective_scan_params p;
    memset(&p, 0, sizeof p);
    p.dtype = dt; p.B = B; p.D = D; p.L = L; p.N = N; p.G = G; p.delta_softplus = 1;
    p.u.data = u.d; p.delta.data = delta.d; p.z.data = z.d; p.Bm.data = Bm.d; p.Cm.data = Cm.d; p.A.data = A.d;
    p.Dskip.data = Dk.d; p.delta_bias.data = bias.d; p.out.data = out.d;
    size_t wsn = ssm_cuda_selective_scan_workspace_size(&p);
    void *ws = ws_for(wsn);
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->op = "selective_scan";
    r->dtype = dt;
    snprintf(r->shape, sizeof r->shape,
             "\"B\": %lld, \"D\": %lld, \"L\": %lld, \"N\": %lld, \"G\": 1, \"delta_softplus\": true, \"delta_bias\": true, "
             "\"Dskip\": true, \"z\": true",
             (long long)B, (long long)D, (long long)L, (long long)N);
    ssm_status st = f_scan(&p, ws, wsn);
    CK(cudaStreamSynchronize(g_stream));
    sample s;
    memset(&s, 0, sizeof s);
    s.failed_call = st != SSM_OK;
    buf_down(&out);
    const int nsample = 8;
    snprintf(s.sample, sizeof s.sample, "%d of %lld channels, all tokens", nsample, (long long)(B * D));
    double *ro = (double *)malloc(sizeof(double) * (size_t)L), *go = (double *)malloc(sizeof(double) * (size_t)L);
    for (int k = 0; k < nsample; k++) {   /* sub-problem: one channel (b, d), pointers into the buffers */
        const int64_t bb = pick(B), d = pick(D);
        ssm_selective_scan_params h = p;
        h.B = 1; h.D = 1;
        h.u.data = hat(&u, dt, (bb * D + d) * L); h.delta.data = hat(&delta, dt, (bb * D + d) * L);
        h.z.data = hat(&z, dt, (bb * D + d) * L);
        h.Bm.data = hat(&Bm, dt, bb * G * N * L); h.Cm.data = hat(&Cm, dt, bb * G * N * L);
        h.A.data = hatf(&A, d * N); h.Dskip.data = hatf(&Dk, d); h.delta_bias.data = hatf(&bias, d);
        h.out.data = (void *)hat(&out, dt, (bb * D + d) * L);
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.out = ro;
        if (ssm_ref_selective_scan(&h, &rr) != SSM_OK) s.failed_call = 1;
        for (int64_t t = 0; t < L; t++) go[t] = act_value(&out, dt, (bb * D + d) * L + t);
        sample_add(&s, ro, go, L);
    }
    set_check(&r->check, &s, dt, dt);
    sample_free(&s);
    free(ro);
    free(go);
    r->flops = 6.0 * B * D * L * N + 12.0 * B * D * L;
    r->exps = (double)B * D * L * N + 3.0 * B * D * L;
    r->bytes = (double)b * (4.0 * B * D * L + 2.0 * B * G * N * L) + 4.0 * (D * N + 2 * D);
    r->t = time_op(f_scan, &p, ws, wsn, 30);
    buf_free(&u); buf_free(&delta); buf_free(&z); buf_free(&Bm); buf_free(&Cm); buf_free(&A); buf_free(&Dk);
    buf_free(&bias); buf_free(&out);
}

/* ================================================================ gpu.ssd.m2 */

static void bench_ssd(const char *name, ssm_dtype dt, int64_t B, int64_t L, int64_t H, int64_t P, int64_t N, int64_t Q,
                      int heads_checked) {
    const int64_t G = 1, b = (int64_t)ssm_dtype_size(dt);
    buf x = act_normal(dt, B * L * H * P, 0, 1), z = act_normal(dt, B * L * H * P, 0, 1), dtt = act_normal(dt, B * L * H, 0, 1);
    buf Bm = act_normal(dt, B * L * G * N, 0, 1), Cm = act_normal(dt, B * L * G * N, 0, 1);
    buf A = f32_fill(H, gen_negA), bias = f32_fill(H, gen_dtbias), Dk = f32_fill(H, gen_normal);
    buf out = out_buf(dt, B * L * H * P), hl = out_buf(SSM_F32, B * H * P * N);
    const int64_t dstride[2] = {1, 0};   /* Dskip per head: stride 0 over P */
    ssm_ssd_params p;
    memset(&p, 0, sizeof p);
    p.dtype = dt; p.B = B; p.L = L; p.H = H; p.P = P; p.N = N; p.G = G; p.Q = Q; p.dt_softplus = 1;
    p.x.data = x.d; p.z.data = z.d; p.dt.data = dtt.d; p.Bm.data = Bm.d; p.Cm.data = Cm.d; p.A.data = A.d;
    p.dt_bias.data = bias.d; p.Dskip.data = Dk.d; p.Dskip.stride = dstride; p.out.data = out.d; p.h_last.data = hl.d;
    size_t wsn = ssm_cuda_ssd_workspace_size(&p);
    void *ws = ws_for(wsn);
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->op = "ssd";
    r->dtype = dt;
    r->tensor_cores = dt != SSM_F32;
    snprintf(r->shape, sizeof r->shape,
             "\"B\": %lld, \"L\": %lld, \"H\": %lld, \"P\": %lld, \"N\": %lld, \"G\": 1, \"Q\": %lld, \"dt_softplus\": true, "
             "\"dt_bias\": true, \"Dskip\": \"per head\", \"z\": true, \"h_last\": true",
             (long long)B, (long long)L, (long long)H, (long long)P, (long long)N, (long long)Q);
    ssm_status st = f_ssd(&p, ws, wsn);
    CK(cudaStreamSynchronize(g_stream));
    sample s, s2;
    memset(&s, 0, sizeof s);
    memset(&s2, 0, sizeof s2);
    s.failed_call = st != SSM_OK;
    buf_down(&out);
    buf_down(&hl);
    snprintf(s.sample, sizeof s.sample, "%d of %lld (batch, head) pairs, all tokens", heads_checked, (long long)(B * H));
    double *go = (double *)malloc(sizeof(double) * (size_t)(L * P)), *gh = (double *)malloc(sizeof(double) * (size_t)(P * N));
    const int64_t sx[4] = {L * H * P, H * P, P, 1}, sd[3] = {L * H, H, 1}, sb[4] = {L * G * N, G * N, N, 1};
    int64_t pb[16], ph[16];
    for (int k = 0; k < heads_checked; k++) {
        pb[k] = pick(B);
        ph[k] = pick(H);
    }
    double *ros = (double *)malloc(sizeof(double) * (size_t)(heads_checked * L * P));
    double *rhs = (double *)malloc(sizeof(double) * (size_t)(heads_checked * P * N));
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad)
    for (int k = 0; k < heads_checked; k++) {   /* sub-problem: one (b, h), pointers + the full strides */
        const int64_t bb = pb[k], h = ph[k];
        ssm_ssd_params q = p;
        q.B = 1; q.H = 1;
        q.x.data = hat(&x, dt, bb * L * H * P + h * P); q.x.stride = sx;
        q.z.data = hat(&z, dt, bb * L * H * P + h * P); q.z.stride = sx;
        q.out.data = (void *)hat(&out, dt, bb * L * H * P + h * P); q.out.stride = sx;
        q.dt.data = hat(&dtt, dt, bb * L * H + h); q.dt.stride = sd;
        q.Bm.data = hat(&Bm, dt, bb * L * G * N); q.Bm.stride = sb;
        q.Cm.data = hat(&Cm, dt, bb * L * G * N); q.Cm.stride = sb;
        q.A.data = hatf(&A, h); q.dt_bias.data = hatf(&bias, h); q.Dskip.data = hatf(&Dk, h);
        q.h_last.data = (void *)hatf(&hl, (bb * H + h) * P * N);
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.out = ros + k * L * P;
        rr.h_last = rhs + k * P * N;
        if (ssm_ref_ssd(&q, &rr) != SSM_OK) bad = 1;
    }
    s.failed_call |= bad;
    for (int k = 0; k < heads_checked; k++) {
        const int64_t bb = pb[k], h = ph[k];
        for (int64_t t = 0; t < L; t++)
            for (int64_t pp = 0; pp < P; pp++) go[t * P + pp] = act_value(&out, dt, ((bb * L + t) * H + h) * P + pp);
        for (int64_t i = 0; i < P * N; i++) gh[i] = ((const float *)hl.h)[(bb * H + h) * P * N + i];
        sample_add(&s, ros + k * L * P, go, L * P);
        sample_add(&s2, rhs + k * P * N, gh, P * N);
    }
    free(ros);
    free(rhs);
    set_check(&r->check, &s, dt, dt);
    set_check2(&r->check, &s2, dt, "h_last");
    sample_free(&s);
    sample_free(&s2);
    free(go); free(gh);
    double fl = 0, ex = 0;
    for (int64_t t0 = 0; t0 < L; t0 += Q) {
        const double qc = (double)(L - t0 < Q ? L - t0 : Q);
        fl += G * qc * (qc + 1) * N + H * (qc * (qc + 1) * P + 4 * qc * P * N) + 2.0 * H * P * N;
        ex += H * qc * (qc + 1) / 2;
    }
    r->flops = B * fl + 12.0 * B * L * H * P;
    r->exps = B * ex + 3.0 * B * L * H * P;
    r->bytes = (double)b * (3.0 * B * L * H * P + 2.0 * B * L * G * N + (double)B * L * H) + 4.0 * B * H * P * N + 12.0 * H;
    r->t = time_op(f_ssd, &p, ws, wsn, 30);
    buf_free(&x); buf_free(&z); buf_free(&dtt); buf_free(&Bm); buf_free(&Cm); buf_free(&A); buf_free(&bias);
    buf_free(&Dk); buf_free(&out); buf_free(&hl);
}

/* ================================================================ gpu.step.m2 */

static void bench_step(const char *name, ssm_dtype dt, int64_t B, int64_t H, int64_t P, int64_t N) {
    const int64_t G = 1, b = (int64_t)ssm_dtype_size(dt);
    buf state = f32_fill(B * H * P * N, gen_normal);
    float *state0 = (float *)malloc(state.bytes);
    memcpy(state0, state.h, state.bytes);
    buf x = act_normal(dt, B * H * P, 0, 1), dtt = act_normal(dt, B * H, 0, 1), z = act_normal(dt, B * H * P, 0, 1);
    buf Bm = act_normal(dt, B * G * N, 0, 1), Cm = act_normal(dt, B * G * N, 0, 1);
    buf A = f32_fill(H, gen_negA), bias = f32_fill(H, gen_dtbias), Dk = f32_fill(H, gen_normal);
    buf out = out_buf(dt, B * H * P);
    /* Mamba-2 decode: A, dt, dt_bias and D tied per head (stride 0) */
    const int64_t sA[3] = {1, 0, 0}, sdt[3] = {H, 1, 0}, sh[2] = {1, 0};
    ssm_state_update_params p;
    memset(&p, 0, sizeof p);
    p.dtype = dt; p.B = B; p.H = H; p.P = P; p.N = N; p.G = G; p.dt_softplus = 1;
    p.state.data = state.d; p.x.data = x.d; p.dt.data = dtt.d; p.dt.stride = sdt; p.z.data = z.d; p.Bm.data = Bm.d;
    p.Cm.data = Cm.d; p.A.data = A.d; p.A.stride = sA; p.dt_bias.data = bias.d; p.dt_bias.stride = sh;
    p.Dskip.data = Dk.d; p.Dskip.stride = sh; p.out.data = out.d;
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->op = "state_update";
    r->dtype = dt;
    snprintf(r->shape, sizeof r->shape,
             "\"B\": %lld, \"H\": %lld, \"P\": %lld, \"N\": %lld, \"G\": 1, \"tied\": true, \"dt_softplus\": true, \"z\": true, "
             "\"Dskip\": true",
             (long long)B, (long long)H, (long long)P, (long long)N);
    ssm_status st = f_step(&p, NULL, 0);
    CK(cudaStreamSynchronize(g_stream));
    sample s, s2;
    memset(&s, 0, sizeof s);
    memset(&s2, 0, sizeof s2);
    s.failed_call = st != SSM_OK;
    buf_down(&out);
    buf_down(&state);
    snprintf(s.sample, sizeof s.sample, "all");
    {
        ssm_state_update_params h = p;
        h.state.data = state0; h.x.data = x.h; h.dt.data = dtt.h; h.z.data = z.h; h.Bm.data = Bm.h; h.Cm.data = Cm.h;
        h.A.data = A.h; h.dt_bias.data = bias.h; h.Dskip.data = Dk.h; h.out.data = malloc((size_t)(B * H * P) * b);
        double *ro = (double *)malloc(sizeof(double) * (size_t)(B * H * P)), *go = (double *)malloc(sizeof(double) * (size_t)(B * H * P));
        double *rs = (double *)malloc(sizeof(double) * (size_t)(B * H * P * N)), *gs = (double *)malloc(sizeof(double) * (size_t)(B * H * P * N));
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.out = ro;
        rr.state = rs;
        if (ssm_ref_state_update(&h, &rr) != SSM_OK) s.failed_call = 1;
        for (int64_t i = 0; i < B * H * P; i++) go[i] = act_value(&out, dt, i);
        for (int64_t i = 0; i < B * H * P * N; i++) gs[i] = ((const float *)state.h)[i];
        sample_add(&s, ro, go, B * H * P);
        sample_add(&s2, rs, gs, B * H * P * N);
        free(h.out.data); free(ro); free(go); free(rs); free(gs);
    }
    set_check(&r->check, &s, dt, dt);
    set_check2(&r->check, &s2, dt, "state");
    sample_free(&s);
    sample_free(&s2);
    r->flops = 6.0 * B * H * P * N + 12.0 * B * H * P;
    r->exps = (double)B * H + 3.0 * B * H * P;
    r->bytes = 8.0 * B * H * P * N + (double)b * (4.0 * B * H * P + 2.0 * B * G * N);
    r->t = time_op(f_step, &p, NULL, 0, 40);
    free(state0);
    buf_free(&state); buf_free(&x); buf_free(&dtt); buf_free(&z); buf_free(&Bm); buf_free(&Cm); buf_free(&A);
    buf_free(&bias); buf_free(&Dk); buf_free(&out);
}

/* ================================================================ gpu.conv */

static void bench_conv(const char *name, ssm_dtype dt, int64_t B, int64_t D, int64_t L, int64_t W) {
    const int64_t b = (int64_t)ssm_dtype_size(dt);
    buf x = act_normal(dt, B * D * L, 0, 1), w = f32_fill(D * W, gen_normal), bias = f32_fill(D, gen_normal);
    buf out = out_buf(dt, B * D * L);
    ssm_conv1d_params p;
    memset(&p, 0, sizeof p);
    p.dtype = dt; p.B = B; p.D = D; p.L = L; p.W = W; p.silu = 1;
    p.x.data = x.d; p.weight.data = w.d; p.bias.data = bias.d; p.out.data = out.d;
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->op = "conv1d";
    r->dtype = dt;
    snprintf(r->shape, sizeof r->shape, "\"B\": %lld, \"D\": %lld, \"L\": %lld, \"W\": %lld, \"bias\": true, \"silu\": true",
             (long long)B, (long long)D, (long long)L, (long long)W);
    ssm_status st = f_conv(&p, NULL, 0);
    CK(cudaStreamSynchronize(g_stream));
    sample s;
    memset(&s, 0, sizeof s);
    s.failed_call = st != SSM_OK;
    buf_down(&out);
    snprintf(s.sample, sizeof s.sample, "64 of %lld channels, all tokens", (long long)(B * D));
    double *ro = (double *)malloc(sizeof(double) * (size_t)L), *go = (double *)malloc(sizeof(double) * (size_t)L);
    for (int k = 0; k < 64; k++) {
        const int64_t bb = pick(B), d = pick(D);
        ssm_conv1d_params h = p;
        h.B = 1; h.D = 1;
        h.x.data = hat(&x, dt, (bb * D + d) * L); h.weight.data = hatf(&w, d * W); h.bias.data = hatf(&bias, d);
        h.out.data = (void *)hat(&out, dt, (bb * D + d) * L);
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.out = ro;
        if (ssm_ref_conv1d(&h, &rr) != SSM_OK) s.failed_call = 1;
        for (int64_t t = 0; t < L; t++) go[t] = act_value(&out, dt, (bb * D + d) * L + t);
        sample_add(&s, ro, go, L);
    }
    set_check(&r->check, &s, dt, dt);
    sample_free(&s);
    free(ro); free(go);
    r->flops = (double)B * D * L * (2.0 * W + 6);
    r->exps = (double)B * D * L;
    r->bytes = (double)b * 2.0 * B * D * L + 4.0 * (D * W + D);
    r->t = time_op(f_conv, &p, NULL, 0, 40);
    buf_free(&x); buf_free(&w); buf_free(&bias); buf_free(&out);
}

/* ================================================================ gpu.hsa.* */

static double softplus(double x) { return x > 15 ? x : log1p(exp(x)); }

static void bench_hsa(const char *name, ssm_dtype dt, int64_t B, int64_t L, int64_t HQ, int64_t HK, int64_t E, int64_t S,
                      int64_t K) {
    const int64_t C = L / S, b = (int64_t)ssm_dtype_size(dt), Ev = E;
    buf q = act_normal(dt, B * L * HQ * E, 0, 1), k = act_normal(dt, B * L * HK * E, 0, 1), v = act_normal(dt, B * L * HK * Ev, 0, 1);
    buf idx = buf_new(sizeof(int32_t) * (size_t)(B * L * HK * K)), w = buf_new(sizeof(float) * (size_t)(B * L * HK * K));
    buf o = out_buf(dt, B * L * HQ * Ev);
    /* BENCH.md: K distinct eligible chunks uniformly at random (all when fewer), sorted
       descending, padded with -1; weights from stick-breaking on random scores */
    double nv_total = 0;
    char *chosen = (char *)calloc((size_t)C + 1, 1);
    for (int64_t bb = 0; bb < B; bb++)
        for (int64_t t = 0; t < L; t++)
            for (int64_t h = 0; h < HK; h++) {
                const int64_t ne = t / S < C ? t / S : C, want = ne < K ? ne : K;
                int32_t *ir = (int32_t *)idx.h + ((bb * L + t) * HK + h) * K;
                float *wr = (float *)w.h + ((bb * L + t) * HK + h) * K;
                if (want == ne) {
                    for (int64_t c = 0; c < ne; c++) chosen[c] = 1;
                } else {
                    for (int64_t c = 0; c < ne; c++) chosen[c] = 0;
                    for (int64_t got = 0; got < want;) {
                        int64_t c = pick(ne);
                        if (!chosen[c]) { chosen[c] = 1; got++; }
                    }
                }
                int64_t slot = 0;
                double broken = 0;
                for (int64_t c = ne - 1; c >= 0; c--)
                    if (chosen[c]) {
                        double sc = rnormal();
                        broken += softplus(sc);
                        ir[slot] = (int32_t)c;
                        wr[slot] = (float)exp(sc - broken);
                        slot++;
                    }
                for (; slot < K; slot++) {
                    ir[slot] = -1;
                    wr[slot] = 0.0f;
                }
                nv_total += (double)want;
            }
    free(chosen);
    buf_up(&idx);
    buf_up(&w);
    ssm_hsa_attention_params p;
    memset(&p, 0, sizeof p);
    p.dtype = dt; p.B = B; p.Lq = L; p.Lk = L; p.HQ = HQ; p.HK = HK; p.E = E; p.Ev = Ev; p.K = K; p.S = S;
    p.q.data = q.d; p.k.data = k.d; p.v.data = v.d; p.idx.data = idx.d; p.w.data = w.d; p.o.data = o.d;
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->op = "hsa_attention";
    r->dtype = dt;
    r->tensor_cores = dt != SSM_F32;
    snprintf(r->shape, sizeof r->shape,
             "\"B\": %lld, \"Lq\": %lld, \"Lk\": %lld, \"HQ\": %lld, \"HK\": %lld, \"E\": %lld, \"Ev\": %lld, \"S\": %lld, \"K\": %lld",
             (long long)B, (long long)L, (long long)L, (long long)HQ, (long long)HK, (long long)E, (long long)Ev, (long long)S,
             (long long)K);
    ssm_status st = f_hsa(&p, NULL, 0);
    CK(cudaStreamSynchronize(g_stream));
    sample s;
    memset(&s, 0, sizeof s);
    s.failed_call = st != SSM_OK;
    buf_down(&o);
    const int ntok = 64;
    snprintf(s.sample, sizeof s.sample, "%d of %lld tokens, all heads", ntok, (long long)(B * L));
    double *ro = (double *)malloc(sizeof(double) * (size_t)(HQ * Ev)), *go = (double *)malloc(sizeof(double) * (size_t)(HQ * Ev));
    for (int kk = 0; kk < ntok; kk++) {   /* sub-problem: one token, Lq = 1, its idx/w rows */
        const int64_t bb = pick(B), t = kk < 4 ? L - 1 - kk : pick(L);
        ssm_hsa_attention_params h = p;
        h.B = 1; h.Lq = 1;
        h.q.data = hat(&q, dt, (bb * L + t) * HQ * E); h.k.data = hat(&k, dt, bb * L * HK * E);
        h.v.data = hat(&v, dt, bb * L * HK * Ev);
        h.idx.data = (const int32_t *)idx.h + (bb * L + t) * HK * K; h.w.data = (const float *)w.h + (bb * L + t) * HK * K;
        h.o.data = (void *)hat(&o, dt, (bb * L + t) * HQ * Ev);
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.o = ro;
        if (ssm_ref_hsa_attention(&h, &rr) != SSM_OK) s.failed_call = 1;
        for (int64_t i = 0; i < HQ * Ev; i++) go[i] = act_value(&o, dt, (bb * L + t) * HQ * Ev + i);
        sample_add(&s, ro, go, HQ * Ev);
    }
    set_check(&r->check, &s, dt, dt);
    sample_free(&s);
    free(ro); free(go);
    const double G = (double)(HQ / HK);
    r->flops = nv_total * G * S * (2.0 * E + 2.0 * Ev + 4);
    r->exps = nv_total * G * S;
    r->bytes = (double)b * (B * L * HQ * (double)(E + Ev) + B * L * HK * (double)(E + Ev)) + 8.0 * B * L * HK * K;
    r->t = time_op(f_hsa, &p, NULL, 0, 20);
    buf_free(&q); buf_free(&k); buf_free(&v); buf_free(&idx); buf_free(&w); buf_free(&o);
}

/* ================================================================ JSON */

static void read_cpu_model(char *out, size_t n) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(out, n, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = 0;
                snprintf(out, n, "%s", c);
            }
            break;
        }
    fclose(f);
}

static int count_numa(void) {
    int n = 0;
    char path[64];
    for (int i = 0; i < 64; i++) {
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d", i);
        if (access(path, F_OK) == 0) n++;
    }
    return n ? n : 1;
}

static void slugify(const char *in, char *out, size_t n) {
    size_t j = 0;
    int dash = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++) {
        char c = in[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[j++] = c;
            dash = 0;
        } else if (c >= 'A' && c <= 'Z') {
            out[j++] = (char)(c - 'A' + 'a');
            dash = 0;
        } else if (!dash && j > 0) {
            out[j++] = '-';
            dash = 1;
        }
    }
    while (j > 0 && out[j - 1] == '-') j--;
    out[j] = 0;
}

static void write_json(const char *path, const cudaDeviceProp *prop, const gpu_ceil *g, const cpu_ceil *c) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    bench_json j;
    char cpu[256], slug[96], date[64];
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    read_cpu_model(cpu, sizeof cpu);
    slugify(prop->name, slug, sizeof slug);
    if (strcmp(slug, "nvidia-h200") == 0) snprintf(slug, sizeof slug, "h200");
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_begin(&j, f);
    json_int(&j, "schema", 1);
    json_object(&j, "machine");
    json_str(&j, "slug", slug);
    json_str(&j, "cpu_model", cpu);
    json_int(&j, "cores", c->threads);
    json_int(&j, "threads_per_core", 1);
    json_int(&j, "numa_nodes", count_numa());
    json_array(&j, "caches");
    json_close(&j);
    json_object(&j, "gpu");
    json_str(&j, "name", prop->name);
    json_int(&j, "sms", prop->multiProcessorCount);
    json_str(&j, "compute_capability", prop->major == 9 ? "9.0" : "other");
    json_int(&j, "cc_major", prop->major);
    json_int(&j, "cc_minor", prop->minor);
    json_int(&j, "l2_bytes", prop->l2CacheSize);
    json_int(&j, "memory_bytes", (int64_t)prop->totalGlobalMem);
    json_int(&j, "smem_per_block_optin", (int64_t)prop->sharedMemPerBlockOptin);
    json_int(&j, "driver_version", driver);
    json_int(&j, "runtime_version", runtime);
    int sm_khz = 0, mem_khz = 0, bus_bits = 0;   /* attributes: cudaDeviceProp dropped the clocks */
    cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, 0);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
    json_num(&j, "sm_clock_mhz", sm_khz / 1000.0);
    json_num(&j, "mem_clock_mhz", mem_khz / 1000.0);
    json_int(&j, "mem_bus_bits", bus_bits);
    json_close(&j);
    json_close(&j);
    json_object(&j, "build");
    char comp[64];
    snprintf(comp, sizeof comp, "nvcc %d.%d", __CUDACC_VER_MAJOR__, __CUDACC_VER_MINOR__);
    json_str(&j, "compiler", comp);
    json_str(&j, "flags", BENCH_FLAGS);
    json_str(&j, "git_commit", BENCH_GIT);
    json_str(&j, "date", date);
    json_str(&j, "config", ssm_cuda_config());   /* the kernels' own settings (a base build may differ from ours) */
    json_close(&j);
    json_object(&j, "ceilings");
    json_num(&j, "triad_gbs_1t", c->triad_1t);
    json_num(&j, "triad_gbs_all", c->triad_all);
    json_num(&j, "fma_gflops_1t", c->fma_1t);
    json_num(&j, "fma_gflops_all", c->fma_all);
    json_num(&j, "exp_per_s_1t", c->exp_1t);
    json_num(&j, "gpu_copy_gbs", g->copy_gbs);
    json_str(&j, "gpu_copy_source", "cudaMemcpyAsync device to device, 2 GiB, bytes read + written, best of 10");
    if (g->l2_read_gbs > 0) json_num(&j, "gpu_l2_read_gbs", g->l2_read_gbs);
    else json_null(&j, "gpu_l2_read_gbs");
    json_str(&j, "gpu_l2_read_source", "16 MiB read 64 times through L2 (ld.global.cg, 16-byte loads), best of 10");
    json_num(&j, "gpu_fp32_tflops", g->fp32_tflops);
    json_str(&j, "gpu_fp32_source", "8 independent FMA chains per thread, 2 FLOP per FMA");
    json_num(&j, "gpu_bf16_mma_tflops", g->bf16_mma_tflops);
    json_str(&j, "gpu_bf16_mma_source", g->bf16_source);
    json_num(&j, "gpu_bf16_mmasync_tflops", g->bf16_mmasync_tflops);
    json_str(&j, "gpu_bf16_mmasync_source", "mma.sync m16n8k16 register loop (no wgmma)");
    if (g->tf32_tflops > 0) json_num(&j, "gpu_tf32_mma_tflops", g->tf32_tflops);
    else json_null(&j, "gpu_tf32_mma_tflops");
    json_str(&j, "gpu_tf32_mma_source", "cuBLAS TF32 GEMM 8192^3");
    json_num(&j, "gpu_exp_per_s", g->exp_per_s);
    json_str(&j, "gpu_exp_source", "ex2.approx.f32 chains");
    json_str(&j, "cpu_note", "coarse CPU ceilings measured by bench_cuda (plain loops, OpenMP)");
    json_close(&j);
    json_array(&j, "results");
    for (int i = 0; i < g_nresults; i++) {
        const result *r = &g_results[i];
        const double fl_ceil = r->tensor_cores ? g->bf16_mma_tflops * 1e12 : g->fp32_tflops * 1e12;
        double tf = r->flops / fl_ceil, te = r->exps / g->exp_per_s, tb = r->bytes / (g->copy_gbs * 1e9);
        double roof = tf > te ? (tf > tb ? tf : tb) : (te > tb ? te : tb);
        json_object(&j, NULL);
        json_str(&j, "name", r->name);
        json_str(&j, "op", r->op);
        json_str(&j, "backend", "cuda");
        json_str(&j, "dtype", ssm_dtype_name(r->dtype));
        json_int(&j, "threads", 1);
        json_str(&j, "device", prop->name);
        /* the shape members are preformatted */
        json_object(&j, "shape");
        fprintf(f, "\n      %s", r->shape);
        j.count[j.depth] = 1;
        json_close(&j);
        json_object(&j, "time_s");
        json_num(&j, "median", r->t.median);
        json_num(&j, "min", r->t.min);
        json_num(&j, "max", r->t.max);
        json_int(&j, "reps", r->t.reps);
        json_str(&j, "l2", "cold (512 MiB memset before every repetition)");
        json_close(&j);
        json_num(&j, "flops", r->flops);
        json_num(&j, "bytes", r->bytes);
        json_num(&j, "exps", r->exps);
        json_num(&j, "gflops", r->flops / r->t.median / 1e9);
        json_num(&j, "gbs", r->bytes / r->t.median / 1e9);
        json_num(&j, "intensity", r->flops / r->bytes);
        json_num(&j, "roof_s", roof);
        json_num(&j, "roof_gflops", r->flops / roof / 1e9);
        json_num(&j, "pct_roof", 100.0 * roof / r->t.median);
        json_str(&j, "bound", roof == tf ? "flops" : roof == te ? "exps" : "bytes");
        json_str(&j, "level", "DRAM");
        json_str(&j, "flop_ceiling", r->tensor_cores ? "gpu_bf16_mma_tflops" : "gpu_fp32_tflops");
        json_object(&j, "check");
        json_bool(&j, "passed", r->check.passed != 0);
        json_num(&j, "rel_l2", r->check.rel_l2);
        json_num(&j, "max_err", r->check.max_err);
        if (r->check.sixteen) {
            json_num(&j, "floor", r->check.floor);
            json_num(&j, "floor_ratio", r->check.floor > 0 ? r->check.rel_l2 / r->check.floor : NAN);
        }
        json_str(&j, "sample", r->check.sample);
        if (r->check.has2) {
            json_object(&j, r->check.name2);
            json_bool(&j, "passed", r->check.passed2 != 0);
            json_num(&j, "rel_l2", r->check.rel_l2_2);
            json_num(&j, "max_err", r->check.max_err_2);
            json_close(&j);
        }
        if (!r->check.passed) json_str(&j, "reason", r->check.reason);
        json_close(&j);
        json_close(&j);
    }
    json_close(&j);
    json_end(&j);
    fclose(f);
}

/* ================================================================ main */

static int wanted(const char *only, const char *name) { return !only || strstr(name, only) != NULL; }

int main(int argc, char **argv) {
    const char *out = "bench_cuda.json", *only = NULL;
    int with_f32 = 1, profile = 0, no_ceilings = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0) g_quick = 1;
        else if (strcmp(argv[i], "--no-f32") == 0) with_f32 = 0;
        else if (strcmp(argv[i], "--profile") == 0) profile = 1;
        else if (strcmp(argv[i], "--no-ceilings") == 0) no_ceilings = 1;
        else {
            fprintf(stderr, "usage: %s [--out FILE] [--quick] [--only SUBSTRING] [--no-f32] [--profile] [--no-ceilings]\n",
                    argv[0]);
            return 2;
        }
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    CK(cudaStreamCreate(&g_stream));
    CK(cudaMalloc(&g_flush, g_flush_bytes));
    printf("device: %s, %d SMs, L2 %d MiB, %.0f GiB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20,
           (double)prop.totalGlobalMem / (1 << 30));
    gpu_ceil g;
    cpu_ceil c;
    memset(&c, 0, sizeof c);
    if (profile || no_ceilings) {   /* under a profiler (few repetitions too), or timing only (A/B runs):
                                       placeholder ceilings, so the roof columns mean nothing */
        if (profile) g_reps_cap = 3;
        memset(&g, 0, sizeof g);
        g.copy_gbs = 4000; g.fp32_tflops = 50; g.exp_per_s = 4e12; g.bf16_mma_tflops = 700;
        g.bf16_source = profile ? "not measured (--profile)" : "not measured (--no-ceilings)";
    } else {
        g = measure_gpu(prop.multiProcessorCount);
        c = measure_cpu();
    }
    printf("ceilings: L2 read %.0f GB/s, copy %.0f GB/s, FP32 %.1f TFLOP/s, exp %.3g /s, bf16 %.0f TFLOP/s (%s), mma.sync %.0f TFLOP/s, TF32 %.0f TFLOP/s\n",
           g.l2_read_gbs, g.copy_gbs, g.fp32_tflops, g.exp_per_s, g.bf16_mma_tflops, g.bf16_source, g.bf16_mmasync_tflops, g.tf32_tflops);
    printf("cpu: triad %.1f / %.1f GB/s (1 / %d threads), FMA %.1f / %.1f GFLOP/s, exp %.3g /s\n", c.triad_1t, c.triad_all,
           c.threads, c.fma_1t, c.fma_all, c.exp_1t);
    const int q = g_quick;
    const ssm_dtype dts[2] = {SSM_BF16, SSM_F32};
    for (int di = 0; di < (with_f32 ? 2 : 1); di++) {
        const ssm_dtype d = dts[di];
        if (wanted(only, "gpu.scan.m1")) bench_scan("gpu.scan.m1", d, 8, 4096, q ? 512 : 2048, 16);
        if (wanted(only, "gpu.ssd.m2") && !(only && strstr(only, "long")))
            bench_ssd("gpu.ssd.m2", d, 8, q ? 1024 : 4096, 80, 64, 128, 256, 4);
        if (wanted(only, "gpu.ssd.m2.long")) bench_ssd("gpu.ssd.m2.long", d, 2, q ? 4096 : 16384, 80, 64, 128, 256, 4);
        if (wanted(only, "gpu.step.m2")) bench_step("gpu.step.m2", d, 64, 80, 64, 128);
        if (wanted(only, "gpu.conv")) bench_conv("gpu.conv", d, 8, 4096, q ? 512 : 2048, 4);
        if (wanted(only, "gpu.hsa.4k")) bench_hsa("gpu.hsa.4k", d, 8, 4096, 16, 1, 64, 64, 8);
        if (d == SSM_F32 && !only) continue;   /* the general f32 HSA kernel: 4k only, the rest would take minutes */
        if (wanted(only, "gpu.hsa.16k")) bench_hsa("gpu.hsa.16k", d, 8, q ? 4096 : 16384, 16, 1, 64, 64, 8);
        if (wanted(only, "gpu.hsa.64k") && !q) bench_hsa("gpu.hsa.64k", d, 8, 65536, 16, 1, 64, 64, 8);
        if (wanted(only, "gpu.hsa.g1.16k")) bench_hsa("gpu.hsa.g1.16k", d, 8, q ? 4096 : 16384, 16, 16, 64, 64, 8);
    }
    printf("\n%-18s %-5s %s\n", "name", "dtype", "median time, rate, roof, check");
    for (int i = 0; i < g_nresults; i++) report_line(&g_results[i], &g);
    write_json(out, &prop, &g, &c);
    printf("wrote %s\n", out);
    int failed = 0;
    for (int i = 0; i < g_nresults; i++) failed |= !g_results[i].check.passed;
    return failed ? 1 : 0;
}
