/* ssm_ref.c — the naive reference of SPEC.md (see ssm_ref.h for what it promises).

   Every op below is the SPEC formula transcribed loop for loop, in double. Inputs are read
   through one accessor (a tensor view: data, element kind, strides) so that dtype conversion
   and strides are handled in one place and each op reads like its SPEC section. */
#include "ssm_ref.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- reading operands */

typedef enum ssm__ref_kind {
    SSM__REF_F32,
    SSM__REF_F16,   /* uint16_t bit patterns */
    SSM__REF_BF16,  /* uint16_t bit patterns */
    SSM__REF_I32,
    SSM__REF_I64
} ssm__ref_kind;

/* An input operand as the library sees it. An absent operand (data == NULL) reads as 0, which is
   exactly what every optional additive term means (Dskip, biases, initial states). */
typedef struct ssm__ref_tensor {
    const void *data;
    ssm__ref_kind kind;
    int rank;
    int64_t stride[SSM_MAX_RANK];   /* elements: the caller's strides, or contiguous */
} ssm__ref_tensor;

static ssm__ref_kind ssm__ref_activation_kind(ssm_dtype dtype)
{
    switch (dtype) {
    case SSM_F16: return SSM__REF_F16;
    case SSM_BF16: return SSM__REF_BF16;
    default: return SSM__REF_F32;   /* validate has rejected anything else */
    }
}

static ssm__ref_tensor ssm__ref_view(const void *data, const int64_t *stride, ssm__ref_kind kind,
                                     int rank, const int64_t *dims)
{
    ssm__ref_tensor t;
    int64_t contiguous = 1;
    assert(rank >= 1 && rank <= SSM_MAX_RANK);
    t.data = data;
    t.kind = kind;
    t.rank = rank;
    for (int i = rank - 1; i >= 0; --i) {
        t.stride[i] = stride ? stride[i] : contiguous;
        contiguous *= dims[i];
    }
    return t;
}

static int64_t ssm__ref_offset(const ssm__ref_tensor *t, int n_index, const int64_t *index)
{
    int64_t offset = 0;
    assert(n_index == t->rank);
    for (int i = 0; i < n_index; ++i)
        offset += index[i] * t->stride[i];
    return offset;
}

static double ssm__ref_read(const ssm__ref_tensor *t, int n_index, const int64_t *index)
{
    if (!t->data)
        return 0.0;
    int64_t at = ssm__ref_offset(t, n_index, index);
    switch (t->kind) {
    case SSM__REF_F32: return ((const float *)t->data)[at];
    case SSM__REF_F16: return ssm_f16_to_f32(((const uint16_t *)t->data)[at]);
    case SSM__REF_BF16: return ssm_bf16_to_f32(((const uint16_t *)t->data)[at]);
    case SSM__REF_I32: return ((const int32_t *)t->data)[at];
    case SSM__REF_I64: return (double)((const int64_t *)t->data)[at];
    }
    return 0.0;
}

static int64_t ssm__ref_read_int(const ssm__ref_tensor *t, int n_index, const int64_t *index)
{
    assert(t->data && (t->kind == SSM__REF_I32 || t->kind == SSM__REF_I64));
    int64_t at = ssm__ref_offset(t, n_index, index);
    return t->kind == SSM__REF_I32 ? ((const int32_t *)t->data)[at] : ((const int64_t *)t->data)[at];
}

#define SSM__REF_COUNT(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
/* VIEW(operand, kind, dims...): the view of an ssm_in/ssm_out with that logical shape. */
#define SSM__REF_VIEW(operand, kind, ...) \
    ssm__ref_view((operand).data, (operand).stride, (kind), SSM__REF_COUNT(__VA_ARGS__), \
                  (const int64_t[]){__VA_ARGS__})
/* AT(view, i0, i1, ...): the element as a double; INT_AT: an index operand's element. */
#define SSM__REF_AT(view, ...) \
    ssm__ref_read(&(view), SSM__REF_COUNT(__VA_ARGS__), (const int64_t[]){__VA_ARGS__})
