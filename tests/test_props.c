/* test_props — randomized property tests of every op against the float64 reference
   (reference/ssm_ref.h), on every CPU backend this machine has, over the edge shapes of SPEC §7.

   Each case draws random normal inputs (A negative) for a shape and a set of options, computes
   the reference once, then on each backend poisons the outputs (NaN bit patterns; in/out
   states are restored), calls the op and checks, with check.h's SPEC §7 rules:
     - every output against the reference (check_array; hsa_select with check_hsa_select);
     - elements that must be exact: varlen padding tokens and padded cache entries are 0, and
       cache rows no entry selects keep their bits;
     - nothing was written outside an output's view (strided outputs have poisoned gaps), and
       no input was modified.
   Extra properties: NaN propagation stays inside its batch row / sequence / head; n_threads
   1, 2, 3 under OpenMP and under a caller parallel_for (run in reverse order) give identical
   bits; a workspace of exactly ssm_<op>_workspace_size() bytes (aligned or not) works and one
   byte less is SSM_ERR_ARG.

   One line per check: "PASS|FAIL|SKIP <op> <case>(<shape, options>) <dtype> <backend> ...";
   a FAIL line names the output, the element, expected and got. Last line:
   "N passed, M failed, K skipped"; exit status 1 on any failure.

   usage: test_props [--seed=N] [--reps=N]      (or SSM_TEST_SEED, SSM_TEST_REPS)
   --reps: how many random-option cases per op and dtype (default 8); the edge cases always run. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"
#include "check.h"
#include "props.h"

static props_rng g_rng;
static int g_reps;  /* random-option cases per op and dtype */

/* ================================================================ one case, many backends */

enum { MUST_FREE = 0, MUST_ZERO, MUST_KEEP };

/* One output of the op under test, with everything needed to judge it. */
typedef struct output {
    const char *name;
    tensor *t;
    double *ref;            /* float64 reference, contiguous in the logical shape */
    int32_t *ref_idx;       /* hsa_select's idx */
    check_class cls;
    unsigned char *must;    /* per logical element: MUST_ZERO / MUST_KEEP, or NULL */
    unsigned char *nan_ok;  /* per logical element: a blocked algorithm may leave NaN here */
    unsigned char *init;    /* the buffer before the first call: poison, or the in/out state */
} output;

enum { MAX_OUT = 4, MAX_OWNED = 32 };

typedef struct opcase {
    ssm_op op;
    ssm_dtype dtype;
    char name[320];
    const void *p;
    int n_out;
    output out[MAX_OUT];
    tensor *owned[MAX_OWNED];
    unsigned char *input_snap[MAX_OWNED];  /* inputs, to see that no call modifies them */
    int n_owned;
    void *blocks[MAX_OWNED];
    int n_blocks;
} opcase;

static void case_begin(opcase *c, ssm_op op, ssm_dtype dtype)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    c->dtype = dtype;
}

/* The case name: "<op> <tag>(<details>) <dtype>". */
static void case_name(opcase *c, const char *tag, const char *fmt, ...)
{
    char details[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    snprintf(c->name, sizeof c->name, "%s %s(%s) %s", ssm_op_name(c->op), tag, details, ssm_dtype_name(c->dtype));
}

static tensor *case_tensor(opcase *c, tkind kind, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                           const tlayout *lay)
{
    tensor *t = tensor_new4(kind, rank, d0, d1, d2, d3, lay);
    if (c->n_owned == MAX_OWNED) abort();
    c->owned[c->n_owned++] = t;
    return t;
}

static void *case_block(opcase *c, size_t bytes)
{
    void *b = calloc(1, bytes ? bytes : 1);
    if (!b || c->n_blocks == MAX_OWNED) abort();
    c->blocks[c->n_blocks++] = b;
    return b;
}

/* Registers an output; its reference buffer (doubles, or int32 for an index output) is
   allocated here and filled by the op's ssm_ref_* call. */
static output *case_output(opcase *c, const char *name, tensor *t, ssm_dtype stored)
{
    output *o = &c->out[c->n_out++];
    o->name = name;
    o->t = t;
    o->cls = check_class_of(stored, c->dtype);
    if (t->kind == TK_I32) o->ref_idx = (int32_t *)case_block(c, (size_t)t->numel * sizeof(int32_t));
    else o->ref = (double *)case_block(c, (size_t)t->numel * sizeof(double));
    return o;
}

static unsigned char *output_must(opcase *c, output *o)
{
    if (!o->must) o->must = (unsigned char *)case_block(c, (size_t)o->t->numel);
    return o->must;
}

static unsigned char *output_nan_ok(opcase *c, output *o)
{
    if (!o->nan_ok) o->nan_ok = (unsigned char *)case_block(c, (size_t)o->t->numel);
    return o->nan_ok;
}

static int is_output(const opcase *c, const tensor *t)
{
    int i;
    for (i = 0; i < c->n_out; i++)
        if (c->out[i].t == t) return 1;
    return 0;
}

/* Called once the inputs are filled and the reference has run: from now on every call starts
   from these buffers. */
static void case_freeze(opcase *c)
{
    int i;
    for (i = 0; i < c->n_out; i++)
        if (!c->out[i].init) c->out[i].init = tensor_snapshot(c->out[i].t);
    for (i = 0; i < c->n_owned; i++)
        if (!is_output(c, c->owned[i]) && !c->input_snap[i]) c->input_snap[i] = tensor_snapshot(c->owned[i]);
}

static void case_end(opcase *c)
{
    int i;
    for (i = 0; i < c->n_out; i++) free(c->out[i].init);
    for (i = 0; i < c->n_owned; i++) {
        free(c->input_snap[i]);
        tensor_free(c->owned[i]);
    }
    for (i = 0; i < c->n_blocks; i++) free(c->blocks[i]);
}

static ssm_status op_call(const opcase *c, const ssm_exec *ex)
{
    switch (c->op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_selective_scan((const ssm_selective_scan_params *)c->p, ex);
    case SSM_OP_STATE_UPDATE: return ssm_state_update((const ssm_state_update_params *)c->p, ex);
    case SSM_OP_SSD: return ssm_ssd((const ssm_ssd_params *)c->p, ex);
    case SSM_OP_CONV1D: return ssm_conv1d((const ssm_conv1d_params *)c->p, ex);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select((const ssm_hsa_select_params *)c->p, ex);
    case SSM_OP_HSA_ATTENTION: return ssm_hsa_attention((const ssm_hsa_attention_params *)c->p, ex);
    default: return SSM_ERR_ARG;
    }
}

static size_t op_workspace_size(const opcase *c, int threads)
{
    switch (c->op) {
    case SSM_OP_SELECTIVE_SCAN:
        return ssm_selective_scan_workspace_size((const ssm_selective_scan_params *)c->p, threads);
    case SSM_OP_STATE_UPDATE: return ssm_state_update_workspace_size((const ssm_state_update_params *)c->p, threads);
    case SSM_OP_SSD: return ssm_ssd_workspace_size((const ssm_ssd_params *)c->p, threads);
    case SSM_OP_CONV1D: return ssm_conv1d_workspace_size((const ssm_conv1d_params *)c->p, threads);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select_workspace_size((const ssm_hsa_select_params *)c->p, threads);
    case SSM_OP_HSA_ATTENTION:
        return ssm_hsa_attention_workspace_size((const ssm_hsa_attention_params *)c->p, threads);
    default: return 0;
    }
}

/* Outputs back to their initial buffers (poison, or the in/out state), then the call. */
static ssm_status case_call(opcase *c, const ssm_exec *ex)
{
    int i;
    for (i = 0; i < c->n_out; i++) tensor_restore(c->out[i].t, c->out[i].init);
    return op_call(c, ex);
}

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    if (used >= size) return;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

static void describe_fail(const output *o, const check_result *r, char *msg, size_t size)
{
    char at[96];
    props_format_index(o->t->rank, o->t->dim, r->worst, at, sizeof at);
    if (msg[0]) append(msg, size, "; ");
    append(msg, size, "%s%s expected %.9g got %.9g: %s (max_err %.3g, rel_l2 %.3g, limit %.3g)", o->name,
           r->worst >= 0 ? at : "", r->expected, r->got, r->reason, r->max_err, r->rel_l2, r->rel_l2_limit);
}

/* The exact-element rules (must), then nothing outside the view. Returns 1 when they hold. */
static int check_exact(const output *o, const unsigned char *got, char *msg, size_t size)
{
    int64_t i, outside;
    char at[96];
    if (o->must) {
        for (i = 0; i < o->t->numel; i++) {
            const unsigned char *g = got + (size_t)i * o->t->elem;
            if (o->must[i] == MUST_ZERO) {
                double v = o->t->kind == TK_I32 ? (double)*(const int32_t *)(const void *)g
                                                : check_value_at(tkind_values(o->t->kind, got), i);
                if (v != 0.0) {
                    props_format_index(o->t->rank, o->t->dim, i, at, sizeof at);
                    append(msg, size, "%s%s must be exactly 0, got %.9g", o->name, at, v);
                    return 0;
                }
            } else if (o->must[i] == MUST_KEEP) {
                const unsigned char *was = o->init + (size_t)tensor_offset(o->t, i) * o->t->elem;
                if (memcmp(g, was, o->t->elem) != 0) {
                    props_format_index(o->t->rank, o->t->dim, i, at, sizeof at);
                    append(msg, size, "%s%s changed although nothing selects it (was %.9g, got %.9g)", o->name, at,
                           check_value_at(tkind_values(o->t->kind, was), 0),
                           check_value_at(tkind_values(o->t->kind, g), 0));
                    return 0;
                }
            }
        }
    }
    outside = tensor_first_changed_outside(o->t, o->init);
    if (outside >= 0) {
        append(msg, size, "%s: element %lld of its buffer, outside the view, was written", o->name,
               (long long)outside);
        return 0;
    }
    return 1;
}

/* Judges every output of the last call; msg gets a summary (pass) or the reason (fail). */
static int case_check(opcase *c, char *msg, size_t size)
{
    int i, pass = 1;
    msg[0] = 0;
    for (i = 0; i < c->n_owned && pass; i++)
        if (c->input_snap[i] && !tensor_bytes_equal(c->owned[i], c->input_snap[i])) {
            append(msg, size, "input operand #%d was modified", i);
            pass = 0;
        }
    if (!pass) return 0;
    if (c->op == SSM_OP_HSA_SELECT) {
        const output *oi = &c->out[0], *ow = &c->out[1];
        int32_t *gi = (int32_t *)malloc((size_t)oi->t->numel * 4 + 4);
        float *gw = (float *)malloc((size_t)ow->t->numel * 4 + 4);
        check_result ri, rw;
        if (!gi || !gw) abort();
        tensor_gather(oi->t, gi);
        tensor_gather(ow->t, gw);
        pass = check_exact(oi, (const unsigned char *)gi, msg, size) && check_exact(ow, (const unsigned char *)gw, msg, size);
        if (pass) {
            check_hsa_select((const ssm_hsa_select_params *)c->p, gi, check_f32(gw), oi->ref_idx, ow->ref, ow->cls, &ri,
                             &rw);
            if (!ri.pass) describe_fail(oi, &ri, msg, size);
            else if (!rw.pass) describe_fail(ow, &rw, msg, size);
            else append(msg, size, "idx:exact w:%.3g", rw.max_err);
            pass = ri.pass && rw.pass;
        }
        free(gi);
        free(gw);
        return pass;
    }
    for (i = 0; i < c->n_out && pass; i++) {
        output *o = &c->out[i];
        unsigned char *got = (unsigned char *)malloc((size_t)o->t->numel * o->t->elem + 8);
        const double *ref = o->ref;
        double *adjusted = NULL;
        check_result r;
        if (!got) abort();
        tensor_gather(o->t, got);
        if (!check_exact(o, got, msg, size)) {
            pass = 0;
        } else {
            check_values gv = tkind_values(o->t->kind, got);
            if (o->nan_ok) {  /* where a blocked algorithm may spread a NaN, a NaN is accepted */
                int64_t k;
                adjusted = (double *)malloc((size_t)o->t->numel * sizeof *adjusted + 8);
                if (!adjusted) abort();
                for (k = 0; k < o->t->numel; k++)
                    adjusted[k] = o->nan_ok[k] && isnan(check_value_at(gv, k)) ? NAN : o->ref[k];
                ref = adjusted;
            }
            r = check_array(gv, ref, o->t->numel, o->cls);
            if (!r.pass) {
                describe_fail(o, &r, msg, size);
                pass = 0;
            } else {
                append(msg, size, "%s%s:%.3g", i ? " " : "", o->name, r.max_err);
            }
        }
        free(adjusted);
        free(got);
    }
    return pass;
}

/* Runs the case on every available backend: one PASS/FAIL/SKIP line each. */
static void case_run(opcase *c)
{
    int isa;
    char msg[512];
    case_freeze(c);
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++) {
        ssm_status st;
        if (!ssm_isa_available((ssm_isa)isa)) continue;
        if (!ssm_isa_supports((ssm_isa)isa, c->op, c->dtype)) {
            props_report(PROPS_SKIP, "%s %s: not implemented by this backend", c->name, ssm_isa_name((ssm_isa)isa));
            continue;
        }
        ssm_set_isa((ssm_isa)isa);
        st = case_call(c, NULL);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s %s: returned %s", c->name, ssm_isa_name((ssm_isa)isa), ssm_status_string(st));
            continue;
        }
        if (case_check(c, msg, sizeof msg)) props_report(PROPS_PASS, "%s %s %s", c->name, ssm_isa_name((ssm_isa)isa), msg);
        else props_report(PROPS_FAIL, "%s %s: %s", c->name, ssm_isa_name((ssm_isa)isa), msg);
    }
}

