/* test_badinput — bad arguments produce the exact status from real calls, and write nothing.

   For every op a small valid call (the fixture) is mutated one way at a time: NULL params, each
   required pointer NULL, out-of-range and inconsistent dimensions, non-positive output strides,
   int64 overflow of element counts and of stride extents, bad cu_seqlens / state_index / idx
   contents, bad scalar values, unknown dtype, aliasing outputs, too small a workspace, an
   impossible workspace. Each mutation runs in a child process (a crash or a sanitizer abort
   is one FAIL, not the end of the run) which calls ssm_<op>, ssm_<op>_validate and
   ssm_<op>_validate_args and checks, byte for byte, that no buffer of the fixture changed.
   Some variations are valid and must return SSM_OK (empty shapes with NULL pointers, in-place
   states with identical strides, broadcast inputs, padding indices).

   Then: every ssm_status has a distinct non-empty string; ssm_set_isa refuses a backend this
   machine lacks and keeps the selection; SSM_ISA in the environment picks the backend (checked
   in re-executed children); the f16/bf16 conversions round to nearest even, keep NaN and its
   sign, overflow to inf and handle subnormals, against values derived in double from the
   formats' definitions.

   One line per check ("PASS|FAIL|SKIP <op>: <what> ..."), then "N passed, M failed, K skipped";
   exit status 1 on any failure. usage: test_badinput [--print-isa] (the child mode). */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "props.h"

/* A request for a huge workspace must come back as SSM_ERR_NOMEM, not as an ASan abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static props_rng g_rng;
static char *g_self;   /* this program, for the SSM_ISA children */

/* ================================================================ fixtures and the one check */

enum { MAX_T = 40 };

/* The buffers of a valid call; the params live in each op's section. */
typedef struct fixture {
    ssm_op op;
    tensor *t[MAX_T];
    int n;
} fixture;

static tensor *fx_add(fixture *f, tensor *t)
{
    if (f->n == MAX_T) abort();
    f->t[f->n++] = t;
    return t;
}

/* A random normal tensor (values never matter here, but they are never zero). */
static tensor *fx_rand(fixture *f, tkind kind, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    tensor *t = fx_add(f, tensor_new4(kind, rank, d0, d1, d2, d3, NULL));
    tensor_fill_normal(t, &g_rng, 0, 1);
    return t;
}

static tensor *fx_neg(fixture *f, int rank, int64_t d0, int64_t d1)
{
    tensor *t = fx_rand(f, TK_F32, rank, d0, d1, 0, 0);
    int64_t i;
    for (i = 0; i < t->numel; i++) tensor_set(t, i, -0.5 - fabs(tensor_get(t, i)));
    return t;
}

static tensor *fx_ints(fixture *f, tkind kind, int64_t n, const int64_t *v)
{
    tensor *t = fx_add(f, tensor_new4(kind, 1, n, 0, 0, 0, NULL));
    int64_t i;
    for (i = 0; i < n; i++) tensor_set(t, i, (double)v[i]);
    return t;
}

static void fx_free(fixture *f)
{
    int i;
    for (i = 0; i < f->n; i++) tensor_free(f->t[i]);
    f->n = 0;
}

static ssm_status op_call(ssm_op op, const void *p, const ssm_exec *ex)
{
    switch (op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_selective_scan((const ssm_selective_scan_params *)p, ex);
    case SSM_OP_STATE_UPDATE: return ssm_state_update((const ssm_state_update_params *)p, ex);
    case SSM_OP_SSD: return ssm_ssd((const ssm_ssd_params *)p, ex);
    case SSM_OP_CONV1D: return ssm_conv1d((const ssm_conv1d_params *)p, ex);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select((const ssm_hsa_select_params *)p, ex);
    case SSM_OP_HSA_ATTENTION: return ssm_hsa_attention((const ssm_hsa_attention_params *)p, ex);
    default: return SSM_OK;
    }
}

static ssm_status op_validate(ssm_op op, const void *p, int args_only)
{
    switch (op) {
    case SSM_OP_SELECTIVE_SCAN:
        return args_only ? ssm_selective_scan_validate_args((const ssm_selective_scan_params *)p)
                         : ssm_selective_scan_validate((const ssm_selective_scan_params *)p);
    case SSM_OP_STATE_UPDATE:
        return args_only ? ssm_state_update_validate_args((const ssm_state_update_params *)p)
                         : ssm_state_update_validate((const ssm_state_update_params *)p);
    case SSM_OP_SSD:
        return args_only ? ssm_ssd_validate_args((const ssm_ssd_params *)p) : ssm_ssd_validate((const ssm_ssd_params *)p);
    case SSM_OP_CONV1D:
        return args_only ? ssm_conv1d_validate_args((const ssm_conv1d_params *)p)
                         : ssm_conv1d_validate((const ssm_conv1d_params *)p);
    case SSM_OP_HSA_SELECT:
        return args_only ? ssm_hsa_select_validate_args((const ssm_hsa_select_params *)p)
                         : ssm_hsa_select_validate((const ssm_hsa_select_params *)p);
    case SSM_OP_HSA_ATTENTION:
        return args_only ? ssm_hsa_attention_validate_args((const ssm_hsa_attention_params *)p)
                         : ssm_hsa_attention_validate((const ssm_hsa_attention_params *)p);
    default: return SSM_OK;
    }
}

static size_t op_workspace_size(ssm_op op, const void *p, int threads)
{
    switch (op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_selective_scan_workspace_size((const ssm_selective_scan_params *)p, threads);
    case SSM_OP_STATE_UPDATE: return ssm_state_update_workspace_size((const ssm_state_update_params *)p, threads);
    case SSM_OP_SSD: return ssm_ssd_workspace_size((const ssm_ssd_params *)p, threads);
    case SSM_OP_CONV1D: return ssm_conv1d_workspace_size((const ssm_conv1d_params *)p, threads);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select_workspace_size((const ssm_hsa_select_params *)p, threads);
    case SSM_OP_HSA_ATTENTION:
        return ssm_hsa_attention_workspace_size((const ssm_hsa_attention_params *)p, threads);
    default: return 0;
    }
}

/* Which of the three entry points must report the error: all of them; the call and validate
   (an error only tensor contents reveal: validate_args cannot see it); or the call alone (the
   workspace: the validators do not know it). */
typedef enum reach { ALL, CONTENTS, CALL_ONLY } reach;

/* What the child reports. */
typedef struct verdict {
    int st_call, st_validate, st_args;
    int changed;        /* index of the fixture tensor that changed, or -1 */
    int64_t changed_at; /* its first changed element */
} verdict;

static const char *status_name(int st)
{
    static const char *const names[] = {"SSM_OK", "SSM_ERR_NULL", "SSM_ERR_SHAPE", "SSM_ERR_STRIDE",
                                        "SSM_ERR_ARG", "SSM_ERR_OVERFLOW", "SSM_ERR_UNSUPPORTED",
                                        "SSM_ERR_DEVICE", "SSM_ERR_NOMEM"};
    return st >= 0 && st < (int)(sizeof names / sizeof names[0]) ? names[st] : "(not a status)";
}

static void child_check(const fixture *f, const void *p, const ssm_exec *ex, verdict *v)
{
    unsigned char *snap[MAX_T];
    int i;
    for (i = 0; i < f->n; i++) snap[i] = tensor_snapshot(f->t[i]);
    v->st_call = op_call(f->op, p, ex);
    v->st_validate = op_validate(f->op, p, 0);
    v->st_args = op_validate(f->op, p, 1);
    (void)op_workspace_size(f->op, p, 2);  /* must not crash on bad params either */
    v->changed = -1;
    for (i = 0; i < f->n && v->changed < 0; i++) {
        int64_t e;
        for (e = 0; e < f->t[i]->span; e++)
            if (memcmp(f->t[i]->buf + (size_t)e * f->t[i]->elem, snap[i] + (size_t)e * f->t[i]->elem,
                       f->t[i]->elem) != 0) {
                v->changed = i;
                v->changed_at = e;
                break;
            }
    }
    for (i = 0; i < f->n; i++) free(snap[i]);
}

/* Runs the (mutated) call p in a child process and checks the statuses and, for an error,
   that no buffer changed. want == SSM_OK: the variation is valid and must be accepted. */
