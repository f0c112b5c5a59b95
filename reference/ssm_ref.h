/* ssm_ref.h — the naive reference of every op in SPEC.md: the definition the tests and
   benchmarks check the library against.

   Each ssm_ref_<op>(p, r) takes the very parameter struct the library call takes and computes
   the op's formulas from SPEC.md literally: plain loops in the order the SPEC writes them, every
   intermediate in double, no blocking, no SIMD, no threads. It is written to be obviously right,
   not fast (the SSD reference is the per-token recurrence, not the chunked algorithm).

   - It first calls the library's ssm_<op>_validate(p) and returns that status if it is not
     SSM_OK, so a bad argument can never make the reference read out of bounds. validate checks
     the outputs too, so p must describe a complete call (required output pointers set), as
     the p that is passed to the library is.
   - It reads the inputs exactly as the library does: p->dtype says how activations are stored,
     every operand honours its stride array (NULL: contiguous; inputs may have 0 or negative
     strides), absent optional operands (data == NULL) take their SPEC meaning.
   - It ignores p's output pointers and strides and writes only into r (below): double arrays
     (int32 for idx), contiguous in the logical shape of that output. A NULL field of r is not
     produced. state_update reads p->state as the cache before the step and writes the whole
     cache after it to r->state; it never writes p->state.

   Returns SSM_OK, the validate status, or SSM_ERR_NOMEM when its own small scratch allocation
   fails. Link with ssm.h's implementation (validate, f16/bf16 conversions) and -lm. */
#ifndef SSM_REF_H_INCLUDED
#define SSM_REF_H_INCLUDED

#include "ssm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outputs of the reference, always double (int32 for idx), contiguous in the op's logical shape.
   A NULL field is not produced. */
typedef struct ssm_ref_out {
    double *out;         /* selective_scan, state_update, ssd, conv1d: shape of p->out */
    double *h_last;      /* selective_scan, ssd: (B or nseq, D, N) / (B or nseq, H, P, N) */
    double *state;       /* state_update: the whole cache (Ns, H, P, N) after the update */
    double *state_last;  /* conv1d: (B or nseq, D, W-1); with state_index the whole cache (Ns, D, W-1) after the update */
    int32_t *idx;        /* hsa_select: (B, Lq, HR, K) */
    double *w;           /* hsa_select: (B, Lq, HR, K) */
    double *o;           /* hsa_attention: (B, Lq, HQ, Ev) */
    double *lse;         /* hsa_attention: (B, Lq, HQ, K), -inf for empty slots */
} ssm_ref_out;

ssm_status ssm_ref_selective_scan(const ssm_selective_scan_params *p, const ssm_ref_out *r);
ssm_status ssm_ref_state_update(const ssm_state_update_params *p, const ssm_ref_out *r);
ssm_status ssm_ref_ssd(const ssm_ssd_params *p, const ssm_ref_out *r);
ssm_status ssm_ref_conv1d(const ssm_conv1d_params *p, const ssm_ref_out *r);
ssm_status ssm_ref_hsa_select(const ssm_hsa_select_params *p, const ssm_ref_out *r);
ssm_status ssm_ref_hsa_attention(const ssm_hsa_attention_params *p, const ssm_ref_out *r);
/* The selection score r[c] of SPEC §5 in double, for the near-tie rule of the checker.
   p must be valid (ssm_hsa_select_validate(p) == SSM_OK) and b, t, h, c in range. */
double ssm_ref_hsa_score(const ssm_hsa_select_params *p, int64_t b, int64_t t, int64_t h, int64_t c);

#ifdef __cplusplus
}
#endif

#endif /* SSM_REF_H_INCLUDED */