/* ---------------------------------------------------------------- threads and workspace */

/* A caller's pool that runs every task on the calling thread, last task first: results must
   not depend on the order or the grouping of tasks. */
typedef struct reverse_pool {
    int64_t max_tasks;
    int calls;
} reverse_pool;

static void reverse_parallel_for(void *pool, int64_t n_tasks, ssm_task_fn fn, void *task_ctx)
{
    reverse_pool *rp = (reverse_pool *)pool;
    int64_t i;
    rp->calls++;
    if (n_tasks > rp->max_tasks) rp->max_tasks = n_tasks;
    for (i = n_tasks - 1; i >= 0; i--) fn(task_ctx, i);
}

typedef struct outputs_snap {
    unsigned char *b[MAX_OUT];
} outputs_snap;

static void snap_outputs(const opcase *c, outputs_snap *s)
{
    int i;
    for (i = 0; i < c->n_out; i++) s->b[i] = tensor_snapshot(c->out[i].t);
}

static void free_snap(const opcase *c, outputs_snap *s)
{
    int i;
    for (i = 0; i < c->n_out; i++) free(s->b[i]);
}

/* The name of the first output whose buffer differs from s, or NULL. */
static const char *first_difference(const opcase *c, const outputs_snap *s)
{
    int i;
    for (i = 0; i < c->n_out; i++)
        if (!tensor_bytes_equal(c->out[i].t, s->b[i])) return c->out[i].name;
    return NULL;
}

/* n_threads 1, 2, 3 under OpenMP (or serially without it) and under a reverse-order caller
   pool must give the same bits; a pool is never handed more tasks than n_threads. */
static void case_threads(opcase *c)
{
    static const int counts[] = {2, 3};
    int isa, k, use_pool;
    case_freeze(c);
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++) {
        ssm_exec ex;
        outputs_snap base;
        char why[256] = "";
        ssm_status st;
        if (!ssm_isa_available((ssm_isa)isa)) continue;
        if (!ssm_isa_supports((ssm_isa)isa, c->op, c->dtype)) {
            props_report(PROPS_SKIP, "threads %s %s: not implemented by this backend", c->name, ssm_isa_name((ssm_isa)isa));
            continue;
        }
        ssm_set_isa((ssm_isa)isa);
        memset(&ex, 0, sizeof ex);
        ex.n_threads = 1;
        if ((st = case_call(c, &ex)) != SSM_OK) {
            props_report(PROPS_FAIL, "threads %s %s: n_threads=1 returned %s", c->name, ssm_isa_name((ssm_isa)isa),
                         ssm_status_string(st));
            continue;
        }
        snap_outputs(c, &base);
        for (use_pool = 0; use_pool < 2 && !why[0]; use_pool++)
            for (k = 0; k < 2 && !why[0]; k++) {
                reverse_pool pool = {0, 0};
                const char *diff;
                memset(&ex, 0, sizeof ex);
                ex.n_threads = counts[k];
                if (use_pool) {
                    ex.parallel_for = reverse_parallel_for;
                    ex.pool = &pool;
                }
                st = case_call(c, &ex);
                if (st != SSM_OK)
                    snprintf(why, sizeof why, "n_threads=%d%s returned %s", counts[k], use_pool ? " (pool)" : "",
                             ssm_status_string(st));
                else if ((diff = first_difference(c, &base)) != NULL)
                    snprintf(why, sizeof why, "n_threads=%d%s: %s differs from n_threads=1", counts[k],
                             use_pool ? " (reverse pool)" : " (OpenMP)", diff);
                else if (pool.max_tasks > counts[k])
                    snprintf(why, sizeof why, "the pool got %lld tasks for n_threads=%d", (long long)pool.max_tasks,
                             counts[k]);
            }
        if (why[0]) props_report(PROPS_FAIL, "threads %s %s: %s", c->name, ssm_isa_name((ssm_isa)isa), why);
        else props_report(PROPS_PASS, "threads %s %s: n_threads 1,2,3 (OpenMP and reverse-order pool) bit-identical",
                          c->name, ssm_isa_name((ssm_isa)isa));
        free_snap(c, &base);
    }
}

/* A workspace of exactly ssm_<op>_workspace_size(p, T) bytes, aligned or not, works and gives
   the same bits; one byte less is SSM_ERR_ARG and writes nothing. The size is the largest need
   over the backends, so one byte less must fail on at least one of them; a backend that needs
   less may succeed, with the same bits. */
static void case_workspace(opcase *c)
{
    static const int counts[] = {1, 3};
    int isa, k, any_tested = 0, any_refused = 0, any_nonzero = 0;
    case_freeze(c);
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++) {
        char why[256] = "", note[128] = "";
        outputs_snap base;
        ssm_exec ex;
        ssm_status st;
        if (!ssm_isa_available((ssm_isa)isa) || !ssm_isa_supports((ssm_isa)isa, c->op, c->dtype)) continue;
        ssm_set_isa((ssm_isa)isa);
        any_tested = 1;
        if ((st = case_call(c, NULL)) != SSM_OK) {
            props_report(PROPS_FAIL, "workspace %s %s: returned %s without a workspace", c->name,
                         ssm_isa_name((ssm_isa)isa), ssm_status_string(st));
            continue;
        }
        snap_outputs(c, &base);
        for (k = 0; k < 2 && !why[0]; k++) {
            size_t size = op_workspace_size(c, counts[k]);
            unsigned char *exact = (unsigned char *)malloc(size ? size : 1);
            unsigned char *shifted = (unsigned char *)malloc(size + 1);
            const char *diff;
            if (!exact || !shifted) abort();
            if (size) any_nonzero = 1;
            memset(&ex, 0, sizeof ex);
            ex.n_threads = counts[k];
            ex.workspace = exact;
            ex.workspace_size = size;
            st = case_call(c, &ex);
            if (st != SSM_OK || (diff = first_difference(c, &base)) != NULL) {
                snprintf(why, sizeof why, "T=%d, exactly %zu bytes: %s", counts[k], size,
                         st != SSM_OK ? ssm_status_string(st) : "results differ from the call without a workspace");
            }
            ex.workspace = shifted + 1;  /* the size is all the caller promises, not an alignment */
            if (!why[0]) {
                st = case_call(c, &ex);
                if (st != SSM_OK || first_difference(c, &base) != NULL)
                    snprintf(why, sizeof why, "T=%d, %zu bytes at an odd address: %s", counts[k], size,
                             st != SSM_OK ? ssm_status_string(st) : "results differ");
            }
            if (!why[0] && size > 0) {
                ex.workspace = exact;
                ex.workspace_size = size - 1;
                st = case_call(c, &ex);
                if (st == SSM_ERR_ARG) {
                    int i;
                    any_refused = 1;
                    for (i = 0; i < c->n_out; i++)
                        if (!tensor_bytes_equal(c->out[i].t, c->out[i].init))
                            snprintf(why, sizeof why, "T=%d, one byte short: SSM_ERR_ARG but %s was written", counts[k],
                                     c->out[i].name);
                } else if (st == SSM_OK && first_difference(c, &base) == NULL) {
                    snprintf(note, sizeof note, " (T=%d: this backend needs less than the size)", counts[k]);
                } else {
                    snprintf(why, sizeof why, "T=%d, one byte short (%zu bytes): returned %s", counts[k], size - 1,
                             ssm_status_string(st));
                }
            }
            free(exact);
            free(shifted);
        }
        if (why[0]) props_report(PROPS_FAIL, "workspace %s %s: %s", c->name, ssm_isa_name((ssm_isa)isa), why);
        else props_report(PROPS_PASS, "workspace %s %s: sizes for T=1 (%zu B) and T=3 (%zu B) exact, aligned or not%s",
                          c->name, ssm_isa_name((ssm_isa)isa), op_workspace_size(c, 1), op_workspace_size(c, 3), note);
        free_snap(c, &base);
    }
    if (any_tested && any_nonzero && !any_refused)
        props_report(PROPS_FAIL, "workspace %s: no backend refused a workspace one byte short of the size", c->name);
}

/* The common tail of every op's case: with the reference's outputs in place, run the case on
   every backend, then (for the extra cases) the thread-count and workspace checks. */
static void case_finish(opcase *c, ssm_status ref_status, int extra)
{
    if (ref_status != SSM_OK) {
        props_report(PROPS_FAIL, "%s: the reference refused the case", c->name);
    } else {
        case_run(c);
        if (extra) {
            case_threads(c);
            case_workspace(c);
        }
    }
    case_end(c);
}

/* ================================================================ shared input makers */

enum { MAX_SEQ = 8 };

/* Sequence offsets (B = 1 varlen): 3 to 6 sequences of random lengths up to max_len with one
   empty and one of length 1 among them, then 1 to 5 padding tokens. Returns L. */
static int64_t random_cu(props_rng *r, int64_t max_len, int64_t *cu, int64_t *nseq)
{
    int64_t n = rng_int(r, 3, 6), len[MAX_SEQ], i, empty = rng_int(r, 0, n - 1), one;
    for (i = 0; i < n; i++) len[i] = rng_int(r, 2, max_len > 2 ? max_len : 2);
    one = (empty + rng_int(r, 1, n - 1)) % n;
    len[empty] = 0;
    len[one] = 1;
    cu[0] = 0;
    for (i = 0; i < n; i++) cu[i + 1] = cu[i] + len[i];
    *nseq = n;
    return cu[n] + rng_int(r, 1, 5);
}