static void expect_ex(const fixture *f, const void *p, const ssm_exec *ex, const char *what, ssm_status want, reach r)
{
    int fds[2], wstatus = 0;
    verdict v;
    ssize_t got = 0;
    pid_t pid;
    int want_validate = r == CALL_ONLY ? SSM_OK : want, want_args = r == ALL ? want : SSM_OK;
    const char *op = ssm_op_name(f->op);
    fflush(stdout);
    if (pipe(fds) != 0) abort();
    pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
        close(fds[0]);
        memset(&v, 0, sizeof v);
        child_check(f, p, ex, &v);
        if (write(fds[1], &v, sizeof v) != (ssize_t)sizeof v) _exit(3);
        _exit(0);
    }
    close(fds[1]);
    while (got < (ssize_t)sizeof v) {
        ssize_t n = read(fds[0], (char *)&v + got, sizeof v - (size_t)got);
        if (n <= 0) break;
        got += n;
    }
    close(fds[0]);
    waitpid(pid, &wstatus, 0);
    if (got != (ssize_t)sizeof v || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        props_report(PROPS_FAIL, "%s: %s: the call crashed (%s %d), expected %s", op, what,
                     WIFSIGNALED(wstatus) ? "signal" : "exit status",
                     WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus), status_name(want));
        return;
    }
    if (v.st_call != (int)want || v.st_validate != want_validate || v.st_args != want_args) {
        props_report(PROPS_FAIL, "%s: %s: call %s, validate %s, validate_args %s; expected %s, %s, %s", op, what,
                     status_name(v.st_call), status_name(v.st_validate), status_name(v.st_args), status_name(want),
                     status_name(want_validate), status_name(want_args));
        return;
    }
    if (want != SSM_OK && v.changed >= 0) {
        props_report(PROPS_FAIL, "%s: %s: %s but buffer #%d changed at element %lld", op, what, status_name(want),
                     v.changed, (long long)v.changed_at);
        return;
    }
    props_report(PROPS_PASS, "%s: %s -> %s%s", op, what, status_name(want), want != SSM_OK ? ", nothing written" : "");
}

/* ssm_<op>_workspace_size(p, 1) computed in a child (it must not crash on huge shapes);
   returns 0, or -1 when the child died. */
static int child_workspace_size(const fixture *f, const void *p, size_t *size)
{
    int fds[2], wstatus = 0;
    ssize_t got;
    pid_t pid;
    fflush(stdout);
    if (pipe(fds) != 0) abort();
    pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
        size_t s = op_workspace_size(f->op, p, 1);
        close(fds[0]);
        _exit(write(fds[1], &s, sizeof s) == (ssize_t)sizeof s ? 0 : 3);
    }
    close(fds[1]);
    got = read(fds[0], size, sizeof *size);
    close(fds[0]);
    waitpid(pid, &wstatus, 0);
    return got == (ssize_t)sizeof *size && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 ? 0 : -1;
}

static void expect(const fixture *f, const void *p, const char *what, ssm_status want, reach r)
{
    ssm_exec ex;
    memset(&ex, 0, sizeof ex);
    ex.n_threads = 1;
    expect_ex(f, p, &ex, what, want, r);
}

/* A stride array equal to t's contiguous strides except dim d, which gets value. */
static const int64_t *stride_with(int64_t *buf, const tensor *t, int d, int64_t value)
{
    ssm_contiguous_strides(t->rank, t->dim, buf);
    buf[d] = value;
    return buf;
}