#define SSM__REF_INT_AT(view, ...) \
    ssm__ref_read_int(&(view), SSM__REF_COUNT(__VA_ARGS__), (const int64_t[]){__VA_ARGS__})

/* ---------------------------------------------------------------- math of SPEC §0 */

static double ssm__ref_softplus(double x, double threshold)
{
    return x > threshold ? x : log1p(exp(x));
}

static double ssm__ref_silu(double x)
{
    return x / (1.0 + exp(-x));
}

/* Comparisons with NaN are false, so a NaN stays NaN. */
static double ssm__ref_clamp(double x, double lo, double hi)
{
    if (x < lo)
        x = lo;
    if (x > hi)
        x = hi;
    return x;
}

/* ---------------------------------------------------------------- sequences, scratch, outputs */

/* One sequence of a call: tokens [start, end) of batch row b. Without cu_seqlens, sequence s is
   batch row s with all L tokens; with them (B == 1) it is tokens [cu[s], cu[s+1]) of row 0. */
typedef struct ssm__ref_sequence {
    int64_t b, start, end;
} ssm__ref_sequence;

static ssm__ref_sequence ssm__ref_sequence_of(const ssm__ref_tensor *cu_seqlens, int64_t L, int64_t s)
{
    ssm__ref_sequence seq;
    if (cu_seqlens->data) {
        seq.b = 0;
        seq.start = SSM__REF_INT_AT(*cu_seqlens, s);
        seq.end = SSM__REF_INT_AT(*cu_seqlens, s + 1);
    } else {
        seq.b = s;
        seq.start = 0;
        seq.end = L;
    }
    return seq;
}

/* Scratch for `count` elements; one extra so that count == 0 is not a NULL result. */
static void *ssm__ref_alloc(int64_t count, size_t size)
{
    return malloc((size_t)(count + 1) * size);
}

/* Outputs are cleared first: what no formula writes (varlen padding tokens, rows of a padded
   state_index) is 0 by the SPEC. */
static void ssm__ref_zero(double *out, int64_t count)
{
    if (out)
        for (int64_t i = 0; i < count; ++i)
            out[i] = 0.0;
}

/* ---------------------------------------------------------------- §1 selective scan */

ssm_status ssm_ref_selective_scan(const ssm_selective_scan_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_selective_scan_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, D = prm->D, L = prm->L, N = prm->N, G = prm->G ? prm->G : 1;
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor cu = SSM__REF_VIEW(prm->cu_seqlens, SSM__REF_I64, prm->nseq + 1);
    const int64_t nseq = cu.data ? prm->nseq : B;
    const ssm__ref_tensor u = SSM__REF_VIEW(prm->u, act, B, D, L);
    const ssm__ref_tensor delta = SSM__REF_VIEW(prm->delta, act, B, D, L);
    const ssm__ref_tensor z = SSM__REF_VIEW(prm->z, act, B, D, L);
    const ssm__ref_tensor Bm = SSM__REF_VIEW(prm->Bm, act, B, G, N, L);
    const ssm__ref_tensor Cm = SSM__REF_VIEW(prm->Cm, act, B, G, N, L);
    const ssm__ref_tensor A = SSM__REF_VIEW(prm->A, SSM__REF_F32, D, N);
    const ssm__ref_tensor Dskip = SSM__REF_VIEW(prm->Dskip, SSM__REF_F32, D);
    const ssm__ref_tensor delta_bias = SSM__REF_VIEW(prm->delta_bias, SSM__REF_F32, D);
    const ssm__ref_tensor h0 = SSM__REF_VIEW(prm->h0, SSM__REF_F32, nseq, D, N);

    double *h = (double *)ssm__ref_alloc(N, sizeof(double));
    if (!h)
        return SSM_ERR_NOMEM;
    ssm__ref_zero(r->out, B * D * L);

    for (int64_t s = 0; s < nseq; ++s) {
        const ssm__ref_sequence seq = ssm__ref_sequence_of(&cu, L, s);
        const int64_t b = seq.b;
        for (int64_t d = 0; d < D; ++d) {
            const int64_t g = d / (D / G);
            for (int64_t n = 0; n < N; ++n)
                h[n] = SSM__REF_AT(h0, s, d, n);
            for (int64_t t = seq.start; t < seq.end; ++t) {
                double dt = SSM__REF_AT(delta, b, d, t) + SSM__REF_AT(delta_bias, d);
                if (prm->delta_softplus)
                    dt = ssm__ref_softplus(dt, 20.0);
                const double ut = SSM__REF_AT(u, b, d, t);
                double y = 0.0;
                for (int64_t n = 0; n < N; ++n) {
                    h[n] = exp(dt * SSM__REF_AT(A, d, n)) * h[n] + dt * SSM__REF_AT(Bm, b, g, n, t) * ut;
                    y += SSM__REF_AT(Cm, b, g, n, t) * h[n];
                }
                y += SSM__REF_AT(Dskip, d) * ut;
                if (z.data)
                    y *= ssm__ref_silu(SSM__REF_AT(z, b, d, t));
                if (r->out)
                    r->out[(b * D + d) * L + t] = y;
            }
            if (r->h_last)
                for (int64_t n = 0; n < N; ++n)
                    r->h_last[(s * D + d) * N + n] = h[n];
        }
    }
    free(h);
    return SSM_OK;
}

