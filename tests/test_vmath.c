/* test_vmath — accuracy sweeps of ssm_avx512.h's vector math and 16-bit conversions.

   Every f32 input (all 2^32 bit patterns) goes through the vector exp, exp2, log1p, softplus
   (thresholds 20 and 15) and SiLU and is compared with libm in double under SPEC §0:

       |got - ref| <= 2^-20 (1 + |x|) |ref|     wherever |ref| >= FLT_MIN
       |got - ref| <= FLT_MIN                   below it (flushing to zero is allowed)
       +inf where ref overflows f32, NaN where ref is NaN, infinities exactly

   (near FLT_MAX, where the tolerance straddles the overflow threshold, both a close finite value
   and +inf pass). The vector f32 -> f16 / bf16 conversions (both bf16 paths: integer rounding
   and AVX512-BF16's vcvtneps2bf16) must give the same bits as ssm.h's scalar conversions for
   every f32 (and the AVX512-BF16 row store, on rows of every length up to 67), the 16-bit ->
   f32 loads for every 16-bit pattern.

   One line per sweep: PASS|FAIL|SKIP <name> inputs=<n> worst=<largest error / tolerance> at x=<...>;
   then "N passed, M failed, K skipped". Exit status 1 on any failure. SKIP everything when the
   CPU (or the build's target) lacks AVX-512.

   usage: test_vmath [STRIDE]     test every STRIDE-th bit pattern (default 1: all of them);
                                  the environment variable SSM_VMATH_STRIDE does the same. A
                                  prime stride such as 4099 gives a quick run for sanitizer builds.
   Compile with -fopenmp to spread the sweep over the cores. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#define SSM_IMPLEMENTATION
#define SSM_STATIC   /* a private copy: the program may also be linked with the test harness */
/* SSM_STATIC makes every public function static, and this program calls few of them */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../ssm_avx512.h"
#pragma GCC diagnostic pop

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct tally {
    int passed, failed, skipped;
} tally;

static void report(tally *t, int pass, const char *name, uint64_t inputs, const char *detail) {
    printf("%s %-16s inputs=%llu %s\n", pass ? "PASS" : "FAIL", name, (unsigned long long)inputs, detail);
    if (pass) t->passed++; else t->failed++;
}

static void skip(tally *t, const char *name, const char *why) {
    printf("SKIP %-16s %s\n", name, why);
    t->skipped++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

#define BLOCK 4096   /* inputs per vector call */

/* ---------------------------------------------------------------- the math sweeps */

typedef void (*vec_fn)(const float *x, float *y, int n);
typedef double (*ref_fn)(double x);

/* The references are libm in double. Where the answer is plain (NaN, far beyond overflow or
   underflow, |x| < 2^-20 where a short Taylor series is exact to double rounding) it is written
   out instead, which keeps the whole sweep within a couple of minutes. */
#define TINY 9.5367431640625e-07   /* 2^-20 */

static double ref_exp(double x) {
    if (x != x || x > 128.0 || x < -128.0) return x != x ? x : (x > 0 ? INFINITY : 0.0);
    if (fabs(x) < TINY) return 1.0 + x * (1.0 + x * (0.5 + x / 6.0));
    return exp(x);
}
static double ref_exp2(double x) {
    if (x != x || x > 200.0 || x < -200.0) return x != x ? x : (x > 0 ? INFINITY : 0.0);
    if (fabs(x) < TINY) {
        const double t = x * 0.693147180559945309;
        return 1.0 + t * (1.0 + t * (0.5 + t / 6.0));
    }
    return exp2(x);
}
static double ref_log1p(double x) {
    if (x != x) return x;
    if (fabs(x) < TINY) return x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25)));
    return log1p(x);   /* NaN below -1, -inf at -1 */
}
static double ref_softplus(double x, double threshold) {
    if (x != x || x > threshold) return x;
    if (x < -128.0) return 0.0;   /* e^x < 1e-55 */
    if (fabs(x) < TINY) return 0.693147180559945309 + x * (0.5 + x * 0.125);
    return log1p(exp(x));
}
static double ref_softplus20(double x) { return ref_softplus(x, 20.0); }
static double ref_softplus15(double x) { return ref_softplus(x, 15.0); }
static double ref_silu(double x) {
    if (x != x || x > 128.0) return x;
    if (x < -128.0) return isinf(x) ? NAN : 0.0;   /* -inf / (1 + inf) */
    if (fabs(x) < TINY) return x * (0.5 + x * 0.25);
    return x / (1.0 + exp(-x));
}

