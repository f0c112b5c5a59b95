/* test_check — the harness tests itself: every SPEC §7 rule of check.c must reject what it is
   there to reject (a checker that always passes would make every other test worthless), and the
   golden loader must refuse malformed files and flag unwritten outputs.

   usage: test_check GOLDEN_DIR SCRATCH_DIR
   (GOLDEN_DIR holds conv1d--f32-all.ssmg; small files are written to SCRATCH_DIR and removed) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"
#include "check.h"
#include "golden.h"

static int passed, failed;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    if (ok) passed++;
    else failed++;
}

/* Standard normal numbers from a fixed-seed generator: reproducible, never all zeros. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void)
{
    return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

enum { N = 1000 };

static void test_elementwise_and_l2(void)
{
    static double ref[N];
    static float out[N];
    for (int i = 0; i < N; i++) ref[i] = normal();

    for (int i = 0; i < N; i++) out[i] = (float)ref[i];
    check_result r = check_array(check_f32(out), ref, N, CHECK_F32);
    expect(r.pass && r.max_err < 0.01, "f32 rounding of the reference passes");

    out[17] = (float)(ref[17] + 3e-4 * (fabs(ref[17]) + 1.0));
    r = check_array(check_f32(out), ref, N, CHECK_F32);
    expect(!r.pass && r.worst == 17 && r.max_err > 1.0, "one element 3x over the elementwise bound fails at that index");

    r = check_array(check_f32(out), ref, N, CHECK_F32_MIXED);
    expect(r.pass, "the same error passes the looser f32-with-16-bit-activations class");

    /* Each element inside its elementwise bound, yet 5e-5 relative in L2: over the f32 limit. */
    for (int i = 0; i < N; i++) out[i] = (float)(ref[i] * (1.0 + 5e-5));
    r = check_array(check_f32(out), ref, N, CHECK_F32);
    expect(!r.pass && r.max_err <= 1.0 && r.rel_l2 > 1e-5, "uniform 5e-5 relative error fails the f32 L2 rule only");

    uint32_t nan_bits = 0x7FC5A5A5u;
    for (int i = 0; i < N; i++) out[i] = (float)ref[i];
    memcpy(&out[N - 1], &nan_bits, sizeof nan_bits);
    r = check_array(check_f32(out), ref, N, CHECK_F32);
    expect(!r.pass && r.worst == N - 1, "a poisoned (unwritten) element fails");

    out[N - 1] = INFINITY;
    r = check_array(check_f32(out), ref, N, CHECK_F32);
    expect(!r.pass, "inf where the reference is finite fails");
}

static void test_nonfinite_and_zero(void)
{
    double ref[4] = {-INFINITY, NAN, 1.5, -2.0};
    double out[4] = {-INFINITY, -NAN, 1.5, -2.0};
    check_result r = check_array(check_f64(out), ref, 4, CHECK_F32);
    expect(r.pass, "-inf and NaN (any sign) matched exactly pass");

    out[0] = INFINITY;
    expect(!check_array(check_f64(out), ref, 4, CHECK_F32).pass, "+inf for -inf fails");
    out[0] = -INFINITY, out[1] = 0.0;
    expect(!check_array(check_f64(out), ref, 4, CHECK_F32).pass, "a finite value for NaN fails");
    out[1] = -INFINITY;
    expect(!check_array(check_f64(out), ref, 4, CHECK_F32).pass, "-inf for NaN fails");

    double zeros[3] = {0.0, -INFINITY, 0.0}, got[3] = {0.0, -INFINITY, -0.0};
    expect(check_array(check_f64(got), zeros, 3, CHECK_BF16).pass, "all-zero reference, exact zeros pass");
    got[2] = 1e-30;
    expect(!check_array(check_f64(got), zeros, 3, CHECK_BF16).pass, "all-zero reference, 1e-30 fails");

    expect(check_array(check_f64(NULL), NULL, 0, CHECK_F32).pass, "empty output passes");
}

static void test_16bit_floor(void)
{
    static double ref[N];
    static uint16_t bf[N], hf[N];
    for (int i = 0; i < N; i++) ref[i] = normal();
    for (int i = 0; i < N; i++) bf[i] = ssm_f32_to_bf16((float)ref[i]);
    for (int i = 0; i < N; i++) hf[i] = ssm_f32_to_f16((float)ref[i]);

    check_result r = check_array(check_u16(bf, SSM_BF16), ref, N, CHECK_BF16);
    expect(r.pass && r.floor > 1e-4 && fabs(r.rel_l2 - r.floor) < 1e-12, "bf16 rounding of the reference passes at the floor");
    r = check_array(check_u16(hf, SSM_F16), ref, N, CHECK_F16);
    expect(r.pass && r.floor > 1e-5, "f16 rounding of the reference passes at the floor");

    /* Two ulps off everywhere: elementwise fine for bf16 at |ref| ~ rms, but 2x the floor. */
    for (int i = 0; i < N; i++) bf[i] = (uint16_t)(bf[i] + 2);
    r = check_array(check_u16(bf, SSM_BF16), ref, N, CHECK_BF16);
    expect(!r.pass && r.rel_l2 > r.rel_l2_limit, "bf16 two ulps off everywhere fails the floor rule");
}