static void cu_describe(char *buf, size_t size, const int64_t *cu, int64_t nseq)
{
    int64_t i;
    append(buf, size, " cu=");
    for (i = 0; i <= nseq; i++) append(buf, size, "%s%lld", i ? "," : "", (long long)cu[i]);
}

static tensor *cu_tensor(opcase *c, const int64_t *cu, int64_t nseq)
{
    tensor *t = case_tensor(c, TK_I64, 1, nseq + 1, 0, 0, 0, NULL);
    int64_t i;
    for (i = 0; i <= nseq; i++) tensor_set(t, i, (double)cu[i]);
    return t;
}

/* A random non-empty sequence (cu has at least one: random_cu makes a length-1 one). */
static int64_t random_nonempty_seq(props_rng *r, const int64_t *cu, int64_t nseq)
{
    for (;;) {
        int64_t s = rng_int(r, 0, nseq - 1);
        if (cu[s + 1] > cu[s]) return s;
    }
}

static void fill_neg_exp(tensor *t, props_rng *r, double mu, double sd)
{
    int64_t i;
    for (i = 0; i < t->numel; i++) tensor_set(t, i, -exp(mu + sd * rng_normal(r)));
}

static void fill_abs(tensor *t, props_rng *r, double lo, double sd)
{
    int64_t i;
    for (i = 0; i < t->numel; i++) tensor_set(t, i, lo + sd * fabs(rng_normal(r)));
}

static tlayout layout_pad(int64_t pad)
{
    tlayout l;
    memset(&l, 0, sizeof l);
    l.pad = pad;
    return l;
}

static tlayout layout_perm(int rank, const int *order, int64_t pad)
{
    tlayout l = layout_pad(pad);
    int i;
    l.permuted = 1;
    for (i = 0; i < rank; i++) l.order[i] = order[i];
    return l;
}

static void flags(char *buf, size_t size, const char *name, int on)
{
    if (on) append(buf, size, " %s", name);
}

static const ssm_dtype all_dtypes[3] = {SSM_F32, SSM_F16, SSM_BF16};

/* ================================================================ selective_scan (SPEC §1) */

typedef struct scan_cfg {
    const char *tag;
    int64_t B, D, L, N, G;
    int time_major;      /* u, delta, z, out stored (B, L, D); Bm, Cm stored (B, L, G, N) */
    int pad;             /* gaps between rows of every operand */
    int reversed;        /* u and delta read with a negative stride over L */
    int time_invariant;  /* G = D with stride 0 over B and L (S4-style (D, N) B/C) */
    int softplus, bias, dskip, z, h0, hlast, inplace;
    int varlen;
    int big_delta;       /* values around the softplus threshold and exp underflow */
    int nan;             /* one NaN in u */
    int extra;           /* threads and workspace checks too */
} scan_cfg;

static void scan_case(const scan_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_selective_scan_params p;
    ssm_ref_out ref;
    int64_t B = cf->B, D = cf->D, L = cf->L, N = cf->N, G = cf->time_invariant ? cf->D : cf->G, cu[MAX_SEQ + 1], nseq = 0, R, i;
    int64_t pad = cf->pad ? rng_int(r, 1, 3) : 0;
    static const int act_order[3] = {0, 2, 1}, bc_order[4] = {0, 3, 1, 2};
    tlayout act = cf->time_major ? layout_perm(3, act_order, pad) : layout_pad(pad);
    tlayout bc = cf->time_major ? layout_perm(4, bc_order, pad) : layout_pad(pad);
    tlayout ud = act, par = layout_pad(pad);
    tensor *u, *delta, *A, *Bm, *Cm, *Dskip = NULL, *z = NULL, *bias = NULL, *h0 = NULL, *hl = NULL, *cut = NULL, *out;
    output *oo, *oh = NULL;
    char opts[160] = "";
    tkind k = tkind_of(dt);

    if (cf->varlen) {
        B = 1;
        L = random_cu(r, cf->L, cu, &nseq);
    }
    R = cf->varlen ? nseq : B;
    if (cf->time_invariant) bc.bcast = 1u | 8u;
    if (cf->reversed) ud.neg = 4u;
    case_begin(&c, SSM_OP_SELECTIVE_SCAN, dt);
    flags(opts, sizeof opts, "time-major", cf->time_major);
    flags(opts, sizeof opts, "padded", cf->pad);
    flags(opts, sizeof opts, "reversed-L", cf->reversed);
    flags(opts, sizeof opts, "BC-stride0", cf->time_invariant);
    flags(opts, sizeof opts, "softplus", cf->softplus);
    flags(opts, sizeof opts, "bias", cf->bias);
    flags(opts, sizeof opts, "Dskip", cf->dskip);
    flags(opts, sizeof opts, "z", cf->z);
    flags(opts, sizeof opts, "h0", cf->h0);
    flags(opts, sizeof opts, cf->inplace ? "h_last=h0" : "h_last", cf->hlast || cf->inplace);
    flags(opts, sizeof opts, "big-delta", cf->big_delta);
    flags(opts, sizeof opts, "NaN", cf->nan);
    if (cf->varlen) cu_describe(opts, sizeof opts, cu, nseq);
    case_name(&c, cf->tag, "B%lld D%lld L%lld N%lld G%lld%s", (long long)B, (long long)D, (long long)L,
              (long long)N, (long long)G, opts);

    u = case_tensor(&c, k, 3, B, D, L, 0, &ud);
    delta = case_tensor(&c, k, 3, B, D, L, 0, &ud);
    A = case_tensor(&c, TK_F32, 2, D, N, 0, 0, &par);
    Bm = case_tensor(&c, k, 4, B, G, N, L, &bc);
    Cm = case_tensor(&c, k, 4, B, G, N, L, &bc);
    out = case_tensor(&c, k, 3, B, D, L, 0, &act);
    tensor_fill_normal(u, r, 0, 1);
    tensor_fill_normal(Bm, r, 0, 1);
    tensor_fill_normal(Cm, r, 0, 1);
    fill_neg_exp(A, r, cf->big_delta ? 0.5 : 0.0, cf->big_delta ? 1.0 : 0.5);
    if (cf->softplus) tensor_fill_normal(delta, r, 0.0, cf->big_delta ? 12.0 : 1.0);
    else fill_abs(delta, r, cf->big_delta ? 1.0 : 0.02, cf->big_delta ? 20.0 : 0.5);
    if (cf->big_delta && cf->softplus && delta->numel >= 6) {  /* both sides of the threshold */
        static const double edge[6] = {19.5, 20.0, 20.5, 21.0, 40.0, -40.0};
        for (i = 0; i < 6; i++) tensor_set(delta, rng_int(r, 0, delta->numel - 1), edge[i]);
    }
    if (cf->bias) {
        bias = case_tensor(&c, TK_F32, 1, D, 0, 0, 0, &par);
        if (cf->softplus && !cf->big_delta) tensor_fill_normal(bias, r, -1.5, 0.5);
        else fill_abs(bias, r, 0.0, 0.05);
    }
    if (cf->dskip) {
        Dskip = case_tensor(&c, TK_F32, 1, D, 0, 0, 0, &par);
        tensor_fill_normal(Dskip, r, 0, 1);
    }
    if (cf->z) {
        z = case_tensor(&c, k, 3, B, D, L, 0, &act);
        tensor_fill_normal(z, r, 0, 1);
    }
    if (cf->h0 || cf->inplace) {
        h0 = case_tensor(&c, TK_F32, 3, R, D, N, 0, &par);
        tensor_fill_normal(h0, r, 0, 1);
    }
    if (cf->inplace) hl = h0;
    else if (cf->hlast) hl = case_tensor(&c, TK_F32, 3, R, D, N, 0, &par);
    if (cf->varlen) cut = cu_tensor(&c, cu, nseq);

    if (cf->nan && u->numel > 0) {  /* one NaN; with varlen inside a non-empty sequence */
        int64_t b = rng_int(r, 0, B - 1), d = rng_int(r, 0, D - 1), t = rng_int(r, 0, L - 1);
        if (cf->varlen) {
            int64_t s = random_nonempty_seq(r, cu, nseq);
            t = rng_int(r, cu[s], cu[s + 1] - 1);
        }
        tensor_set(u, (b * D + d) * L + t, NAN);
    }

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = B; p.D = D; p.L = L; p.N = N; p.G = G;
    p.u = tensor_in(u); p.delta = tensor_in(delta); p.A = tensor_in(A);
    p.Bm = tensor_in(Bm); p.Cm = tensor_in(Cm);
    if (Dskip) p.Dskip = tensor_in(Dskip);
    if (z) p.z = tensor_in(z);
    if (bias) p.delta_bias = tensor_in(bias);
    if (h0) p.h0 = tensor_in(h0);
    if (cut) {
        p.cu_seqlens = tensor_in(cut);
        p.nseq = nseq;
    }
    p.delta_softplus = cf->softplus;
    p.out = tensor_out(out);
    if (hl) p.h_last = tensor_out(hl);
    c.p = &p;

    oo = case_output(&c, "out", out, dt);
    if (hl) oh = case_output(&c, "h_last", hl, SSM_F32);
    if (cf->varlen) {  /* padding tokens: exactly 0 */
        unsigned char *m = output_must(&c, oo);
        for (i = cu[nseq]; i < L; i++)
            for (int64_t d = 0; d < D; d++) m[d * L + i] = MUST_ZERO;
    }
    memset(&ref, 0, sizeof ref);
    ref.out = oo->ref;
    ref.h_last = oh ? oh->ref : NULL;
    case_finish(&c, ssm_ref_selective_scan(&p, &ref), cf->extra);
}

/* Divisors of n: a random one. */
static int64_t random_divisor(props_rng *r, int64_t n)
{
    for (;;) {
        int64_t g = rng_int(r, 1, n);
        if (n % g == 0) return g;
    }
}

static scan_cfg scan_random(props_rng *r)
{
    scan_cfg c;
    static const int64_t Ns[] = {1, 2, 5, 16, 17};
    memset(&c, 0, sizeof c);
    c.tag = "random";
    c.B = rng_int(r, 1, 3);
    c.D = rng_int(r, 1, 9);
    c.L = rng_int(r, 1, 150);
    c.N = Ns[rng_int(r, 0, 4)];
    c.G = random_divisor(r, c.D);
    c.time_major = rng_coin(r);
    c.pad = rng_coin(r);
    c.reversed = rng_int(r, 0, 3) == 0;
    c.time_invariant = rng_int(r, 0, 4) == 0;
    c.softplus = rng_coin(r);
    c.bias = rng_coin(r);
    c.dskip = rng_coin(r);
    c.z = rng_coin(r);
    c.h0 = rng_coin(r);
    c.hlast = rng_coin(r);
    c.inplace = rng_int(r, 0, 3) == 0;
    c.varlen = rng_int(r, 0, 3) == 0;
    if (c.varlen) c.L = rng_int(r, 2, 40);
    return c;
}

static scan_cfg scan_all_options(props_rng *r, const char *tag)
{
    scan_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 3);
    c.D = 2 * rng_int(r, 1, 3) + 1;  /* odd */
    c.L = rng_int(r, 2, 100);
    c.N = 16;
    c.G = 1;
    c.softplus = c.bias = c.dskip = c.z = c.h0 = c.hlast = 1;
    return c;
}