/* ---------------------------------------------------------------- §2 decode step */

ssm_status ssm_ref_state_update(const ssm_state_update_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_state_update_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, H = prm->H, P = prm->P, N = prm->N, G = prm->G ? prm->G : 1;
    const int64_t Ns = prm->Ns ? prm->Ns : B;
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor state = SSM__REF_VIEW(prm->state, SSM__REF_F32, Ns, H, P, N);
    const ssm__ref_tensor x = SSM__REF_VIEW(prm->x, act, B, H, P);
    const ssm__ref_tensor dt = SSM__REF_VIEW(prm->dt, act, B, H, P);
    const ssm__ref_tensor z = SSM__REF_VIEW(prm->z, act, B, H, P);
    const ssm__ref_tensor Bm = SSM__REF_VIEW(prm->Bm, act, B, G, N);
    const ssm__ref_tensor Cm = SSM__REF_VIEW(prm->Cm, act, B, G, N);
    const ssm__ref_tensor A = SSM__REF_VIEW(prm->A, SSM__REF_F32, H, P, N);
    const ssm__ref_tensor Dskip = SSM__REF_VIEW(prm->Dskip, SSM__REF_F32, H, P);
    const ssm__ref_tensor dt_bias = SSM__REF_VIEW(prm->dt_bias, SSM__REF_F32, H, P);
    const ssm__ref_tensor state_index = SSM__REF_VIEW(prm->state_index, SSM__REF_I32, B);

    ssm__ref_zero(r->out, B * H * P);
    /* Rows no batch entry selects keep their value. Rows that are updated are read from
       prm->state below (old value) and written here: validate has rejected repeated indices. */
    if (r->state)
        for (int64_t s = 0; s < Ns; ++s)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t p = 0; p < P; ++p)
                    for (int64_t n = 0; n < N; ++n)
                        r->state[((s * H + h) * P + p) * N + n] = SSM__REF_AT(state, s, h, p, n);

    for (int64_t b = 0; b < B; ++b) {
        const int64_t s = state_index.data ? SSM__REF_INT_AT(state_index, b) : b;
        if (s < 0)
            continue;   /* padding: out row stays 0, no state touched */
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / (H / G);
            for (int64_t p = 0; p < P; ++p) {
                double dtp = SSM__REF_AT(dt, b, h, p) + SSM__REF_AT(dt_bias, h, p);
                if (prm->dt_softplus)
                    dtp = ssm__ref_softplus(dtp, 20.0);
                if (prm->dt_limit)
                    dtp = ssm__ref_clamp(dtp, prm->dt_min, prm->dt_max);
                const double xt = SSM__REF_AT(x, b, h, p);
                double y = 0.0;
                for (int64_t n = 0; n < N; ++n) {
                    const double updated = exp(dtp * SSM__REF_AT(A, h, p, n)) * SSM__REF_AT(state, s, h, p, n)
                                         + dtp * SSM__REF_AT(Bm, b, g, n) * xt;
                    y += updated * SSM__REF_AT(Cm, b, g, n);
                    if (r->state)
                        r->state[((s * H + h) * P + p) * N + n] = updated;
                }
                y += SSM__REF_AT(Dskip, h, p) * xt;
                if (z.data)
                    y *= ssm__ref_silu(SSM__REF_AT(z, b, h, p));
                if (r->out)
                    r->out[(b * H + h) * P + p] = y;
            }
        }
    }
    return SSM_OK;
}

