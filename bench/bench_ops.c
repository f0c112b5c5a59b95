/* bench_ops.c — the benchmark cases of BENCH.md: inputs, work counts, reference check, call.

   Inputs are random normal (seeded; never zeros), A negative. Outputs are poisoned with NaN
   before the checked call, so an element the kernel never writes fails the check. The check
   compares with reference/ssm_ref.c (double) through tests/check.c (SPEC §7); on large shapes it
   runs the reference on a seeded sample (a few channels, heads or query rows): each sample is a
   sub-problem whose parameters point into the full tensors with the full strides. */
#define _GNU_SOURCE
#include "bench_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"
#include "../tests/check.h"
#include "bench_json.h"

/* ---------------------------------------------------------------- canonical workloads */

static const char *const bench__kind_names[BENCH_KIND_COUNT] = {
    "cpu.scan.m1", "cpu.ssd.m2", "cpu.step.m2", "cpu.step.m1", "cpu.conv", "cpu.hsa"};

const char *bench_kind_name(bench_kind kind) {
    return (unsigned)kind < BENCH_KIND_COUNT ? bench__kind_names[kind] : "unknown";
}

ssm_op bench_kind_op(bench_kind kind) {
    switch (kind) {
    case BENCH_SCAN_M1: return SSM_OP_SELECTIVE_SCAN;
    case BENCH_SSD_M2: return SSM_OP_SSD;
    case BENCH_STEP_M2: case BENCH_STEP_M1: return SSM_OP_STATE_UPDATE;
    case BENCH_CONV: return SSM_OP_CONV1D;
    default: return SSM_OP_HSA_ATTENTION;
    }
}

int bench_kind_has_L(bench_kind kind) { return kind != BENCH_STEP_M1 && kind != BENCH_STEP_M2; }

/* BENCH.md's CPU table; quick: the same structure at a size that runs in milliseconds */
bench_shape bench_kind_shape(bench_kind kind, int quick) {
    bench_shape s;
    memset(&s, 0, sizeof s);
    switch (kind) {
    case BENCH_SCAN_M1:
        s.B = 1, s.D = quick ? 64 : 3072, s.L = quick ? 256 : 2048, s.N = 16, s.G = 1;
        break;
    case BENCH_SSD_M2:
        s.B = 1, s.L = quick ? 300 : 2048, s.H = quick ? 4 : 48, s.P = quick ? 16 : 64;
        s.N = quick ? 32 : 128, s.G = 1, s.Q = quick ? 64 : 256;
        break;
    case BENCH_STEP_M2:
        s.B = quick ? 2 : 8, s.H = quick ? 4 : 48, s.P = quick ? 16 : 64, s.N = quick ? 32 : 128;
        s.G = 1;
        break;
    case BENCH_STEP_M1:
        s.B = quick ? 2 : 8, s.H = quick ? 128 : 3072, s.P = 1, s.N = 16, s.G = 1;
        break;
    case BENCH_CONV:
        s.B = 1, s.D = quick ? 64 : 3072, s.L = quick ? 256 : 2048, s.W = 4;
        break;
    default:
        s.B = 1, s.L = quick ? 512 : 8192, s.HQ = quick ? 4 : 16, s.HK = 1, s.E = 64, s.S = 64;
        s.K = 8;
        break;
    }
    return s;
}

void bench_shape_json(bench_json *j, const bench_case *c) {
    const bench_shape *s = &c->shape;
    switch (c->kind) {
    case BENCH_SCAN_M1:
        json_int(j, "B", s->B), json_int(j, "D", s->D), json_int(j, "L", s->L);
        json_int(j, "N", s->N), json_int(j, "G", s->G);
        break;
    case BENCH_SSD_M2:
        json_int(j, "B", s->B), json_int(j, "L", s->L), json_int(j, "H", s->H);
        json_int(j, "P", s->P), json_int(j, "N", s->N), json_int(j, "G", s->G);
        json_int(j, "Q", s->Q);
        break;
    case BENCH_STEP_M2: case BENCH_STEP_M1:
        json_int(j, "B", s->B), json_int(j, "H", s->H), json_int(j, "P", s->P);
        json_int(j, "N", s->N), json_int(j, "G", s->G);
        json_bool(j, "tied", c->kind == BENCH_STEP_M2);
        break;
    case BENCH_CONV:
        json_int(j, "B", s->B), json_int(j, "D", s->D), json_int(j, "L", s->L);
        json_int(j, "W", s->W);
        break;
    default:
        json_int(j, "B", s->B), json_int(j, "L", s->L), json_int(j, "HQ", s->HQ);
        json_int(j, "HK", s->HK), json_int(j, "E", s->E), json_int(j, "S", s->S);
        json_int(j, "K", s->K);
        break;
    }
}

/* ---------------------------------------------------------------- random inputs */