static void run_scan(void)
{
    props_rng *r = &g_rng;
    int rep, d;
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        scan_cfg c;
        c = scan_all_options(r, "all-options"); c.extra = 1; c.N = 256; c.L = rng_int(r, 40, 70); scan_case(&c, dt);
        c = scan_all_options(r, "L1"); c.L = 1; scan_case(&c, dt);
        c = scan_all_options(r, "L0"); c.L = 0; scan_case(&c, dt);
        c = scan_all_options(r, "odd-L"); c.L = 131; scan_case(&c, dt);
        c = scan_all_options(r, "N1"); c.N = 1; scan_case(&c, dt);
        c = scan_all_options(r, "N17"); c.N = 17; scan_case(&c, dt);
        c = scan_all_options(r, "N256"); c.N = 256; c.L = 37; scan_case(&c, dt);
        c = scan_all_options(r, "G=D"); c.G = c.D; scan_case(&c, dt);
        c = scan_all_options(r, "G=1-D1"); c.D = 1; scan_case(&c, dt);
        c = scan_all_options(r, "time-invariant-BC"); c.time_invariant = 1; scan_case(&c, dt);
        c = scan_all_options(r, "time-major-strides"); c.time_major = 1; scan_case(&c, dt);
        c = scan_all_options(r, "time-major-padded"); c.time_major = 1; c.pad = 1; c.G = c.D; scan_case(&c, dt);
        c = scan_all_options(r, "reversed"); c.reversed = 1; c.pad = 1; scan_case(&c, dt);
        c = scan_all_options(r, "bare"); c.softplus = c.bias = c.dskip = c.z = c.h0 = c.hlast = 0; scan_case(&c, dt);
        c = scan_all_options(r, "no-softplus"); c.softplus = 0; scan_case(&c, dt);
        c = scan_all_options(r, "in-place"); c.inplace = 1; scan_case(&c, dt);
        c = scan_all_options(r, "big-delta"); c.big_delta = 1; c.bias = 0; scan_case(&c, dt);
        c = scan_all_options(r, "big-delta-raw"); c.big_delta = 1; c.softplus = 0; scan_case(&c, dt);
        c = scan_all_options(r, "varlen"); c.varlen = 1; c.L = 30; scan_case(&c, dt);
        c = scan_all_options(r, "varlen-in-place"); c.varlen = 1; c.inplace = 1; c.L = 20; c.time_major = 1; scan_case(&c, dt);
        c = scan_all_options(r, "varlen-no-state"); c.varlen = 1; c.h0 = c.hlast = 0; c.L = 20; scan_case(&c, dt);
        c = scan_all_options(r, "NaN-batch"); c.nan = 1; c.B = 3; scan_case(&c, dt);
        c = scan_all_options(r, "NaN-varlen"); c.nan = 1; c.varlen = 1; c.L = 20; scan_case(&c, dt);
        for (rep = 0; rep < g_reps; rep++) {
            c = scan_random(r);
            c.extra = rep == 0;
            scan_case(&c, dt);
        }
    }
}

/* ================================================================ state_update (SPEC §2) */

typedef struct step_cfg {
    const char *tag;
    int64_t B, H, P, N, G;
    int tied;            /* Mamba-2: A, dt, dt_bias one value per head (stride 0 over P and N) */
    int dskip_per_head;  /* Dskip stride 0 over P */
    int softplus, bias, dskip, z, limit;
    int cache;           /* state_index rows of a cache of Ns > B rows, with -1 (padding) entries */
    int strided;         /* x, z, out and the state padded; out stored (H, B, P) */
    int nan;             /* one NaN in x */
    int extra;
} step_cfg;

/* A contiguous copy of t's logical values (same kind): the "expanded" form of a tied operand. */
static tensor *expanded_copy(opcase *c, const tensor *t)
{
    tensor *e = case_tensor(c, t->kind, t->rank, t->dim[0], t->dim[1], t->dim[2], t->dim[3], NULL);
    int64_t i;
    for (i = 0; i < t->numel; i++) tensor_set(e, i, tensor_get(t, i));
    return e;
}

/* Tied (stride 0) and expanded operands hold the same values: both must pass (case_run), and
   when they give different bits a note says so (the SPEC does not promise identical bits). */
static void note_tied_vs_expanded(opcase *c, const void *tied, const void *expanded)
{
    int isa;
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++) {
        outputs_snap s;
        const char *diff;
        if (!ssm_isa_available((ssm_isa)isa) || !ssm_isa_supports((ssm_isa)isa, c->op, c->dtype)) continue;
        ssm_set_isa((ssm_isa)isa);
        c->p = tied;
        if (case_call(c, NULL) != SSM_OK) continue;
        snap_outputs(c, &s);
        c->p = expanded;
        if (case_call(c, NULL) == SSM_OK && (diff = first_difference(c, &s)) != NULL)
            printf("note: %s %s: tied and expanded operands give different bits in %s (both within tolerance)\n",
                   c->name, ssm_isa_name((ssm_isa)isa), diff);
        free_snap(c, &s);
    }
}

static void step_case(const step_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_state_update_params p, pe;
    ssm_ref_out ref;
    const int64_t B = cf->B, H = cf->H, P = cf->P, N = cf->N, G = cf->G;
    int64_t Ns = cf->cache ? B + rng_int(r, 1, 4) : B, b, i, rows[64];
    int64_t pad = cf->strided ? rng_int(r, 1, 3) : 0;
    static const int out_order[3] = {1, 0, 2};
    tlayout act = layout_pad(pad), outl = layout_perm(3, out_order, pad), st = layout_pad(pad);
    tlayout tieA = layout_pad(0), tieDt = act, tieP = layout_pad(0), dsk = layout_pad(0);
    tensor *state, *x, *dtt, *A, *Bm, *Cm, *Dskip = NULL, *z = NULL, *bias = NULL, *idx = NULL, *out;
    output *oo, *os;
    char opts[160] = "";
    tkind k = tkind_of(dt);
    if (cf->tied) {
        tieA.bcast = 2u | 4u;
        tieDt.bcast = 4u;
        tieP.bcast = 2u;
    }
    if (cf->dskip_per_head) dsk.bcast = 2u;
    case_begin(&c, SSM_OP_STATE_UPDATE, dt);
    flags(opts, sizeof opts, "tied-per-head", cf->tied);
    flags(opts, sizeof opts, "Dskip-per-head", cf->dskip_per_head);
    flags(opts, sizeof opts, "softplus", cf->softplus);
    flags(opts, sizeof opts, "bias", cf->bias);
    flags(opts, sizeof opts, "Dskip", cf->dskip);
    flags(opts, sizeof opts, "z", cf->z);
    flags(opts, sizeof opts, "dt-limits", cf->limit);
    flags(opts, sizeof opts, "strided", cf->strided);
    flags(opts, sizeof opts, "NaN", cf->nan);
    if (cf->cache) append(opts, sizeof opts, " cache Ns=%lld", (long long)Ns);
    case_name(&c, cf->tag, "B%lld H%lld P%lld N%lld G%lld%s", (long long)B, (long long)H, (long long)P, (long long)N,
              (long long)G, opts);

    state = case_tensor(&c, TK_F32, 4, Ns, H, P, N, &st);
    x = case_tensor(&c, k, 3, B, H, P, 0, &act);
    dtt = case_tensor(&c, k, 3, B, H, P, 0, &tieDt);
    A = case_tensor(&c, TK_F32, 3, H, P, N, 0, &tieA);
    Bm = case_tensor(&c, k, 3, B, G, N, 0, &act);
    Cm = case_tensor(&c, k, 3, B, G, N, 0, &act);
    out = case_tensor(&c, k, 3, B, H, P, 0, cf->strided ? &outl : NULL);
    tensor_fill_normal(state, r, 0, 1);
    tensor_fill_normal(x, r, 0, 1);
    tensor_fill_normal(Bm, r, 0, 1);
    tensor_fill_normal(Cm, r, 0, 1);
    fill_neg_exp(A, r, 0.0, 0.7);
    if (cf->softplus) tensor_fill_normal(dtt, r, -1.0, 1.5);
    else fill_abs(dtt, r, 0.01, 0.5);
    if (cf->bias) {
        bias = case_tensor(&c, TK_F32, 2, H, P, 0, 0, &tieP);
        tensor_fill_normal(bias, r, 0.0, cf->softplus ? 0.5 : 0.0);
        if (!cf->softplus) fill_abs(bias, r, 0.0, 0.05);
    }
    if (cf->dskip) {
        Dskip = case_tensor(&c, TK_F32, 2, H, P, 0, 0, &dsk);
        tensor_fill_normal(Dskip, r, 0, 1);
    }
    if (cf->z) {
        z = case_tensor(&c, k, 3, B, H, P, 0, &act);
        tensor_fill_normal(z, r, 0, 1);
    }
    if (cf->cache) {  /* distinct rows of the cache, some entries padding (-1) */
        idx = case_tensor(&c, TK_I32, 1, B, 0, 0, 0, NULL);
        for (i = 0; i < Ns; i++) rows[i] = i;
        for (i = Ns - 1; i > 0; i--) {
            int64_t j = rng_int(r, 0, i), tmp = rows[i];
            rows[i] = rows[j];
            rows[j] = tmp;
        }
        for (b = 0; b < B; b++) tensor_set(idx, b, rows[b]);
        if (B >= 2) tensor_set(idx, rng_int(r, 0, B - 1), -1);
        for (b = 0; b < B; b++)
            if (rng_int(r, 0, 4) == 0) tensor_set(idx, b, -1 - rng_int(r, 0, 3));
        tensor_set(idx, rng_int(r, 0, B - 1), rows[B]);  /* a selected row past B: Ns really matters */
    }
    if (cf->nan) {  /* in an entry that is not padding */
        b = rng_int(r, 0, B - 1);
        if (idx) tensor_set(idx, b, rows[b]);
        tensor_set(x, (b * H + rng_int(r, 0, H - 1)) * P + rng_int(r, 0, P - 1), NAN);
    }

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = B; p.H = H; p.P = P; p.N = N; p.G = G;
    p.Ns = cf->cache ? Ns : 0;
    p.state = tensor_out(state);
    p.x = tensor_in(x); p.dt = tensor_in(dtt); p.A = tensor_in(A); p.Bm = tensor_in(Bm); p.Cm = tensor_in(Cm);
    if (Dskip) p.Dskip = tensor_in(Dskip);
    if (z) p.z = tensor_in(z);
    if (bias) p.dt_bias = tensor_in(bias);
    if (idx) p.state_index = tensor_in(idx);
    p.dt_softplus = cf->softplus;
    if (cf->limit) {
        p.dt_limit = 1;
        p.dt_min = 0.05f;
        p.dt_max = 0.6f;
    }
    p.out = tensor_out(out);
    c.p = &p;

    oo = case_output(&c, "out", out, dt);
    os = case_output(&c, "state", state, SSM_F32);
    if (idx) {  /* rows nobody selects keep their bits; padding entries output exactly 0 */
        unsigned char *ms = output_must(&c, os), *mo = output_must(&c, oo);
        int64_t row_size = H * P * N;
        memset(ms, MUST_KEEP, (size_t)(Ns * row_size));
        for (b = 0; b < B; b++) {
            int64_t s = (int64_t)tensor_get(idx, b);
            if (s >= 0) memset(ms + s * row_size, MUST_FREE, (size_t)row_size);
            else memset(mo + b * H * P, MUST_ZERO, (size_t)(H * P));
        }
    }
    memset(&ref, 0, sizeof ref);
    ref.out = oo->ref;
    ref.state = os->ref;
    if (ssm_ref_state_update(&p, &ref) != SSM_OK) {
        props_report(PROPS_FAIL, "%s: the reference refused the case", c.name);
        case_end(&c);
        return;
    }
    pe = p;
    if (cf->tied) {  /* the same values with every tied operand expanded */
        pe.A = tensor_in(expanded_copy(&c, A));
        pe.dt = tensor_in(expanded_copy(&c, dtt));
        if (bias) pe.dt_bias = tensor_in(expanded_copy(&c, bias));
    }
    case_run(&c);
    if (cf->tied) {
        char name[sizeof c.name];
        memcpy(name, c.name, sizeof name);
        c.p = &pe;
        snprintf(c.name, sizeof c.name, "%.300s expanded", name);
        case_run(&c);
        memcpy(c.name, name, sizeof name);
        note_tied_vs_expanded(&c, &p, &pe);
        c.p = &p;
    }
    if (cf->extra) {
        case_threads(&c);
        case_workspace(&c);
    }
    case_end(&c);
}

