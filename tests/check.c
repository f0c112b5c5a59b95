/* check.c — SPEC §7 tolerance checker (see check.h for the rules). */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"

check_class check_class_of(ssm_dtype stored, ssm_dtype activations)
{
    if (stored == SSM_F16) return CHECK_F16;
    if (stored == SSM_BF16) return CHECK_BF16;
    return activations == SSM_F32 ? CHECK_F32 : CHECK_F32_MIXED;
}

const char *check_class_name(check_class cls)
{
    switch (cls) {
    case CHECK_F32: return "f32";
    case CHECK_F32_MIXED: return "f32-with-16-bit-activations";
    case CHECK_F16: return "f16";
    case CHECK_BF16: return "bf16";
    default: return "?";
    }
}

double check_rtol(check_class cls)
{
    switch (cls) {
    case CHECK_F32: return 1e-4;
    case CHECK_F32_MIXED: return 1e-3;
    case CHECK_F16: return 2e-3;
    case CHECK_BF16: return 1.6e-2;
    default: return 0.0;
    }
}

/* The relative L2 bound; the 16-bit classes scale with what rounding alone costs. */
static double rel_l2_limit(check_class cls, double floor_)
{
    switch (cls) {
    case CHECK_F32: return 1e-5;
    case CHECK_F32_MIXED: return 1e-4;
    default: return 1.5 * floor_ + 1e-6;
    }
}

/* The reference rounded to the storage type of cls: what a perfect kernel would return. */
static double round_to_storage(check_class cls, double x)
{
    switch (cls) {
    case CHECK_F16: return ssm_f16_to_f32(ssm_f32_to_f16((float)x));
    case CHECK_BF16: return ssm_bf16_to_f32(ssm_f32_to_bf16((float)x));
    default: return (float)x;
    }
}

check_values check_f32(const float *data)
{
    check_values v = {data, CHECK_KIND_F32};
    return v;
}

check_values check_f64(const double *data)
{
    check_values v = {data, CHECK_KIND_F64};
    return v;
}

check_values check_u16(const uint16_t *bits, ssm_dtype dtype)
{
    check_values v = {bits, dtype == SSM_BF16 ? CHECK_KIND_BF16 : CHECK_KIND_F16};
    return v;
}

double check_value_at(check_values v, int64_t i)
{
    switch (v.kind) {
    case CHECK_KIND_F32: return ((const float *)v.data)[i];
    case CHECK_KIND_F16: return ssm_f16_to_f32(((const uint16_t *)v.data)[i]);
    case CHECK_KIND_BF16: return ssm_bf16_to_f32(((const uint16_t *)v.data)[i]);
    case CHECK_KIND_F64: return ((const double *)v.data)[i];
    }
    return NAN;
}