static uint64_t bench__splitmix(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double bench__uniform(uint64_t *state) {   /* (0, 1] */
    return ((double)(bench__splitmix(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static double bench__normal(uint64_t *state) {
    double u1 = bench__uniform(state), u2 = bench__uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

typedef enum bench_dist {
    DIST_NORMAL,      /* mean + std * n */
    DIST_NEGATIVE,    /* -exp(std * n): A, always < 0 */
} bench_dist;

typedef struct bench_fill {
    void *dst;
    ssm_dtype dtype;  /* storage */
    int64_t n;
    uint64_t seed;
    bench_dist dist;
    double mean, std;
    int parts;
} bench_fill;

/* Values depend on (seed, block) only, never on how blocks are split among threads. */
#define BENCH_FILL_BLOCK 65536

static float bench__draw(const bench_fill *f, double x) {
    return f->dist == DIST_NEGATIVE ? (float)-exp(f->std * x) : (float)(f->mean + f->std * x);
}

static void bench__store(const bench_fill *f, int64_t i, float v) {
    if (f->dtype == SSM_F32) ((float *)f->dst)[i] = v;
    else if (f->dtype == SSM_F16) ((uint16_t *)f->dst)[i] = ssm_f32_to_f16(v);
    else ((uint16_t *)f->dst)[i] = ssm_f32_to_bf16(v);
}

static void bench__fill_task(void *ctx_ptr, int64_t part) {
    const bench_fill *f = ctx_ptr;
    int64_t blocks = (f->n + BENCH_FILL_BLOCK - 1) / BENCH_FILL_BLOCK;
    int64_t b0 = blocks * part / f->parts, b1 = blocks * (part + 1) / f->parts;
    for (int64_t b = b0; b < b1; b++) {
        uint64_t state = f->seed * 0x2545F4914F6CDD1Dull + (uint64_t)b * 0x9E3779B97F4A7C15ull;
        int64_t i1 = (b + 1) * BENCH_FILL_BLOCK < f->n ? (b + 1) * BENCH_FILL_BLOCK : f->n;
        for (int64_t i = b * BENCH_FILL_BLOCK; i < i1; i += 2) {
            /* Box-Muller gives two independent normals per pair of uniforms: use both */
            double r = sqrt(-2.0 * log(bench__uniform(&state)));
            double angle = 6.283185307179586 * bench__uniform(&state);
            bench__store(f, i, bench__draw(f, r * cos(angle)));
            if (i + 1 < i1) bench__store(f, i + 1, bench__draw(f, r * sin(angle)));
        }
    }
}

/* ---------------------------------------------------------------- live instance */

#define BENCH_MAX_BUFS 32

typedef union bench_params {
    ssm_selective_scan_params scan;
    ssm_state_update_params step;
    ssm_ssd_params ssd;
    ssm_conv1d_params conv;
    ssm_hsa_attention_params hsa;
} bench_params;

typedef struct bench_inst {
    bench_pool *pool;
    void *bufs[BENCH_MAX_BUFS];
    size_t buf_bytes[BENCH_MAX_BUFS];   /* allocated size, a multiple of 64 */
    int n_bufs;
    bench_params p;
    int64_t strides[8][SSM_MAX_RANK];   /* stride arrays the params point to */
    void *workspace;
    size_t workspace_size;
    /* cold cases: copies[k] is p with the rotated operands pointing into copy k (copies[0] = p);
       copy k >= 1 of buffer i lives at slabs[i] + (k - 1) * buf_bytes[i] */
    int n_copies, next_copy;
    bench_params *copies;
    void *slabs[BENCH_MAX_BUFS];
} bench_inst;

static size_t bench__round64(size_t bytes) { return bytes ? (bytes + 63) / 64 * 64 : 64; }

static void *bench__alloc(bench_inst *in, size_t bytes) {
    if (in->n_bufs >= BENCH_MAX_BUFS) return NULL;
    size_t rounded = bench__round64(bytes);
    void *p = aligned_alloc(64, rounded);
    if (p) {
        in->buf_bytes[in->n_bufs] = rounded;
        in->bufs[in->n_bufs++] = p;
    }
    return p;
}

/* A filled tensor of n elements stored as dtype; NULL when out of memory. */
static void *bench__tensor(bench_inst *in, ssm_dtype dtype, int64_t n, uint64_t seed,
                           bench_dist dist, double mean, double std) {
    void *p = bench__alloc(in, (size_t)n * ssm_dtype_size(dtype));
    if (!p) return NULL;
    bench_fill f = {p, dtype, n, seed, dist, mean, std, bench_pool_size(in->pool)};
    int64_t blocks = (n + BENCH_FILL_BLOCK - 1) / BENCH_FILL_BLOCK;
    if (f.parts > blocks) f.parts = blocks > 0 ? (int)blocks : 1;
    bench_parallel_for(in->pool, f.parts, bench__fill_task, &f);
    return p;
}

/* An output buffer, poisoned with NaN so unwritten elements fail the check. */
static void *bench__output(bench_inst *in, ssm_dtype dtype, int64_t n) {
    void *p = bench__alloc(in, (size_t)n * ssm_dtype_size(dtype));
    if (!p) return NULL;
    if (dtype == SSM_F32) {
        for (int64_t i = 0; i < n; i++) ((float *)p)[i] = NAN;
    } else {
        uint16_t nan_bits = dtype == SSM_F16 ? 0x7e00 : 0x7fc0;
        for (int64_t i = 0; i < n; i++) ((uint16_t *)p)[i] = nan_bits;
    }
    return p;
}

static const int64_t *bench__strides(bench_inst *in, int slot, int64_t s0, int64_t s1,
                                     int64_t s2, int64_t s3) {
    int64_t *s = in->strides[slot];
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    return s;
}

static const void *bench__at(const void *base, int64_t elems, size_t esize) {
    return (const char *)base + elems * (int64_t)esize;
}

static void bench__fail(bench_case *c, const char *what, ssm_status st) {
    c->failed = 1;
    snprintf(c->fail_reason, sizeof c->fail_reason, "%s: %s", what,
             st == SSM_OK ? "out of memory" : ssm_status_string(st));
}

/* Distinct sample indices in [0, total): all of them when total <= want. */
static int bench__sample(uint64_t seed, int64_t total, int want, int64_t *out) {
    if (total <= want) {
        for (int64_t i = 0; i < total; i++) out[i] = i;
        return (int)total;
    }
    uint64_t state = seed ^ 0xC0FFEEull;
    int n = 0;
    while (n < want) {
        int64_t pick = (int64_t)(bench__splitmix(&state) % (uint64_t)total);
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= out[i] == pick;
        if (!dup) out[n++] = pick;
    }
    return n;
}

/* ---------------------------------------------------------------- checking */

/* Gathered library values (stored as `stored`) vs reference, folded into c->check. */
static void bench__check_output(bench_case *c, const char *name, const void *got, ssm_dtype stored,
                                const double *ref, int64_t n) {
    bench_check *k = &c->check;
    if (k->n_outputs >= BENCH_MAX_CHECKED) return;
    check_values v = stored == SSM_F32 ? check_f32(got) : check_u16(got, stored);
    check_result r = check_array(v, ref, n, check_class_of(stored, c->dtype));
    bench_checked_output *o = &k->outputs[k->n_outputs++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->passed = r.pass;
    o->rel_l2 = r.rel_l2;
    o->max_err = r.max_err;
    o->floor = r.floor;
    o->rel_l2_limit = r.rel_l2_limit;
    o->sixteen_bit = stored != SSM_F32;
    if (!r.pass) {
        k->passed = 0;
        if (!k->reason[0])
            snprintf(k->reason, sizeof k->reason, "%s: %s (element %lld: expected %g, got %g)",
                     name, r.reason, (long long)r.worst, r.expected, r.got);
    }
}

static void bench__copy_elem(void *dst, int64_t di, const void *src, int64_t si, size_t esize) {
    memcpy((char *)dst + di * (int64_t)esize, (const char *)src + si * (int64_t)esize, esize);
}

/* ---------------------------------------------------------------- selective_scan (cpu.scan.m1) */

static int bench__scan_setup(bench_case *c, bench_inst *in) {
    const bench_shape *s = &c->shape;
    int64_t B = s->B, D = s->D, L = s->L, N = s->N, G = s->G;
    ssm_selective_scan_params *p = &in->p.scan;
    ssm_dtype dt = c->dtype;
    uint64_t seed = c->seed;
    p->dtype = dt;
    p->B = B, p->D = D, p->L = L, p->N = N, p->G = G;
    p->u.data = bench__tensor(in, dt, B * D * L, seed + 1, DIST_NORMAL, 0, 1);
    p->delta.data = bench__tensor(in, dt, B * D * L, seed + 2, DIST_NORMAL, 0, 1);
    p->A.data = bench__tensor(in, SSM_F32, D * N, seed + 3, DIST_NEGATIVE, 0, 0.5);
    p->Bm.data = bench__tensor(in, dt, B * G * N * L, seed + 4, DIST_NORMAL, 0, 1);
    p->Cm.data = bench__tensor(in, dt, B * G * N * L, seed + 5, DIST_NORMAL, 0, 1);
    p->Dskip.data = bench__tensor(in, SSM_F32, D, seed + 6, DIST_NORMAL, 0, 1);
    p->z.data = bench__tensor(in, dt, B * D * L, seed + 7, DIST_NORMAL, 0, 1);
    p->delta_bias.data = bench__tensor(in, SSM_F32, D, seed + 8, DIST_NORMAL, 0, 0.5);
    p->delta_softplus = 1;
    p->out.data = bench__output(in, dt, B * D * L);
    p->h_last.data = bench__output(in, SSM_F32, B * D * N);
    if (!p->u.data || !p->delta.data || !p->A.data || !p->Bm.data || !p->Cm.data ||
        !p->Dskip.data || !p->z.data || !p->delta_bias.data || !p->out.data || !p->h_last.data)
        return -1;

    double b = (double)ssm_dtype_size(dt);
    double bdl = (double)(B * D * L);
    c->flops = 6.0 * bdl * (double)N + 12.0 * bdl;
    c->exps = bdl * (double)N + 3.0 * bdl;
    c->bytes = b * (4.0 * bdl + 2.0 * (double)(B * G * N * L)) +
               4.0 * ((double)(D * N) + 2.0 * (double)D + (double)(B * D * N));
    return 0;
}

/* Reference on a few channels: each is the problem with D = 1 at channel d. */
static void bench__scan_check(bench_case *c, bench_inst *in) {
    const ssm_selective_scan_params *p = &in->p.scan;
    int64_t B = p->B, D = p->D, L = p->L, N = p->N, G = p->G;
    size_t es = ssm_dtype_size(p->dtype);
    int64_t picks[8];
    int n = bench__sample(c->seed, D, 8, picks);
    snprintf(c->check.sample, sizeof c->check.sample, "%d of %lld channels", n, (long long)D);
    void *got_out = malloc((size_t)(n * B * L) * es);
    float *got_h = malloc(sizeof(float) * (size_t)(n * B * N));
    double *ref_out = malloc(sizeof(double) * (size_t)(n * B * L));
    double *ref_h = malloc(sizeof(double) * (size_t)(n * B * N));
    if (!got_out || !got_h || !ref_out || !ref_h) {
        c->check.passed = 0;
        snprintf(c->check.reason, sizeof c->check.reason, "check: out of memory");
        goto done;
    }
    int64_t act_str[3] = {D * L, L, 1}, bc_str[4] = {G * N * L, N * L, L, 1};
    int64_t a_str[2] = {N, 1}, vec_str[1] = {1}, h_str[3] = {D * N, N, 1};
    for (int k = 0; k < n; k++) {
        int64_t d = picks[k], g = d / (D / G);
        ssm_selective_scan_params sub = *p;
        sub.D = 1, sub.G = 1;
        sub.u = (ssm_in){bench__at(p->u.data, d * L, es), act_str};
        sub.delta = (ssm_in){bench__at(p->delta.data, d * L, es), act_str};
        sub.z = (ssm_in){bench__at(p->z.data, d * L, es), act_str};
        sub.A = (ssm_in){bench__at(p->A.data, d * N, 4), a_str};
        sub.Bm = (ssm_in){bench__at(p->Bm.data, g * N * L, es), bc_str};
        sub.Cm = (ssm_in){bench__at(p->Cm.data, g * N * L, es), bc_str};
        sub.Dskip = (ssm_in){bench__at(p->Dskip.data, d, 4), vec_str};
        sub.delta_bias = (ssm_in){bench__at(p->delta_bias.data, d, 4), vec_str};
        sub.out = (ssm_out){(void *)bench__at(p->out.data, d * L, es), act_str};
        sub.h_last = (ssm_out){(void *)bench__at(p->h_last.data, d * N, 4), h_str};
        ssm_ref_out r = {0};
        r.out = ref_out + k * B * L;
        r.h_last = ref_h + k * B * N;
        ssm_status st = ssm_ref_selective_scan(&sub, &r);
        if (st != SSM_OK) {
            c->check.passed = 0;
            snprintf(c->check.reason, sizeof c->check.reason, "reference: %s",
                     ssm_status_string(st));
            goto done;
        }
        for (int64_t b = 0; b < B; b++) {
            for (int64_t t = 0; t < L; t++)
                bench__copy_elem(got_out, (k * B + b) * L + t, p->out.data,
                                 (b * D + d) * L + t, es);
            for (int64_t i = 0; i < N; i++)
                got_h[(k * B + b) * N + i] = ((const float *)p->h_last.data)[(b * D + d) * N + i];
        }
    }
    bench__check_output(c, "out", got_out, p->dtype, ref_out, n * B * L);
    bench__check_output(c, "h_last", got_h, SSM_F32, ref_h, n * B * N);
done:
    free(got_out), free(got_h), free(ref_out), free(ref_h);
}

/* ---------------------------------------------------------------- state_update (cpu.step.*) */

static int bench__step_setup(bench_case *c, bench_inst *in) {
    const bench_shape *s = &c->shape;
    int64_t B = s->B, H = s->H, P = s->P, N = s->N, G = s->G;
    int tied = c->kind == BENCH_STEP_M2;
    ssm_state_update_params *p = &in->p.step;
    ssm_dtype dt = c->dtype;
    uint64_t seed = c->seed;
    p->dtype = dt;
    p->B = B, p->H = H, p->P = P, p->N = N, p->G = G;
    p->state.data = bench__tensor(in, SSM_F32, B * H * P * N, seed + 1, DIST_NORMAL, 0, 1);
    p->x.data = bench__tensor(in, dt, B * H * P, seed + 2, DIST_NORMAL, 0, 1);
    p->Bm.data = bench__tensor(in, dt, B * G * N, seed + 4, DIST_NORMAL, 0, 1);
    p->Cm.data = bench__tensor(in, dt, B * G * N, seed + 5, DIST_NORMAL, 0, 1);
    p->z.data = bench__tensor(in, dt, B * H * P, seed + 7, DIST_NORMAL, 0, 1);
    p->dt_softplus = 1;
    if (tied) {   /* Mamba-2: one A, dt, dt_bias and D per head, broadcast with stride 0 */
        p->A = (ssm_in){bench__tensor(in, SSM_F32, H, seed + 3, DIST_NEGATIVE, 0, 0.5),
                        bench__strides(in, 0, 1, 0, 0, 0)};
        p->dt = (ssm_in){bench__tensor(in, dt, B * H, seed + 6, DIST_NORMAL, 0, 1),
                         bench__strides(in, 1, H, 1, 0, 0)};
        p->dt_bias = (ssm_in){bench__tensor(in, SSM_F32, H, seed + 8, DIST_NORMAL, 0, 0.5),
                              bench__strides(in, 2, 1, 0, 0, 0)};
        p->Dskip = (ssm_in){bench__tensor(in, SSM_F32, H, seed + 9, DIST_NORMAL, 0, 1),
                            bench__strides(in, 2, 1, 0, 0, 0)};
    } else {
        p->A.data = bench__tensor(in, SSM_F32, H * P * N, seed + 3, DIST_NEGATIVE, 0, 0.5);
        p->dt.data = bench__tensor(in, dt, B * H * P, seed + 6, DIST_NORMAL, 0, 1);
        p->dt_bias.data = bench__tensor(in, SSM_F32, H * P, seed + 8, DIST_NORMAL, 0, 0.5);
        p->Dskip.data = bench__tensor(in, SSM_F32, H * P, seed + 9, DIST_NORMAL, 0, 1);
    }
    p->out.data = bench__output(in, dt, B * H * P);
    if (!p->state.data || !p->x.data || !p->Bm.data || !p->Cm.data || !p->z.data ||
        !p->A.data || !p->dt.data || !p->dt_bias.data || !p->Dskip.data || !p->out.data)
        return -1;

    double b = (double)ssm_dtype_size(dt);
    double bhp = (double)(B * H * P), bhpn = bhp * (double)N;
    c->flops = 6.0 * bhpn + 12.0 * bhp;
    c->exps = (tied ? (double)(B * H) : bhpn) + 3.0 * bhp;
    /* BENCH.md: the state in and out plus the activations (x, dt, z, out, Bm, Cm); the f32
       parameters are left out of this op's count */
    double acts = 3.0 * bhp + (tied ? (double)(B * H) : bhp) + 2.0 * (double)(B * G * N);
    c->bytes = 8.0 * bhpn + b * acts;
    c->footprint = c->bytes - 4.0 * bhpn;   /* the state is read and written in place */
    return 0;
}

/* The whole problem: the reference reads the state before the step, the library then updates
   it in place; both the output and the new state are compared. */
static void bench__step_check(bench_case *c, bench_inst *in) {
    ssm_state_update_params *p = &in->p.step;
    int64_t n_state = p->B * p->H * p->P * p->N, n_out = p->B * p->H * p->P;
    snprintf(c->check.sample, sizeof c->check.sample, "all");
    double *ref_out = malloc(sizeof(double) * (size_t)n_out);
    double *ref_state = malloc(sizeof(double) * (size_t)n_state);
    if (!ref_out || !ref_state) {
        c->check.passed = 0;
        snprintf(c->check.reason, sizeof c->check.reason, "check: out of memory");
    } else {
        ssm_ref_out r = {0};
        r.out = ref_out;
        r.state = ref_state;
        ssm_status st = ssm_ref_state_update(p, &r);
        ssm_status lib = st == SSM_OK ? bench_case_call(c, NULL) : st;
        if (st != SSM_OK || lib != SSM_OK) {
            c->check.passed = 0;
            snprintf(c->check.reason, sizeof c->check.reason, "%s: %s",
                     st != SSM_OK ? "reference" : "library", ssm_status_string(st != SSM_OK ? st : lib));
        } else {
            bench__check_output(c, "out", p->out.data, p->dtype, ref_out, n_out);
            bench__check_output(c, "state", p->state.data, SSM_F32, ref_state, n_state);
        }
    }
    free(ref_out), free(ref_state);
}

/* ---------------------------------------------------------------- ssd (cpu.ssd.m2) */

static int bench__ssd_setup(bench_case *c, bench_inst *in) {
    const bench_shape *s = &c->shape;
    int64_t B = s->B, L = s->L, H = s->H, P = s->P, N = s->N, G = s->G, Q = s->Q;
    ssm_ssd_params *p = &in->p.ssd;
    ssm_dtype dt = c->dtype;
    uint64_t seed = c->seed;
    p->dtype = dt;
    p->B = B, p->L = L, p->H = H, p->P = P, p->N = N, p->G = G, p->Q = Q;
    p->x.data = bench__tensor(in, dt, B * L * H * P, seed + 1, DIST_NORMAL, 0, 1);
    p->dt.data = bench__tensor(in, dt, B * L * H, seed + 2, DIST_NORMAL, 0, 1);
    p->A.data = bench__tensor(in, SSM_F32, H, seed + 3, DIST_NEGATIVE, 0, 0.5);
    p->Bm.data = bench__tensor(in, dt, B * L * G * N, seed + 4, DIST_NORMAL, 0, 1);
    p->Cm.data = bench__tensor(in, dt, B * L * G * N, seed + 5, DIST_NORMAL, 0, 1);
    p->Dskip = (ssm_in){bench__tensor(in, SSM_F32, H, seed + 6, DIST_NORMAL, 0, 1),
                        bench__strides(in, 0, 1, 0, 0, 0)};   /* per head: stride 0 over P */
    p->z.data = bench__tensor(in, dt, B * L * H * P, seed + 7, DIST_NORMAL, 0, 1);
    p->dt_bias.data = bench__tensor(in, SSM_F32, H, seed + 8, DIST_NORMAL, 0, 0.5);
    p->dt_softplus = 1;
    p->out.data = bench__output(in, dt, B * L * H * P);
    p->h_last.data = bench__output(in, SSM_F32, B * H * P * N);
    if (!p->x.data || !p->dt.data || !p->A.data || !p->Bm.data || !p->Cm.data ||
        !p->Dskip.data || !p->z.data || !p->dt_bias.data || !p->out.data || !p->h_last.data)
        return -1;

    double flops = 0, exps = 0;
    for (int64_t t0 = 0; t0 < L; t0 += Q) {
        double q = (double)(L - t0 < Q ? L - t0 : Q);
        flops += (double)G * q * (q + 1) * (double)N +
                 (double)H * (q * (q + 1) * (double)P + 4.0 * q * (double)(P * N)) +
                 2.0 * (double)(H * P * N);
        exps += (double)H * q * (q + 1) / 2.0;
    }
    double blhp = (double)(B * L * H * P);
    c->flops = (double)B * flops + 12.0 * blhp;
    c->exps = (double)B * exps + 3.0 * blhp;
    double b = (double)ssm_dtype_size(dt);
    c->bytes = b * (3.0 * blhp + 2.0 * (double)(B * L * G * N) + (double)(B * L * H)) +
               4.0 * (3.0 * (double)H + (double)(B * H * P * N));
    return 0;
}

/* Reference on one or two heads: each is the problem with H = 1 at head h. */
static void bench__ssd_check(bench_case *c, bench_inst *in) {
    const ssm_ssd_params *p = &in->p.ssd;
    int64_t B = p->B, L = p->L, H = p->H, P = p->P, N = p->N, G = p->G;
    size_t es = ssm_dtype_size(p->dtype);
    int64_t picks[2];
    int n = bench__sample(c->seed, H, L > 8192 ? 1 : 2, picks);
    snprintf(c->check.sample, sizeof c->check.sample, "%d of %lld heads", n, (long long)H);
    void *got_out = malloc((size_t)(n * B * L * P) * es);
    float *got_h = malloc(sizeof(float) * (size_t)(n * B * P * N));
    double *ref_out = malloc(sizeof(double) * (size_t)(n * B * L * P));
    double *ref_h = malloc(sizeof(double) * (size_t)(n * B * P * N));
    if (!got_out || !got_h || !ref_out || !ref_h) {
        c->check.passed = 0;
        snprintf(c->check.reason, sizeof c->check.reason, "check: out of memory");
        goto done;
    }
    int64_t x_str[4] = {L * H * P, H * P, P, 1}, dt_str[3] = {L * H, H, 1};
    int64_t bc_str[4] = {L * G * N, G * N, N, 1}, vec_str[1] = {1}, dskip_str[2] = {1, 0};
    int64_t h_str[4] = {H * P * N, P * N, N, 1};
    for (int k = 0; k < n; k++) {
        int64_t h = picks[k], g = h / (H / G);
        ssm_ssd_params sub = *p;
        sub.H = 1, sub.G = 1;
        sub.x = (ssm_in){bench__at(p->x.data, h * P, es), x_str};
        sub.z = (ssm_in){bench__at(p->z.data, h * P, es), x_str};
        sub.dt = (ssm_in){bench__at(p->dt.data, h, es), dt_str};
        sub.A = (ssm_in){bench__at(p->A.data, h, 4), vec_str};
        sub.dt_bias = (ssm_in){bench__at(p->dt_bias.data, h, 4), vec_str};
        sub.Dskip = (ssm_in){bench__at(p->Dskip.data, h, 4), dskip_str};
        sub.Bm = (ssm_in){bench__at(p->Bm.data, g * N, es), bc_str};
        sub.Cm = (ssm_in){bench__at(p->Cm.data, g * N, es), bc_str};
        sub.out = (ssm_out){(void *)bench__at(p->out.data, h * P, es), x_str};
        sub.h_last = (ssm_out){(void *)bench__at(p->h_last.data, h * P * N, 4), h_str};
        ssm_ref_out r = {0};
        r.out = ref_out + k * B * L * P;
        r.h_last = ref_h + k * B * P * N;
        ssm_status st = ssm_ref_ssd(&sub, &r);
        if (st != SSM_OK) {
            c->check.passed = 0;
            snprintf(c->check.reason, sizeof c->check.reason, "reference: %s",
                     ssm_status_string(st));
            goto done;
        }
        for (int64_t b = 0; b < B; b++) {
            for (int64_t t = 0; t < L; t++)
                for (int64_t i = 0; i < P; i++)
                    bench__copy_elem(got_out, ((k * B + b) * L + t) * P + i, p->out.data,
                                     ((b * L + t) * H + h) * P + i, es);
            for (int64_t i = 0; i < P * N; i++)
                got_h[(k * B + b) * P * N + i] =
                    ((const float *)p->h_last.data)[(b * H + h) * P * N + i];
        }
    }
    bench__check_output(c, "out", got_out, p->dtype, ref_out, n * B * L * P);
    bench__check_output(c, "h_last", got_h, SSM_F32, ref_h, n * B * P * N);
done:
    free(got_out), free(got_h), free(ref_out), free(ref_h);
}

/* ---------------------------------------------------------------- conv1d (cpu.conv) */

static int bench__conv_setup(bench_case *c, bench_inst *in) {
    const bench_shape *s = &c->shape;
    int64_t B = s->B, D = s->D, L = s->L, W = s->W;
    ssm_conv1d_params *p = &in->p.conv;
    ssm_dtype dt = c->dtype;
    uint64_t seed = c->seed;
    p->dtype = dt;
    p->B = B, p->D = D, p->L = L, p->W = W;
    p->x.data = bench__tensor(in, dt, B * D * L, seed + 1, DIST_NORMAL, 0, 1);
    p->weight.data = bench__tensor(in, SSM_F32, D * W, seed + 2, DIST_NORMAL, 0, 0.5);
    p->bias.data = bench__tensor(in, SSM_F32, D, seed + 3, DIST_NORMAL, 0, 0.5);
    p->silu = 1;
    p->out.data = bench__output(in, dt, B * D * L);
    if (!p->x.data || !p->weight.data || !p->bias.data || !p->out.data) return -1;

    double bdl = (double)(B * D * L);
    c->flops = bdl * (2.0 * (double)W + 6.0);
    c->exps = bdl;
    c->bytes = (double)ssm_dtype_size(dt) * 2.0 * bdl + 4.0 * ((double)(D * W) + (double)D);
    return 0;
}

static void bench__conv_check(bench_case *c, bench_inst *in) {
    const ssm_conv1d_params *p = &in->p.conv;
    int64_t B = p->B, D = p->D, L = p->L, W = p->W;
    size_t es = ssm_dtype_size(p->dtype);
    int64_t picks[16];
    int n = bench__sample(c->seed, D, 16, picks);
    snprintf(c->check.sample, sizeof c->check.sample, "%d of %lld channels", n, (long long)D);
    void *got = malloc((size_t)(n * B * L) * es);
    double *ref = malloc(sizeof(double) * (size_t)(n * B * L));
    if (!got || !ref) {
        c->check.passed = 0;
        snprintf(c->check.reason, sizeof c->check.reason, "check: out of memory");
        goto done;
    }
    int64_t act_str[3] = {D * L, L, 1}, w_str[2] = {W, 1}, vec_str[1] = {1};
    for (int k = 0; k < n; k++) {
        int64_t d = picks[k];
        ssm_conv1d_params sub = *p;
        sub.D = 1;
        sub.x = (ssm_in){bench__at(p->x.data, d * L, es), act_str};
        sub.weight = (ssm_in){bench__at(p->weight.data, d * W, 4), w_str};
        sub.bias = (ssm_in){bench__at(p->bias.data, d, 4), vec_str};
        sub.out = (ssm_out){(void *)bench__at(p->out.data, d * L, es), act_str};
        ssm_ref_out r = {0};
        r.out = ref + k * B * L;
        ssm_status st = ssm_ref_conv1d(&sub, &r);
        if (st != SSM_OK) {
            c->check.passed = 0;
            snprintf(c->check.reason, sizeof c->check.reason, "reference: %s",
                     ssm_status_string(st));
            goto done;
        }
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < L; t++)
                bench__copy_elem(got, (k * B + b) * L + t, p->out.data, (b * D + d) * L + t, es);
    }
    bench__check_output(c, "out", got, p->dtype, ref, n * B * L);
done:
    free(got), free(ref);
}

/* ---------------------------------------------------------------- hsa_attention (cpu.hsa) */

static double bench__softplus15(double x) { return x > 15.0 ? x : log1p(exp(x)); }

/* BENCH.md's rule: for each token, K distinct eligible chunks drawn uniformly at random (all of
   them when fewer are eligible), sorted descending, padded with -1; weights by stick-breaking on
   random scores. Returns the number of valid slots over (b, t, hk). */
static int64_t bench__hsa_indices(const bench_shape *s, uint64_t seed, int32_t *idx, float *w) {
    int64_t B = s->B, L = s->L, HK = s->HK, K = s->K, S = s->S;
    uint64_t state = seed ^ 0x5EEDull;
    int64_t valid = 0;
    int32_t *chosen = malloc(sizeof(int32_t) * (size_t)K);
    if (!chosen) return -1;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < L; t++)
            for (int64_t h = 0; h < HK; h++) {
                int64_t eligible = t / S;   /* chunk c is eligible iff (c + 1) * S <= t */
                int64_t take = eligible < K ? eligible : K, n = 0;
                while (n < take) {
                    int32_t pick = take == eligible
                                       ? (int32_t)n
                                       : (int32_t)(bench__splitmix(&state) % (uint64_t)eligible);
                    int dup = 0;
                    for (int64_t i = 0; i < n; i++) dup |= chosen[i] == pick;
                    if (!dup) chosen[n++] = pick;
                }
                for (int64_t i = 1; i < n; i++)   /* descending: most recent chunk first */
                    for (int64_t j = i; j > 0 && chosen[j] > chosen[j - 1]; j--) {
                        int32_t tmp = chosen[j];
                        chosen[j] = chosen[j - 1];
                        chosen[j - 1] = tmp;
                    }
                int32_t *row_idx = idx + ((b * L + t) * HK + h) * K;
                float *row_w = w + ((b * L + t) * HK + h) * K;
                double used = 0;
                for (int64_t i = 0; i < K; i++) {
                    if (i < n) {
                        double r = bench__normal(&state);
                        used += bench__softplus15(r);
                        row_idx[i] = chosen[i];
                        row_w[i] = (float)exp(r - used);
                    } else {
                        row_idx[i] = -1;
                        row_w[i] = 0.0f;
                    }
                }
                valid += n;
            }
    free(chosen);
    return valid;
}

static int bench__hsa_setup(bench_case *c, bench_inst *in) {
    const bench_shape *s = &c->shape;
    int64_t B = s->B, L = s->L, HQ = s->HQ, HK = s->HK, E = s->E, S = s->S, K = s->K;
    ssm_hsa_attention_params *p = &in->p.hsa;
    ssm_dtype dt = c->dtype;
    uint64_t seed = c->seed;
    p->dtype = dt;
    p->B = B, p->Lq = L, p->Lk = L, p->HQ = HQ, p->HK = HK, p->E = E, p->Ev = E, p->K = K;
    p->S = S;
    p->q.data = bench__tensor(in, dt, B * L * HQ * E, seed + 1, DIST_NORMAL, 0, 1);
    p->k.data = bench__tensor(in, dt, B * L * HK * E, seed + 2, DIST_NORMAL, 0, 1);
    p->v.data = bench__tensor(in, dt, B * L * HK * E, seed + 3, DIST_NORMAL, 0, 1);
    int32_t *idx = bench__alloc(in, sizeof(int32_t) * (size_t)(B * L * HK * K));
    float *w = bench__alloc(in, sizeof(float) * (size_t)(B * L * HK * K));
    p->idx.data = idx;
    p->w.data = w;
    p->o.data = bench__output(in, dt, B * L * HQ * E);
    if (!p->q.data || !p->k.data || !p->v.data || !idx || !w || !p->o.data) return -1;
    int64_t valid = bench__hsa_indices(s, seed, idx, w);
    if (valid < 0) return -1;

    double nv_q = (double)valid * (double)(HQ / HK);   /* valid slots over (b, t, hq) */
    c->flops = nv_q * (double)S * (2.0 * (double)E + 2.0 * (double)E + 4.0);
    c->exps = nv_q * (double)S;
    c->bytes = (double)ssm_dtype_size(dt) *
                   ((double)(B * L * HQ) * 2.0 * (double)E + (double)(B * L * HK) * 2.0 * (double)E) +
               8.0 * (double)(B * L * HK * K);
    return 0;
}

/* Reference on a few blocks of query rows (late rows have all K slots valid). */
static void bench__hsa_check(bench_case *c, bench_inst *in) {
    const ssm_hsa_attention_params *p = &in->p.hsa;
    int64_t B = p->B, L = p->Lq, HQ = p->HQ, HK = p->HK, E = p->E, K = p->K;
    size_t es = ssm_dtype_size(p->dtype);
    enum { ROWS = 16 };
    int64_t blocks = (L + ROWS - 1) / ROWS, picks[4];
    int n = bench__sample(c->seed, blocks, 4, picks);
    int64_t row_elems = HQ * E;
    void *got = malloc((size_t)(n * B * ROWS * row_elems) * es);
    double *ref = malloc(sizeof(double) * (size_t)(n * B * ROWS * row_elems));
    int64_t checked_rows = 0, total = 0;
    if (!got || !ref) {
        c->check.passed = 0;
        snprintf(c->check.reason, sizeof c->check.reason, "check: out of memory");
        goto done;
    }
    int64_t q_str[4] = {L * HQ * E, HQ * E, E, 1}, iw_str[4] = {L * HK * K, HK * K, K, 1};
    for (int k = 0; k < n; k++) {
        int64_t t0 = picks[k] * ROWS, rows = L - t0 < ROWS ? L - t0 : ROWS;
        ssm_hsa_attention_params sub = *p;
        sub.Lq = rows;
        sub.q = (ssm_in){bench__at(p->q.data, t0 * HQ * E, es), q_str};
        sub.idx = (ssm_in){bench__at(p->idx.data, t0 * HK * K, 4), iw_str};
        sub.w = (ssm_in){bench__at(p->w.data, t0 * HK * K, 4), iw_str};
        sub.o = (ssm_out){(void *)bench__at(p->o.data, t0 * HQ * E, es), q_str};
        sub.lse = (ssm_out){0};
        ssm_ref_out r = {0};
        r.o = ref + total;
        ssm_status st = ssm_ref_hsa_attention(&sub, &r);
        if (st != SSM_OK) {
            c->check.passed = 0;
            snprintf(c->check.reason, sizeof c->check.reason, "reference: %s",
                     ssm_status_string(st));
            goto done;
        }
        for (int64_t b = 0; b < B; b++)
            for (int64_t i = 0; i < rows * row_elems; i++)
                bench__copy_elem(got, total + b * rows * row_elems + i, p->o.data,
                                 (b * L + t0) * row_elems + i, es);
        total += B * rows * row_elems;
        checked_rows += rows;
    }
    snprintf(c->check.sample, sizeof c->check.sample, "%lld of %lld query rows",
             (long long)checked_rows, (long long)L);
    bench__check_output(c, "o", got, p->dtype, ref, total);
done:
    free(got), free(ref);
}

/* ---------------------------------------------------------------- cold copies */

/* The data pointers of the operands a cold case rotates: those BENCH.md's byte count includes
   (state_update: the state and the activations, not the f32 parameters; conv1d: everything). */
typedef struct bench_rotated {
    int n_in, n_out;
    const void **in[8];
    void **out[4];
} bench_rotated;

static bench_rotated bench__rotated(const bench_case *c, bench_params *p) {
    bench_rotated r;
    memset(&r, 0, sizeof r);
    switch (c->kind) {
    case BENCH_STEP_M2: case BENCH_STEP_M1:
        r.out[r.n_out++] = &p->step.state.data;
        r.out[r.n_out++] = &p->step.out.data;
        r.in[r.n_in++] = &p->step.x.data;
        r.in[r.n_in++] = &p->step.dt.data;
        r.in[r.n_in++] = &p->step.Bm.data;
        r.in[r.n_in++] = &p->step.Cm.data;
        r.in[r.n_in++] = &p->step.z.data;
        break;
    case BENCH_CONV:
        r.out[r.n_out++] = &p->conv.out.data;
        r.in[r.n_in++] = &p->conv.x.data;
        r.in[r.n_in++] = &p->conv.weight.data;
        r.in[r.n_in++] = &p->conv.bias.data;
        break;
    default:
        break;
    }
    return r;
}

static int bench__buf_of(const bench_inst *in, const void *ptr) {
    for (int i = 0; i < in->n_bufs; i++)
        if ((const char *)ptr >= (const char *)in->bufs[i] &&
            (const char *)ptr < (const char *)in->bufs[i] + in->buf_bytes[i])
            return i;
    return -1;
}

/* The same address in copy k (k >= 1) of the buffer it points into. */
static void *bench__in_copy(const bench_inst *in, const void *ptr, int k) {
    int i = bench__buf_of(in, ptr);
    if (i < 0 || !in->slabs[i]) return (void *)(uintptr_t)ptr;
    size_t offset = (size_t)((const char *)ptr - (const char *)in->bufs[i]);
    return (char *)in->slabs[i] + (size_t)(k - 1) * in->buf_bytes[i] + offset;
}

typedef struct bench_copy_job {
    char *dst;
    const char *src;
    size_t bytes;       /* of one copy */
    int copies, parts;
} bench_copy_job;

/* Part t of the pool writes its share of every copy: first touch by the threads that run the
   kernels, and the copies of a big slab go out in parallel. */
static void bench__copy_task(void *ctx_ptr, int64_t part) {
    const bench_copy_job *j = ctx_ptr;
    size_t lines = j->bytes / 64;
    size_t b0 = lines * (size_t)part / (size_t)j->parts * 64;
    size_t b1 = lines * (size_t)(part + 1) / (size_t)j->parts * 64;
    for (int k = 0; k < j->copies; k++) memcpy(j->dst + (size_t)k * j->bytes + b0, j->src + b0, b1 - b0);
}

/* Copies of the rotated operands until the copies total c->cold_target bytes (at least one
   set: a set larger than that is its own rotation). The copies start as the first set after
   the check; a state that evolves differently per copy is still a valid state. */
static int bench__cold_setup(bench_case *c, bench_inst *in) {
    in->n_copies = c->n_copies = 1;
    c->copy_bytes = 0;
    if (!c->cold) return 0;
    bench_rotated r = bench__rotated(c, &in->p);
    int used[BENCH_MAX_BUFS] = {0};
    double set_bytes = 0;
    for (int f = 0; f < r.n_in + r.n_out; f++) {
        const void *ptr = f < r.n_in ? *r.in[f] : *r.out[f - r.n_in];
        int i = ptr ? bench__buf_of(in, ptr) : -1;
        if (i >= 0 && !used[i]) used[i] = 1, set_bytes += (double)in->buf_bytes[i];
    }
    if (set_bytes <= 0) return 0;
    c->copy_bytes = set_bytes;
    double want = ceil(c->cold_target / set_bytes);
    int n = want < 1 ? 1 : want > 65536 ? 65536 : (int)want;
    if (n == 1) return 0;
    in->copies = malloc(sizeof(bench_params) * (size_t)n);
    if (!in->copies) return -1;
    for (int i = 0; i < in->n_bufs; i++) {
        if (!used[i]) continue;
        in->slabs[i] = aligned_alloc(64, in->buf_bytes[i] * (size_t)(n - 1));
        if (!in->slabs[i]) return -1;
        bench_copy_job job = {in->slabs[i], in->bufs[i], in->buf_bytes[i], n - 1,
                              bench_pool_size(in->pool)};
        if ((size_t)job.parts > job.bytes / 64) job.parts = 1;
        bench_parallel_for(in->pool, job.parts, bench__copy_task, &job);
    }
    for (int k = 0; k < n; k++) {
        in->copies[k] = in->p;
        if (k == 0) continue;
        bench_rotated rk = bench__rotated(c, &in->copies[k]);
        for (int f = 0; f < rk.n_in; f++) *rk.in[f] = bench__in_copy(in, *rk.in[f], k);
        for (int f = 0; f < rk.n_out; f++) *rk.out[f] = bench__in_copy(in, *rk.out[f], k);
    }
    in->n_copies = c->n_copies = n;
    in->next_copy = 0;
    return 0;
}

/* ---------------------------------------------------------------- dispatch */

ssm_status bench_case_call(bench_case *c, const ssm_exec *ex) {
    bench_inst *in = c->inst;
    ssm_exec local;
    if (!ex) {   /* the check's call: the case's threads, its workspace */
        memset(&local, 0, sizeof local);
        local.n_threads = c->threads;
        local.parallel_for = bench_parallel_for;
        local.pool = in->pool;
        local.workspace = in->workspace;
        local.workspace_size = in->workspace_size;
        ex = &local;
    }
    const bench_params *p = &in->p;
    if (ex != &local && in->n_copies > 1) {   /* a timed call of a cold case: the next copy */
        p = &in->copies[in->next_copy];
        in->next_copy = in->next_copy + 1 < in->n_copies ? in->next_copy + 1 : 0;
    }
    switch (c->kind) {
    case BENCH_SCAN_M1: return ssm_selective_scan(&p->scan, ex);
    case BENCH_SSD_M2: return ssm_ssd(&p->ssd, ex);
    case BENCH_STEP_M2: case BENCH_STEP_M1: return ssm_state_update(&p->step, ex);
    case BENCH_CONV: return ssm_conv1d(&p->conv, ex);
    default: return ssm_hsa_attention(&p->hsa, ex);
    }
}

static size_t bench__workspace_size(const bench_case *c, const bench_inst *in) {
    switch (c->kind) {
    case BENCH_SCAN_M1: return ssm_selective_scan_workspace_size(&in->p.scan, c->threads);
    case BENCH_SSD_M2: return ssm_ssd_workspace_size(&in->p.ssd, c->threads);
    case BENCH_STEP_M2: case BENCH_STEP_M1:
        return ssm_state_update_workspace_size(&in->p.step, c->threads);
    case BENCH_CONV: return ssm_conv1d_workspace_size(&in->p.conv, c->threads);
    default: return ssm_hsa_attention_workspace_size(&in->p.hsa, c->threads);
    }
}

static int bench__setup_copies(bench_case *c, bench_inst *in) {
    if (bench__cold_setup(c, in) == 0) return 0;
    bench__fail(c, "cold copies", SSM_OK);
    return -1;
}

int bench_case_setup(bench_case *c, bench_pool *pool) {
    bench_inst *in = calloc(1, sizeof *in);
    if (!in) {
        bench__fail(c, "setup", SSM_OK);
        return -1;
    }
    in->pool = pool;
    c->inst = in;
    memset(&c->check, 0, sizeof c->check);
    int rc;
    switch (c->kind) {
    case BENCH_SCAN_M1: rc = bench__scan_setup(c, in); break;
    case BENCH_SSD_M2: rc = bench__ssd_setup(c, in); break;
    case BENCH_STEP_M2: case BENCH_STEP_M1: rc = bench__step_setup(c, in); break;
    case BENCH_CONV: rc = bench__conv_setup(c, in); break;
    default: rc = bench__hsa_setup(c, in); break;
    }
    if (rc != 0) {
        bench__fail(c, "setup", SSM_OK);
        return -1;
    }
    if (c->footprint <= 0) c->footprint = c->bytes;   /* every operand distinct */
    in->workspace_size = bench__workspace_size(c, in);
    if (in->workspace_size) {
        in->workspace = bench__alloc(in, in->workspace_size);
        if (!in->workspace) {
            bench__fail(c, "workspace", SSM_OK);
            return -1;
        }
    }

    c->check.done = 1;
    c->check.passed = 1;
    if (c->kind == BENCH_STEP_M2 || c->kind == BENCH_STEP_M1) {
        bench__step_check(c, in);   /* runs the library itself: the state changes in place */
        return bench__setup_copies(c, in);
    }
    ssm_status st = bench_case_call(c, NULL);
    if (st != SSM_OK) {
        bench__fail(c, "call", st);
        return -1;
    }
    switch (c->kind) {
    case BENCH_SCAN_M1: bench__scan_check(c, in); break;
    case BENCH_SSD_M2: bench__ssd_check(c, in); break;
    case BENCH_CONV: bench__conv_check(c, in); break;
    default: bench__hsa_check(c, in); break;
    }
    return bench__setup_copies(c, in);
}

void bench_case_teardown(bench_case *c) {
    bench_inst *in = c->inst;
    if (!in) return;
    for (int i = 0; i < in->n_bufs; i++) free(in->bufs[i]), free(in->slabs[i]);
    free(in->copies);
    free(in);
    c->inst = NULL;
}

void bench_inst_workspace(const bench_case *c, void **workspace, size_t *size) {
    const bench_inst *in = c->inst;
    *workspace = in ? in->workspace : NULL;
    *size = in ? in->workspace_size : 0;
}