static step_cfg step_base(props_rng *r, const char *tag, int mamba2)
{
    step_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 4);
    if (mamba2) {
        c.H = rng_int(r, 2, 6);
        c.P = 2 * rng_int(r, 1, 4) + 1;
        c.N = 16;
        c.tied = 1;
        c.dskip_per_head = rng_coin(r);
        c.limit = 1;
    } else {
        c.H = 2 * rng_int(r, 1, 6) + 1;
        c.P = 1;
        c.N = 16;
    }
    c.G = random_divisor(r, c.H);
    c.softplus = c.bias = c.dskip = c.z = 1;
    return c;
}

static void run_state_update(void)
{
    props_rng *r = &g_rng;
    int d, rep;
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        step_cfg c;
        c = step_base(r, "mamba1", 0); c.extra = 1; c.B = 3; step_case(&c, dt);
        c = step_base(r, "mamba1-N1", 0); c.N = 1; step_case(&c, dt);
        c = step_base(r, "mamba1-N17-G=H", 0); c.N = 17; c.G = c.H; step_case(&c, dt);
        c = step_base(r, "mamba1-bare", 0); c.softplus = c.bias = c.dskip = c.z = 0; step_case(&c, dt);
        c = step_base(r, "mamba1-cache", 0); c.cache = 1; c.B = 4; step_case(&c, dt);
        c = step_base(r, "mamba2", 1); c.extra = 1; step_case(&c, dt);
        c = step_base(r, "mamba2-N256", 1); c.N = 256; c.B = 2; c.extra = 1; step_case(&c, dt);
        c = step_base(r, "mamba2-G=H", 1); c.G = c.H; c.dskip_per_head = 0; step_case(&c, dt);
        c = step_base(r, "mamba2-cache", 1); c.cache = 1; c.B = 4; c.extra = 1; step_case(&c, dt);
        c = step_base(r, "mamba2-dt-limits-raw", 1); c.softplus = 0; step_case(&c, dt);
        c = step_base(r, "mamba2-no-limits", 1); c.limit = 0; step_case(&c, dt);
        c = step_base(r, "untied-dt-limits", 1); c.tied = 0; step_case(&c, dt);
        c = step_base(r, "strided", 1); c.strided = 1; c.cache = 1; step_case(&c, dt);
        c = step_base(r, "strided-mamba1", 0); c.strided = 1; step_case(&c, dt);
        c = step_base(r, "NaN", 1); c.nan = 1; c.B = 3; step_case(&c, dt);
        c = step_base(r, "NaN-cache", 0); c.nan = 1; c.cache = 1; c.B = 4; step_case(&c, dt);
        for (rep = 0; rep < g_reps; rep++) {
            c = step_base(r, "random", rng_coin(r));
            c.softplus = rng_coin(r);
            c.bias = rng_coin(r);
            c.dskip = rng_coin(r);
            c.z = rng_coin(r);
            c.limit = rng_coin(r);
            c.cache = rng_coin(r);
            c.strided = rng_coin(r);
            c.N = rng_int(r, 1, 40);
            step_case(&c, dt);
        }
    }
}

/* ================================================================ conv1d (SPEC §4) */

typedef struct conv_cfg {
    const char *tag;
    int64_t B, D, L, W;
    int bias, silu, state0, slast, inplace;
    int cache;       /* state_index rows of a larger cache, in place, with -1 (padding) entries */
    int varlen;
    int time_major;  /* x and out stored (B, L, D) */
    int pad;
    int nan;         /* one NaN in x */
    int extra;
} conv_cfg;

static void conv_case(const conv_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_conv1d_params p;
    ssm_ref_out ref;
    int64_t B = cf->B, D = cf->D, L = cf->L, W = cf->W, cu[MAX_SEQ + 1], nseq = 0, nent, rows, i, s, d;
    int64_t pad = cf->pad ? rng_int(r, 1, 3) : 0, perm[16];
    static const int act_order[3] = {0, 2, 1};
    tlayout act = cf->time_major ? layout_perm(3, act_order, pad) : layout_pad(pad), par = layout_pad(pad);
    tensor *x, *w, *bias = NULL, *s0 = NULL, *sl = NULL, *idx = NULL, *cut = NULL, *out;
    output *oo, *os = NULL;
    char opts[200] = "";
    tkind k = tkind_of(dt);
    int inplace = cf->inplace || cf->cache;

    if (cf->varlen) {
        B = 1;
        L = random_cu(r, cf->L, cu, &nseq);
    }
    nent = cf->varlen ? nseq : B;  /* sequences: batch rows, or cu_seqlens' sequences */
    rows = cf->cache ? nent + rng_int(r, 1, 3) : nent;
    case_begin(&c, SSM_OP_CONV1D, dt);
    flags(opts, sizeof opts, "bias", cf->bias);
    flags(opts, sizeof opts, "silu", cf->silu);
    flags(opts, sizeof opts, "state0", cf->state0 || inplace);
    flags(opts, sizeof opts, inplace ? "state_last=state0" : "state_last", cf->slast || inplace);
    flags(opts, sizeof opts, "time-major", cf->time_major);
    flags(opts, sizeof opts, "padded", cf->pad);
    flags(opts, sizeof opts, "NaN", cf->nan);
    if (cf->cache) append(opts, sizeof opts, " cache Ns=%lld", (long long)rows);
    if (cf->varlen) cu_describe(opts, sizeof opts, cu, nseq);
    case_name(&c, cf->tag, "B%lld D%lld L%lld W%lld%s", (long long)B, (long long)D, (long long)L, (long long)W, opts);

    x = case_tensor(&c, k, 3, B, D, L, 0, &act);
    w = case_tensor(&c, TK_F32, 2, D, W, 0, 0, &par);
    out = case_tensor(&c, k, 3, B, D, L, 0, &act);
    tensor_fill_normal(x, r, 0, 1);
    tensor_fill_normal(w, r, 0, 0.5);
    if (cf->bias) {
        bias = case_tensor(&c, TK_F32, 1, D, 0, 0, 0, &par);
        tensor_fill_normal(bias, r, 0, 1);
    }
    if (cf->state0 || inplace) {
        s0 = case_tensor(&c, TK_F32, 3, rows, D, W - 1, 0, &par);
        tensor_fill_normal(s0, r, 0, 1);
    }
    if (inplace) sl = s0;
    else if (cf->slast) sl = case_tensor(&c, TK_F32, 3, rows, D, W - 1, 0, &par);
    if (cf->varlen) cut = cu_tensor(&c, cu, nseq);
    if (cf->cache) {
        idx = case_tensor(&c, TK_I32, 1, nent, 0, 0, 0, NULL);
        for (i = 0; i < rows; i++) perm[i] = i;
        for (i = rows - 1; i > 0; i--) {
            int64_t j = rng_int(r, 0, i), tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        for (i = 0; i < nent; i++) tensor_set(idx, i, rng_int(r, 0, 3) == 0 ? -1 : perm[i]);
        if (nent >= 2) tensor_set(idx, rng_int(r, 0, nent - 1), -1);
    }
    if (cf->nan && x->numel > 0) {
        int64_t b = rng_int(r, 0, B - 1), t = rng_int(r, 0, L - 1);
        if (cf->varlen) {
            s = random_nonempty_seq(r, cu, nseq);
            t = rng_int(r, cu[s], cu[s + 1] - 1);
        }
        tensor_set(x, (b * D + rng_int(r, 0, D - 1)) * L + t, NAN);
    }

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = B; p.D = D; p.L = L; p.W = W;
    p.Ns = cf->cache ? rows : 0;
    p.x = tensor_in(x);
    p.weight = tensor_in(w);
    if (bias) p.bias = tensor_in(bias);
    if (s0) p.state0 = tensor_in(s0);
    if (idx) p.state_index = tensor_in(idx);
    if (cut) {
        p.cu_seqlens = tensor_in(cut);
        p.nseq = nseq;
    }
    p.silu = cf->silu;
    p.out = tensor_out(out);
    if (sl) p.state_last = tensor_out(sl);
    c.p = &p;

    oo = case_output(&c, "out", out, dt);
    if (sl) os = case_output(&c, "state_last", sl, SSM_F32);
    {   /* padding tokens and padded cache entries: exactly 0; unselected cache rows: kept */
        unsigned char *mo = output_must(&c, oo);
        for (s = 0; s < nent; s++) {
            int64_t b = cf->varlen ? 0 : s, t0 = cf->varlen ? cu[s] : 0, t1 = cf->varlen ? cu[s + 1] : L, t;
            if (!idx || tensor_get(idx, s) >= 0) continue;
            for (d = 0; d < D; d++)
                for (t = t0; t < t1; t++) mo[(b * D + d) * L + t] = MUST_ZERO;
        }
        if (cf->varlen)
            for (d = 0; d < D; d++)
                for (i = cu[nseq]; i < L; i++) mo[d * L + i] = MUST_ZERO;
        if (idx && os) {
            unsigned char *ms = output_must(&c, os);
            int64_t row_size = D * (W - 1);
            memset(ms, MUST_KEEP, (size_t)(rows * row_size));
            for (s = 0; s < nent; s++)
                if (tensor_get(idx, s) >= 0) memset(ms + (int64_t)tensor_get(idx, s) * row_size, MUST_FREE, (size_t)row_size);
        }
    }
    memset(&ref, 0, sizeof ref);
    ref.out = oo->ref;
    ref.state_last = os ? os->ref : NULL;
    case_finish(&c, ssm_ref_conv1d(&p, &ref), cf->extra);
}

static conv_cfg conv_base(props_rng *r, const char *tag, int64_t W)
{
    conv_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 3);
    c.D = 2 * rng_int(r, 0, 4) + 1;
    c.L = rng_int(r, 1, 150);
    c.W = W;
    c.bias = c.silu = c.state0 = c.slast = 1;
    return c;
}