/* ---------------------------------------------------------------- §3 SSD, as its recurrence */

ssm_status ssm_ref_ssd(const ssm_ssd_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_ssd_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, L = prm->L, H = prm->H, P = prm->P, N = prm->N, G = prm->G ? prm->G : 1;
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor cu = SSM__REF_VIEW(prm->cu_seqlens, SSM__REF_I64, prm->nseq + 1);
    const int64_t nseq = cu.data ? prm->nseq : B;
    const ssm__ref_tensor x = SSM__REF_VIEW(prm->x, act, B, L, H, P);
    const ssm__ref_tensor z = SSM__REF_VIEW(prm->z, act, B, L, H, P);
    const ssm__ref_tensor dt = SSM__REF_VIEW(prm->dt, act, B, L, H);
    const ssm__ref_tensor Bm = SSM__REF_VIEW(prm->Bm, act, B, L, G, N);
    const ssm__ref_tensor Cm = SSM__REF_VIEW(prm->Cm, act, B, L, G, N);
    const ssm__ref_tensor A = SSM__REF_VIEW(prm->A, SSM__REF_F32, H);
    const ssm__ref_tensor dt_bias = SSM__REF_VIEW(prm->dt_bias, SSM__REF_F32, H);
    const ssm__ref_tensor Dskip = SSM__REF_VIEW(prm->Dskip, SSM__REF_F32, H, P);
    const ssm__ref_tensor h0 = SSM__REF_VIEW(prm->h0, SSM__REF_F32, nseq, H, P, N);
    /* dt' is always clamped below at 0, so every decay exp(dt' A) with A <= 0 is at most 1. */
    const double dt_lo = prm->dt_limit ? fmax((double)prm->dt_min, 0.0) : 0.0;
    const double dt_hi = prm->dt_limit ? (double)prm->dt_max : INFINITY;

    double *h = (double *)ssm__ref_alloc(N, sizeof(double));
    if (!h)
        return SSM_ERR_NOMEM;
    ssm__ref_zero(r->out, B * L * H * P);

    for (int64_t s = 0; s < nseq; ++s) {
        const ssm__ref_sequence seq = ssm__ref_sequence_of(&cu, L, s);
        const int64_t b = seq.b;
        for (int64_t hd = 0; hd < H; ++hd) {
            const int64_t g = hd / (H / G);
            for (int64_t p = 0; p < P; ++p) {
                for (int64_t n = 0; n < N; ++n)
                    h[n] = SSM__REF_AT(h0, s, hd, p, n);
                for (int64_t t = seq.start; t < seq.end; ++t) {
                    double dtp = SSM__REF_AT(dt, b, t, hd) + SSM__REF_AT(dt_bias, hd);
                    if (prm->dt_softplus)
                        dtp = ssm__ref_softplus(dtp, 20.0);
                    dtp = ssm__ref_clamp(dtp, dt_lo, dt_hi);
                    const double a = exp(dtp * SSM__REF_AT(A, hd));
                    const double xt = SSM__REF_AT(x, b, t, hd, p);
                    double y = 0.0;
                    for (int64_t n = 0; n < N; ++n) {
                        h[n] = a * h[n] + dtp * xt * SSM__REF_AT(Bm, b, t, g, n);
                        y += h[n] * SSM__REF_AT(Cm, b, t, g, n);
                    }
                    y += SSM__REF_AT(Dskip, hd, p) * xt;
                    if (z.data)
                        y *= ssm__ref_silu(SSM__REF_AT(z, b, t, hd, p));
                    if (r->out)
                        r->out[((b * L + t) * H + hd) * P + p] = y;
                }
                if (r->h_last)
                    for (int64_t n = 0; n < N; ++n)
                        r->h_last[((s * H + hd) * P + p) * N + n] = h[n];
            }
        }
    }
    free(h);
    return SSM_OK;
}