#if defined(SSM__AVX512_EMITTED)
#define VEC_WRAPPER(name, expr)                                                          \
    static SSM__AVX512_TARGET void name(const float *x, float *y, int n) {               \
        int i;                                                                           \
        for (i = 0; i < n; i += 16) {                                                    \
            const __m512 v = _mm512_loadu_ps(x + i);                                     \
            _mm512_storeu_ps(y + i, expr);                                               \
        }                                                                                \
    }
VEC_WRAPPER(vec_exp, ssm__avx512_exp(v))
VEC_WRAPPER(vec_exp2, ssm__avx512_exp2(v))
VEC_WRAPPER(vec_log1p, ssm__avx512_log1p(v))
VEC_WRAPPER(vec_softplus20, ssm__avx512_softplus(v, 20.0f))
VEC_WRAPPER(vec_softplus15, ssm__avx512_softplus(v, 15.0f))
VEC_WRAPPER(vec_silu, ssm__avx512_silu(v))
#endif

typedef struct math_case {
    const char *name;
    vec_fn vec;
    ref_fn ref;
} math_case;

typedef struct sweep_state {
    uint64_t inputs, failures;
    double worst;          /* largest |got - ref| / tolerance among results >= FLT_MIN */
    float worst_x, worst_got;
    double worst_ref;
    float fail_x, fail_got;  /* first failure seen (any thread) */
    double fail_ref;
} sweep_state;

/* 0: fails; 1: passes. *ratio: error over tolerance when ref is a normal f32 value, else 0. */
static int judge(float x, float got, double ref, double *ratio) {
    const double tol = TINY * (1.0 + fabs((double)x));   /* 2^-20 (1 + |x|) */
    const double g = (double)got;
    *ratio = 0.0;
    if (isnan(ref)) return isnan(got);
    if (isnan(got)) return 0;
    if (isinf(ref)) return g == ref;
    if (fabs(ref) > FLT_MAX) {     /* overflows f32: +-inf, or finite within tolerance */
        if (isinf(got)) return (g > 0) == (ref > 0);
        return fabs(g - ref) <= tol * fabs(ref);
    }
    if (isinf(got)) return fabs(ref) * (1.0 + tol) >= FLT_MAX && (g > 0) == (ref > 0);
    if (fabs(ref) < FLT_MIN) return fabs(g - ref) <= FLT_MIN;
    *ratio = fabs(g - ref) / (tol * fabs(ref));
    return *ratio <= 1.0;
}

static void sweep_math(tally *t, const math_case *mc, uint64_t stride) {
    const uint64_t n_inputs = (0x100000000ull + stride - 1) / stride;
    const int64_t n_blocks = (int64_t)((n_inputs + BLOCK - 1) / BLOCK);
    sweep_state s;
    double t0 = now_s();
    char detail[256];
    int64_t blk;
    memset(&s, 0, sizeof s);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 64)