static void fail_at(check_result *r, int64_t i, double expected, double got, const char *why)
{
    r->pass = 0;
    r->worst = i;
    r->expected = expected;
    r->got = got;
    snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* Non-finite expected values are matched exactly (NaN by class, infinities by value). */
static int nonfinite_matches(double expected, double got)
{
    if (isnan(expected)) return isnan(got);
    return got == expected;
}

check_result check_array(check_values out, const double *ref, int64_t n, check_class cls)
{
    check_result r;
    memset(&r, 0, sizeof r);
    r.pass = 1;
    r.worst = -1;
    r.rel_l2_limit = rel_l2_limit(cls, 0.0);
    if (n <= 0) return r;

    /* Pass 1: the non-finite rules, and the sums the L2 rules and rms need. */
    double sum_ref2 = 0.0, sum_err2 = 0.0, sum_floor2 = 0.0;
    int64_t n_finite = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = ref[i], g = check_value_at(out, i);
        if (!isfinite(e)) {
            if (r.pass && !nonfinite_matches(e, g))
                fail_at(&r, i, e, g, "non-finite reference value not matched exactly");
            continue;
        }
        if (!isfinite(g)) {
            if (r.pass) fail_at(&r, i, e, g, "non-finite output where the reference is finite");
            continue;
        }
        double rounded = round_to_storage(cls, e);
        sum_ref2 += e * e;
        sum_err2 += (g - e) * (g - e);
        sum_floor2 += (rounded - e) * (rounded - e);
        n_finite++;
    }
    if (n_finite == 0) {
        r.max_err = r.pass ? 0.0 : INFINITY;
        r.max_abs = r.max_err;
        return r;
    }

    /* Pass 2: the elementwise rule, which needs the rms. */
    double rms = sqrt(sum_ref2 / (double)n_finite);
    double tol = check_rtol(cls);
    int64_t worst = -1;
    for (int64_t i = 0; i < n; i++) {
        double e = ref[i], g = check_value_at(out, i);
        if (!isfinite(e) || !isfinite(g)) continue;
        double err = fabs(g - e);
        double bound = tol * fabs(e) + tol * rms;
        double ratio = err == 0.0 ? 0.0 : bound == 0.0 ? INFINITY : err / bound;
        if (err > r.max_abs) r.max_abs = err;
        if (worst < 0 || ratio > r.max_err) {
            r.max_err = ratio;
            worst = i;
        }
    }

    if (sum_ref2 > 0.0) {
        r.rel_l2 = sqrt(sum_err2) / sqrt(sum_ref2);
        r.floor = sqrt(sum_floor2) / sqrt(sum_ref2);
    } else {
        r.rel_l2 = sum_err2 == 0.0 ? 0.0 : INFINITY;
    }
    r.rel_l2_limit = rel_l2_limit(cls, r.floor);

    if (!r.pass) {
        r.max_err = INFINITY;   /* a non-finite mismatch is beyond any tolerance */
        return r;
    }
    r.worst = worst;
    r.expected = ref[worst];
    r.got = check_value_at(out, worst);
    if (sum_ref2 == 0.0 && r.max_abs != 0.0)
        fail_at(&r, worst, r.expected, r.got, "reference is all zero but the output is not exactly 0");
    else if (r.max_err > 1.0)
        fail_at(&r, worst, r.expected, r.got, "elementwise tolerance exceeded");
    else if (!(r.rel_l2 <= r.rel_l2_limit)) {
        r.pass = 0;
        snprintf(r.reason, sizeof r.reason, "relative L2 error %.3g over the limit %.3g", r.rel_l2,
                 r.rel_l2_limit);
    }
    return r;
}

/* ---------------------------------------------------------------- hsa_select */

/* SPEC §5: chunk c is complete before absolute position pos (and outside the window). */
static int chunk_eligible(const ssm_hsa_select_params *p, int64_t t, int64_t c)
{
    int64_t pos = p->q_offset + t;
    if (p->window > 0) return (c + 1) * p->S <= pos - p->window + p->S;
    return (c + 1) * p->S <= pos;
}

static int near_tie(double a, double b)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= 1e-5 * scale;
}

static double softplus15(double x) { return x > 15.0 ? x : log1p(exp(x)); }

/* SPEC §5 weights of the chunks chosen[0..n), in slot order, from their scores. */
static void weights_from_scores(ssm_hsa_mode mode, const double *score, int64_t n, double *w)
{
    if (mode == SSM_HSA_SOFTMAX) {
        double m = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < n; i++) m = fmax(m, score[i]);
        for (int64_t i = 0; i < n; i++) sum += exp(score[i] - m);
        for (int64_t i = 0; i < n; i++) w[i] = exp(score[i] - m) / sum;
        return;
    }
    double used = 0.0;   /* sum of softplus over the slots so far: the stick already broken */
    for (int64_t i = 0; i < n; i++) {
        used += softplus15(score[i]);
        w[i] = exp(score[i] - used);
    }
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Counts the valid slots of a row and checks their shape: valid first, descending, eligible.
   Returns the count, or -1 - (failing slot) with *why set. */
static int64_t valid_slots(const ssm_hsa_select_params *p, int64_t t, const int32_t *row,
                           const char **why)
{
    int64_t n = 0;
    while (n < p->K && row[n] >= 0) {
        if (row[n] >= p->C) return *why = "index out of range", -1 - n;
        if (!chunk_eligible(p, t, row[n])) return *why = "chunk not eligible for this token", -1 - n;
        if (n > 0 && row[n] >= row[n - 1]) return *why = "slots not in descending chunk order", -1 - n;
        n++;
    }
    for (int64_t i = n; i < p->K; i++)
        if (row[i] != -1) return *why = "padding slot is not -1", -1 - i;
    return n;
}

static int row_contains(const int32_t *row, int64_t n, int32_t c)
{
    for (int64_t i = 0; i < n; i++)
        if (row[i] == c) return 1;
    return 0;
}