/* Every output stride 0 and -1, dim by dim: SSM_ERR_STRIDE. */
#define OUTPUT_STRIDES(member, tens)                                                             \
    do {                                                                                         \
        int d_;                                                                                  \
        int64_t sb_[SSM_MAX_RANK];                                                               \
        char w_[96];                                                                             \
        for (d_ = 0; d_ < (tens)->rank; d_++) {                                                  \
            q = base;                                                                            \
            q.member.stride = stride_with(sb_, tens, d_, 0);                                     \
            snprintf(w_, sizeof w_, "%s stride[%d] = 0", #member, d_);                           \
            expect(&f, &q, w_, SSM_ERR_STRIDE, ALL);                                             \
            q.member.stride = stride_with(sb_, tens, d_, -1);                                    \
            snprintf(w_, sizeof w_, "%s stride[%d] = -1", #member, d_);                          \
            expect(&f, &q, w_, SSM_ERR_STRIDE, ALL);                                             \
        }                                                                                        \
    } while (0)

/* One mutation of base: TRY(status, reach, "what", statements on q). */
#define TRY(want, r, what, ...)          \
    do {                                 \
        q = base;                        \
        __VA_ARGS__;                     \
        expect(&f, &q, what, want, r);   \
    } while (0)

static const ssm_dtype bad_dtypes[3] = {SSM_DTYPE_COUNT, (ssm_dtype)-1, (ssm_dtype)77};

/* A stride array (rank 4 at most) for an input: the given values. */
static const int64_t *strides4(int64_t *buf, int64_t a, int64_t b, int64_t c, int64_t d)
{
    buf[0] = a; buf[1] = b; buf[2] = c; buf[3] = d;
    return buf;
}

/* A workspace one byte short of the size, when the fixture needs one. */
static void too_small_workspace(const fixture *f, const void *p)
{
    size_t size = op_workspace_size(f->op, p, 1);
    ssm_exec ex;
    unsigned char *ws;
    if (size == 0) {  /* nothing to be short of: a zero-byte caller workspace must be accepted */
        unsigned char none[1];
        ssm_status st;
        memset(&ex, 0, sizeof ex);
        ex.n_threads = 1;
        ex.workspace = none;
        ex.workspace_size = 0;
        st = op_call(f->op, p, &ex);
        props_report(st == SSM_OK ? PROPS_PASS : PROPS_FAIL, "%s: needs no workspace; a zero-byte one is accepted (%s)",
                     ssm_op_name(f->op), ssm_status_string(st));
        return;
    }
    ws = (unsigned char *)malloc(size);
    if (!ws) abort();
    memset(&ex, 0, sizeof ex);
    ex.n_threads = 1;
    ex.workspace = ws;
    ex.workspace_size = size - 1;
    expect_ex(f, p, &ex, "workspace one byte short of ssm_<op>_workspace_size", SSM_ERR_ARG, CALL_ONLY);
    free(ws);
}

/* ================================================================ selective_scan */

static void bad_selective_scan(void)
{
    fixture f = {SSM_OP_SELECTIVE_SCAN, {0}, 0};
    ssm_selective_scan_params base, q;
    const int64_t B = 2, D = 4, L = 8, N = 64, G = 2;
    int64_t sb[SSM_MAX_RANK], sb2[SSM_MAX_RANK];
    static const int64_t cu_ok[4] = {0, 3, 3, 7}, cu_not0[4] = {1, 3, 3, 7}, cu_down[4] = {0, 3, 2, 7},
                         cu_past[4] = {0, 3, 3, 9};
    tensor *u, *delta, *z, *out, *A, *Bm, *Cm, *Dskip, *bias, *h0, *hl, *cu, *cu0, *cud, *cup, *h0v, *hlv, *hlp;
    int i;
    static const int perm[3] = {0, 2, 1};
    tlayout lp;

    u = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    delta = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    z = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    out = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    A = fx_neg(&f, 2, D, N);
    Bm = fx_rand(&f, TK_F32, 4, B, G, N, L);
    Cm = fx_rand(&f, TK_F32, 4, B, G, N, L);
    Dskip = fx_rand(&f, TK_F32, 1, D, 0, 0, 0);
    bias = fx_rand(&f, TK_F32, 1, D, 0, 0, 0);
    h0 = fx_rand(&f, TK_F32, 3, B, D, N, 0);
    hl = fx_rand(&f, TK_F32, 3, B, D, N, 0);
    cu = fx_ints(&f, TK_I64, 4, cu_ok);
    cu0 = fx_ints(&f, TK_I64, 4, cu_not0);
    cud = fx_ints(&f, TK_I64, 4, cu_down);
    cup = fx_ints(&f, TK_I64, 4, cu_past);
    h0v = fx_rand(&f, TK_F32, 3, 3, D, N, 0);
    hlv = fx_rand(&f, TK_F32, 3, 3, D, N, 0);
    memset(&lp, 0, sizeof lp);
    lp.permuted = 1;
    for (i = 0; i < 3; i++) lp.order[i] = perm[i];
    hlp = fx_add(&f, tensor_new4(TK_F32, 3, B, D, N, 0, &lp));

    memset(&base, 0, sizeof base);
    base.dtype = SSM_F32;
    base.B = B; base.D = D; base.L = L; base.N = N; base.G = G;
    base.u = tensor_in(u); base.delta = tensor_in(delta); base.A = tensor_in(A);
    base.Bm = tensor_in(Bm); base.Cm = tensor_in(Cm);
    base.Dskip = tensor_in(Dskip); base.z = tensor_in(z); base.delta_bias = tensor_in(bias); base.h0 = tensor_in(h0);
    base.delta_softplus = 1;
    base.out = tensor_out(out);
    base.h_last = tensor_out(hl);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "u NULL", q.u.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "delta NULL", q.delta.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "A NULL", q.A.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Bm NULL", q.Bm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Cm NULL", q.Cm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "out NULL", q.out.data = NULL);
    TRY(SSM_OK, ALL, "every optional operand absent",
        q.Dskip.data = NULL; q.z.data = NULL; q.delta_bias.data = NULL; q.h0.data = NULL; q.h_last.data = NULL);
    TRY(SSM_OK, ALL, "B = 0 with every pointer NULL but A",
        q.B = 0; q.u.data = q.delta.data = q.Bm.data = q.Cm.data = q.z.data = q.h0.data = NULL;
        q.out.data = q.h_last.data = NULL);
    TRY(SSM_OK, ALL, "L = 0 with the sequence operands NULL",
        q.L = 0; q.u.data = q.delta.data = q.Bm.data = q.Cm.data = q.z.data = NULL; q.out.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_SHAPE, ALL, "L = -1", q.L = -1);
    TRY(SSM_ERR_SHAPE, ALL, "D = 0", q.D = 0);
    TRY(SSM_ERR_SHAPE, ALL, "D = -4", q.D = -4);
    TRY(SSM_ERR_SHAPE, ALL, "N = 0", q.N = 0);
    TRY(SSM_ERR_SHAPE, ALL, "N = -1", q.N = -1);
    TRY(SSM_ERR_SHAPE, ALL, "G = -2", q.G = -2);
    TRY(SSM_ERR_SHAPE, ALL, "G = 3 does not divide D = 4", q.G = 3);
    TRY(SSM_ERR_SHAPE, ALL, "G = 8 > D = 4", q.G = 8);
    TRY(SSM_OK, ALL, "G = 0 (one group)", q.G = 0);
    OUTPUT_STRIDES(out, out);
    OUTPUT_STRIDES(h_last, hl);
    TRY(SSM_OK, ALL, "inputs broadcast (stride 0) and reversed (negative stride)",
        q.u.stride = strides4(sb, 0, L, 1, 0); q.delta.stride = strides4(sb2, D * L, L, -1, 0);
        q.delta.data = (const float *)tensor_data(delta) + (L - 1));
    TRY(SSM_ERR_OVERFLOW, ALL, "B * D * L overflows int64", q.B = INT64_MAX / 4);
    TRY(SSM_ERR_OVERFLOW, ALL, "D * N overflows int64", q.D = (int64_t)1 << 60; q.G = 1);
    TRY(SSM_ERR_OVERFLOW, ALL, "input stride extent overflows int64", q.u.stride = strides4(sb, INT64_MAX / 2, L, 1, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "input stride INT64_MIN", q.u.stride = strides4(sb, INT64_MIN, L, 1, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "input extent exactly INT64_MAX elements (bytes overflow)",
        q.u.stride = strides4(sb, 0, 0, INT64_MAX / (L - 1), 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "output stride extent overflows int64",
        q.out.stride = strides4(sb, INT64_MAX / 2, L, 1, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "output extent in bytes overflows int64",
        q.out.stride = strides4(sb, INT64_MAX / 4 / (B - 1), L, 1, 0));
    for (i = 0; i < 3; i++) {
        char w[64];
        snprintf(w, sizeof w, "dtype %d", (int)bad_dtypes[i]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, w, q.dtype = bad_dtypes[i]);
    }
    TRY(SSM_ERR_ARG, ALL, "out aliases u", q.out.data = tensor_data(u));
    TRY(SSM_ERR_ARG, ALL, "out aliases z", q.out.data = tensor_data(z));
    TRY(SSM_ERR_ARG, ALL, "h_last aliases A", q.h_last.data = (void *)(uintptr_t)tensor_data(A));
    TRY(SSM_ERR_ARG, ALL, "out aliases h_last", q.out.data = tensor_data(hl));
    TRY(SSM_OK, ALL, "h_last == h0 with identical strides (in place)", q.h_last = tensor_out(h0));
    TRY(SSM_OK, ALL, "h_last == h0, both with explicit contiguous strides",
        ssm_contiguous_strides(3, h0->dim, sb); q.h0.stride = sb; q.h_last = tensor_out(h0); q.h_last.stride = sb);
    TRY(SSM_ERR_ARG, ALL, "h_last == h0 with different strides",
        q.h_last.data = tensor_data(h0); q.h_last.stride = hlp->st);
    /* cu_seqlens (B = 1, 3 sequences, rows of h0/h_last per sequence) */
    base.B = 1;
    base.cu_seqlens = tensor_in(cu);
    base.nseq = 3;
    base.h0 = tensor_in(h0v);
    base.h_last = tensor_out(hlv);
    TRY(SSM_OK, ALL, "cu_seqlens 0,3,3,7 with L = 8 (an empty sequence, a padding token)");
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens not starting at 0", q.cu_seqlens = tensor_in(cu0));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens decreasing", q.cu_seqlens = tensor_in(cud));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens past L", q.cu_seqlens = tensor_in(cup));
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with B = 2", q.B = 2; q.h0.data = NULL; q.h_last.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with nseq = -1", q.nseq = -1);
    TRY(SSM_ERR_OVERFLOW, ALL, "cu_seqlens with nseq = INT64_MAX", q.nseq = INT64_MAX; q.h0.data = NULL;
        q.h_last.data = NULL);
    TRY(SSM_OK, ALL, "cu_seqlens with nseq = 0 (all padding)", q.nseq = 0);
    base.B = B;
    base.cu_seqlens.data = NULL;
    base.nseq = 0;
    base.h0 = tensor_in(h0);
    base.h_last = tensor_out(hl);
    too_small_workspace(&f, &base);
    {   /* SSM_ERR_NOMEM: a workspace need that cannot be met. The tensors are never read: the
           call must fail before any work, so they may be far smaller than the shape says. */
        size_t size;
        q = base;
        q.N = (int64_t)1 << 40;  /* about 0.5 PB of scratch per thread: malloc fails */
        q.Dskip.data = q.z.data = q.delta_bias.data = q.h0.data = NULL;
        q.h_last.data = NULL;
        if (child_workspace_size(&f, &q, &size) != 0)
            props_report(PROPS_FAIL, "selective_scan: ssm_selective_scan_workspace_size crashed for N = 2^40");
        else if (size < ((size_t)1 << 48))
            props_report(PROPS_SKIP, "selective_scan: SSM_ERR_NOMEM: this build needs only %zu bytes for N = 2^40", size);
        else
            expect(&f, &q, "N = 2^40: the workspace it allocates cannot be had", SSM_ERR_NOMEM, CALL_ONLY);
        q.N = (int64_t)1 << 54;  /* the need itself is beyond size_t's half */
        if (child_workspace_size(&f, &q, &size) != 0)
            props_report(PROPS_FAIL, "selective_scan: ssm_selective_scan_workspace_size crashed for N = 2^54");
        else if (size != (size_t)-1 && size < ((size_t)1 << 60))
            props_report(PROPS_FAIL, "selective_scan: N = 2^54 reports a workspace of %zu bytes (wrapped?)", size);
        else
            expect(&f, &q, "N = 2^54: a workspace size beyond size_t", SSM_ERR_NOMEM, CALL_ONLY);
    }
    fx_free(&f);
}

/* ================================================================ state_update */

static void bad_state_update(void)
{
    fixture f = {SSM_OP_STATE_UPDATE, {0}, 0};
    ssm_state_update_params base, q;
    const int64_t B = 3, H = 4, P = 2, N = 3, G = 2, Ns = 5, BIG = 70000;
    static const int64_t idx_ok[3] = {0, 4, -1}, idx_far[3] = {0, 5, -1}, idx_rep[3] = {2, 2, -1},
                         idx_neg[3] = {-7, 1, -1}, idx_big_rep[3] = {69999, 3, 69999};
    tensor *state, *x, *dt, *z, *out, *A, *Bm, *Cm, *Dskip, *bias, *idx, *far, *rep, *neg, *big, *bigrep;
    int64_t sb[SSM_MAX_RANK], sb2[SSM_MAX_RANK];
    int i;

    state = fx_rand(&f, TK_F32, 4, Ns, H, P, N);
    x = fx_rand(&f, TK_F16, 3, B, H, P, 0);
    dt = fx_rand(&f, TK_F16, 3, B, H, P, 0);
    z = fx_rand(&f, TK_F16, 3, B, H, P, 0);
    out = fx_rand(&f, TK_F16, 3, B, H, P, 0);
    A = fx_add(&f, tensor_new4(TK_F32, 3, H, P, N, 0, NULL));
    for (i = 0; i < A->numel; i++) tensor_set(A, i, -1.0 - i % 3);
    Bm = fx_rand(&f, TK_F16, 3, B, G, N, 0);
    Cm = fx_rand(&f, TK_F16, 3, B, G, N, 0);
    Dskip = fx_rand(&f, TK_F32, 2, H, P, 0, 0);
    bias = fx_rand(&f, TK_F32, 2, H, P, 0, 0);
    idx = fx_ints(&f, TK_I32, 3, idx_ok);
    far = fx_ints(&f, TK_I32, 3, idx_far);
    rep = fx_ints(&f, TK_I32, 3, idx_rep);
    neg = fx_ints(&f, TK_I32, 3, idx_neg);
    bigrep = fx_ints(&f, TK_I32, 3, idx_big_rep);
    big = fx_rand(&f, TK_F32, 4, BIG, H, P, N);

    memset(&base, 0, sizeof base);
    base.dtype = SSM_F16;
    base.B = B; base.H = H; base.P = P; base.N = N; base.G = G; base.Ns = Ns;
    base.state = tensor_out(state);
    base.x = tensor_in(x); base.dt = tensor_in(dt); base.A = tensor_in(A); base.Bm = tensor_in(Bm); base.Cm = tensor_in(Cm);
    base.Dskip = tensor_in(Dskip); base.z = tensor_in(z); base.dt_bias = tensor_in(bias);
    base.state_index = tensor_in(idx);
    base.dt_softplus = 1;
    base.dt_limit = 1;
    base.dt_min = 0.01f;
    base.dt_max = 0.5f;
    base.out = tensor_out(out);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "state NULL", q.state.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "x NULL", q.x.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "dt NULL", q.dt.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "A NULL", q.A.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Bm NULL", q.Bm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Cm NULL", q.Cm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "out NULL", q.out.data = NULL);
    TRY(SSM_OK, ALL, "every optional operand absent (Ns = B)",
        q.Dskip.data = q.z.data = q.dt_bias.data = q.state_index.data = NULL; q.Ns = 0; q.dt_limit = 0);
    TRY(SSM_OK, ALL, "B = 0 with every activation NULL",
        q.B = 0; q.x.data = q.dt.data = q.Bm.data = q.Cm.data = q.z.data = q.state_index.data = NULL; q.out.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_SHAPE, ALL, "H = 0", q.H = 0);
    TRY(SSM_ERR_SHAPE, ALL, "P = 0", q.P = 0);
    TRY(SSM_ERR_SHAPE, ALL, "P = -2", q.P = -2);
    TRY(SSM_ERR_SHAPE, ALL, "N = 0", q.N = 0);
    TRY(SSM_ERR_SHAPE, ALL, "G = 3 does not divide H = 4", q.G = 3);
    TRY(SSM_ERR_SHAPE, ALL, "G = -1", q.G = -1);
    TRY(SSM_ERR_SHAPE, ALL, "Ns = -1", q.Ns = -1);
    TRY(SSM_ERR_SHAPE, ALL, "Ns = 2 < B = 3 without state_index", q.Ns = 2; q.state_index.data = NULL);
    OUTPUT_STRIDES(out, out);
    OUTPUT_STRIDES(state, state);
    TRY(SSM_OK, ALL, "Mamba-2 ties: A, dt, dt_bias with stride 0 over P (and N)",
        q.A.stride = strides4(sb, P * N, 0, 0, 0); q.dt.stride = strides4(sb2, H * P, P, 0, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "Ns * H * P * N overflows int64", q.Ns = INT64_MAX / 8);
    TRY(SSM_ERR_OVERFLOW, ALL, "B * H * P overflows int64", q.B = INT64_MAX / 2);
    TRY(SSM_ERR_OVERFLOW, ALL, "input stride extent overflows int64", q.x.stride = strides4(sb, 1, INT64_MAX / 3, 1, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "state stride extent overflows int64",
        q.state.stride = strides4(sb, INT64_MAX / 4, P * N, N, 1));
    for (i = 0; i < 3; i++) {
        char w[64];
        snprintf(w, sizeof w, "dtype %d", (int)bad_dtypes[i]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, w, q.dtype = bad_dtypes[i]);
    }
    TRY(SSM_ERR_ARG, CONTENTS, "state_index 5 with Ns = 5", q.state_index = tensor_in(far));
    TRY(SSM_ERR_ARG, CONTENTS, "state_index repeated", q.state_index = tensor_in(rep));
    TRY(SSM_ERR_ARG, CONTENTS, "state_index repeated in a cache of 70000 rows",
        q.state_index = tensor_in(bigrep); q.Ns = BIG; q.state = tensor_out(big));
    TRY(SSM_OK, ALL, "state_index -7 (any negative entry is padding)", q.state_index = tensor_in(neg));
    TRY(SSM_ERR_ARG, ALL, "dt_min > dt_max", q.dt_min = 0.6f);
    TRY(SSM_ERR_ARG, ALL, "dt_min NaN", q.dt_min = NAN);
    TRY(SSM_ERR_ARG, ALL, "dt_max NaN", q.dt_max = NAN);
    TRY(SSM_OK, ALL, "NaN limits while dt_limit is off", q.dt_limit = 0; q.dt_min = NAN; q.dt_max = NAN);
    TRY(SSM_ERR_ARG, ALL, "out aliases x", q.out.data = tensor_data(x));
    TRY(SSM_ERR_ARG, ALL, "out aliases state", q.out.data = tensor_data(state));
    TRY(SSM_ERR_ARG, ALL, "state aliases Dskip", q.state.data = (void *)(uintptr_t)tensor_data(Dskip));
    too_small_workspace(&f, &base);
    fx_free(&f);
}

/* ================================================================ ssd */

static void bad_ssd(void)
{
    fixture f = {SSM_OP_SSD, {0}, 0};
    ssm_ssd_params base, q;
    const int64_t B = 2, L = 6, H = 4, P = 2, N = 3, G = 2;
    static const int64_t cu_ok[4] = {0, 2, 2, 5}, cu_not0[4] = {2, 2, 2, 5}, cu_down[4] = {0, 4, 2, 5},
                         cu_past[4] = {0, 2, 2, 7};
    tensor *x, *dt, *z, *out, *A, *Apos, *Azero, *Bm, *Cm, *Dskip, *bias, *h0, *hl, *cu, *cu0, *cud, *cup, *h0v, *hlv;
    int64_t sb[SSM_MAX_RANK];
    int i;

    x = fx_rand(&f, TK_BF16, 4, B, L, H, P);
    dt = fx_rand(&f, TK_BF16, 3, B, L, H, 0);
    z = fx_rand(&f, TK_BF16, 4, B, L, H, P);
    out = fx_rand(&f, TK_BF16, 4, B, L, H, P);
    A = fx_neg(&f, 1, H, 0);
    Apos = fx_neg(&f, 1, H, 0);
    tensor_set(Apos, 2, 0.25);
    Azero = fx_neg(&f, 1, H, 0);
    tensor_set(Azero, 1, 0.0);
    tensor_set(Azero, 3, -0.0);
    Bm = fx_rand(&f, TK_BF16, 4, B, L, G, N);
    Cm = fx_rand(&f, TK_BF16, 4, B, L, G, N);
    Dskip = fx_rand(&f, TK_F32, 2, H, P, 0, 0);
    bias = fx_rand(&f, TK_F32, 1, H, 0, 0, 0);
    h0 = fx_rand(&f, TK_F32, 4, B, H, P, N);
    hl = fx_rand(&f, TK_F32, 4, B, H, P, N);
    cu = fx_ints(&f, TK_I64, 4, cu_ok);
    cu0 = fx_ints(&f, TK_I64, 4, cu_not0);
    cud = fx_ints(&f, TK_I64, 4, cu_down);
    cup = fx_ints(&f, TK_I64, 4, cu_past);
    h0v = fx_rand(&f, TK_F32, 4, 3, H, P, N);
    hlv = fx_rand(&f, TK_F32, 4, 3, H, P, N);

    memset(&base, 0, sizeof base);
    base.dtype = SSM_BF16;
    base.B = B; base.L = L; base.H = H; base.P = P; base.N = N; base.G = G; base.Q = 4;
    base.x = tensor_in(x); base.dt = tensor_in(dt); base.A = tensor_in(A); base.Bm = tensor_in(Bm); base.Cm = tensor_in(Cm);
    base.Dskip = tensor_in(Dskip); base.z = tensor_in(z); base.dt_bias = tensor_in(bias); base.h0 = tensor_in(h0);
    base.dt_softplus = 1;
    base.dt_limit = 1;
    base.dt_min = 0.001f;
    base.dt_max = 0.1f;
    base.out = tensor_out(out);
    base.h_last = tensor_out(hl);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "x NULL", q.x.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "dt NULL", q.dt.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "A NULL", q.A.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Bm NULL", q.Bm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "Cm NULL", q.Cm.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "out NULL", q.out.data = NULL);
    TRY(SSM_OK, ALL, "every optional operand absent",
        q.Dskip.data = q.z.data = q.dt_bias.data = q.h0.data = NULL; q.h_last.data = NULL; q.dt_limit = 0);
    TRY(SSM_OK, ALL, "L = 0 with the sequence operands NULL",
        q.L = 0; q.x.data = q.dt.data = q.Bm.data = q.Cm.data = q.z.data = NULL; q.out.data = NULL);
    TRY(SSM_OK, ALL, "B = 0 with every pointer NULL but A",
        q.B = 0; q.x.data = q.dt.data = q.Bm.data = q.Cm.data = q.z.data = q.h0.data = NULL;
        q.out.data = q.h_last.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_SHAPE, ALL, "L = -1", q.L = -1);
    TRY(SSM_ERR_SHAPE, ALL, "H = 0", q.H = 0);
    TRY(SSM_ERR_SHAPE, ALL, "P = 0", q.P = 0);
    TRY(SSM_ERR_SHAPE, ALL, "N = -3", q.N = -3);
    TRY(SSM_ERR_SHAPE, ALL, "G = 3 does not divide H = 4", q.G = 3);
    TRY(SSM_ERR_SHAPE, ALL, "Q = -1", q.Q = -1);
    TRY(SSM_OK, ALL, "Q = 0 (the default chunk)", q.Q = 0);
    TRY(SSM_OK, ALL, "Q = INT64_MAX (one chunk)", q.Q = INT64_MAX);
    OUTPUT_STRIDES(out, out);
    OUTPUT_STRIDES(h_last, hl);
    TRY(SSM_OK, ALL, "per-head Dskip: stride 0 over P", q.Dskip.stride = strides4(sb, 1, 0, 0, 0));
    TRY(SSM_ERR_ARG, CONTENTS, "A > 0 in one head", q.A = tensor_in(Apos));
    TRY(SSM_OK, ALL, "A = 0 and A = -0 in some heads", q.A = tensor_in(Azero));
    TRY(SSM_ERR_ARG, ALL, "dt_min > dt_max", q.dt_min = 0.2f);
    TRY(SSM_ERR_ARG, ALL, "dt_min NaN", q.dt_min = NAN);
    TRY(SSM_ERR_ARG, ALL, "dt_max NaN", q.dt_max = NAN);
    TRY(SSM_ERR_ARG, ALL, "dt_max < 0 (empty range: dt' >= 0 always)", q.dt_min = -1.0f; q.dt_max = -0.5f);
    TRY(SSM_OK, ALL, "dt_min < 0 <= dt_max", q.dt_min = -1.0f);
    TRY(SSM_ERR_OVERFLOW, ALL, "B * L * H * P overflows int64", q.L = INT64_MAX / 8);
    TRY(SSM_ERR_OVERFLOW, ALL, "input stride extent overflows int64",
        q.x.stride = strides4(sb, INT64_MAX / 2, H * P, P, 1));
    TRY(SSM_ERR_OVERFLOW, ALL, "output stride extent overflows int64",
        q.out.stride = strides4(sb, L * H * P, INT64_MAX / 8, P, 1));
    for (i = 0; i < 3; i++) {
        char w[64];
        snprintf(w, sizeof w, "dtype %d", (int)bad_dtypes[i]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, w, q.dtype = bad_dtypes[i]);
    }
    TRY(SSM_ERR_ARG, ALL, "out aliases x", q.out.data = tensor_data(x));
    TRY(SSM_ERR_ARG, ALL, "out aliases z", q.out.data = tensor_data(z));
    TRY(SSM_ERR_ARG, ALL, "h_last aliases out", q.h_last.data = tensor_data(out));
    TRY(SSM_OK, ALL, "h_last == h0 with identical strides (in place)", q.h_last = tensor_out(h0));
    TRY(SSM_ERR_ARG, ALL, "h_last == h0 with different strides",
        q.h_last = tensor_out(h0); q.h_last.stride = strides4(sb, H * P * N, P * N, 1, P));
    too_small_workspace(&f, &base);
    base.B = 1;
    base.cu_seqlens = tensor_in(cu);
    base.nseq = 3;
    base.h0 = tensor_in(h0v);
    base.h_last = tensor_out(hlv);
    TRY(SSM_OK, ALL, "cu_seqlens 0,2,2,5 with L = 6");
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens not starting at 0", q.cu_seqlens = tensor_in(cu0));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens decreasing", q.cu_seqlens = tensor_in(cud));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens past L", q.cu_seqlens = tensor_in(cup));
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with B = 2", q.B = 2; q.h0.data = NULL; q.h_last.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with nseq = -2", q.nseq = -2);
    TRY(SSM_ERR_OVERFLOW, ALL, "cu_seqlens with nseq = INT64_MAX", q.nseq = INT64_MAX; q.h0.data = NULL;
        q.h_last.data = NULL);
    fx_free(&f);
}

/* ================================================================ conv1d */

static void bad_conv1d(void)
{
    fixture f = {SSM_OP_CONV1D, {0}, 0};
    ssm_conv1d_params base, q;
    const int64_t B = 2, D = 3, L = 5, W = 4, Ns = 4;
    static const int64_t cu_ok[3] = {0, 1, 4}, cu_not0[3] = {1, 1, 4}, cu_down[3] = {0, 3, 2}, cu_past[3] = {0, 1, 6};
    static const int64_t idx_ok[2] = {3, 1}, idx_far[2] = {4, 1}, idx_rep[2] = {1, 1}, idx_pad[2] = {-1, 0};
    tensor *x, *out, *w, *bias, *s0, *sl, *cache, *cu, *cu0, *cud, *cup, *idx, *far, *rep, *pad;
    int64_t sb[SSM_MAX_RANK];
    int i;

    x = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    out = fx_rand(&f, TK_F32, 3, B, D, L, 0);
    w = fx_rand(&f, TK_F32, 2, D, W, 0, 0);
    bias = fx_rand(&f, TK_F32, 1, D, 0, 0, 0);
    s0 = fx_rand(&f, TK_F32, 3, B, D, W - 1, 0);
    sl = fx_rand(&f, TK_F32, 3, B, D, W - 1, 0);
    cache = fx_rand(&f, TK_F32, 3, Ns, D, W - 1, 0);
    cu = fx_ints(&f, TK_I64, 3, cu_ok);
    cu0 = fx_ints(&f, TK_I64, 3, cu_not0);
    cud = fx_ints(&f, TK_I64, 3, cu_down);
    cup = fx_ints(&f, TK_I64, 3, cu_past);
    idx = fx_ints(&f, TK_I32, 2, idx_ok);
    far = fx_ints(&f, TK_I32, 2, idx_far);
    rep = fx_ints(&f, TK_I32, 2, idx_rep);
    pad = fx_ints(&f, TK_I32, 2, idx_pad);

    memset(&base, 0, sizeof base);
    base.dtype = SSM_F32;
    base.B = B; base.D = D; base.L = L; base.W = W;
    base.x = tensor_in(x); base.weight = tensor_in(w); base.bias = tensor_in(bias); base.state0 = tensor_in(s0);
    base.silu = 1;
    base.out = tensor_out(out);
    base.state_last = tensor_out(sl);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "x NULL", q.x.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "weight NULL", q.weight.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "out NULL", q.out.data = NULL);
    TRY(SSM_OK, ALL, "every optional operand absent", q.bias.data = q.state0.data = NULL; q.state_last.data = NULL);
    TRY(SSM_OK, ALL, "B = 0 with x, out and the states NULL",
        q.B = 0; q.x.data = q.state0.data = NULL; q.out.data = q.state_last.data = NULL);
    TRY(SSM_OK, ALL, "W = 1: state0 and state_last empty", q.W = 1);
    TRY(SSM_ERR_SHAPE, ALL, "W = 0", q.W = 0);
    TRY(SSM_ERR_SHAPE, ALL, "W = 9", q.W = 9);
    TRY(SSM_ERR_SHAPE, ALL, "W = -1", q.W = -1);
    TRY(SSM_ERR_SHAPE, ALL, "D = 0", q.D = 0);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_SHAPE, ALL, "L = -1", q.L = -1);
    TRY(SSM_ERR_SHAPE, ALL, "Ns = -1", q.Ns = -1);
    OUTPUT_STRIDES(out, out);
    OUTPUT_STRIDES(state_last, sl);
    TRY(SSM_ERR_OVERFLOW, ALL, "B * D * L overflows int64", q.L = INT64_MAX / 4);
    TRY(SSM_ERR_OVERFLOW, ALL, "weight stride extent overflows int64", q.weight.stride = strides4(sb, INT64_MAX / 2, 1, 0, 0));
    TRY(SSM_ERR_OVERFLOW, ALL, "state_last stride extent overflows int64",
        q.state_last.stride = strides4(sb, D * (W - 1), INT64_MAX / 4, 1, 0));
    for (i = 0; i < 3; i++) {
        char wh[64];
        snprintf(wh, sizeof wh, "dtype %d", (int)bad_dtypes[i]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, wh, q.dtype = bad_dtypes[i]);
    }
    TRY(SSM_ERR_ARG, ALL, "out aliases x", q.out.data = tensor_data(x));
    TRY(SSM_ERR_ARG, ALL, "state_last aliases weight", q.state_last.data = tensor_data(w));
    TRY(SSM_OK, ALL, "state_last == state0 with identical strides (in place)", q.state_last = tensor_out(s0));
    TRY(SSM_ERR_ARG, ALL, "state_last == state0 with different strides",
        q.state_last = tensor_out(s0); q.state_last.stride = strides4(sb, D * (W - 1), 1, D, 0));
    /* a cache of Ns rows picked by state_index, in place */
    TRY(SSM_OK, ALL, "state_index 3,1 into a cache of 4 rows",
        q.Ns = Ns; q.state_index = tensor_in(idx); q.state0 = tensor_in(cache); q.state_last = tensor_out(cache));
    TRY(SSM_OK, ALL, "state_index -1,0 (padding entry)",
        q.Ns = Ns; q.state_index = tensor_in(pad); q.state0 = tensor_in(cache); q.state_last = tensor_out(cache));
    TRY(SSM_ERR_ARG, CONTENTS, "state_index 4 with Ns = 4",
        q.Ns = Ns; q.state_index = tensor_in(far); q.state0 = tensor_in(cache); q.state_last = tensor_out(cache));
    TRY(SSM_ERR_ARG, CONTENTS, "state_index repeated",
        q.Ns = Ns; q.state_index = tensor_in(rep); q.state0 = tensor_in(cache); q.state_last = tensor_out(cache));
    too_small_workspace(&f, &base);
    /* cu_seqlens */
    base.B = 1;
    base.cu_seqlens = tensor_in(cu);
    base.nseq = 2;
    TRY(SSM_OK, ALL, "cu_seqlens 0,1,4 with L = 5");
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens not starting at 0", q.cu_seqlens = tensor_in(cu0));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens decreasing", q.cu_seqlens = tensor_in(cud));
    TRY(SSM_ERR_ARG, CONTENTS, "cu_seqlens past L", q.cu_seqlens = tensor_in(cup));
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with B = 2", q.B = 2);
    TRY(SSM_ERR_SHAPE, ALL, "cu_seqlens with nseq = -1", q.nseq = -1);
    TRY(SSM_ERR_OVERFLOW, ALL, "cu_seqlens with nseq = INT64_MAX", q.nseq = INT64_MAX; q.state0.data = NULL;
        q.state_last.data = NULL);
    fx_free(&f);
}