/* ---------------------------------------------------------------- §4 causal depthwise conv1d */

/* xe[i] of SPEC §4: the W-1 previous inputs of state row `row`, then the sequence's own tokens. */
static double ssm__ref_conv_input(const ssm__ref_tensor *state0, const ssm__ref_tensor *x, int64_t W,
                                  int64_t row, const ssm__ref_sequence *seq, int64_t d, int64_t i)
{
    if (i < W - 1)
        return SSM__REF_AT(*state0, row, d, i);
    return SSM__REF_AT(*x, seq->b, d, seq->start + i - (W - 1));
}

ssm_status ssm_ref_conv1d(const ssm_conv1d_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_conv1d_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, D = prm->D, L = prm->L, W = prm->W;
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor cu = SSM__REF_VIEW(prm->cu_seqlens, SSM__REF_I64, prm->nseq + 1);
    const int64_t nseq = cu.data ? prm->nseq : B;
    const ssm__ref_tensor state_index = SSM__REF_VIEW(prm->state_index, SSM__REF_I32, nseq);
    /* State rows: one per sequence, or the rows of a cache that state_index picks from. */
    const int64_t rows = state_index.data && prm->Ns ? prm->Ns : nseq;
    const ssm__ref_tensor x = SSM__REF_VIEW(prm->x, act, B, D, L);
    const ssm__ref_tensor weight = SSM__REF_VIEW(prm->weight, SSM__REF_F32, D, W);
    const ssm__ref_tensor bias = SSM__REF_VIEW(prm->bias, SSM__REF_F32, D);
    const ssm__ref_tensor state0 = SSM__REF_VIEW(prm->state0, SSM__REF_F32, rows, D, W - 1);

    ssm__ref_zero(r->out, B * D * L);
    /* With a cache, rows no sequence selects keep their value (0 when there is no state0). */
    if (r->state_last)
        for (int64_t row = 0; row < rows; ++row)
            for (int64_t d = 0; d < D; ++d)
                for (int64_t k = 0; k < W - 1; ++k)
                    r->state_last[(row * D + d) * (W - 1) + k] = SSM__REF_AT(state0, row, d, k);

    for (int64_t s = 0; s < nseq; ++s) {
        const ssm__ref_sequence seq = ssm__ref_sequence_of(&cu, L, s);
        const int64_t row = state_index.data ? SSM__REF_INT_AT(state_index, s) : s;
        if (row < 0)
            continue;   /* padding: out rows stay 0, no state touched */
        const int64_t len = seq.end - seq.start;
        for (int64_t d = 0; d < D; ++d) {
            for (int64_t t = 0; t < len; ++t) {
                double y = SSM__REF_AT(bias, d);
                for (int64_t k = 0; k < W; ++k)
                    y += SSM__REF_AT(weight, d, k) * ssm__ref_conv_input(&state0, &x, W, row, &seq, d, t + k);
                if (prm->silu)
                    y = ssm__ref_silu(y);
                if (r->out)
                    r->out[(seq.b * D + d) * L + seq.start + t] = y;
            }
            /* The last W-1 entries of xe, which has W-1+len entries. */
            if (r->state_last)
                for (int64_t k = 0; k < W - 1; ++k)
                    r->state_last[(row * D + d) * (W - 1) + k] =
                        ssm__ref_conv_input(&state0, &x, W, row, &seq, d, len + k);
        }
    }
    return SSM_OK;
}

/* ---------------------------------------------------------------- §5 HSA chunk selection */