/* ---------------------------------------------------------------- hsa_select */

enum { SEL_C = 4, SEL_R = 4, SEL_K = 2, SEL_S = 2 };

/* One query row (B = Lq = HR = 1) at q_offset 8: all 4 chunks eligible. Chunks 1 and 2 get the
   same landmark, so their scores tie exactly; chunk 3 scores highest, chunk 0 lowest. */
static void select_params(ssm_hsa_select_params *p, float *qr, float *lmk)
{
    for (int r = 0; r < SEL_R; r++) qr[r] = (float)(0.5 + normal() * 0.1);
    for (int r = 0; r < SEL_R; r++) {
        float base = (float)normal();
        lmk[3 * SEL_R + r] = qr[r] * 4.0f;
        lmk[2 * SEL_R + r] = lmk[1 * SEL_R + r] = qr[r] + base * 0.01f;
        lmk[0 * SEL_R + r] = -qr[r] * 4.0f;
    }
    memset(p, 0, sizeof *p);
    p->dtype = SSM_F32;
    p->B = 1, p->Lq = 1, p->C = SEL_C, p->HR = 1, p->R = SEL_R, p->K = SEL_K, p->S = SEL_S;
    p->q_offset = 8;
    p->mode = SSM_HSA_STICK;
    p->qr.data = qr, p->lmk.data = lmk;
}

static void stick_weights(const ssm_hsa_select_params *p, const int32_t *idx, double *w)
{
    double used = 0.0;
    for (int i = 0; i < SEL_K; i++) {
        double r = ssm_ref_hsa_score(p, 0, 0, 0, idx[i]);
        used += r > 15 ? r : log1p(exp(r));
        w[i] = exp(r - used);
    }
}

static int select_passes(const ssm_hsa_select_params *p, const int32_t *got, const float *got_w,
                         const int32_t *exp, const double *exp_w)
{
    check_result ri, rw;
    check_hsa_select(p, got, check_f32(got_w), exp, exp_w, CHECK_F32, &ri, &rw);
    return ri.pass && rw.pass;
}

static void test_hsa_select(void)
{
    float qr[SEL_R], lmk[SEL_C * SEL_R];
    ssm_hsa_select_params p;
    select_params(&p, qr, lmk);

    int32_t exp[SEL_K] = {3, 2};
    double exp_w[SEL_K];
    float got_w[SEL_K];
    stick_weights(&p, exp, exp_w);
    for (int i = 0; i < SEL_K; i++) got_w[i] = (float)exp_w[i];
    expect(select_passes(&p, exp, got_w, exp, exp_w), "hsa_select: identical selection passes");

    int32_t tie[SEL_K] = {3, 1};
    double tie_w[SEL_K];
    stick_weights(&p, tie, tie_w);
    for (int i = 0; i < SEL_K; i++) got_w[i] = (float)tie_w[i];
    expect(select_passes(&p, tie, got_w, exp, exp_w), "hsa_select: a tied chunk may replace another");

    int32_t worse[SEL_K] = {3, 0};
    expect(!select_passes(&p, worse, got_w, exp, exp_w), "hsa_select: a lower-scoring chunk fails");
    int32_t order[SEL_K] = {2, 3};
    expect(!select_passes(&p, order, got_w, exp, exp_w), "hsa_select: ascending slot order fails");
    int32_t dup[SEL_K] = {3, 3};
    expect(!select_passes(&p, dup, got_w, exp, exp_w), "hsa_select: a repeated chunk fails");
    int32_t poison[SEL_K] = {3, 0x7FC5A5A5};
    expect(!select_passes(&p, poison, got_w, exp, exp_w), "hsa_select: an unwritten index fails");

    for (int i = 0; i < SEL_K; i++) got_w[i] = (float)exp_w[i];
    got_w[1] *= 1.01f;
    expect(!select_passes(&p, exp, got_w, exp, exp_w), "hsa_select: a weight 1% off fails");

    p.q_offset = 6;   /* chunk 3 ends at 8 > 6: no longer eligible */
    int32_t exp6[SEL_K] = {2, 1};
    expect(!select_passes(&p, exp, got_w, exp6, exp_w), "hsa_select: an ineligible chunk fails");
}