/* ================================================================ hsa_select */

static void bad_hsa_select(void)
{
    fixture f = {SSM_OP_HSA_SELECT, {0}, 0};
    ssm_hsa_select_params base, q;
    const int64_t B = 2, Lq = 6, C = 3, HR = 2, R = 4, K = 2, S = 2;
    tensor *qr, *lmk, *idx, *w;
    int64_t sb[SSM_MAX_RANK];
    int i;

    qr = fx_rand(&f, TK_F16, 4, B, Lq, HR, R);
    lmk = fx_rand(&f, TK_F16, 4, B, C, HR, R);
    idx = fx_rand(&f, TK_I32, 4, B, Lq, HR, K);
    w = fx_rand(&f, TK_F32, 4, B, Lq, HR, K);
    memset(&base, 0, sizeof base);
    base.dtype = SSM_F16;
    base.B = B; base.Lq = Lq; base.C = C; base.HR = HR; base.R = R; base.K = K; base.S = S;
    base.qr = tensor_in(qr); base.lmk = tensor_in(lmk);
    base.idx = tensor_out(idx); base.w = tensor_out(w);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "qr NULL", q.qr.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "lmk NULL", q.lmk.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "idx NULL", q.idx.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "w NULL", q.w.data = NULL);
    TRY(SSM_OK, ALL, "C = 0 with lmk NULL", q.C = 0; q.lmk.data = NULL);
    TRY(SSM_OK, ALL, "Lq = 0 with qr, idx, w NULL", q.Lq = 0; q.qr.data = NULL; q.idx.data = q.w.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "K = 0", q.K = 0);
    TRY(SSM_ERR_SHAPE, ALL, "S = 0", q.S = 0);
    TRY(SSM_ERR_SHAPE, ALL, "R = 0", q.R = 0);
    TRY(SSM_ERR_SHAPE, ALL, "HR = 0", q.HR = 0);
    TRY(SSM_ERR_SHAPE, ALL, "C = -1", q.C = -1);
    TRY(SSM_ERR_SHAPE, ALL, "Lq = -1", q.Lq = -1);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_ARG, ALL, "mode = SSM_HSA_MODE_COUNT", q.mode = SSM_HSA_MODE_COUNT);
    TRY(SSM_ERR_ARG, ALL, "mode = -1", q.mode = (ssm_hsa_mode)-1);
    TRY(SSM_ERR_ARG, ALL, "q_offset = -1", q.q_offset = -1);
    TRY(SSM_ERR_ARG, ALL, "window = -1", q.window = -1);
    TRY(SSM_ERR_OVERFLOW, ALL, "C = 2^31: chunk indices past int32", q.C = (int64_t)1 << 31);
    TRY(SSM_ERR_OVERFLOW, ALL, "q_offset + Lq overflows int64", q.q_offset = INT64_MAX - 2);
    TRY(SSM_ERR_OVERFLOW, ALL, "B * Lq * HR * K overflows int64", q.Lq = INT64_MAX / 4);
    TRY(SSM_ERR_OVERFLOW, ALL, "qr stride extent overflows int64", q.qr.stride = strides4(sb, 1, INT64_MAX / 4, 1, 1));
    OUTPUT_STRIDES(idx, idx);
    OUTPUT_STRIDES(w, w);
    for (i = 0; i < 3; i++) {
        char wh[64];
        snprintf(wh, sizeof wh, "dtype %d", (int)bad_dtypes[i]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, wh, q.dtype = bad_dtypes[i]);
    }
    TRY(SSM_ERR_ARG, ALL, "idx aliases qr", q.idx.data = (void *)(uintptr_t)tensor_data(qr));
    TRY(SSM_ERR_ARG, ALL, "w aliases lmk", q.w.data = (void *)(uintptr_t)tensor_data(lmk));
    TRY(SSM_ERR_ARG, ALL, "w aliases idx", q.w.data = tensor_data(idx));
    too_small_workspace(&f, &base);
    fx_free(&f);
}