double ssm_ref_hsa_score(const ssm_hsa_select_params *prm, int64_t b, int64_t t, int64_t h, int64_t c)
{
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor qr = SSM__REF_VIEW(prm->qr, act, prm->B, prm->Lq, prm->HR, prm->R);
    const ssm__ref_tensor lmk = SSM__REF_VIEW(prm->lmk, act, prm->B, prm->C, prm->HR, prm->R);
    double dot = 0.0;
    for (int64_t i = 0; i < prm->R; ++i)
        dot += SSM__REF_AT(qr, b, t, h, i) * SSM__REF_AT(lmk, b, c, h, i);
    return dot / sqrt((double)prm->R);
}

static int ssm__ref_chunk_eligible(const ssm_hsa_select_params *prm, int64_t pos, int64_t c)
{
    if (prm->window)
        return (c + 1) * prm->S <= pos - prm->window + prm->S;
    return (c + 1) * prm->S <= pos;
}

/* Whether chunk a (score ra) is picked before chunk b (score rb): larger score first, ties go to
   the larger chunk index, NaN scores last. */
static int ssm__ref_ranks_before(double ra, int64_t a, double rb, int64_t b)
{
    if (isnan(ra) || isnan(rb)) {
        if (isnan(ra) != isnan(rb))
            return isnan(rb);
        return a > b;
    }
    if (ra != rb)
        return ra > rb;
    return a > b;
}

ssm_status ssm_ref_hsa_select(const ssm_hsa_select_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_hsa_select_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, Lq = prm->Lq, C = prm->C, HR = prm->HR, K = prm->K;
    double *score = (double *)ssm__ref_alloc(C, sizeof(double));
    char *eligible = (char *)ssm__ref_alloc(C, 1);
    char *chosen = (char *)ssm__ref_alloc(C, 1);
    int64_t *slot_chunk = (int64_t *)ssm__ref_alloc(K, sizeof(int64_t));
    if (!score || !eligible || !chosen || !slot_chunk) {
        status = SSM_ERR_NOMEM;
        goto done;
    }

    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < Lq; ++t)
            for (int64_t h = 0; h < HR; ++h) {
                const int64_t pos = prm->q_offset + t;
                int64_t n_eligible = 0;
                for (int64_t c = 0; c < C; ++c) {
                    eligible[c] = (char)ssm__ref_chunk_eligible(prm, pos, c);
                    chosen[c] = 0;
                    if (eligible[c]) {
                        score[c] = ssm_ref_hsa_score(prm, b, t, h, c);
                        ++n_eligible;
                    }
                }
                /* Top-k by repeated selection of the best remaining eligible chunk. */
                const int64_t n_chosen = n_eligible < K ? n_eligible : K;
                for (int64_t i = 0; i < n_chosen; ++i) {
                    int64_t best = -1;
                    for (int64_t c = 0; c < C; ++c)
                        if (eligible[c] && !chosen[c] &&
                            (best < 0 || ssm__ref_ranks_before(score[c], c, score[best], best)))
                            best = c;
                    chosen[best] = 1;
                }
                /* Slots in chunk order, most recent first. */
                int64_t n_slots = 0;
                for (int64_t c = C - 1; c >= 0; --c)
                    if (chosen[c])
                        slot_chunk[n_slots++] = c;

                double *w = r->w ? r->w + ((b * Lq + t) * HR + h) * K : NULL;
                int32_t *idx = r->idx ? r->idx + ((b * Lq + t) * HR + h) * K : NULL;
                for (int64_t i = 0; i < K; ++i) {
                    if (idx)
                        idx[i] = i < n_slots ? (int32_t)slot_chunk[i] : -1;
                    if (w)
                        w[i] = 0.0;
                }
                if (!w)
                    continue;
                if (prm->mode == SSM_HSA_SOFTMAX) {
                    double m = -INFINITY, sum = 0.0;
                    for (int64_t i = 0; i < n_slots; ++i)
                        m = fmax(m, score[slot_chunk[i]]);
                    for (int64_t i = 0; i < n_slots; ++i)
                        sum += exp(score[slot_chunk[i]] - m);
                    for (int64_t i = 0; i < n_slots; ++i)
                        w[i] = exp(score[slot_chunk[i]] - m) / sum;
                } else {
                    double broken = 0.0;   /* sum_{j<=i} softplus15(r[j]) */
                    for (int64_t i = 0; i < n_slots; ++i) {
                        broken += ssm__ref_softplus(score[slot_chunk[i]], 15.0);
                        w[i] = exp(score[slot_chunk[i]] - broken);
                    }
                }
            }
