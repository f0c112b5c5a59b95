/* check.h — the SPEC §7 tolerance checker, shared by the tests and the benchmarks.

   One call compares one output array against its float64 reference:

       check_result r = check_array(check_f32(out), ref, n, check_class_of(SSM_F32, p.dtype));
       if (!r.pass) printf("%s at %lld: expected %g got %g\n", r.reason, r.worst, r.expected, r.got);

   The tolerance class comes from how the output is stored and from the call's activation
   dtype (check_class_of). The rules, all from SPEC §7, over the entries whose reference is finite,
   with rms = sqrt(mean(ref^2)) over those entries:

     elementwise   |out - ref| <= rtol * |ref| + atol * rms
     relative L2   ||out - ref|| / ||ref|| <= limit  (16-bit: 1.5 * floor + 1e-6)
     non-finite    a non-finite reference must be matched exactly: +inf / -inf by value, NaN by
                   class (any NaN: IEEE 754 leaves the sign of a computed NaN unspecified, and
                   x86 produces negative ones); a non-finite output where the reference is
                   finite fails
     all zero      if every finite reference value is 0, every finite output must be exactly 0
     empty         n == 0 passes

   hsa_select's int32 indices follow their own rule (check_hsa_select). */
#ifndef SSM_TESTS_CHECK_H
#define SSM_TESTS_CHECK_H

#include <stdint.h>

#include "../ssm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The four rows of the SPEC §7 table. */
typedef enum check_class {
    CHECK_F32 = 0,      /* f32 output, all inputs f32:               rtol 1e-4,   L2 <= 1e-5 */
    CHECK_F32_MIXED,    /* f32 output (states, lse, w), 16-bit acts: rtol 1e-3,   L2 <= 1e-4 */
    CHECK_F16,          /* f16 output:                                rtol 2e-3,   L2 <= 1.5 floor + 1e-6 */
    CHECK_BF16,         /* bf16 output:                               rtol 1.6e-2, L2 <= 1.5 floor + 1e-6 */
    CHECK_CLASS_COUNT
} check_class;

/* The class of an output stored as `stored` in a call whose activations are `activations`. */
check_class check_class_of(ssm_dtype stored, ssm_dtype activations);
const char *check_class_name(check_class cls);
double check_rtol(check_class cls);   /* also the atol: SPEC §7 uses the same number for both */

/* An output array as the checker reads it: f32 values, 16-bit bit patterns, or doubles. */
typedef enum check_kind { CHECK_KIND_F32, CHECK_KIND_F16, CHECK_KIND_BF16, CHECK_KIND_F64 } check_kind;
typedef struct check_values {
    const void *data;
    check_kind kind;
} check_values;

check_values check_f32(const float *data);
check_values check_f64(const double *data);
check_values check_u16(const uint16_t *bits, ssm_dtype dtype);   /* dtype SSM_F16 or SSM_BF16 */
double check_value_at(check_values v, int64_t i);

typedef struct check_result {
    int pass;
    /* The worst elementwise ratio |out - ref| / (rtol * |ref| + atol * rms) over the finite
       entries: the elementwise rule holds iff max_err <= 1. 0/0 counts as 0 and x/0 as inf (an
       all-zero reference). For check_hsa_select's idx result: 0 when it passes, else 1. */
    double max_err;
    double max_abs;       /* the raw max |out - ref| over the finite entries */
    double rel_l2;        /* ||out - ref|| / ||ref|| over the finite entries (0 when ||ref|| = 0
                             and the output is exact, else inf) */
    double floor;         /* ||round(ref) - ref|| / ||ref||, rounding to the class's storage type */
    double rel_l2_limit;  /* what rel_l2 had to stay under */
    int64_t worst;        /* flat index of the element that decided: the first failing
                             non-finite entry, else the worst ratio; -1 when n == 0 */
    double expected, got; /* at worst */
    char reason[128];     /* empty on pass */
} check_result;

/* Compares n outputs with their float64 reference under the rules of cls. */
check_result check_array(check_values out, const double *ref, int64_t n, check_class cls);

/* hsa_select (SPEC §7): indices must match exactly, except that chunks whose reference scores
   (ssm_ref_hsa_score on p) differ by at most 1e-5 * max(1, |r|) may trade places and selection.
   Every returned index must be -1 or an eligible chunk, valid slots first, in strictly
   descending chunk order. Weights are then compared slot by slot under w_class against
   exp_w, except in rows where near-tie swaps changed the selection: there the expected weights
   are those of the returned selection, recomputed in double from the reference scores (SPEC §5
   formulas), which is what aligning the swapped slots means for order-dependent stick-breaking.
   p: the params the kernel ran with (qr, lmk, shapes, mode); arrays (B, Lq, HR, K) contiguous.
   got_w.data or exp_w may be NULL to compare indices only (*w_res is then a pass). */
void check_hsa_select(const ssm_hsa_select_params *p, const int32_t *got_idx, check_values got_w,
                      const int32_t *exp_idx, const double *exp_w, check_class w_class,
                      check_result *idx_res, check_result *w_res);

#ifdef __cplusplus
}
#endif

#endif /* SSM_TESTS_CHECK_H */