#endif
    for (blk = 0; blk < n_blocks; ++blk) {
        float x[BLOCK], y[BLOCK];
        sweep_state local;
        uint64_t i0 = (uint64_t)blk * BLOCK, k;
        int i, n = (int)(n_inputs - i0 < BLOCK ? n_inputs - i0 : BLOCK);
        memset(&local, 0, sizeof local);
        for (i = 0; i < BLOCK; ++i) x[i] = bits_f32((uint32_t)((i0 + (uint64_t)(i < n ? i : 0)) * stride));
        mc->vec(x, y, BLOCK);
        for (k = 0; k < (uint64_t)n; ++k) {
            double ratio, ref = mc->ref((double)x[k]);
            if (!judge(x[k], y[k], ref, &ratio)) {
                if (!local.failures) { local.fail_x = x[k]; local.fail_got = y[k]; local.fail_ref = ref; }
                local.failures++;
            }
            if (ratio > local.worst) { local.worst = ratio; local.worst_x = x[k]; local.worst_got = y[k]; local.worst_ref = ref; }
        }
#ifdef _OPENMP
#pragma omp critical
#endif
        {
            s.inputs += (uint64_t)n;
            if (local.failures && !s.failures) { s.fail_x = local.fail_x; s.fail_got = local.fail_got; s.fail_ref = local.fail_ref; }
            s.failures += local.failures;
            if (local.worst > s.worst) {
                s.worst = local.worst; s.worst_x = local.worst_x; s.worst_got = local.worst_got; s.worst_ref = local.worst_ref;
            }
        }
    }
    if (s.failures)
        snprintf(detail, sizeof detail, "failures=%llu first: x=%.9g (0x%08x) got=%.9g ref=%.17g; worst=%.3g (%.1fs)",
                 (unsigned long long)s.failures, (double)s.fail_x, f32_bits(s.fail_x), (double)s.fail_got, s.fail_ref,
                 s.worst, now_s() - t0);
    else
        snprintf(detail, sizeof detail, "worst=%.3g of tolerance at x=%.9g (got %.9g ref %.12g) (%.1fs)", s.worst,
                 (double)s.worst_x, (double)s.worst_got, s.worst_ref, now_s() - t0);
    report(t, s.failures == 0 && s.inputs == n_inputs, mc->name, s.inputs, detail);
}

/* ---------------------------------------------------------------- the conversion sweeps */

#if defined(SSM__AVX512_EMITTED)
static SSM__AVX512_TARGET void vec_to_f16(const float *x, uint16_t *y, int n) {
    int i;
    for (i = 0; i < n; i += 16) _mm256_storeu_si256((__m256i *)(y + i), ssm__avx512_f32_to_f16(_mm512_loadu_ps(x + i)));
}
static SSM__AVX512_TARGET void vec_to_bf16(const float *x, uint16_t *y, int n) {
    int i;
    for (i = 0; i < n; i += 16) _mm256_storeu_si256((__m256i *)(y + i), ssm__avx512_f32_to_bf16(_mm512_loadu_ps(x + i)));
}
static SSM__AVX512_TARGET void vec_to_bf16_insn(const float *x, uint16_t *y, int n) {
    int i;
    for (i = 0; i < n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), ssm__avx512bf16_f32_to_bf16(_mm512_loadu_ps(x + i)));
}
/* The row store: rows of 1 to 67 values, so both its 32-wide body and its masked tail run. */
static void vec_to_bf16_row(const float *x, uint16_t *y, int n) {
    int i = 0, len = 1;
    while (i < n) {
        const int m = n - i < len ? n - i : len;
        ssm__avx512bf16_store_row(y + i, x + i, m);
        i += m;
        len = len % 67 + 1;
    }
}
static SSM__AVX512_TARGET void vec_from_f16(const uint16_t *h, float *y, int n) {
    int i;
    for (i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, ssm__avx512_f16_to_f32(_mm256_loadu_si256((const __m256i *)(h + i))));
}
static SSM__AVX512_TARGET void vec_from_bf16(const uint16_t *h, float *y, int n) {
    int i;
    for (i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, ssm__avx512_bf16_to_f32(_mm256_loadu_si256((const __m256i *)(h + i))));
}
#endif

typedef void (*to16_fn)(const float *x, uint16_t *y, int n);

static void sweep_to16(tally *t, const char *name, to16_fn vec, uint16_t (*scalar)(float), uint64_t stride) {
    const uint64_t n_inputs = (0x100000000ull + stride - 1) / stride;
    const int64_t n_blocks = (int64_t)((n_inputs + BLOCK - 1) / BLOCK);
    uint64_t failures = 0, inputs = 0;
    uint32_t first = 0;
    uint16_t first_got = 0;
    double t0 = now_s();
    char detail[160];
    int64_t blk;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : failures, inputs)