/* ================================================================ hsa_attention */

static void bad_hsa_attention(void)
{
    fixture f = {SSM_OP_HSA_ATTENTION, {0}, 0};
    ssm_hsa_attention_params base, q;
    const int64_t B = 2, Lq = 3, S = 2, C = 3, Lk = C * S, HQ = 4, HK = 2, E = 3, Ev = 5, K = 2;
    tensor *qt, *k, *v, *idx, *idx_lo, *idx_hi, *idx_empty, *w, *o, *lse;
    int64_t sb[SSM_MAX_RANK], i;
    int j;

    qt = fx_rand(&f, TK_BF16, 4, B, Lq, HQ, E);
    k = fx_rand(&f, TK_BF16, 4, B, Lk, HK, E);
    v = fx_rand(&f, TK_BF16, 4, B, Lk, HK, Ev);
    idx = fx_add(&f, tensor_new4(TK_I32, 4, B, Lq, HK, K, NULL));
    idx_lo = fx_add(&f, tensor_new4(TK_I32, 4, B, Lq, HK, K, NULL));
    idx_hi = fx_add(&f, tensor_new4(TK_I32, 4, B, Lq, HK, K, NULL));
    idx_empty = fx_add(&f, tensor_new4(TK_I32, 4, B, Lq, HK, K, NULL));
    for (i = 0; i < idx->numel; i++) {
        tensor_set(idx, i, (double)(i % 4 == 3 ? -1 : i % C));
        tensor_set(idx_lo, i, (double)(i == 5 ? -2 : i % C));
        tensor_set(idx_hi, i, (double)(i == 7 ? C : i % C));
        tensor_set(idx_empty, i, -1);
    }
    w = fx_rand(&f, TK_F32, 4, B, Lq, HK, K);
    o = fx_rand(&f, TK_BF16, 4, B, Lq, HQ, Ev);
    lse = fx_rand(&f, TK_F32, 4, B, Lq, HQ, K);
    memset(&base, 0, sizeof base);
    base.dtype = SSM_BF16;
    base.B = B; base.Lq = Lq; base.Lk = Lk; base.HQ = HQ; base.HK = HK; base.E = E; base.Ev = Ev; base.K = K; base.S = S;
    base.q = tensor_in(qt); base.k = tensor_in(k); base.v = tensor_in(v); base.idx = tensor_in(idx); base.w = tensor_in(w);
    base.o = tensor_out(o);
    base.lse = tensor_out(lse);

    expect(&f, NULL, "params NULL", SSM_ERR_NULL, ALL);
    TRY(SSM_OK, ALL, "the valid fixture");
    TRY(SSM_ERR_NULL, ALL, "q NULL", q.q.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "k NULL", q.k.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "v NULL", q.v.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "idx NULL", q.idx.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "w NULL", q.w.data = NULL);
    TRY(SSM_ERR_NULL, ALL, "o NULL", q.o.data = NULL);
    TRY(SSM_OK, ALL, "lse absent", q.lse.data = NULL);
    TRY(SSM_OK, ALL, "Lk = 0 (no chunks yet) with k, v NULL and every slot -1",
        q.Lk = 0; q.k.data = q.v.data = NULL; q.idx = tensor_in(idx_empty));
    TRY(SSM_OK, ALL, "Lq = 0 with q, idx, w, o, lse NULL",
        q.Lq = 0; q.q.data = q.idx.data = q.w.data = NULL; q.o.data = q.lse.data = NULL);
    TRY(SSM_ERR_SHAPE, ALL, "HQ = 3 not a multiple of HK = 2", q.HQ = 3);
    TRY(SSM_ERR_SHAPE, ALL, "HK = 0", q.HK = 0);
    TRY(SSM_ERR_SHAPE, ALL, "Lk = 5 not a multiple of S = 2", q.Lk = 5);
    TRY(SSM_ERR_SHAPE, ALL, "S = 0", q.S = 0);
    TRY(SSM_ERR_SHAPE, ALL, "E = 0", q.E = 0);
    TRY(SSM_ERR_SHAPE, ALL, "Ev = -1", q.Ev = -1);
    TRY(SSM_ERR_SHAPE, ALL, "K = 0", q.K = 0);
    TRY(SSM_ERR_SHAPE, ALL, "Lq = -1", q.Lq = -1);
    TRY(SSM_ERR_SHAPE, ALL, "B = -1", q.B = -1);
    TRY(SSM_ERR_ARG, CONTENTS, "an idx of -2", q.idx = tensor_in(idx_lo));
    TRY(SSM_ERR_ARG, CONTENTS, "an idx equal to C", q.idx = tensor_in(idx_hi));
    TRY(SSM_ERR_ARG, ALL, "scale NaN", q.scale = NAN);
    TRY(SSM_ERR_ARG, ALL, "scale +inf", q.scale = INFINITY);
    TRY(SSM_ERR_ARG, ALL, "sm_n = -1", q.sm_n = -1.0f);
    TRY(SSM_ERR_ARG, ALL, "sm_n NaN", q.sm_n = NAN);
    TRY(SSM_OK, ALL, "idx and w broadcast over HK (stride 0)",
        q.idx.stride = strides4(sb, Lq * K, K, 0, 1); q.w.stride = sb);
    TRY(SSM_ERR_OVERFLOW, ALL, "B * Lk * HK * E overflows int64", q.Lk = (INT64_MAX / 4) & ~(int64_t)1);
    TRY(SSM_ERR_OVERFLOW, ALL, "k stride extent overflows int64", q.k.stride = strides4(sb, 1, INT64_MAX / 4, 1, 1));
    OUTPUT_STRIDES(o, o);
    OUTPUT_STRIDES(lse, lse);
    for (j = 0; j < 3; j++) {
        char wh[64];
        snprintf(wh, sizeof wh, "dtype %d", (int)bad_dtypes[j]);
        TRY(SSM_ERR_UNSUPPORTED, ALL, wh, q.dtype = bad_dtypes[j]);
    }
    TRY(SSM_ERR_ARG, ALL, "o aliases q", q.o.data = (void *)(uintptr_t)tensor_data(qt));
    TRY(SSM_ERR_ARG, ALL, "lse aliases w", q.lse.data = (void *)(uintptr_t)tensor_data(w));
    TRY(SSM_ERR_ARG, ALL, "lse aliases o", q.lse.data = tensor_data(o));
    too_small_workspace(&f, &base);
    fx_free(&f);
}