done:
    free(score);
    free(eligible);
    free(chosen);
    free(slot_chunk);
    return status;
}

/* ---------------------------------------------------------------- §5 HSA attention */

ssm_status ssm_ref_hsa_attention(const ssm_hsa_attention_params *prm, const ssm_ref_out *r)
{
    ssm_status status = ssm_hsa_attention_validate(prm);
    if (status != SSM_OK)
        return status;

    const int64_t B = prm->B, Lq = prm->Lq, Lk = prm->Lk, HQ = prm->HQ, HK = prm->HK;
    const int64_t E = prm->E, Ev = prm->Ev ? prm->Ev : prm->E, K = prm->K, S = prm->S;
    const double scale = prm->scale != 0.0f ? (double)prm->scale : 1.0 / sqrt((double)E);
    const double sm_n = prm->sm_n;
    const ssm__ref_kind act = ssm__ref_activation_kind(prm->dtype);
    const ssm__ref_tensor q = SSM__REF_VIEW(prm->q, act, B, Lq, HQ, E);
    const ssm__ref_tensor k = SSM__REF_VIEW(prm->k, act, B, Lk, HK, E);
    const ssm__ref_tensor v = SSM__REF_VIEW(prm->v, act, B, Lk, HK, Ev);
    const ssm__ref_tensor idx = SSM__REF_VIEW(prm->idx, SSM__REF_I32, B, Lq, HK, K);
    const ssm__ref_tensor w = SSM__REF_VIEW(prm->w, SSM__REF_F32, B, Lq, HK, K);

    double *s = (double *)ssm__ref_alloc(S, sizeof(double));
    double *acc = (double *)ssm__ref_alloc(Ev, sizeof(double));
    if (!s || !acc) {
        status = SSM_ERR_NOMEM;
        goto done;
    }

    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < Lq; ++t)
            for (int64_t hq = 0; hq < HQ; ++hq) {
                const int64_t h = hq / (HQ / HK);
                for (int64_t e = 0; e < Ev; ++e)
                    acc[e] = 0.0;
                for (int64_t i = 0; i < K; ++i) {
                    double *lse = r->lse ? &r->lse[((b * Lq + t) * HQ + hq) * K + i] : NULL;
                    const int64_t c = SSM__REF_INT_AT(idx, b, t, h, i);
                    if (c < 0) {
                        if (lse)
                            *lse = -INFINITY;
                        continue;
                    }
                    /* One softmax over the S keys of chunk c. */
                    for (int64_t j = 0; j < S; ++j) {
                        double dot = 0.0;
                        for (int64_t e = 0; e < E; ++e)
                            dot += SSM__REF_AT(q, b, t, hq, e) * SSM__REF_AT(k, b, c * S + j, h, e);
                        s[j] = scale * dot;
                    }
                    double m = s[0];
                    for (int64_t j = 1; j < S; ++j)
                        if (s[j] > m)
                            m = s[j];
                    double l = sm_n * exp(-m);
                    for (int64_t j = 0; j < S; ++j)
                        l += exp(s[j] - m);
                    const double wi = SSM__REF_AT(w, b, t, h, i);
                    for (int64_t j = 0; j < S; ++j) {
                        const double prob = exp(s[j] - m) / l;
                        for (int64_t e = 0; e < Ev; ++e)
                            acc[e] += wi * prob * SSM__REF_AT(v, b, c * S + j, h, e);
                    }
                    if (lse)
                        *lse = m + log(l);
                }
                if (r->o)
                    for (int64_t e = 0; e < Ev; ++e)
                        r->o[((b * Lq + t) * HQ + hq) * Ev + e] = acc[e];
            }
done:
    free(s);
    free(acc);
    return status;
}