static void run_conv1d(void)
{
    props_rng *r = &g_rng;
    int d, rep;
    int64_t W;
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        conv_cfg c;
        char tag[8][32];
        for (W = 1; W <= 8; W++) {
            snprintf(tag[W - 1], sizeof tag[W - 1], "W%lld", (long long)W);
            c = conv_base(r, tag[W - 1], W);
            c.extra = W == 4;
            conv_case(&c, dt);
        }
        c = conv_base(r, "W4-L1-decode", 4); c.L = 1; c.inplace = 1; conv_case(&c, dt);
        c = conv_base(r, "W1-L1-decode", 1); c.L = 1; c.inplace = 1; conv_case(&c, dt);
        c = conv_base(r, "W8-L0", 8); c.L = 0; conv_case(&c, dt);
        c = conv_base(r, "decode-cache", 4); c.L = 1; c.cache = 1; c.B = 5; c.extra = 1; conv_case(&c, dt);
        c = conv_base(r, "prefill-cache", 3); c.cache = 1; c.B = 3; conv_case(&c, dt);
        c = conv_base(r, "varlen", 4); c.varlen = 1; c.L = 8; conv_case(&c, dt);
        c = conv_base(r, "varlen-W8", 8); c.varlen = 1; c.L = 10; c.inplace = 1; conv_case(&c, dt);
        c = conv_base(r, "varlen-cache", 5); c.varlen = 1; c.L = 9; c.cache = 1; conv_case(&c, dt);
        c = conv_base(r, "varlen-no-state", 4); c.varlen = 1; c.state0 = c.slast = 0; conv_case(&c, dt);
        c = conv_base(r, "bare", 4); c.bias = c.silu = c.state0 = c.slast = 0; conv_case(&c, dt);
        c = conv_base(r, "silu-only", 3); c.bias = 0; conv_case(&c, dt);
        c = conv_base(r, "time-major", 4); c.time_major = 1; conv_case(&c, dt);
        c = conv_base(r, "time-major-padded", 7); c.time_major = 1; c.pad = 1; c.L = 100; conv_case(&c, dt);
        c = conv_base(r, "NaN", 4); c.nan = 1; c.B = 3; conv_case(&c, dt);
        c = conv_base(r, "NaN-varlen", 3); c.nan = 1; c.varlen = 1; c.L = 10; conv_case(&c, dt);
        for (rep = 0; rep < g_reps; rep++) {
            c = conv_base(r, "random", rng_int(r, 1, 8));
            c.bias = rng_coin(r);
            c.silu = rng_coin(r);
            c.state0 = rng_coin(r);
            c.slast = rng_coin(r);
            c.inplace = rng_int(r, 0, 3) == 0;
            c.time_major = rng_coin(r);
            c.pad = rng_coin(r);
            c.varlen = rng_int(r, 0, 3) == 0;
            if (c.varlen) c.L = rng_int(r, 2, 12);
            c.cache = rng_int(r, 0, 3) == 0;
            conv_case(&c, dt);
        }
    }
}

/* ================================================================ ssd (SPEC §3) */

enum { MAX_Q = 8 };

typedef struct ssd_cfg {
    const char *tag;
    int64_t B, L, H, P, N, G;
    int64_t Q[MAX_Q];    /* chunk sizes, each run against the one reference (0: the default 256) */
    int nQ;
    int softplus, bias, dskip, dskip_per_head, z, h0, hlast, inplace, limit;
    int varlen;
    int spike;           /* a few huge dt among small ones */
    int strided;         /* x, z, out stored (B, H, L, P) with gaps */
    int nan;             /* 1: one NaN in x; 2: one NaN in Bm */
    int extra;
} ssd_cfg;

/* Where a NaN put at token t0 of the sequence [s0, s1) may also appear in a blocked SSD: other
   tokens of its chunk (within Q of t0, either way, as chunks may start anywhere), in the heads
   the NaN feeds. Everything outside must match the reference exactly. */
static void ssd_nan_zone(unsigned char *ok, int64_t B, int64_t L, int64_t H, int64_t P, int64_t b, int64_t s0,
                         int64_t s1, int64_t t0, int64_t h_lo, int64_t h_hi, int64_t Q)
{
    int64_t t, h, q;
    memset(ok, 0, (size_t)(B * L * H * P));
    for (t = t0 - Q + 1 > s0 ? t0 - Q + 1 : s0; t < s1 && t < t0 + Q; t++)
        for (h = h_lo; h < h_hi; h++)
            for (q = 0; q < P; q++) ok[((b * L + t) * H + h) * P + q] = 1;
}

static void ssd_case(const ssd_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_ssd_params p;
    ssm_ref_out ref;
    int64_t B = cf->B, L = cf->L, H = cf->H, P = cf->P, N = cf->N, G = cf->G, cu[MAX_SEQ + 1], nseq = 0, R, i, qi;
    int64_t pad = cf->strided ? rng_int(r, 1, 3) : 0;
    int64_t nan_b = 0, nan_s0 = 0, nan_s1 = 0, nan_t = 0, nan_h0 = 0, nan_h1 = 0;
    static const int act_order[4] = {0, 2, 1, 3};
    tlayout act = cf->strided ? layout_perm(4, act_order, pad) : layout_pad(0), dsk = layout_pad(0);
    tensor *x, *dtt, *A, *Bm, *Cm, *Dskip = NULL, *z = NULL, *bias = NULL, *h0 = NULL, *hl = NULL, *cut = NULL, *out;
    output *oo, *oh = NULL;
    char opts[200] = "";
    tkind k = tkind_of(dt);

    if (cf->varlen) {
        B = 1;
        L = random_cu(r, cf->L, cu, &nseq);
    }
    R = cf->varlen ? nseq : B;
    if (cf->dskip_per_head) dsk.bcast = 2u;
    case_begin(&c, SSM_OP_SSD, dt);
    flags(opts, sizeof opts, "softplus", cf->softplus);
    flags(opts, sizeof opts, "bias", cf->bias);
    flags(opts, sizeof opts, cf->dskip_per_head ? "Dskip-per-head" : "Dskip", cf->dskip);
    flags(opts, sizeof opts, "z", cf->z);
    flags(opts, sizeof opts, "h0", cf->h0);
    flags(opts, sizeof opts, cf->inplace ? "h_last=h0" : "h_last", cf->hlast || cf->inplace);
    flags(opts, sizeof opts, "dt-limits", cf->limit);
    flags(opts, sizeof opts, "dt-spikes", cf->spike);
    flags(opts, sizeof opts, "strided", cf->strided);
    flags(opts, sizeof opts, cf->nan == 2 ? "NaN-in-B" : "NaN-in-x", cf->nan);
    if (cf->varlen) cu_describe(opts, sizeof opts, cu, nseq);

    x = case_tensor(&c, k, 4, B, L, H, P, &act);
    dtt = case_tensor(&c, k, 3, B, L, H, 0, NULL);
    A = case_tensor(&c, TK_F32, 1, H, 0, 0, 0, NULL);
    Bm = case_tensor(&c, k, 4, B, L, G, N, NULL);
    Cm = case_tensor(&c, k, 4, B, L, G, N, NULL);
    out = case_tensor(&c, k, 4, B, L, H, P, &act);
    tensor_fill_normal(x, r, 0, 1);
    tensor_fill_normal(Bm, r, 0, 1);
    tensor_fill_normal(Cm, r, 0, 1);
    fill_neg_exp(A, r, 0.0, 0.7);
    if (A->numel > 1) tensor_set(A, 0, 0.0);  /* A = 0 is allowed: no decay at all */
    if (cf->softplus) tensor_fill_normal(dtt, r, -1.0, 1.0);
    else tensor_fill_normal(dtt, r, 0.05, 0.1);  /* some negative: dt' is clamped at 0 */
    if (cf->spike) {  /* in every stretch of 40 tokens, one dt far above the others */
        for (i = 0; i < B * L * H; i++) tensor_set(dtt, i, cf->softplus ? -4.0 + 0.5 * rng_normal(r) : 0.01 * fabs(rng_normal(r)));
        for (i = 0; i < B * L * H; i += rng_int(r, 1, 40)) {
            static const double big[4] = {30.0, 100.0, 500.0, 1000.0};
            tensor_set(dtt, i, big[rng_int(r, 0, 3)]);
        }
    }
    if (cf->bias) {
        bias = case_tensor(&c, TK_F32, 1, H, 0, 0, 0, NULL);
        for (i = 0; i < H; i++)  /* inverse softplus of dt in [0.001, 0.1], as Mamba-2 initialises it */
            tensor_set(bias, i, cf->softplus ? log(expm1(exp(log(0.001) + rng_uniform(r) * log(100.0)))) : 0.01);
    }
    if (cf->dskip) {
        Dskip = case_tensor(&c, TK_F32, 2, H, P, 0, 0, &dsk);
        tensor_fill_normal(Dskip, r, 0, 1);
    }
    if (cf->z) {
        z = case_tensor(&c, k, 4, B, L, H, P, &act);
        tensor_fill_normal(z, r, 0, 1);
    }
    if (cf->h0 || cf->inplace) {
        h0 = case_tensor(&c, TK_F32, 4, R, H, P, N, NULL);
        tensor_fill_normal(h0, r, 0, 1);
    }
    if (cf->inplace) hl = h0;
    else if (cf->hlast) hl = case_tensor(&c, TK_F32, 4, R, H, P, N, NULL);
    if (cf->varlen) cut = cu_tensor(&c, cu, nseq);
    if (cf->nan && L > 0) {
        nan_b = rng_int(r, 0, B - 1);
        nan_s0 = 0;
        nan_s1 = L;
        if (cf->varlen) {
            int64_t s = random_nonempty_seq(r, cu, nseq);
            nan_s0 = cu[s];
            nan_s1 = cu[s + 1];
        }
        nan_t = rng_int(r, nan_s0, nan_s1 - 1);
        if (cf->nan == 2) {
            int64_t g = rng_int(r, 0, G - 1);
            tensor_set(Bm, ((nan_b * L + nan_t) * G + g) * N + rng_int(r, 0, N - 1), NAN);
            nan_h0 = g * (H / G);
            nan_h1 = nan_h0 + H / G;
        } else {
            nan_h0 = rng_int(r, 0, H - 1);
            nan_h1 = nan_h0 + 1;
            tensor_set(x, ((nan_b * L + nan_t) * H + nan_h0) * P + rng_int(r, 0, P - 1), NAN);
        }
    }

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = B; p.L = L; p.H = H; p.P = P; p.N = N; p.G = G;
    p.x = tensor_in(x); p.dt = tensor_in(dtt); p.A = tensor_in(A); p.Bm = tensor_in(Bm); p.Cm = tensor_in(Cm);
    if (Dskip) p.Dskip = tensor_in(Dskip);
    if (z) p.z = tensor_in(z);
    if (bias) p.dt_bias = tensor_in(bias);
    if (h0) p.h0 = tensor_in(h0);
    if (cut) {
        p.cu_seqlens = tensor_in(cut);
        p.nseq = nseq;
    }
    p.dt_softplus = cf->softplus;
    if (cf->limit) {
        p.dt_limit = 1;
        p.dt_min = cf->softplus ? 0.002f : -1.0f;  /* below 0: the clamp at 0 must still apply */
        p.dt_max = cf->spike ? 200.0f : 0.08f;
    }
    p.out = tensor_out(out);
    if (hl) p.h_last = tensor_out(hl);
    c.p = &p;

    oo = case_output(&c, "out", out, dt);
    if (hl) oh = case_output(&c, "h_last", hl, SSM_F32);
    if (cf->varlen) {
        unsigned char *m = output_must(&c, oo);
        for (i = cu[nseq] * H * P; i < L * H * P; i++) m[i] = MUST_ZERO;
    }
    memset(&ref, 0, sizeof ref);
    ref.out = oo->ref;
    ref.h_last = oh ? oh->ref : NULL;
    if (ssm_ref_ssd(&p, &ref) != SSM_OK) {
        case_name(&c, cf->tag, "B%lld L%lld H%lld P%lld N%lld G%lld%s", (long long)B, (long long)L, (long long)H,
                  (long long)P, (long long)N, (long long)G, opts);
        props_report(PROPS_FAIL, "%s: the reference refused the case", c.name);
        case_end(&c);
        return;
    }
    for (qi = 0; qi < cf->nQ; qi++) {  /* the same function for every chunk size */
        p.Q = cf->Q[qi];
        case_name(&c, cf->tag, "B%lld L%lld H%lld P%lld N%lld G%lld Q%lld%s", (long long)B, (long long)L,
                  (long long)H, (long long)P, (long long)N, (long long)G, (long long)(p.Q ? p.Q : 256), opts);
        if (cf->nan && L > 0)
            ssd_nan_zone(output_nan_ok(&c, oo), B, L, H, P, nan_b, nan_s0, nan_s1, nan_t, nan_h0, nan_h1, p.Q ? p.Q : 256);
        case_run(&c);
        if (cf->extra && qi == 0) {
            case_threads(&c);
            case_workspace(&c);
        }
    }
    case_end(&c);
}