/* ================================================================ names and backend selection */

static void check_status_strings(void)
{
    int s, t, bad = 0;
    for (s = 0; s < SSM_STATUS_COUNT && !bad; s++) {
        const char *a = ssm_status_string((ssm_status)s);
        if (!a || !a[0]) {
            props_report(PROPS_FAIL, "ssm_status_string(%s) is empty", status_name(s));
            bad = 1;
        }
        for (t = 0; t < s && !bad; t++)
            if (strcmp(a, ssm_status_string((ssm_status)t)) == 0) {
                props_report(PROPS_FAIL, "ssm_status_string: %s and %s give the same string", status_name(s),
                             status_name(t));
                bad = 1;
            }
    }
    if (!bad) props_report(PROPS_PASS, "ssm_status_string: %d distinct non-empty strings", (int)SSM_STATUS_COUNT);
    {
        const char *u = ssm_status_string((ssm_status)SSM_STATUS_COUNT);
        if (u && u[0]) props_report(PROPS_PASS, "ssm_status_string(SSM_STATUS_COUNT) is a non-empty string");
        else props_report(PROPS_FAIL, "ssm_status_string(SSM_STATUS_COUNT) is NULL or empty");
    }
}

static void check_set_isa(void)
{
    ssm_isa best, before;
    int isa, n_refused = 0;
    static const int bogus[2] = {SSM_ISA_COUNT, -1};
    ssm_set_isa(SSM_ISA_AUTO);
    best = ssm_get_isa();
    if (best == SSM_ISA_AUTO || !ssm_isa_available(best))
        props_report(PROPS_FAIL, "ssm_set_isa(AUTO) selected %s, not an available backend", ssm_isa_name(best));
    else
        props_report(PROPS_PASS, "ssm_set_isa(AUTO) selects %s, an available backend", ssm_isa_name(best));
    if (ssm_set_isa(SSM_ISA_SCALAR) != SSM_OK || ssm_get_isa() != SSM_ISA_SCALAR)
        props_report(PROPS_FAIL, "ssm_set_isa(SCALAR) did not select the portable backend");
    else
        props_report(PROPS_PASS, "ssm_set_isa(SCALAR) selects scalar");
    for (isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++) {
        ssm_status st;
        if (ssm_isa_available((ssm_isa)isa)) continue;
        before = ssm_get_isa();
        st = ssm_set_isa((ssm_isa)isa);
        n_refused++;
        if (st != SSM_ERR_UNSUPPORTED || ssm_get_isa() != before)
            props_report(PROPS_FAIL, "ssm_set_isa(%s), unavailable here: %s, selection %s -> %s (expected "
                         "SSM_ERR_UNSUPPORTED, unchanged)", ssm_isa_name((ssm_isa)isa), status_name(st),
                         ssm_isa_name(before), ssm_isa_name(ssm_get_isa()));
        else
            props_report(PROPS_PASS, "ssm_set_isa(%s), unavailable here: SSM_ERR_UNSUPPORTED, selection unchanged",
                         ssm_isa_name((ssm_isa)isa));
        if (ssm_isa_supports((ssm_isa)isa, SSM_OP_SSD, SSM_F32))
            props_report(PROPS_FAIL, "ssm_isa_supports(%s, ...) is true for an unavailable backend",
                         ssm_isa_name((ssm_isa)isa));
    }
    for (isa = 0; isa < 2; isa++) {
        ssm_status st;
        before = ssm_get_isa();
        st = ssm_set_isa((ssm_isa)bogus[isa]);
        if (st != SSM_ERR_UNSUPPORTED || ssm_get_isa() != before)
            props_report(PROPS_FAIL, "ssm_set_isa(%d): %s, expected SSM_ERR_UNSUPPORTED and no change", bogus[isa],
                         status_name(st));
        else
            props_report(PROPS_PASS, "ssm_set_isa(%d), not a backend: SSM_ERR_UNSUPPORTED, selection unchanged",
                         bogus[isa]);
    }
    if (n_refused == 0)
        props_report(PROPS_SKIP, "ssm_set_isa of an unavailable backend: every backend is available here");
    ssm_set_isa(SSM_ISA_AUTO);
}