#endif
    for (blk = 0; blk < n_blocks; ++blk) {
        float x[BLOCK];
        uint16_t y[BLOCK];
        uint64_t i0 = (uint64_t)blk * BLOCK;
        int i, n = (int)(n_inputs - i0 < BLOCK ? n_inputs - i0 : BLOCK);
        for (i = 0; i < BLOCK; ++i) x[i] = bits_f32((uint32_t)((i0 + (uint64_t)(i < n ? i : 0)) * stride));
        vec(x, y, BLOCK);
        for (i = 0; i < n; ++i)
            if (y[i] != scalar(x[i])) {
                if (!failures) { first = f32_bits(x[i]); first_got = y[i]; }   /* racy, only for the message */
                failures++;
            }
        inputs += (uint64_t)n;
    }
    if (failures)
        snprintf(detail, sizeof detail, "failures=%llu e.g. x=0x%08x got 0x%04x want 0x%04x", (unsigned long long)failures,
                 first, (unsigned)first_got, (unsigned)scalar(bits_f32(first)));
    else
        snprintf(detail, sizeof detail, "bit-identical to the scalar conversion (%.1fs)", now_s() - t0);
    report(t, failures == 0 && inputs == n_inputs, name, inputs, detail);
}

typedef void (*from16_fn)(const uint16_t *h, float *y, int n);

static void sweep_from16(tally *t, const char *name, from16_fn vec, float (*scalar)(uint16_t)) {
    static uint16_t h[65536];
    static float y[65536];
    int i, failures = 0, first = -1;
    char detail[160];
    for (i = 0; i < 65536; ++i) h[i] = (uint16_t)i;
    vec(h, y, 65536);
    for (i = 0; i < 65536; ++i)
        if (f32_bits(y[i]) != f32_bits(scalar(h[i]))) {
            if (first < 0) first = i;
            failures++;
        }
    if (failures)
        snprintf(detail, sizeof detail, "failures=%d e.g. 0x%04x -> 0x%08x want 0x%08x", failures, first,
                 f32_bits(y[first]), f32_bits(scalar(h[first])));
    else
        snprintf(detail, sizeof detail, "bit-identical to the scalar conversion");
    report(t, failures == 0, name, 65536, detail);
}

int main(int argc, char **argv) {
    tally t = {0, 0, 0};
    uint64_t stride = 1;
    const char *env = getenv("SSM_VMATH_STRIDE");
    if (argc > 1) env = argv[1];
    if (env) {
        long long s = atoll(env);
        if (s < 1) {
            fprintf(stderr, "usage: %s [STRIDE >= 1]\n", argv[0]);
            return 2;
        }
        stride = (uint64_t)s;
    }
#if defined(SSM__AVX512_EMITTED)
    if (ssm__cpu()->avx512) {
        const math_case cases[] = {
            {"exp", vec_exp, ref_exp},
            {"exp2", vec_exp2, ref_exp2},
            {"log1p", vec_log1p, ref_log1p},
            {"softplus20", vec_softplus20, ref_softplus20},
            {"softplus15", vec_softplus15, ref_softplus15},
            {"silu", vec_silu, ref_silu},
        };
        size_t i;
        printf("test_vmath: stride %llu, %s\n", (unsigned long long)stride,
#ifdef _OPENMP
               "OpenMP"
#else
               "1 thread"
#endif
        );
        for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) sweep_math(&t, &cases[i], stride);
        sweep_to16(&t, "f32->f16", vec_to_f16, ssm_f32_to_f16, stride);
        sweep_to16(&t, "f32->bf16", vec_to_bf16, ssm_f32_to_bf16, stride);
        if (ssm__cpu()->avx512_bf16)
            sweep_to16(&t, "f32->bf16 insn", vec_to_bf16_insn, ssm_f32_to_bf16, stride);
        else
            skip(&t, "f32->bf16 insn", "CPU lacks AVX512-BF16");
        if (ssm__cpu()->avx512_bf16)
            sweep_to16(&t, "f32->bf16 rows", vec_to_bf16_row, ssm_f32_to_bf16, stride);
        else
            skip(&t, "f32->bf16 rows", "CPU lacks AVX512-BF16");
        sweep_from16(&t, "f16->f32", vec_from_f16, ssm_f16_to_f32);
        sweep_from16(&t, "bf16->f32", vec_from_bf16, ssm_bf16_to_f32);
    } else {
        skip(&t, "all", "CPU lacks AVX-512 F/BW/VL/DQ");
    }
#else
    skip(&t, "all", "ssm_avx512.h not compiled in (not x86-64, or SSM_NO_AVX512)");
#endif
    printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}