/* ---------------------------------------------------------------- golden loader */

static void put(FILE *f, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) fputc((int)(v >> (8 * i) & 0xFF), f);
}

static void put_record(FILE *f, const char *name, int type, int ndim, const uint64_t *dims,
                       const void *data, size_t bytes)
{
    put(f, strlen(name), 2);
    fwrite(name, 1, strlen(name), f);
    put(f, (uint64_t)type, 1);
    put(f, (uint64_t)ndim, 1);
    for (int d = 0; d < ndim; d++) put(f, dims[d], 8);
    fwrite(data, 1, bytes, f);   /* the test machines are little-endian; the loader is not */
}

/* A tiny conv1d case; extra adds an unknown record, x_len changes x's length. */
static void write_case(const char *path, int extra, uint64_t x_len, int truncate)
{
    FILE *f = fopen(path, "wb");
    float x[8], w[2];
    double out[8] = {0};
    for (int i = 0; i < 8; i++) x[i] = (float)normal();
    for (int i = 0; i < 2; i++) w[i] = (float)normal();
    uint64_t text3[1] = {6}, text_dt[1] = {3}, xd[3] = {1, 1, x_len}, wd[2] = {1, 2}, od[3] = {1, 1, 8};
    fwrite("SSMGOLD1", 1, 8, f);
    put(f, 5u + (extra ? 1u : 0u), 4);
    put_record(f, "op", GOLDEN_TEXT, 1, text3, "conv1d", 6);
    put_record(f, "io_dtype", GOLDEN_TEXT, 1, text_dt, "f32", 3);
    put_record(f, "x", GOLDEN_F32, 3, xd, x, x_len * sizeof(float));
    put_record(f, "weight", GOLDEN_F32, 2, wd, w, sizeof w);
    if (extra) put_record(f, "future_feature", GOLDEN_F32, 2, wd, w, sizeof w);
    put_record(f, "expect.out", GOLDEN_F64, 3, od, out, truncate ? 12 : sizeof out);
    fclose(f);
}

static void test_golden_loader(const char *dir, const char *scratch)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/test_check_tmp.ssmg", scratch);
    golden_case gc;
    golden_run run;
    char why[256];

    write_case(path, 0, 8, 1);
    expect(golden_load(path, &gc, why, sizeof why) != 0, "golden: a truncated file is refused");

    write_case(path, 1, 8, 0);
    int loaded = golden_load(path, &gc, why, sizeof why) == 0;
    golden_verdict v = loaded ? golden_prepare(&gc, &run, why, sizeof why) : GOLDEN_FAIL;
    expect(v == GOLDEN_SKIP && strstr(why, "future_feature") != NULL, "golden: an unknown record skips, named");
    if (loaded) golden_free(&gc);

    write_case(path, 0, 7, 0);
    loaded = golden_load(path, &gc, why, sizeof why) == 0;
    v = loaded ? golden_prepare(&gc, &run, why, sizeof why) : GOLDEN_PASS;
    expect(v == GOLDEN_FAIL && strstr(why, "expect.out") != NULL, "golden: inconsistent shapes fail");
    if (loaded) golden_free(&gc);
    remove(path);

    /* Outputs nobody wrote must fail: poison, then compare without calling anything. */
    char real[1024];
    snprintf(real, sizeof real, "%s/conv1d--f32-all.ssmg", dir);
    if (golden_load(real, &gc, why, sizeof why) != 0) {
        expect(0, why);
        return;
    }
    if (golden_prepare(&gc, &run, why, sizeof why) == GOLDEN_PASS) {
        golden_report rep;
        golden_reset(&run);
        golden_compare(&run, SSM_ISA_SCALAR, &rep);
        expect(rep.verdict == GOLDEN_FAIL, "golden: unwritten library outputs fail");
        golden_compare(&run, GOLDEN_REFERENCE, &rep);
        expect(rep.verdict == GOLDEN_FAIL, "golden: unwritten reference outputs fail");
        golden_execute(&run, GOLDEN_REFERENCE, &rep);
        expect(rep.verdict == GOLDEN_PASS, "golden: the reference passes the case it was poisoned for");
        golden_release(&run);
    } else {
        expect(0, why);
    }
    golden_free(&gc);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GOLDEN_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    test_elementwise_and_l2();
    test_nonfinite_and_zero();
    test_16bit_floor();
    test_hsa_select();
    test_golden_loader(argv[1], argv[2]);
    printf("%d passed, %d failed, 0 skipped\n", passed, failed);
    return failed ? 1 : 0;
}