/* The backend a fresh process selects with SSM_ISA set to value (NULL: unset). */
static int child_isa(const char *value, char *name, size_t size)
{
    int fds[2], wstatus;
    ssize_t n;
    pid_t pid;
    fflush(stdout);
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char *args[3];
        close(fds[0]);
        dup2(fds[1], 1);
        if (value) setenv("SSM_ISA", value, 1);
        else unsetenv("SSM_ISA");
        args[0] = g_self;
        args[1] = (char *)"--print-isa";
        args[2] = NULL;
        execv("/proc/self/exe", args);
        execv(g_self, args);
        _exit(127);
    }
    close(fds[1]);
    n = read(fds[0], name, size - 1);
    close(fds[0]);
    waitpid(pid, &wstatus, 0);
    if (n <= 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) return -1;
    name[n] = 0;
    name[strcspn(name, "\n")] = 0;
    return 0;
}

static void check_isa_environment(void)
{
    const char *values[6] = {"scalar", "avx512", "neon", "bogus", "", NULL};
    ssm_isa best;
    int i;
    ssm_set_isa(SSM_ISA_AUTO);
    best = ssm_get_isa();
    for (i = 0; i < 6; i++) {
        char got[64];
        const char *want = ssm_isa_name(best);
        if (values[i] && strcmp(values[i], "scalar") == 0) want = "scalar";
        if (values[i] && strcmp(values[i], "avx512") == 0 && ssm_isa_available(SSM_ISA_AVX512)) want = "avx512";
        if (values[i] && strcmp(values[i], "neon") == 0 && ssm_isa_available(SSM_ISA_NEON)) want = "neon";
        if (child_isa(values[i], got, sizeof got) != 0)
            props_report(PROPS_FAIL, "SSM_ISA=%s: the child process failed", values[i] ? values[i] : "(unset)");
        else if (strcmp(got, want) != 0)
            props_report(PROPS_FAIL, "SSM_ISA=%s: a fresh process selected %s, expected %s",
                         values[i] ? values[i] : "(unset)", got, want);
        else
            props_report(PROPS_PASS, "SSM_ISA=%s: a fresh process selects %s", values[i] ? values[i] : "(unset)", want);
    }
}

