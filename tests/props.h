/* props.h — small helpers shared by test_props.c and test_badinput.c (header only, static):

   - the result lines: props_report() prints "PASS|FAIL|SKIP <what>" and counts it;
     props_finish() prints "N passed, M failed, K skipped" and gives the exit status;
   - a seeded RNG (splitmix64) with normal and integer draws; props_seed() takes the seed from
     argv ("--seed=N"), else SSM_TEST_SEED, else the clock, and prints it;
   - test tensors: one buffer per operand with its logical shape and element strides, built
     contiguous, permuted (e.g. a (B, L, D)-stored buffer seen as (B, D, L)), padded (gaps
     between rows), broadcast (stride 0) or reversed (negative stride). The whole buffer starts
     as a NaN pattern, so an input gap a kernel should not read spoils its result, and an
     output gap it should not write is caught by tensor_first_changed_outside().

   The tolerance rules themselves live in check.h; nothing here compares numbers. */
#ifndef SSM_TESTS_PROPS_H
#define SSM_TESTS_PROPS_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* ---------------------------------------------------------------- result lines */

enum { PROPS_PASS = 0, PROPS_FAIL = 1, PROPS_SKIP = 2 };

typedef struct props_tally {
    int passed, failed, skipped;
} props_tally;

static props_tally props_counts;

static inline void props_report(int verdict, const char *fmt, ...)
{
    static const char *const word[3] = {"PASS", "FAIL", "SKIP"};
    va_list ap;
    printf("%s ", word[verdict]);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (verdict == PROPS_PASS) props_counts.passed++;
    else if (verdict == PROPS_FAIL) props_counts.failed++;
    else props_counts.skipped++;
}

static inline int props_finish(void)
{
    printf("%d passed, %d failed, %d skipped\n", props_counts.passed, props_counts.failed,
           props_counts.skipped);
    return props_counts.failed ? 1 : 0;
}

/* ---------------------------------------------------------------- RNG */

typedef struct props_rng {
    uint64_t s;
} props_rng;