static ssd_cfg ssd_base(props_rng *r, const char *tag)
{
    ssd_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 2);
    c.L = rng_int(r, 20, 150);
    c.H = rng_int(r, 1, 4);
    c.P = 2 * rng_int(r, 1, 4) + 1;
    c.N = rng_int(r, 0, 1) ? 16 : 17;
    c.G = random_divisor(r, c.H);
    c.Q[0] = 16;
    c.Q[1] = 3;
    c.nQ = 2;
    c.softplus = c.bias = c.dskip = c.z = c.h0 = c.hlast = c.limit = 1;
    c.dskip_per_head = rng_coin(r);
    return c;
}

static void set_q(ssd_cfg *c, int n, const int64_t *q)
{
    int i;
    for (i = 0; i < n; i++) c->Q[i] = q[i];
    c->nQ = n;
}

static void run_ssd(void)
{
    props_rng *r = &g_rng;
    int d, rep;
    static const int64_t every_q[6] = {1, 3, 16, 64, 256, 1000};
    static const int64_t default_q[1] = {0};
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        ssd_cfg c;
        c = ssd_base(r, "every-Q"); c.L = rng_int(r, 257, 300); set_q(&c, 6, every_q); c.extra = 1; ssd_case(&c, dt);
        c = ssd_base(r, "default-Q"); set_q(&c, 1, default_q); ssd_case(&c, dt);
        c = ssd_base(r, "L1"); c.L = 1; set_q(&c, 3, every_q + 1); ssd_case(&c, dt);
        c = ssd_base(r, "L0"); c.L = 0; ssd_case(&c, dt);
        c = ssd_base(r, "L4096"); c.L = 4096; c.H = 2; c.P = 3; c.N = 4; c.G = 1; c.B = 1;
        c.Q[0] = 256; c.Q[1] = 100; c.nQ = 2; ssd_case(&c, dt);
        c = ssd_base(r, "G=1"); c.H = 4; c.G = 1; ssd_case(&c, dt);
        c = ssd_base(r, "G=H"); c.H = 3; c.G = 3; ssd_case(&c, dt);
        /* more heads than a CPU worker's head block (8 with AVX-512): full blocks, a partial
           one, block boundaries inside a group */
        c = ssd_base(r, "H=19-head-blocks"); c.H = 19; c.G = 1; c.L = rng_int(r, 40, 90); ssd_case(&c, dt);
        c = ssd_base(r, "H=12-G=3-head-blocks"); c.H = 12; c.G = 3; c.B = 2; ssd_case(&c, dt);
        c = ssd_base(r, "N1-P1"); c.N = 1; c.P = 1; ssd_case(&c, dt);
        c = ssd_base(r, "N256"); c.N = 256; c.L = 70; c.H = 2; c.G = 2; ssd_case(&c, dt);
        c = ssd_base(r, "Dskip-per-head"); c.dskip_per_head = 1; ssd_case(&c, dt);
        c = ssd_base(r, "Dskip-per-channel"); c.dskip_per_head = 0; ssd_case(&c, dt);
        c = ssd_base(r, "bare"); c.softplus = c.bias = c.dskip = c.z = c.h0 = c.hlast = c.limit = 0; ssd_case(&c, dt);
        c = ssd_base(r, "raw-dt-clamped-at-0"); c.softplus = 0; ssd_case(&c, dt);
        c = ssd_base(r, "in-place"); c.inplace = 1; ssd_case(&c, dt);
        c = ssd_base(r, "strided"); c.strided = 1; ssd_case(&c, dt);
        c = ssd_base(r, "dt-spikes"); c.spike = 1; c.bias = 0; c.L = 300; c.Q[0] = 64; c.Q[1] = 256; ssd_case(&c, dt);
        c = ssd_base(r, "dt-spikes-raw"); c.spike = 1; c.softplus = 0; c.bias = 0; c.L = 200; ssd_case(&c, dt);
        c = ssd_base(r, "varlen"); c.varlen = 1; c.L = 40; c.Q[0] = 8; c.Q[1] = 5; ssd_case(&c, dt);
        c = ssd_base(r, "varlen-in-place"); c.varlen = 1; c.inplace = 1; c.L = 30; c.Q[0] = 16; c.Q[1] = 256; ssd_case(&c, dt);
        c = ssd_base(r, "NaN-in-x"); c.nan = 1; c.B = 2; ssd_case(&c, dt);
        c = ssd_base(r, "NaN-in-B-varlen"); c.nan = 2; c.varlen = 1; c.L = 30; c.Q[0] = 8; ssd_case(&c, dt);
        c = ssd_base(r, "NaN-in-x-varlen"); c.nan = 1; c.varlen = 1; c.L = 30; c.Q[0] = 8; ssd_case(&c, dt);
        for (rep = 0; rep < g_reps; rep++) {
            c = ssd_base(r, "random");
            c.softplus = rng_coin(r);
            c.bias = rng_coin(r);
            c.dskip = rng_coin(r);
            c.z = rng_coin(r);
            c.h0 = rng_coin(r);
            c.hlast = rng_coin(r);
            c.inplace = rng_int(r, 0, 3) == 0;
            c.limit = rng_coin(r);
            c.strided = rng_coin(r);
            c.varlen = rng_int(r, 0, 2) == 0;
            if (c.varlen) c.L = rng_int(r, 2, 40);
            c.Q[0] = rng_int(r, 1, 70);
            c.nQ = 1;
            ssd_case(&c, dt);
        }
    }
}

/* ================================================================ hsa_select (SPEC §5) */

typedef struct hsel_cfg {
    const char *tag;
    int64_t B, Lq, C, HR, R, K, S, q_offset, window;
    ssm_hsa_mode mode;
    int strided;     /* qr stored (B, HR, Lq, R) with gaps; outputs with gaps */
    int nan;         /* one NaN in the landmarks */
    int extra;
} hsel_cfg;

static void hsel_case(const hsel_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_hsa_select_params p;
    ssm_ref_out ref;
    int64_t pad = cf->strided ? rng_int(r, 1, 3) : 0;
    static const int q_order[4] = {0, 2, 1, 3};
    tlayout ql = cf->strided ? layout_perm(4, q_order, pad) : layout_pad(0), ol = layout_pad(pad);
    tensor *qr, *lmk, *idx, *w;
    output *oi, *ow;
    tkind k = tkind_of(dt);

    case_begin(&c, SSM_OP_HSA_SELECT, dt);
    case_name(&c, cf->tag, "B%lld Lq%lld C%lld HR%lld R%lld K%lld S%lld q_offset=%lld window=%lld %s%s%s",
              (long long)cf->B, (long long)cf->Lq, (long long)cf->C, (long long)cf->HR, (long long)cf->R,
              (long long)cf->K, (long long)cf->S, (long long)cf->q_offset, (long long)cf->window,
              cf->mode == SSM_HSA_SOFTMAX ? "softmax" : "stick", cf->strided ? " strided" : "", cf->nan ? " NaN" : "");
    qr = case_tensor(&c, k, 4, cf->B, cf->Lq, cf->HR, cf->R, &ql);
    lmk = case_tensor(&c, k, 4, cf->B, cf->C, cf->HR, cf->R, NULL);
    idx = case_tensor(&c, TK_I32, 4, cf->B, cf->Lq, cf->HR, cf->K, &ol);
    w = case_tensor(&c, TK_F32, 4, cf->B, cf->Lq, cf->HR, cf->K, &ol);
    tensor_fill_normal(qr, r, 0, 1);
    tensor_fill_normal(lmk, r, 0, 1);
    if (cf->nan && lmk->numel > 0) tensor_set(lmk, rng_int(r, 0, lmk->numel - 1), NAN);

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = cf->B; p.Lq = cf->Lq; p.C = cf->C; p.HR = cf->HR; p.R = cf->R; p.K = cf->K; p.S = cf->S;
    p.q_offset = cf->q_offset;
    p.window = cf->window;
    p.mode = cf->mode;
    p.qr = tensor_in(qr);
    p.lmk = tensor_in(lmk);
    p.idx = tensor_out(idx);
    p.w = tensor_out(w);
    c.p = &p;
    oi = case_output(&c, "idx", idx, SSM_F32);
    ow = case_output(&c, "w", w, SSM_F32);
    memset(&ref, 0, sizeof ref);
    ref.idx = oi->ref_idx;
    ref.w = ow->ref;
    case_finish(&c, ssm_ref_hsa_select(&p, &ref), cf->extra);
}

/* Queries at positions 0 .. (C+1)*S - 1 by default: from no eligible chunk to all of them. */
static hsel_cfg hsel_base(props_rng *r, const char *tag)
{
    hsel_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 2);
    c.C = rng_int(r, 3, 12);
    c.S = rng_int(r, 1, 8);
    c.Lq = (c.C + 1) * c.S;
    c.HR = rng_int(r, 1, 3);
    c.R = rng_int(r, 1, 40);
    c.K = rng_int(r, 1, c.C);
    c.mode = rng_coin(r) ? SSM_HSA_SOFTMAX : SSM_HSA_STICK;
    return c;
}

static void run_hsa_select(void)
{
    props_rng *r = &g_rng;
    int d, rep, m;
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        hsel_cfg c;
        for (m = 0; m < 2; m++) {
            ssm_hsa_mode mode = m ? SSM_HSA_SOFTMAX : SSM_HSA_STICK;
            c = hsel_base(r, "basic"); c.mode = mode; c.extra = 1; hsel_case(&c, dt);
            c = hsel_base(r, "K>C"); c.mode = mode; c.K = c.C + rng_int(r, 1, 4); hsel_case(&c, dt);
            c = hsel_base(r, "window"); c.mode = mode; c.window = rng_int(r, 1, 3 * c.S); hsel_case(&c, dt);
            c = hsel_base(r, "q_offset"); c.mode = mode; c.q_offset = rng_int(r, 1, 2 * c.S); hsel_case(&c, dt);
            c = hsel_base(r, "decode"); c.mode = mode; c.Lq = 1; c.q_offset = c.C * c.S + rng_int(r, 0, c.S - 1); hsel_case(&c, dt);
            c = hsel_base(r, "C0"); c.mode = mode; c.C = 0; c.Lq = 5; hsel_case(&c, dt);
            c = hsel_base(r, "HR1"); c.mode = mode; c.HR = 1; hsel_case(&c, dt);
            c = hsel_base(r, "K1"); c.mode = mode; c.K = 1; hsel_case(&c, dt);
            c = hsel_base(r, "strided"); c.mode = mode; c.strided = 1; hsel_case(&c, dt);
            c = hsel_base(r, "NaN-all-chosen"); c.mode = mode; c.nan = 1; c.K = c.C; c.B = 2; hsel_case(&c, dt);
            c = hsel_base(r, "NaN-ranked-last"); c.mode = mode; c.nan = 1; c.K = c.C / 2; hsel_case(&c, dt);
        }
        for (rep = 0; rep < g_reps; rep++) {
            c = hsel_base(r, "random");
            c.K = rng_int(r, 1, c.C + 3);
            c.window = rng_coin(r) ? rng_int(r, 0, 2 * c.S) : 0;
            c.q_offset = rng_coin(r) ? rng_int(r, 0, 3 * c.S) : 0;
            c.strided = rng_coin(r);
            hsel_case(&c, dt);
        }
    }
}