/* ================================================================ f16 / bf16 conversions

   Expected values come from the formats' definitions, in double: a value is
   sign * significand * 2^exponent with an 11-bit (f16) or 8-bit (bf16) significand, exponent
   range [-14, 15] / [-126, 127] for normals and the same spacing below. The nearest
   representable value of x is its spacing times nearbyint(x / spacing), which rounds ties to
   even under the default rounding mode; past the largest finite value is infinity. */

typedef struct fmt16 {
    const char *name;
    int mant_bits;      /* stored significand bits: 10, 7 */
    int exp_bits;       /* 5, 8 */
    int emin;           /* smallest normal exponent: -14, -126 */
    double max_finite;  /* 65504, (2 - 2^-7) 2^127 */
    uint16_t (*from_f32)(float);
    float (*to_f32)(uint16_t);
} fmt16;

static double fmt_value(const fmt16 *f, uint16_t h)
{
    int sign = h >> 15, e = (h >> f->mant_bits) & ((1 << f->exp_bits) - 1), m = h & ((1 << f->mant_bits) - 1);
    int emax_field = (1 << f->exp_bits) - 1, bias = -f->emin + 1;
    double v;
    if (e == emax_field) return m ? NAN : sign ? -INFINITY : INFINITY;
    if (e == 0) v = ldexp((double)m, f->emin - f->mant_bits);
    else v = ldexp((double)((1 << f->mant_bits) + m), e - bias - f->mant_bits);
    return sign ? -v : v;
}

static double fmt_nearest(const fmt16 *f, double x)
{
    double a = fabs(x), spacing, r;
    int e;
    if (a == 0.0 || isinf(a)) return x;
    frexp(a, &e);  /* a = frac * 2^e, frac in [0.5, 1): the binade of a is 2^(e-1) */
    spacing = ldexp(1.0, (e - 1 < f->emin ? f->emin : e - 1) - f->mant_bits);
    r = nearbyint(a / spacing) * spacing;
    if (r > f->max_finite) r = INFINITY;
    return x < 0 ? -r : r;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Checks one f32 -> 16-bit conversion; fills why on a mismatch. */
static int check_from_f32(const fmt16 *f, float x, char *why, size_t size)
{
    uint16_t h = f->from_f32(x);
    double got = fmt_value(f, h), want;
    if (isnan(x)) {
        uint32_t quiet = 1u << 22;
        int quiet_in = (f32_bits(x) & quiet) != 0, quiet_out = (h >> (f->mant_bits - 1)) & 1;
        if (isnan(got) && (h >> 15) == (f32_bits(x) >> 31) && (!quiet_in || quiet_out)) return 1;
        snprintf(why, size, "f32 NaN 0x%08x -> 0x%04x (want a NaN, same sign, quiet kept)", f32_bits(x), h);
        return 0;
    }
    want = fmt_nearest(f, x);
    if (got == want && !!signbit(got) == !!signbit(want)) return 1;
    snprintf(why, size, "%.9g (0x%08x) -> 0x%04x = %.9g, nearest-even is %.9g", (double)x, f32_bits(x), h, got, want);
    return 0;
}

static void check_conversions_of(const fmt16 *f)
{
    char why[160] = "";
    int64_t n = 0, h;
    int ok = 1, i;
    uint32_t u;
    /* 16 -> 32: every pattern */
    for (h = 0; h < 65536 && ok; h++) {
        float got = f->to_f32((uint16_t)h);
        double want = fmt_value(f, (uint16_t)h);
        int sign_ok = !!signbit(got) == (isnan(want) ? (int)(h >> 15) : !!signbit(want));
        if (!(isnan(want) ? isnan(got) : (double)got == want) || !sign_ok) {
            snprintf(why, sizeof why, "0x%04llx -> %.9g, expected %.9g", (long long)h, (double)got, want);
            ok = 0;
        }
    }
    if (ok) props_report(PROPS_PASS, "conversion %s -> f32: all 65536 patterns exact (NaN keeps its sign)", f->name);
    else props_report(PROPS_FAIL, "conversion %s -> f32: %s", f->name, why);

    /* 32 -> 16: every representable value, the midpoints to its neighbour (ties) and one f32
       step either side of them, specials, NaNs, random patterns */
    ok = 1;
    for (h = 0; h < 65536 && ok; h++) {
        double v = fmt_value(f, (uint16_t)h), next;
        float mid;
        if (!isfinite(v) || (h & 0x8000)) continue;
        next = (h & 0x7fff) == 0x7fff ? INFINITY : fmt_value(f, (uint16_t)(h + 1));
        if (isinf(next)) next = f->max_finite + (f->max_finite - fmt_value(f, (uint16_t)(h - 1)));  /* 2^(emax+1) */
        mid = (float)((v + next) / 2);  /* exact: one more significand bit than the format */
        {
            float cand[5];
            cand[0] = (float)v;
            cand[1] = mid;
            cand[2] = nextafterf(mid, 0.0f);
            cand[3] = nextafterf(mid, INFINITY);
            cand[4] = (float)next;
            for (i = 0; i < 5 && ok; i++) {
                ok = check_from_f32(f, cand[i], why, sizeof why) && check_from_f32(f, -cand[i], why, sizeof why);
                n += 2;
            }
        }
    }
    {
        static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7f7fffffu,
                                           0xff7fffffu, 0x00800000u, 0x00000001u, 0x80000001u, 0x007fffffu,
                                           0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fbfffffu,
                                           0x7fc00001u, 0xffffffffu, 0x477fe000u, 0x477fefffu, 0x477ff000u,
                                           0x33000000u, 0x33000001u, 0xb3000000u, 0x38800000u, 0x387fffffu};
        for (i = 0; i < (int)(sizeof special / sizeof special[0]) && ok; i++, n++)
            ok = check_from_f32(f, bits_f32(special[i]), why, sizeof why);
    }
    for (i = 0; i < 200000 && ok; i++, n++) {
        u = (uint32_t)rng_next(&g_rng);
        ok = check_from_f32(f, bits_f32(u), why, sizeof why);
    }
    if (ok)
        props_report(PROPS_PASS, "conversion f32 -> %s: %lld values (every %s value, ties, one step off ties, "
                     "subnormals, overflow, NaN, random) round to nearest even", f->name, (long long)n, f->name);
    else
        props_report(PROPS_FAIL, "conversion f32 -> %s: %s", f->name, why);
}

static void check_conversions(void)
{
    fmt16 f16 = {"f16", 10, 5, -14, 65504.0, ssm_f32_to_f16, ssm_f16_to_f32};
    fmt16 bf16 = {"bf16", 7, 8, -126, 0.0, ssm_f32_to_bf16, ssm_bf16_to_f32};
    bf16.max_finite = ldexp(2.0 - ldexp(1.0, -7), 127);
    check_conversions_of(&f16);
    check_conversions_of(&bf16);
}

/* ================================================================ main */

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print-isa") == 0) {  /* the SSM_ISA child */
        printf("%s\n", ssm_backend_name());
        return 0;
    }
    g_self = argv[0];
    g_rng.s = props_seed(argc, argv);
    bad_selective_scan();
    bad_state_update();
    bad_ssd();
    bad_conv1d();
    bad_hsa_select();
    bad_hsa_attention();
    check_status_strings();
    check_set_isa();
    check_isa_environment();
    check_conversions();
    return props_finish();
}