static inline uint64_t rng_next(props_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1), never 0 or 1. */
static inline double rng_uniform(props_rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static inline double rng_normal(props_rng *r)
{
    const double two_pi = 6.283185307179586476925286766559;
    return sqrt(-2.0 * log(rng_uniform(r))) * cos(two_pi * rng_uniform(r));
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_int(props_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static inline int rng_coin(props_rng *r) { return (int)(rng_next(r) >> 63); }

/* The seed: "--seed=N" in argv, else $SSM_TEST_SEED, else the clock. Printed either way. */
static inline uint64_t props_seed(int argc, char **argv)
{
    const char *s = getenv("SSM_TEST_SEED");
    uint64_t seed;
    int i;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], "--seed=", 7) == 0) s = argv[i] + 7;
    seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)clock();
    printf("seed %llu (rerun with SSM_TEST_SEED=%llu or --seed=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

/* ---------------------------------------------------------------- test tensors */

typedef enum tkind { TK_F32, TK_F16, TK_BF16, TK_I32, TK_I64 } tkind;

static inline tkind tkind_of(ssm_dtype dtype)
{
    return dtype == SSM_F16 ? TK_F16 : dtype == SSM_BF16 ? TK_BF16 : TK_F32;
}

static inline size_t tkind_size(tkind k)
{
    return k == TK_F16 || k == TK_BF16 ? 2 : k == TK_I64 ? 8 : 4;
}

/* How a tensor is laid out in its buffer. All zero: contiguous, NULL stride pointer. */
typedef struct tlayout {
    int permuted;        /* order[] is the storage order (outermost first) of the logical dims */
    int order[SSM_MAX_RANK];
    int64_t pad;         /* extra elements after every storage row of every dim (gaps) */
    unsigned bcast;      /* bit d: stride 0 over logical dim d */
    unsigned neg;        /* bit d: negative stride over logical dim d */
    int explicit_strides;/* pass the stride array even when contiguous */
} tlayout;

typedef struct tensor {
    tkind kind;
    size_t elem;
    int rank;
    int64_t dim[SSM_MAX_RANK];
    int64_t st[SSM_MAX_RANK];
    int64_t numel;
    int64_t off;         /* element offset of logical element 0 inside buf */
    int64_t span;        /* elements in buf */
    unsigned char *buf;
    int null_stride;     /* hand the library NULL (contiguous) instead of st */
} tensor;

static inline void tensor_poison_all(tensor *t)
{
    int64_t i;
    for (i = 0; i < t->span; i++) {
        unsigned char *e = t->buf + (size_t)i * t->elem;
        uint32_t f32 = 0x7FC5A5A5u;
        uint16_t f16 = 0x7E5Au, bf16 = 0x7FC5u;
        uint64_t i64 = 0x7FC5A5A57FC5A5A5ull;
        switch (t->kind) {
        case TK_F32: case TK_I32: memcpy(e, &f32, 4); break;
        case TK_F16: memcpy(e, &f16, 2); break;
        case TK_BF16: memcpy(e, &bf16, 2); break;
        case TK_I64: memcpy(e, &i64, 8); break;
        }
    }
}

/* A new tensor of the given logical shape; lay == NULL: contiguous. Every element of the
   buffer starts as the NaN (or, for indices, far out of range) poison pattern. */
static inline tensor *tensor_new(tkind kind, int rank, const int64_t *dims, const tlayout *lay)
{
    tensor *t = (tensor *)calloc(1, sizeof *t);
    int64_t step = 1, lo = 0, hi = 0;
    int i;
    if (!t) abort();
    t->kind = kind;
    t->elem = tkind_size(kind);
    t->rank = rank;
    t->numel = 1;
    for (i = 0; i < rank; i++) {
        t->dim[i] = dims[i];
        t->numel *= dims[i];
    }
    for (i = rank - 1; i >= 0; i--) {
        int d = lay && lay->permuted ? lay->order[i] : i;
        int64_t extent = t->dim[d] > 0 ? t->dim[d] : 1;
        t->st[d] = step;
        step *= extent + (lay ? lay->pad : 0);
    }
    for (i = 0; i < rank; i++) {
        if (lay && (lay->bcast >> i & 1u)) t->st[i] = 0;
        if (lay && (lay->neg >> i & 1u)) t->st[i] = -t->st[i];
        if (t->dim[i] > 0) {
            int64_t reach = t->st[i] * (t->dim[i] - 1);
            if (reach < 0) lo += reach;
            else hi += reach;
        }
    }
    t->off = -lo;
    t->span = hi - lo + 1 + (lay ? lay->pad : 0);
    t->buf = (unsigned char *)malloc((size_t)t->span * t->elem);
    if (!t->buf) abort();
    t->null_stride = !lay || (!lay->permuted && !lay->pad && !lay->bcast && !lay->neg && !lay->explicit_strides);
    tensor_poison_all(t);
    return t;
}

static inline tensor *tensor_new4(tkind kind, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                                  const tlayout *lay)
{
    int64_t dims[SSM_MAX_RANK];
    dims[0] = d0; dims[1] = d1; dims[2] = d2; dims[3] = d3;
    return tensor_new(kind, rank, dims, lay);
}

static inline void tensor_free(tensor *t)
{
    if (!t) return;
    free(t->buf);
    free(t);
}

static inline void *tensor_data(const tensor *t) { return t->buf + (size_t)t->off * t->elem; }

static inline ssm_in tensor_in(const tensor *t)
{
    ssm_in v;
    v.data = tensor_data(t);
    v.stride = t->null_stride ? NULL : t->st;
    return v;
}

static inline ssm_out tensor_out(tensor *t)
{
    ssm_out v;
    v.data = tensor_data(t);
    v.stride = t->null_stride ? NULL : t->st;
    return v;
}

/* Element offset (from buf) of the logical element with flat row-major index i. */
static inline int64_t tensor_offset(const tensor *t, int64_t i)
{
    int64_t at = t->off;
    int d;
    for (d = t->rank - 1; d >= 0; d--) {
        at += (i % t->dim[d]) * t->st[d];
        i /= t->dim[d];
    }
    return at;
}

static inline void tensor_set(tensor *t, int64_t i, double v)
{
    unsigned char *e = t->buf + (size_t)tensor_offset(t, i) * t->elem;
    float f = (float)v;
    uint16_t h;
    int32_t i32;
    int64_t i64;
    switch (t->kind) {
    case TK_F32: memcpy(e, &f, 4); break;
    case TK_F16: h = ssm_f32_to_f16(f); memcpy(e, &h, 2); break;
    case TK_BF16: h = ssm_f32_to_bf16(f); memcpy(e, &h, 2); break;
    case TK_I32: i32 = (int32_t)v; memcpy(e, &i32, 4); break;
    case TK_I64: i64 = (int64_t)v; memcpy(e, &i64, 8); break;
    }
}

static inline double tensor_get(const tensor *t, int64_t i)
{
    const unsigned char *e = t->buf + (size_t)tensor_offset(t, i) * t->elem;
    float f;
    uint16_t h;
    int32_t i32;
    int64_t i64;
    switch (t->kind) {
    case TK_F32: memcpy(&f, e, 4); return f;
    case TK_F16: memcpy(&h, e, 2); return ssm_f16_to_f32(h);
    case TK_BF16: memcpy(&h, e, 2); return ssm_bf16_to_f32(h);
    case TK_I32: memcpy(&i32, e, 4); return i32;
    case TK_I64: memcpy(&i64, e, 8); return (double)i64;
    }
    return 0.0;
}

static inline void tensor_fill_normal(tensor *t, props_rng *r, double mean, double sd)
{
    int64_t i;
    for (i = 0; i < t->numel; i++) tensor_set(t, i, mean + sd * rng_normal(r));
}

/* Copies the logical elements, in row-major order, to dst (numel * elem bytes). */
static inline void tensor_gather(const tensor *t, void *dst)
{
    int64_t i;
    for (i = 0; i < t->numel; i++)
        memcpy((unsigned char *)dst + (size_t)i * t->elem, t->buf + (size_t)tensor_offset(t, i) * t->elem,
               t->elem);
}

static inline unsigned char *tensor_snapshot(const tensor *t)
{
    unsigned char *s = (unsigned char *)malloc((size_t)t->span * t->elem);
    if (!s) abort();
    memcpy(s, t->buf, (size_t)t->span * t->elem);
    return s;
}

static inline void tensor_restore(tensor *t, const unsigned char *snap)
{
    memcpy(t->buf, snap, (size_t)t->span * t->elem);
}

/* The first buffer element outside the logical view whose bytes differ from snap (an element
   a kernel wrote but should not have), or -1. */
static inline int64_t tensor_first_changed_outside(const tensor *t, const unsigned char *snap)
{
    unsigned char *inside = (unsigned char *)calloc((size_t)t->span, 1);
    int64_t i, found = -1;
    if (!inside) abort();
    for (i = 0; i < t->numel; i++) inside[tensor_offset(t, i)] = 1;
    for (i = 0; i < t->span && found < 0; i++)
        if (!inside[i] && memcmp(t->buf + (size_t)i * t->elem, snap + (size_t)i * t->elem, t->elem) != 0) found = i;
    free(inside);
    return found;
}

static inline int tensor_bytes_equal(const tensor *a, const unsigned char *snap)
{
    return memcmp(a->buf, snap, (size_t)a->span * a->elem) == 0;
}

/* How check.h reads a gathered (contiguous) copy of an output of this kind. */
static inline check_values tkind_values(tkind k, const void *data)
{
    if (k == TK_F16) return check_u16((const uint16_t *)data, SSM_F16);
    if (k == TK_BF16) return check_u16((const uint16_t *)data, SSM_BF16);
    return check_f32((const float *)data);
}

/* "[i,j,k]" for a flat row-major index into dims. */
static inline void props_format_index(int rank, const int64_t *dims, int64_t flat, char *buf, size_t size)
{
    int64_t idx[SSM_MAX_RANK];
    int d;
    size_t used = 0;
    for (d = rank - 1; d >= 0; d--) {
        idx[d] = dims[d] > 0 ? flat % dims[d] : 0;
        flat = dims[d] > 0 ? flat / dims[d] : 0;
    }
    buf[0] = 0;
    for (d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "[", (long long)idx[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

#endif /* SSM_TESTS_PROPS_H */