/* ================================================================ hsa_attention (SPEC §5) */

typedef struct hatt_cfg {
    const char *tag;
    int64_t B, Lq, C, HQ, HK, E, Ev, K, S;
    float scale, sm_n;
    int lse;
    int empty;       /* -1 slots, and rows with no slot at all */
    int bcast_hr;    /* idx and w with stride 0 over HK (one retrieval head, RAMba) */
    int strided_q;   /* q stored (B, HQ, Lq, E) with gaps; o with gaps */
    int nan;         /* one NaN in k */
    int extra;
} hatt_cfg;

static void hatt_case(const hatt_cfg *cf, ssm_dtype dt)
{
    props_rng *r = &g_rng;
    opcase c;
    ssm_hsa_attention_params p;
    ssm_ref_out ref;
    const int64_t B = cf->B, Lq = cf->Lq, C = cf->C, S = cf->S, Lk = C * S, HQ = cf->HQ, HK = cf->HK, K = cf->K;
    const int64_t E = cf->E, Ev = cf->Ev ? cf->Ev : cf->E;
    int64_t pad = cf->strided_q ? rng_int(r, 1, 3) : 0, b, t, h, i, j, hq;
    static const int q_order[4] = {0, 2, 1, 3};
    tlayout ql = cf->strided_q ? layout_perm(4, q_order, pad) : layout_pad(0), ol = layout_pad(pad), il = layout_pad(0);
    tensor *q, *kk, *v, *idx, *w, *o, *lse = NULL;
    output *oo, *ol_ = NULL;
    unsigned char *mo;
    int32_t chosen[64];
    tkind kd = tkind_of(dt);

    if (cf->bcast_hr) il.bcast = 4u;
    case_begin(&c, SSM_OP_HSA_ATTENTION, dt);
    case_name(&c, cf->tag, "B%lld Lq%lld C%lld S%lld HQ%lld HK%lld E%lld Ev%lld K%lld scale=%g sm_n=%g%s%s%s%s%s",
              (long long)B, (long long)Lq, (long long)C, (long long)S, (long long)HQ, (long long)HK, (long long)E,
              (long long)Ev, (long long)K, (double)cf->scale, (double)cf->sm_n, cf->lse ? " lse" : "",
              cf->empty ? " empty-slots" : "", cf->bcast_hr ? " idx-stride0-over-HK" : "",
              cf->strided_q ? " strided" : "", cf->nan ? " NaN" : "");
    q = case_tensor(&c, kd, 4, B, Lq, HQ, E, &ql);
    kk = case_tensor(&c, kd, 4, B, Lk, HK, E, NULL);
    v = case_tensor(&c, kd, 4, B, Lk, HK, Ev, NULL);
    idx = case_tensor(&c, TK_I32, 4, B, Lq, HK, K, &il);
    w = case_tensor(&c, TK_F32, 4, B, Lq, HK, K, &il);
    o = case_tensor(&c, kd, 4, B, Lq, HQ, Ev, &ol);
    if (cf->lse) lse = case_tensor(&c, TK_F32, 4, B, Lq, HQ, K, &ol);
    tensor_fill_normal(q, r, 0, 1);
    tensor_fill_normal(kk, r, 0, 1);
    tensor_fill_normal(v, r, 0, 1);
    for (i = 0; i < w->numel; i++) tensor_set(w, i, 0.05 + 0.95 * rng_uniform(r));
    for (b = 0; b < B; b++)  /* distinct chunks per row while there are any, -1 after that */
        for (t = 0; t < Lq; t++)
            for (h = 0; h < (cf->bcast_hr ? 1 : HK); h++) {
                int all_empty = cf->empty && rng_int(r, 0, 4) == 0;
                int64_t n = 0;
                for (i = 0; i < C; i++) chosen[i] = (int32_t)i;
                for (i = C - 1; i > 0; i--) {
                    int64_t jj = rng_int(r, 0, i);
                    int32_t tmp = chosen[i];
                    chosen[i] = chosen[jj];
                    chosen[jj] = tmp;
                }
                for (i = 0; i < K; i++) {
                    int32_t val = -1;
                    if (!all_empty && n < C && !(cf->empty && rng_int(r, 0, 3) == 0)) val = chosen[n++];
                    tensor_set(idx, ((b * Lq + t) * HK + h) * K + i, val);
                }
            }
    if (cf->nan && Lk > 0) {  /* in a chunk some row uses */
        int64_t at = rng_int(r, 0, idx->numel - 1), c0 = -1;
        for (i = 0; i < idx->numel && c0 < 0; i++) c0 = (int64_t)tensor_get(idx, (at + i) % idx->numel);
        if (c0 >= 0) {
            b = ((at + i - 1) % idx->numel) / (Lq * HK * K);
            h = cf->bcast_hr ? rng_int(r, 0, HK - 1) : ((at + i - 1) % idx->numel) / K % HK;
            tensor_set(kk, ((b * Lk + c0 * S + rng_int(r, 0, S - 1)) * HK + h) * E + rng_int(r, 0, E - 1), NAN);
        }
    }

    memset(&p, 0, sizeof p);
    p.dtype = dt;
    p.B = B; p.Lq = Lq; p.Lk = Lk; p.HQ = HQ; p.HK = HK; p.E = E; p.Ev = cf->Ev; p.K = K; p.S = S;
    p.scale = cf->scale;
    p.sm_n = cf->sm_n;
    p.q = tensor_in(q); p.k = tensor_in(kk); p.v = tensor_in(v); p.idx = tensor_in(idx); p.w = tensor_in(w);
    p.o = tensor_out(o);
    if (lse) p.lse = tensor_out(lse);
    c.p = &p;
    oo = case_output(&c, "o", o, dt);
    if (lse) ol_ = case_output(&c, "lse", lse, SSM_F32);
    mo = output_must(&c, oo);  /* rows with no valid slot: exact zeros */
    for (b = 0; b < B; b++)
        for (t = 0; t < Lq; t++)
            for (hq = 0; hq < HQ; hq++) {
                int any = 0;
                h = hq / (HQ / HK);
                for (i = 0; i < K; i++) any |= tensor_get(idx, ((b * Lq + t) * HK + h) * K + i) >= 0;
                if (!any)
                    for (j = 0; j < Ev; j++) mo[((b * Lq + t) * HQ + hq) * Ev + j] = MUST_ZERO;
            }
    memset(&ref, 0, sizeof ref);
    ref.o = oo->ref;
    ref.lse = ol_ ? ol_->ref : NULL;
    case_finish(&c, ssm_ref_hsa_attention(&p, &ref), cf->extra);
}

static hatt_cfg hatt_base(props_rng *r, const char *tag, int64_t ratio)
{
    hatt_cfg c;
    memset(&c, 0, sizeof c);
    c.tag = tag;
    c.B = rng_int(r, 1, 2);
    c.Lq = rng_int(r, 1, 12);
    c.C = rng_int(r, 1, 8);
    c.S = rng_int(r, 1, 16);
    c.HK = rng_int(r, 1, 3);
    c.HQ = c.HK * ratio;
    c.E = rng_int(r, 1, 40);
    c.Ev = rng_coin(r) ? 0 : rng_int(r, 1, 40);
    c.K = rng_int(r, 1, c.C);
    c.lse = 1;
    c.empty = 1;
    return c;
}

static void run_hsa_attention(void)
{
    props_rng *r = &g_rng;
    int d, rep;
    for (d = 0; d < 3; d++) {
        ssm_dtype dt = all_dtypes[d];
        hatt_cfg c;
        c = hatt_base(r, "gqa1", 1); c.extra = 1; hatt_case(&c, dt);
        c = hatt_base(r, "gqa2", 2); hatt_case(&c, dt);
        c = hatt_base(r, "gqa4", 4); c.sm_n = 1.0f; hatt_case(&c, dt);
        c = hatt_base(r, "gqa16", 16); c.HK = 1; c.HQ = 16; c.extra = 1; hatt_case(&c, dt);
        c = hatt_base(r, "odd-E-Ev", 2); c.E = 2 * rng_int(r, 1, 20) + 1; c.Ev = 2 * rng_int(r, 1, 20) + 1; hatt_case(&c, dt);
        c = hatt_base(r, "sm_n1", 1); c.sm_n = 1.0f; hatt_case(&c, dt);
        c = hatt_base(r, "scale", 2); c.scale = 0.3f; hatt_case(&c, dt);
        c = hatt_base(r, "no-lse", 2); c.lse = 0; hatt_case(&c, dt);
        c = hatt_base(r, "no-empty-slots", 2); c.empty = 0; hatt_case(&c, dt);
        c = hatt_base(r, "K>C", 2); c.K = c.C + rng_int(r, 1, 4); hatt_case(&c, dt);
        c = hatt_base(r, "decode", 4); c.Lq = 1; c.S = 64; c.E = 64; c.Ev = 0; hatt_case(&c, dt);
        c = hatt_base(r, "S1", 2); c.S = 1; hatt_case(&c, dt);
        c = hatt_base(r, "HR1-broadcast", 4); c.HK = 3; c.HQ = 12; c.bcast_hr = 1; hatt_case(&c, dt);
        c = hatt_base(r, "strided-q", 2); c.strided_q = 1; hatt_case(&c, dt);
        c = hatt_base(r, "Lq0", 2); c.Lq = 0; hatt_case(&c, dt);
        c = hatt_base(r, "NaN", 2); c.nan = 1; c.B = 2; c.HK = 2; c.HQ = 4; hatt_case(&c, dt);
        /* more selected chunks than one AMX product batch (8) takes */
        c = hatt_base(r, "many-slots", 2); c.C = rng_int(r, 12, 24); c.K = c.C - rng_int(r, 0, 3); c.S = rng_int(r, 1, 20);
        c.extra = 1; hatt_case(&c, dt);
        /* enough items (B Lq HK >= 512) that backends may split them by work, not count */
        c = hatt_base(r, "many-rows", 2); c.Lq = rng_int(r, 260, 400); c.HK = 2; c.HQ = 4; c.E = 8; c.Ev = 0; c.S = 4;
        c.extra = 1; hatt_case(&c, dt);
        for (rep = 0; rep < g_reps; rep++) {
            static const int64_t ratios[4] = {1, 2, 4, 16};
            c = hatt_base(r, "random", ratios[rng_int(r, 0, 3)]);
            c.sm_n = (float)rng_int(r, 0, 1);
            c.scale = rng_coin(r) ? 0.0f : (float)(0.05 + rng_uniform(r));
            c.lse = rng_coin(r);
            c.empty = rng_coin(r);
            c.bcast_hr = rng_int(r, 0, 3) == 0;
            c.strided_q = rng_coin(r);
            c.K = rng_int(r, 1, c.C + 2);
            hatt_case(&c, dt);
        }
    }
}

/* ================================================================ main */

int main(int argc, char **argv)
{
    int isa, i;
    g_rng.s = props_seed(argc, argv);
    g_reps = getenv("SSM_TEST_REPS") ? atoi(getenv("SSM_TEST_REPS")) : 8;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], "--reps=", 7) == 0) g_reps = atoi(argv[i] + 7);
    printf("random cases per op and dtype: %d\n", g_reps);
    printf("backends:");
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++)
        if (ssm_isa_available((ssm_isa)isa)) printf(" %s", ssm_isa_name((ssm_isa)isa));
    printf("\n");
    run_scan();
    run_state_update();
    run_conv1d();
    run_ssd();
    run_hsa_select();
    run_hsa_attention();
    ssm_set_isa(SSM_ISA_AUTO);
    return props_finish();
}