/* The chunks in a[0..na) missing from b[0..nb), as their reference scores. */
static int64_t scores_of_missing(const ssm_hsa_select_params *p, int64_t b, int64_t t, int64_t h,
                                 const int32_t *a, int64_t na, const int32_t *bb, int64_t nb,
                                 double *score)
{
    int64_t m = 0;
    for (int64_t i = 0; i < na; i++)
        if (!row_contains(bb, nb, a[i])) score[m++] = ssm_ref_hsa_score(p, b, t, h, a[i]);
    return m;
}

/* Checks one row; returns NULL when it is acceptable, setting *swapped when near-tie swaps
   changed the selection. On failure *slot is the slot to report. */
static const char *check_select_row(const ssm_hsa_select_params *p, int64_t b, int64_t t,
                                    int64_t h, const int32_t *got, const int32_t *exp,
                                    double *scratch, int *swapped, int64_t *slot)
{
    const char *why = NULL;
    int64_t n_got = valid_slots(p, t, got, &why);
    *swapped = 0;
    if (n_got < 0) return *slot = -1 - n_got, why;
    int64_t n_exp = valid_slots(p, t, exp, &why);
    if (n_exp < 0) return *slot = -1 - n_exp, "expected row itself is malformed";
    *slot = 0;
    if (n_got != n_exp) return *slot = n_got < n_exp ? n_got : n_exp, "wrong number of selected chunks";
    if (memcmp(got, exp, (size_t)n_got * sizeof *got) == 0) return NULL;

    /* Different selections: every chunk gained must pair with a chunk lost at a near-equal
       score. Pairing both sides sorted by score minimises the largest gap. */
    double *gained = scratch, *lost = scratch + p->K;
    int64_t n_gained = scores_of_missing(p, b, t, h, got, n_got, exp, n_exp, gained);
    int64_t n_lost = scores_of_missing(p, b, t, h, exp, n_exp, got, n_got, lost);
    qsort(gained, (size_t)n_gained, sizeof *gained, cmp_desc);
    qsort(lost, (size_t)n_lost, sizeof *lost, cmp_desc);
    for (int64_t i = 0; i < n_gained; i++)
        if (!near_tie(gained[i], lost[i])) {
            for (*slot = 0; *slot < n_got && got[*slot] == exp[*slot]; (*slot)++) {}
            return "selection differs beyond a near tie";
        }
    *swapped = n_gained > 0;
    return NULL;
}

static check_result passed_result(void)
{
    check_result r;
    memset(&r, 0, sizeof r);
    r.pass = 1;
    r.worst = -1;
    return r;
}

void check_hsa_select(const ssm_hsa_select_params *p, const int32_t *got_idx, check_values got_w,
                      const int32_t *exp_idx, const double *exp_w, check_class w_class,
                      check_result *idx_res, check_result *w_res)
{
    int64_t rows = p->B * p->Lq * p->HR, K = p->K, n = rows * K;
    int compare_w = got_w.data != NULL && exp_w != NULL;
    *idx_res = passed_result();
    *w_res = passed_result();
    if (n <= 0) return;

    double *aligned_w = compare_w ? (double *)malloc((size_t)n * sizeof *aligned_w) : NULL;
    double *scratch = (double *)malloc((size_t)(2 * K) * sizeof *scratch);
    if ((compare_w && !aligned_w) || !scratch) {
        free(aligned_w);
        free(scratch);
        fail_at(idx_res, 0, 0, 0, "out of memory in the checker");
        return;
    }
    if (compare_w) memcpy(aligned_w, exp_w, (size_t)n * sizeof *aligned_w);

    for (int64_t row = 0; row < rows && idx_res->pass; row++) {
        int64_t h = row % p->HR, t = row / p->HR % p->Lq, b = row / (p->HR * p->Lq);
        const int32_t *got = got_idx + row * K, *exp = exp_idx + row * K;
        int swapped;
        int64_t slot;
        const char *why = check_select_row(p, b, t, h, got, exp, scratch, &swapped, &slot);
        if (why) {
            fail_at(idx_res, row * K + slot, exp[slot], got[slot], why);
            idx_res->max_err = 1.0;
        } else if (swapped && compare_w) {
            int64_t n_valid = 0;
            while (n_valid < K && got[n_valid] >= 0) {
                scratch[n_valid] = ssm_ref_hsa_score(p, b, t, h, got[n_valid]);
                n_valid++;
            }
            weights_from_scores(p->mode, scratch, n_valid, aligned_w + row * K);
        }
    }
    if (idx_res->pass && compare_w) *w_res = check_array(got_w, aligned_w, n, w_class);
    free(aligned_w);
    free(scratch);
}
