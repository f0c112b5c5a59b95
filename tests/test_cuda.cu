/* test_cuda — the CUDA backend (ssm_cuda.cuh) on the device, against the float64 reference.

   Three parts, one line per check, named with the backend "cuda":

       PASS|FAIL|SKIP <case> cuda max_err=<worst ratio to the tolerance> rel_l2=<...> [output]

   - golden: every .ssmg case of the given directories or files, through the same loader and
     comparison as the CPU runner (golden.h): the case's host buffers are poisoned, mirrored to
     the device, the launcher runs, the outputs come back and golden_compare() judges them;
   - props (--props): randomized cases of every op against ssm_ref_* — strided and permuted
     operands (gaps poisoned, writes outside the view caught), varlen with empty sequences and
     padding, state caches with padded and out-of-range indices, GQA ratios 1..16, K > C, empty
     rows, every fast path and the general kernels, f32/f16/bf16; outputs poisoned;
     graph capture; argument errors;
   - big (--big): operands over 2^31 elements (a state cache of state_update, x and out of
     conv1d), checked on the rows that the call touched or on a sampled tail; and the far
     cases (--far, also part of --big): every op, each fast path and the general kernels, with
     batch row 1 of its operands past element 2^31 (64-bit offsets in every operand role).

   The last line is "N passed, M failed, K skipped"; the exit status is 1 on any failure.

   usage: test_cuda [--props] [--quick] [--only=PREFIX[,PREFIX...]] [--big] [--far] [--seed=N] [DIR_OR_FILE...] */
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"
#include "../ssm_cuda.cuh"
#include "golden.h"
#include "props.h"

#include "cuda_check.h"

/* The backend name in the result lines: "cuda-emu" when the CPU emulator runs the kernels. */
#ifdef SSM_CUDA_EMULATE
#define BACKEND "cuda-emu"
#else
#define BACKEND "cuda"
#endif

static cudaStream_t g_stream;
static int g_quick;
static const char *g_only;   /* --only=PREFIX[,PREFIX...]: the property cases whose name starts with one */

static int wanted(const char *name) {
    if (!g_only) return 1;
    for (const char *p = g_only; *p;) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n && strncmp(name, p, n) == 0) return 1;
        p += n + (end != NULL);
    }
    return 0;
}

/* ================================================================ device workspace */

static void *g_ws;
static size_t g_ws_size;

static void *workspace_for(size_t bytes) {
    if (bytes > g_ws_size) {
        if (g_ws) CK(cudaFree(g_ws));
        CK(cudaMalloc(&g_ws, bytes));
        g_ws_size = bytes;
    }
    return bytes ? g_ws : NULL;
}

/* The launcher of an op, with a workspace of the size it asks for. */
static ssm_status cuda_call(ssm_op op, void *params) {
    switch (op) {
    case SSM_OP_SELECTIVE_SCAN: {
        const ssm_selective_scan_params *p = (const ssm_selective_scan_params *)params;
        size_t n = ssm_cuda_selective_scan_workspace_size(p);
        return ssm_cuda_selective_scan(p, g_stream, workspace_for(n), n);
    }
    case SSM_OP_STATE_UPDATE: {
        const ssm_state_update_params *p = (const ssm_state_update_params *)params;
        size_t n = ssm_cuda_state_update_workspace_size(p);
        return ssm_cuda_state_update(p, g_stream, workspace_for(n), n);
    }
    case SSM_OP_SSD: {
        const ssm_ssd_params *p = (const ssm_ssd_params *)params;
        size_t n = ssm_cuda_ssd_workspace_size(p);
        return ssm_cuda_ssd(p, g_stream, workspace_for(n), n);
    }
    case SSM_OP_CONV1D: {
        const ssm_conv1d_params *p = (const ssm_conv1d_params *)params;
        size_t n = ssm_cuda_conv1d_workspace_size(p);
        return ssm_cuda_conv1d(p, g_stream, workspace_for(n), n);
    }
    case SSM_OP_HSA_SELECT: {
        const ssm_hsa_select_params *p = (const ssm_hsa_select_params *)params;
        size_t n = ssm_cuda_hsa_select_workspace_size(p);
        return ssm_cuda_hsa_select(p, g_stream, workspace_for(n), n);
    }
    case SSM_OP_HSA_ATTENTION: {
        const ssm_hsa_attention_params *p = (const ssm_hsa_attention_params *)params;
        size_t n = ssm_cuda_hsa_attention_workspace_size(p);
        return ssm_cuda_hsa_attention(p, g_stream, workspace_for(n), n);
    }
    default: return SSM_ERR_ARG;
    }
}

/* Runs the launcher, then synchronises; a kernel fault shows up as SSM_ERR_DEVICE here. */
static ssm_status cuda_run(ssm_op op, void *params) {
    ssm_status st = cuda_call(op, params);
    if (st != SSM_OK) return st;
    return cudaStreamSynchronize(g_stream) == cudaSuccess && cudaGetLastError() == cudaSuccess ? SSM_OK : SSM_ERR_DEVICE;
}

/* ================================================================ golden cases on the device */

/* Host buffers mirrored on the device; one device copy per host pointer, so operands that
   share a buffer (in-place states) share it on the device too. */
typedef struct mirror {
    const void *host[64];
    void *dev[64];
    size_t bytes[64];
    int n;
} mirror;

static void *mirror_of(mirror *m, const void *host, int64_t count, size_t elem) {
    if (!host) return NULL;
    for (int i = 0; i < m->n; i++)
        if (m->host[i] == host) return m->dev[i];
    size_t bytes = (size_t)(count > 0 ? count : 0) * elem;
    void *d;
    CK(cudaMalloc(&d, bytes ? bytes : 16));
    if (bytes) CK(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
    m->host[m->n] = host;
    m->dev[m->n] = d;
    m->bytes[m->n] = bytes;
    m->n++;
    return d;
}

static void mirror_back(const mirror *m, void *host) {
    for (int i = 0; i < m->n; i++)
        if (m->host[i] == host && m->bytes[i]) CK(cudaMemcpy(host, m->dev[i], m->bytes[i], cudaMemcpyDeviceToHost));
}

static void mirror_free(mirror *m) {
    for (int i = 0; i < m->n; i++) CK(cudaFree(m->dev[i]));
    m->n = 0;
}

#define MIN_(m, t, count, elem) (t).data = mirror_of(m, (t).data, count, elem)
#define MOUT(m, t, count, elem) (t).data = mirror_of(m, (t).data, count, elem)

/* The golden params with every pointer replaced by its device mirror (golden cases are
   contiguous: element counts come from the shapes). */
static void mirror_params(golden_run *run, mirror *m, void *dp) {
    const size_t a = ssm_dtype_size(run->dtype);
    switch (run->op) {
    case SSM_OP_SELECTIVE_SCAN: {
        ssm_selective_scan_params p = run->p.selective_scan;
        const int64_t G = p.G ? p.G : 1, R = p.cu_seqlens.data ? p.nseq : p.B, BDL = p.B * p.D * p.L;
        MIN_(m, p.u, BDL, a); MIN_(m, p.delta, BDL, a); MIN_(m, p.A, p.D * p.N, 4);
        MIN_(m, p.Bm, p.B * G * p.N * p.L, a); MIN_(m, p.Cm, p.B * G * p.N * p.L, a);
        MIN_(m, p.Dskip, p.D, 4); MIN_(m, p.z, BDL, a); MIN_(m, p.delta_bias, p.D, 4);
        MIN_(m, p.h0, R * p.D * p.N, 4); MIN_(m, p.cu_seqlens, p.nseq + 1, 8);
        MOUT(m, p.out, BDL, a); MOUT(m, p.h_last, R * p.D * p.N, 4);
        *(ssm_selective_scan_params *)dp = p;
        break;
    }
    case SSM_OP_STATE_UPDATE: {
        ssm_state_update_params p = run->p.state_update;
        const int64_t G = p.G ? p.G : 1, Ns = p.Ns ? p.Ns : p.B, BHP = p.B * p.H * p.P;
        MOUT(m, p.state, Ns * p.H * p.P * p.N, 4);
        MIN_(m, p.x, BHP, a); MIN_(m, p.dt, BHP, a); MIN_(m, p.A, p.H * p.P * p.N, 4);
        MIN_(m, p.Bm, p.B * G * p.N, a); MIN_(m, p.Cm, p.B * G * p.N, a);
        MIN_(m, p.Dskip, p.H * p.P, 4); MIN_(m, p.z, BHP, a); MIN_(m, p.dt_bias, p.H * p.P, 4);
        MIN_(m, p.state_index, p.B, 4); MOUT(m, p.out, BHP, a);
        *(ssm_state_update_params *)dp = p;
        break;
    }
    case SSM_OP_SSD: {
        ssm_ssd_params p = run->p.ssd;
        const int64_t G = p.G ? p.G : 1, R = p.cu_seqlens.data ? p.nseq : p.B, BLHP = p.B * p.L * p.H * p.P;
        MIN_(m, p.x, BLHP, a); MIN_(m, p.dt, p.B * p.L * p.H, a); MIN_(m, p.A, p.H, 4);
        MIN_(m, p.Bm, p.B * p.L * G * p.N, a); MIN_(m, p.Cm, p.B * p.L * G * p.N, a);
        MIN_(m, p.Dskip, p.H * p.P, 4); MIN_(m, p.z, BLHP, a); MIN_(m, p.dt_bias, p.H, 4);
        MIN_(m, p.h0, R * p.H * p.P * p.N, 4); MIN_(m, p.cu_seqlens, p.nseq + 1, 8);
        MOUT(m, p.out, BLHP, a); MOUT(m, p.h_last, R * p.H * p.P * p.N, 4);
        *(ssm_ssd_params *)dp = p;
        break;
    }
    case SSM_OP_CONV1D: {
        ssm_conv1d_params p = run->p.conv1d;
        const int64_t seqs = p.cu_seqlens.data ? p.nseq : p.B;
        const int64_t rows = p.state_index.data && p.Ns ? p.Ns : seqs, BDL = p.B * p.D * p.L;
        MIN_(m, p.x, BDL, a); MIN_(m, p.weight, p.D * p.W, 4); MIN_(m, p.bias, p.D, 4);
        MIN_(m, p.state0, rows * p.D * (p.W - 1), 4); MIN_(m, p.state_index, seqs, 4);
        MIN_(m, p.cu_seqlens, p.nseq + 1, 8);
        MOUT(m, p.out, BDL, a); MOUT(m, p.state_last, rows * p.D * (p.W - 1), 4);
        *(ssm_conv1d_params *)dp = p;
        break;
    }
    case SSM_OP_HSA_SELECT: {
        ssm_hsa_select_params p = run->p.hsa_select;
        MIN_(m, p.qr, p.B * p.Lq * p.HR * p.R, a); MIN_(m, p.lmk, p.B * p.C * p.HR * p.R, a);
        MOUT(m, p.idx, p.B * p.Lq * p.HR * p.K, 4); MOUT(m, p.w, p.B * p.Lq * p.HR * p.K, 4);
        *(ssm_hsa_select_params *)dp = p;
        break;
    }
    case SSM_OP_HSA_ATTENTION: {
        ssm_hsa_attention_params p = run->p.hsa_attention;
        const int64_t Ev = p.Ev ? p.Ev : p.E;
        MIN_(m, p.q, p.B * p.Lq * p.HQ * p.E, a); MIN_(m, p.k, p.B * p.Lk * p.HK * p.E, a);
        MIN_(m, p.v, p.B * p.Lk * p.HK * Ev, a); MIN_(m, p.idx, p.B * p.Lq * p.HK * p.K, 4);
        MIN_(m, p.w, p.B * p.Lq * p.HK * p.K, 4);
        MOUT(m, p.o, p.B * p.Lq * p.HQ * Ev, a); MOUT(m, p.lse, p.B * p.Lq * p.HQ * p.K, 4);
        *(ssm_hsa_attention_params *)dp = p;
        break;
    }
    default: break;
    }
}

static void golden_case_on_device(const char *path) {
    golden_case gc;
    golden_run run;
    golden_report rep;
    char why[256];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    memset(&rep, 0, sizeof rep);
    if (golden_load(path, &gc, why, sizeof why) != 0) {
        props_report(PROPS_FAIL, "%s " BACKEND " - cannot load: %s", name, why);
        return;
    }
    golden_verdict prepared = golden_prepare(&gc, &run, why, sizeof why);
    if (prepared != GOLDEN_PASS) {
        rep.verdict = prepared;
        snprintf(rep.message, sizeof rep.message, "%s", why);
    } else {
        union {
            ssm_selective_scan_params a;
            ssm_state_update_params b;
            ssm_ssd_params c;
            ssm_conv1d_params d;
            ssm_hsa_select_params e;
            ssm_hsa_attention_params f;
        } dp;
        mirror m;
        m.n = 0;
        golden_reset(&run);
        mirror_params(&run, &m, &dp);
        ssm_status st = cuda_run(run.op, &dp);
        if (st != SSM_OK) {
            rep.verdict = GOLDEN_FAIL;
            snprintf(rep.message, sizeof rep.message, "ssm_cuda_%s returned %s", ssm_op_name(run.op),
                     ssm_status_string(st));
        } else {
            for (int i = 0; i < run.n_outputs; i++) mirror_back(&m, run.outputs[i].data);
            golden_compare(&run, SSM_ISA_SCALAR, &rep);
        }
        mirror_free(&m);
        golden_release(&run);
    }
    golden_print_report(gc.name, BACKEND, &rep);
    if (rep.verdict == GOLDEN_PASS) props_counts.passed++;
    else if (rep.verdict == GOLDEN_FAIL) props_counts.failed++;
    else props_counts.skipped++;
    golden_free(&gc);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void golden_path(const char *arg) {
    DIR *dir = opendir(arg);
    if (!dir) {
        golden_case_on_device(arg);
        return;
    }
    char *names[1024];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 1024) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".ssmg") == 0) {
            size_t bytes = strlen(arg) + len + 2;
            names[n] = (char *)malloc(bytes);
            snprintf(names[n], bytes, "%s/%s", arg, e->d_name);
            n++;
        }
    }
    closedir(dir);
    if (n == 0) props_report(PROPS_FAIL, "%s " BACKEND " - no .ssmg case there", arg);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        golden_case_on_device(names[i]);
        free(names[i]);
    }
}

/* ================================================================ device tensors for the props */

/* A props.h tensor (host buffer, layout, poison) with a device copy of its whole buffer, so
   strides, gaps and poison travel unchanged.

   Far mode (g_far, the --far cases): a contiguous tensor whose outer dimension is 2 keeps its
   second outer row FAR_ROW elements after the first on the device (outer stride FAR_ROW, the
   gap never written), so every element of that row sits past 2^31 and the kernels' offsets
   must be 64-bit; the host copy stays compact for the reference. */
#define FAR_ROW (((int64_t)1 << 31) + 64)   /* a multiple of 8: 16-byte rows stay aligned */
static int g_far;

typedef struct dten {
    tensor *t;
    unsigned char *d;
    int far;
    int64_t dst[SSM_MAX_RANK];   /* the device strides of a far tensor */
} dten;

static const char *g_tag;   /* what else is special about the cases being run, for their names */

/* Names the far cases (and the cases of g_tag) as such. */
static void case_tag(char *name, size_t size) {
    if (g_far) strncat(name, " far (outer row 1 past 2^31)", size - strlen(name) - 1);
    if (g_tag) strncat(name, g_tag, size - strlen(name) - 1);
}

static dten *dt_new(tkind kind, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const tlayout *lay) {
    dten *x = (dten *)calloc(1, sizeof *x);
    x->t = tensor_new4(kind, rank, d0, d1, d2, d3, lay);
    x->far = g_far && rank >= 2 && d0 == 2 && x->t->null_stride && x->t->off == 0;
    if (x->far) {
        memcpy(x->dst, x->t->st, sizeof x->dst);
        x->dst[0] = FAR_ROW;
        CK(cudaMalloc(&x->d, (size_t)(FAR_ROW + x->t->st[0]) * x->t->elem + 16));
    } else {
        CK(cudaMalloc(&x->d, (size_t)x->t->span * x->t->elem + 16));
    }
    return x;
}
/* Copies the buffer to (up) or from the device, a far tensor row by row. */
static void dt_copy(dten *x, int up) {
    if (!x) return;
    const size_t elem = x->t->elem;
    const int rows = x->far ? 2 : 1;
    const size_t row_bytes = (size_t)(x->far ? x->t->st[0] : x->t->span) * elem;
    for (int b = 0; b < rows; b++) {
        unsigned char *dev = x->d + (size_t)b * FAR_ROW * elem, *host = (unsigned char *)x->t->buf + b * row_bytes;
        if (up) CK(cudaMemcpy(dev, host, row_bytes, cudaMemcpyHostToDevice));
        else CK(cudaMemcpy(host, dev, row_bytes, cudaMemcpyDeviceToHost));
    }
}
static void dt_up(dten *x) { dt_copy(x, 1); }
static void dt_down(dten *x) { dt_copy(x, 0); }
static const int64_t *dt_strides(const dten *x) { return x->far ? x->dst : x->t->null_stride ? NULL : x->t->st; }
static ssm_in dt_in(const dten *x) {
    ssm_in v = {NULL, NULL};
    if (!x) return v;
    v.data = x->d + (size_t)x->t->off * x->t->elem;
    v.stride = dt_strides(x);
    return v;
}
static ssm_out dt_out(const dten *x) {
    ssm_out v = {NULL, NULL};
    if (!x) return v;
    v.data = x->d + (size_t)x->t->off * x->t->elem;
    v.stride = dt_strides(x);
    return v;
}
static ssm_in ht_in(const dten *x) {
    ssm_in v = {NULL, NULL};
    return x ? tensor_in(x->t) : v;
}
static ssm_out ht_out(dten *x) {
    ssm_out v = {NULL, NULL};
    return x ? tensor_out(x->t) : v;
}
static void dt_free(dten *x) {
    if (!x) return;
    CK(cudaFree(x->d));
    tensor_free(x->t);
    free(x);
}
static void dt_normal(dten *x, props_rng *r, double mean, double sd) {
    if (x) tensor_fill_normal(x->t, r, mean, sd);
}

/* A random layout: contiguous, permuted storage, padded rows, or both. */
static tlayout random_layout(props_rng *r, int rank, int allow) {
    tlayout l;
    memset(&l, 0, sizeof l);
    if (!allow) return l;
    int kind = (int)rng_int(r, 0, 3);
    if (kind & 1) {
        l.permuted = 1;
        for (int i = 0; i < rank; i++) l.order[i] = i;
        if (rank >= 2) {   /* swap two adjacent storage dims */
            int a = (int)rng_int(r, 0, rank - 2);
            l.order[a] = a + 1;
            l.order[a + 1] = a;
        }
    }
    if (kind & 2) l.pad = rng_int(r, 1, 3);
    if (kind == 0) l.explicit_strides = 1;
    return l;
}

/* Compares a device output (already downloaded) with its reference; reports one line. Gaps of
   a strided output must be untouched (snap: the buffer as uploaded). */
static int check_output(const char *test, const char *out_name, const dten *x, const double *ref, ssm_dtype act,
                        const unsigned char *snap) {
    const tensor *t = x->t;
    void *g = malloc((size_t)(t->numel > 0 ? t->numel : 1) * t->elem);
    tensor_gather(t, g);
    ssm_dtype stored = t->kind == TK_F16 ? SSM_F16 : t->kind == TK_BF16 ? SSM_BF16 : SSM_F32;
    check_result c = check_array(tkind_values(t->kind, g), ref, t->numel, check_class_of(stored, act));
    int ok = c.pass;
    char extra[400] = "";
    if (ok && snap) {
        int64_t at = tensor_first_changed_outside(t, snap);
        if (at >= 0) {
            ok = 0;
            snprintf(extra, sizeof extra, ": wrote buffer element %lld outside the view", (long long)at);
        }
    }
    if (!c.pass) {
        char idx[96];
        props_format_index(t->rank, t->dim, c.worst, idx, sizeof idx);
        snprintf(extra, sizeof extra, " at %s%s expected %.9g got %.9g: %s", out_name, idx, c.expected, c.got, c.reason);
    }
    if (stored != SSM_F32)
        props_report(ok ? PROPS_PASS : PROPS_FAIL, "%s " BACKEND " max_err=%.3g rel_l2=%.3g floor=%.3g ratio=%.3f [%s]%s", test,
                     c.max_err, c.rel_l2, c.floor, c.floor > 0 ? c.rel_l2 / c.floor : 0.0, out_name, extra);
    else
        props_report(ok ? PROPS_PASS : PROPS_FAIL, "%s " BACKEND " max_err=%.3g rel_l2=%.3g [%s]%s", test, c.max_err, c.rel_l2,
                     out_name, extra);
    free(g);
    return ok;
}

static double *dalloc(int64_t n) { return (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)); }

static const char *dname(ssm_dtype d) { return ssm_dtype_name(d); }
static tkind act_kind(ssm_dtype d) { return tkind_of(d); }

/* Random non-decreasing offsets 0 = cu[0] <= ... <= cu[nseq] <= L, some sequences empty,
   sometimes padding at the end. */
static dten *random_cu(props_rng *r, int64_t nseq, int64_t L, int pad_end) {
    dten *cu = dt_new(TK_I64, 1, nseq + 1, 0, 0, 0, NULL);
    int64_t *v = (int64_t *)malloc(sizeof(int64_t) * (size_t)(nseq + 1));
    int64_t end = pad_end && L > 2 ? L - rng_int(r, 1, L / 3 + 1) : L;
    v[0] = 0;
    for (int64_t s = 1; s < nseq; s++) v[s] = rng_int(r, 0, end);
    v[nseq] = end;
    for (int64_t i = 1; i <= nseq; i++)   /* sort */
        for (int64_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            int64_t tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    if (nseq >= 3) v[2] = v[1];   /* an empty sequence */
    for (int64_t i = 0; i <= nseq; i++) tensor_set(cu->t, i, (double)v[i]);
    free(v);
    return cu;
}

/* ================================================================ props: conv1d */

static void prop_conv1d(props_rng *r, ssm_dtype dt, int64_t B, int64_t D, int64_t L, int64_t W, int varlen,
                        int cache, int strided) {
    char name[160];
    snprintf(name, sizeof name, "conv1d %s B=%lld D=%lld L=%lld W=%lld%s%s%s", dname(dt), (long long)B, (long long)D,
             (long long)L, (long long)W, varlen ? " varlen" : "", cache ? " cache" : "", strided ? " strided" : "");
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    const int64_t nseq = varlen ? rng_int(r, 1, 5) : B;
    if (varlen) B = 1;
    const int64_t rows = cache ? nseq + 3 : nseq;
    tlayout lx = random_layout(r, 3, strided), lo = random_layout(r, 3, strided);
    dten *x = dt_new(act_kind(dt), 3, B, D, L, 0, &lx), *out = dt_new(act_kind(dt), 3, B, D, L, 0, &lo);
    dten *w = dt_new(TK_F32, 2, D, W, 0, 0, NULL), *bias = rng_coin(r) ? dt_new(TK_F32, 1, D, 0, 0, 0, NULL) : NULL;
    dten *s0 = W > 1 && (cache || rng_coin(r)) ? dt_new(TK_F32, 3, rows, D, W - 1, 0, NULL) : NULL;
    dten *slast = W > 1 && !cache ? dt_new(TK_F32, 3, rows, D, W - 1, 0, NULL) : NULL;
    dten *cu = varlen ? random_cu(r, nseq, L, rng_coin(r)) : NULL, *idx = NULL, *idx_ref = NULL;
    dt_normal(x, r, 0, 1);
    dt_normal(w, r, 0, 0.5);
    dt_normal(bias, r, 0, 0.5);
    dt_normal(s0, r, 0, 1);
    if (cache) {   /* distinct rows, one padded (-1) and one out of range: padding on the GPU */
        idx = dt_new(TK_I32, 1, nseq, 0, 0, 0, NULL);
        idx_ref = dt_new(TK_I32, 1, nseq, 0, 0, 0, NULL);
        for (int64_t s = 0; s < nseq; s++) {
            int64_t v = rows - 1 - s;
            if (s == 1) v = -1;
            if (s == 2) v = rows + 5;
            tensor_set(idx->t, s, (double)v);
            tensor_set(idx_ref->t, s, (double)(v >= rows ? -1 : v));
        }
    }
    ssm_conv1d_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.D = D; hp.L = L; hp.W = W; hp.nseq = varlen ? nseq : 0;
    hp.Ns = cache ? rows : 0;
    hp.silu = rng_coin(r);
    ssm_conv1d_params dp = hp;
    hp.x = ht_in(x); hp.weight = ht_in(w); hp.bias = ht_in(bias); hp.state0 = ht_in(s0);
    hp.state_index = ht_in(idx_ref); hp.cu_seqlens = ht_in(cu); hp.out = ht_out(out);
    hp.state_last = cache ? ht_out(s0) : ht_out(slast);
    dp.x = dt_in(x); dp.weight = dt_in(w); dp.bias = dt_in(bias); dp.state0 = dt_in(s0);
    dp.state_index = dt_in(idx); dp.cu_seqlens = dt_in(cu); dp.out = dt_out(out);
    dp.state_last = cache ? dt_out(s0) : dt_out(slast);
    double *ro = dalloc(out->t->numel), *rs = dalloc(rows * D * (W - 1));
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.out = ro;
    rr.state_last = hp.state_last.data ? rs : NULL;
    ssm_status st = ssm_ref_conv1d(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(x); dt_up(w); dt_up(bias); dt_up(s0); dt_up(slast); dt_up(cu); dt_up(idx); dt_up(out);
        unsigned char *snap = tensor_snapshot(out->t);
        st = cuda_run(SSM_OP_CONV1D, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_conv1d returned %s", name, ssm_status_string(st));
        } else {
            dt_down(out);
            check_output(name, "out", out, ro, dt, snap);
            if (rr.state_last) {
                dten *sl = cache ? s0 : slast;
                dt_down(sl);
                check_output(name, "state_last", sl, rs, dt, NULL);
            }
        }
        free(snap);
    }
    free(ro); free(rs);
    dt_free(x); dt_free(out); dt_free(w); dt_free(bias); dt_free(s0); dt_free(slast); dt_free(cu); dt_free(idx);
    dt_free(idx_ref);
}

/* ================================================================ props: state_update */

static void prop_state_update(props_rng *r, ssm_dtype dt, int64_t B, int64_t H, int64_t P, int64_t N, int64_t G,
                              int tied, int cache, int strided) {
    char name[160];
    snprintf(name, sizeof name, "state_update %s B=%lld H=%lld P=%lld N=%lld G=%lld%s%s%s", dname(dt), (long long)B,
             (long long)H, (long long)P, (long long)N, (long long)G, tied ? " tied" : "", cache ? " cache" : "",
             strided ? " strided" : "");
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    const int64_t Ns = cache ? B + 4 : B;
    tlayout ls = random_layout(r, 4, strided), la;
    memset(&la, 0, sizeof la);
    tlayout ldt = la, lbias = la;
    if (tied) {
        la.bcast = 6u;      /* A (H, P, N): stride 0 over P and N */
        ldt.bcast = 4u;     /* dt (B, H, P): stride 0 over P */
        lbias.bcast = 2u;   /* dt_bias (H, P): stride 0 over P */
    }
    dten *state = dt_new(TK_F32, 4, Ns, H, P, N, &ls), *x = dt_new(act_kind(dt), 3, B, H, P, 0, NULL);
    dten *dtt = dt_new(act_kind(dt), 3, B, H, P, 0, &ldt), *A = dt_new(TK_F32, 3, H, P, N, 0, &la);
    dten *Bm = dt_new(act_kind(dt), 3, B, G, N, 0, NULL), *Cm = dt_new(act_kind(dt), 3, B, G, N, 0, NULL);
    dten *Dk = dt_new(TK_F32, 2, H, P, 0, 0, NULL), *z = rng_coin(r) ? dt_new(act_kind(dt), 3, B, H, P, 0, NULL) : NULL;
    dten *bias = dt_new(TK_F32, 2, H, P, 0, 0, &lbias), *out = dt_new(act_kind(dt), 3, B, H, P, 0, NULL);
    dten *idx = NULL, *idx_ref = NULL;
    dt_normal(state, r, 0, 1); dt_normal(x, r, 0, 1); dt_normal(dtt, r, 0, 1); dt_normal(Bm, r, 0, 1);
    dt_normal(Cm, r, 0, 1); dt_normal(Dk, r, 0, 1); dt_normal(z, r, 0, 1); dt_normal(bias, r, -1, 0.5);
    for (int64_t i = 0; i < A->t->numel; i++) tensor_set(A->t, i, -exp(rng_uniform(r) * 2.5));
    if (cache) {
        idx = dt_new(TK_I32, 1, B, 0, 0, 0, NULL);
        idx_ref = dt_new(TK_I32, 1, B, 0, 0, 0, NULL);
        for (int64_t b = 0; b < B; b++) {
            int64_t v = Ns - 1 - b;
            if (b == 1) v = -1;
            if (b == 2) v = Ns + 100;   /* out of range: padding on the GPU */
            tensor_set(idx->t, b, (double)v);
            tensor_set(idx_ref->t, b, (double)(v >= Ns ? -1 : v));
        }
    }
    ssm_state_update_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.H = H; hp.P = P; hp.N = N; hp.G = G; hp.Ns = cache ? Ns : 0;
    hp.dt_softplus = 1;
    hp.dt_limit = rng_coin(r);
    hp.dt_min = 0.001f;
    hp.dt_max = 2.0f;
    ssm_state_update_params dp = hp;
    hp.state = ht_out(state); hp.x = ht_in(x); hp.dt = ht_in(dtt); hp.A = ht_in(A); hp.Bm = ht_in(Bm);
    hp.Cm = ht_in(Cm); hp.Dskip = ht_in(Dk); hp.z = ht_in(z); hp.dt_bias = ht_in(bias);
    hp.state_index = ht_in(idx_ref); hp.out = ht_out(out);
    dp.state = dt_out(state); dp.x = dt_in(x); dp.dt = dt_in(dtt); dp.A = dt_in(A); dp.Bm = dt_in(Bm);
    dp.Cm = dt_in(Cm); dp.Dskip = dt_in(Dk); dp.z = dt_in(z); dp.dt_bias = dt_in(bias);
    dp.state_index = dt_in(idx); dp.out = dt_out(out);
    double *ro = dalloc(out->t->numel), *rs = dalloc(state->t->numel);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.out = ro;
    rr.state = rs;
    ssm_status st = ssm_ref_state_update(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(state); dt_up(x); dt_up(dtt); dt_up(A); dt_up(Bm); dt_up(Cm); dt_up(Dk); dt_up(z); dt_up(bias);
        dt_up(idx); dt_up(out);
        unsigned char *snap = tensor_snapshot(state->t);
        st = cuda_run(SSM_OP_STATE_UPDATE, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_state_update returned %s", name, ssm_status_string(st));
        } else {
            dt_down(out);
            dt_down(state);
            check_output(name, "out", out, ro, dt, NULL);
            check_output(name, "state", state, rs, dt, snap);
        }
        free(snap);
    }
    free(ro); free(rs);
    dt_free(state); dt_free(x); dt_free(dtt); dt_free(A); dt_free(Bm); dt_free(Cm); dt_free(Dk); dt_free(z);
    dt_free(bias); dt_free(out); dt_free(idx); dt_free(idx_ref);
}

/* ================================================================ props: selective_scan */

static void prop_scan(props_rng *r, ssm_dtype dt, int64_t B, int64_t D, int64_t L, int64_t N, int64_t G, int varlen,
                      int inplace, int strided) {
    char name[160];
    snprintf(name, sizeof name, "selective_scan %s B=%lld D=%lld L=%lld N=%lld G=%lld%s%s%s", dname(dt), (long long)B,
             (long long)D, (long long)L, (long long)N, (long long)G, varlen ? " varlen" : "", inplace ? " inplace" : "",
             strided ? " strided" : "");
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    const int64_t nseq = varlen ? rng_int(r, 1, 6) : B;
    if (varlen) B = 1;
    tlayout lu = random_layout(r, 3, strided), lo = random_layout(r, 3, strided), lb = random_layout(r, 4, strided);
    dten *u = dt_new(act_kind(dt), 3, B, D, L, 0, &lu), *delta = dt_new(act_kind(dt), 3, B, D, L, 0, &lu);
    dten *z = rng_coin(r) ? dt_new(act_kind(dt), 3, B, D, L, 0, NULL) : NULL;
    dten *out = dt_new(act_kind(dt), 3, B, D, L, 0, &lo);
    dten *A = dt_new(TK_F32, 2, D, N, 0, 0, NULL), *Bm = dt_new(act_kind(dt), 4, B, G, N, L, &lb);
    dten *Cm = dt_new(act_kind(dt), 4, B, G, N, L, &lb), *Dk = dt_new(TK_F32, 1, D, 0, 0, 0, NULL);
    dten *bias = dt_new(TK_F32, 1, D, 0, 0, 0, NULL), *h0 = dt_new(TK_F32, 3, nseq, D, N, 0, NULL);
    dten *hl = inplace ? NULL : dt_new(TK_F32, 3, nseq, D, N, 0, NULL);
    dten *cu = varlen ? random_cu(r, nseq, L, rng_coin(r)) : NULL;
    dt_normal(u, r, 0, 1); dt_normal(delta, r, 0, 1); dt_normal(z, r, 0, 1); dt_normal(Bm, r, 0, 1);
    dt_normal(Cm, r, 0, 1); dt_normal(Dk, r, 0, 1); dt_normal(bias, r, -1, 0.5); dt_normal(h0, r, 0, 1);
    for (int64_t i = 0; i < A->t->numel; i++) tensor_set(A->t, i, -exp(rng_uniform(r) * 2.5));
    ssm_selective_scan_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.D = D; hp.L = L; hp.N = N; hp.G = G; hp.nseq = varlen ? nseq : 0;
    hp.delta_softplus = 1;
    ssm_selective_scan_params dp = hp;
    hp.u = ht_in(u); hp.delta = ht_in(delta); hp.A = ht_in(A); hp.Bm = ht_in(Bm); hp.Cm = ht_in(Cm);
    hp.Dskip = ht_in(Dk); hp.z = ht_in(z); hp.delta_bias = ht_in(bias); hp.h0 = ht_in(h0); hp.cu_seqlens = ht_in(cu);
    hp.out = ht_out(out); hp.h_last = inplace ? ht_out(h0) : ht_out(hl);
    dp.u = dt_in(u); dp.delta = dt_in(delta); dp.A = dt_in(A); dp.Bm = dt_in(Bm); dp.Cm = dt_in(Cm);
    dp.Dskip = dt_in(Dk); dp.z = dt_in(z); dp.delta_bias = dt_in(bias); dp.h0 = dt_in(h0); dp.cu_seqlens = dt_in(cu);
    dp.out = dt_out(out); dp.h_last = inplace ? dt_out(h0) : dt_out(hl);
    double *ro = dalloc(out->t->numel), *rh = dalloc(nseq * D * N);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.out = ro;
    rr.h_last = rh;
    ssm_status st = ssm_ref_selective_scan(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(u); dt_up(delta); dt_up(z); dt_up(out); dt_up(A); dt_up(Bm); dt_up(Cm); dt_up(Dk); dt_up(bias);
        dt_up(h0); dt_up(hl); dt_up(cu);
        unsigned char *snap = tensor_snapshot(out->t);
        st = cuda_run(SSM_OP_SELECTIVE_SCAN, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_selective_scan returned %s", name, ssm_status_string(st));
        } else {
            dten *h = inplace ? h0 : hl;
            dt_down(out);
            dt_down(h);
            check_output(name, "out", out, ro, dt, snap);
            check_output(name, "h_last", h, rh, dt, NULL);
        }
        free(snap);
    }
    free(ro); free(rh);
    dt_free(u); dt_free(delta); dt_free(z); dt_free(out); dt_free(A); dt_free(Bm); dt_free(Cm); dt_free(Dk);
    dt_free(bias); dt_free(h0); dt_free(hl); dt_free(cu);
}

/* ================================================================ props: ssd */

/* big: h0 past the f16 range (up to ~4 sd of 2e4) and small C: the tensor-core kernel's f16 Y_off scales both
   (the output stays inside f16) */
static void prop_ssd(props_rng *r, ssm_dtype dt, int64_t B, int64_t L, int64_t H, int64_t P, int64_t N, int64_t G,
                     int64_t Q, int varlen, int inplace, int strided, int spike, int big) {
    char name[200];
    snprintf(name, sizeof name, "ssd %s B=%lld L=%lld H=%lld P=%lld N=%lld G=%lld Q=%lld%s%s%s%s%s", dname(dt),
             (long long)B, (long long)L, (long long)H, (long long)P, (long long)N, (long long)G, (long long)Q,
             varlen ? " varlen" : "", inplace ? " inplace" : "", strided ? " strided" : "", spike ? " dt-spike" : "",
             big ? " big-h0" : "");
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    const int64_t nseq = varlen ? rng_int(r, 1, 6) : B;
    if (varlen) B = 1;
    tlayout lx = random_layout(r, 4, strided), lo = random_layout(r, 4, strided), ld;
    memset(&ld, 0, sizeof ld);
    ld.bcast = 2u;   /* Dskip per head: stride 0 over P */
    dten *x = dt_new(act_kind(dt), 4, B, L, H, P, &lx), *z = dt_new(act_kind(dt), 4, B, L, H, P, NULL);
    dten *out = dt_new(act_kind(dt), 4, B, L, H, P, &lo), *dtt = dt_new(act_kind(dt), 3, B, L, H, 0, NULL);
    dten *A = dt_new(TK_F32, 1, H, 0, 0, 0, NULL), *Bm = dt_new(act_kind(dt), 4, B, L, G, N, NULL);
    dten *Cm = dt_new(act_kind(dt), 4, B, L, G, N, NULL), *Dk = dt_new(TK_F32, 2, H, P, 0, 0, &ld);
    dten *bias = dt_new(TK_F32, 1, H, 0, 0, 0, NULL);
    dten *h0 = big || rng_int(r, 0, 3) ? dt_new(TK_F32, 4, nseq, H, P, N, NULL) : NULL;
    dten *hl = inplace && h0 ? NULL : dt_new(TK_F32, 4, nseq, H, P, N, NULL);
    dten *cu = varlen ? random_cu(r, nseq, L, rng_coin(r)) : NULL;
    dt_normal(x, r, 0, 1); dt_normal(z, r, 0, 1); dt_normal(dtt, r, 0, 1); dt_normal(Bm, r, 0, 1);
    dt_normal(Cm, r, 0, big ? 3e-3 : 1.0); dt_normal(Dk, r, 0, 1); dt_normal(h0, r, 0, big ? 2e4 : 1.0);
    for (int64_t h = 0; h < H; h++) {
        tensor_set(A->t, h, -exp(rng_uniform(r) * 2.0 - 1.0));
        tensor_set(bias->t, h, -2.0 + 2.0 * rng_uniform(r));
    }
    if (spike)   /* one large dt among small ones inside a chunk */
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++) tensor_set(dtt->t, (b * L + L / 2) * H + h, 12.0);
    ssm_ssd_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.L = L; hp.H = H; hp.P = P; hp.N = N; hp.G = G; hp.Q = Q;
    hp.nseq = varlen ? nseq : 0;
    hp.dt_softplus = 1;
    hp.dt_limit = rng_coin(r);
    hp.dt_min = 0.0f;
    hp.dt_max = 8.0f;
    ssm_ssd_params dp = hp;
    hp.x = ht_in(x); hp.dt = ht_in(dtt); hp.A = ht_in(A); hp.Bm = ht_in(Bm); hp.Cm = ht_in(Cm); hp.Dskip = ht_in(Dk);
    hp.z = ht_in(z); hp.dt_bias = ht_in(bias); hp.h0 = ht_in(h0); hp.cu_seqlens = ht_in(cu); hp.out = ht_out(out);
    hp.h_last = hl ? ht_out(hl) : ht_out(h0);
    dp.x = dt_in(x); dp.dt = dt_in(dtt); dp.A = dt_in(A); dp.Bm = dt_in(Bm); dp.Cm = dt_in(Cm); dp.Dskip = dt_in(Dk);
    dp.z = dt_in(z); dp.dt_bias = dt_in(bias); dp.h0 = dt_in(h0); dp.cu_seqlens = dt_in(cu); dp.out = dt_out(out);
    dp.h_last = hl ? dt_out(hl) : dt_out(h0);
    double *ro = dalloc(out->t->numel), *rh = dalloc(nseq * H * P * N);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.out = ro;
    rr.h_last = rh;
    ssm_status st = ssm_ref_ssd(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(x); dt_up(z); dt_up(out); dt_up(dtt); dt_up(A); dt_up(Bm); dt_up(Cm); dt_up(Dk); dt_up(bias); dt_up(h0);
        dt_up(hl); dt_up(cu);
        unsigned char *snap = tensor_snapshot(out->t);
        st = cuda_run(SSM_OP_SSD, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_ssd returned %s", name, ssm_status_string(st));
        } else {
            dten *h = hl ? hl : h0;
            dt_down(out);
            dt_down(h);
            check_output(name, "out", out, ro, dt, snap);
            check_output(name, "h_last", h, rh, dt, NULL);
        }
        free(snap);
    }
    free(ro); free(rh);
    dt_free(x); dt_free(z); dt_free(out); dt_free(dtt); dt_free(A); dt_free(Bm); dt_free(Cm); dt_free(Dk);
    dt_free(bias); dt_free(h0); dt_free(hl); dt_free(cu);
}

/* ================================================================ props: hsa_select */

static void prop_hsa_select(props_rng *r, ssm_dtype dt, int64_t B, int64_t Lq, int64_t C, int64_t HR, int64_t R,
                            int64_t K, int64_t S, int64_t q_offset, int64_t window, int softmax) {
    char name[200];
    snprintf(name, sizeof name, "hsa_select %s B=%lld Lq=%lld C=%lld HR=%lld R=%lld K=%lld S=%lld off=%lld win=%lld %s",
             dname(dt), (long long)B, (long long)Lq, (long long)C, (long long)HR, (long long)R, (long long)K,
             (long long)S, (long long)q_offset, (long long)window, softmax ? "softmax" : "stick");
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    dten *qr = dt_new(act_kind(dt), 4, B, Lq, HR, R, NULL), *lmk = dt_new(act_kind(dt), 4, B, C, HR, R, NULL);
    dten *idx = dt_new(TK_I32, 4, B, Lq, HR, K, NULL), *w = dt_new(TK_F32, 4, B, Lq, HR, K, NULL);
    dt_normal(qr, r, 0, 1);
    dt_normal(lmk, r, 0, 1);
    ssm_hsa_select_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.Lq = Lq; hp.C = C; hp.HR = HR; hp.R = R; hp.K = K; hp.S = S;
    hp.q_offset = q_offset; hp.window = window; hp.mode = softmax ? SSM_HSA_SOFTMAX : SSM_HSA_STICK;
    ssm_hsa_select_params dp = hp;
    hp.qr = ht_in(qr); hp.lmk = ht_in(lmk); hp.idx = ht_out(idx); hp.w = ht_out(w);
    dp.qr = dt_in(qr); dp.lmk = dt_in(lmk); dp.idx = dt_out(idx); dp.w = dt_out(w);
    const int64_t n = B * Lq * HR * K;
    int32_t *ri = (int32_t *)malloc(sizeof(int32_t) * (size_t)(n + 1));
    double *rw = dalloc(n);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.idx = ri;
    rr.w = rw;
    ssm_status st = ssm_ref_hsa_select(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(qr); dt_up(lmk); dt_up(idx); dt_up(w);
        st = cuda_run(SSM_OP_HSA_SELECT, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_hsa_select returned %s", name, ssm_status_string(st));
        } else {
            check_result ci, cw;
            dt_down(idx);
            dt_down(w);
            check_hsa_select(&hp, (const int32_t *)tensor_data(idx->t), check_f32((const float *)tensor_data(w->t)), ri, rw,
                             check_class_of(SSM_F32, dt), &ci, &cw);
            int ok = ci.pass && cw.pass;
            props_report(ok ? PROPS_PASS : PROPS_FAIL, "%s " BACKEND " max_err=%.3g rel_l2=%.3g [idx, w]%s%s", name, cw.max_err,
                         cw.rel_l2, ci.pass ? "" : ci.reason, cw.pass ? "" : cw.reason);
        }
    }
    free(ri); free(rw);
    dt_free(qr); dt_free(lmk); dt_free(idx); dt_free(w);
}

/* ================================================================ props: hsa_attention */

/* For every (b, t, h): up to K distinct eligible chunks (complete before position t + offset),
   most recent first, padded with -1; with `corrupt`, some entries are out of range (the GPU
   treats them as empty; the reference gets -1 there), and in about a quarter of the rows one
   valid slot before the last is emptied (-1 or out of range): empty slots need not be last. */
static void random_idx(props_rng *r, dten *idx, dten *idx_ref, int64_t B, int64_t Lq, int64_t HK, int64_t K, int64_t C,
                       int64_t S, int64_t offset, int corrupt) {
    int *pick = (int *)malloc(sizeof(int) * (size_t)(C + 1));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < Lq; t++)
            for (int64_t h = 0; h < HK; h++) {
                int64_t ne = (t + offset) / S;
                if (ne > C) ne = C;
                int64_t k = 0;
                for (int64_t c = 0; c < ne; c++) pick[c] = 0;
                int64_t want = ne < K ? ne : K;
                while (k < want) {
                    int64_t c = rng_int(r, 0, ne - 1);
                    if (!pick[c]) { pick[c] = 1; k++; }
                }
                int64_t slot = 0;
                const int64_t base = ((b * Lq + t) * HK + h) * K;
                for (int64_t c = ne - 1; c >= 0; c--)
                    if (pick[c]) {
                        tensor_set(idx->t, base + slot, (double)c);
                        tensor_set(idx_ref->t, base + slot, (double)c);
                        slot++;
                    }
                if (corrupt && slot >= 2 && rng_int(r, 0, 3) == 0) {   /* a hole */
                    const int64_t i = rng_int(r, 0, slot - 2);
                    tensor_set(idx->t, base + i, rng_coin(r) ? -1.0 : (double)(C + rng_int(r, 0, 5)));
                    tensor_set(idx_ref->t, base + i, -1.0);
                }
                for (; slot < K; slot++) {
                    int64_t v = -1;
                    if (corrupt && rng_int(r, 0, 3) == 0) v = rng_coin(r) ? C + rng_int(r, 0, 5) : -2 - rng_int(r, 0, 5);
                    tensor_set(idx->t, base + slot, (double)v);
                    tensor_set(idx_ref->t, base + slot, -1.0);
                }
            }
    free(pick);
}

/* Hand-made indices may name one chunk in several slots of a token: copy a valid slot's chunk
   over a later valid slot in about a quarter of the (b, t, h) rows. */
static void repeat_idx(props_rng *r, dten *idx, dten *idx_ref, int64_t rows, int64_t K) {
    for (int64_t row = 0; row < rows; row++) {
        int64_t nv = 0;
        while (nv < K && tensor_get(idx_ref->t, row * K + nv) >= 0) nv++;
        if (nv < 2 || rng_int(r, 0, 3) != 0) continue;
        const int64_t j = rng_int(r, 1, nv - 1), i = rng_int(r, 0, j - 1);
        const double c = tensor_get(idx_ref->t, row * K + i);
        tensor_set(idx->t, row * K + j, c);
        tensor_set(idx_ref->t, row * K + j, c);
    }
}

/* Runs the op again and compares every output bit: results must not depend on timing. */
static void check_deterministic(const char *name, dten *o, dten *lse, void *params) {
    const size_t no = (size_t)o->t->span * o->t->elem, nl = lse ? (size_t)lse->t->span * lse->t->elem : 0;
    unsigned char *first = (unsigned char *)malloc(no + nl);
    memcpy(first, o->t->buf, no);
    if (lse) memcpy(first + no, lse->t->buf, nl);
    ssm_status st = cuda_run(SSM_OP_HSA_ATTENTION, params);
    dt_down(o); dt_down(lse);
    if (st != SSM_OK || memcmp(first, o->t->buf, no) != 0 || (lse && memcmp(first + no, lse->t->buf, nl) != 0))
        props_report(PROPS_FAIL, "%s: a second run gave other bits (%s)", name, ssm_status_string(st));
    else
        props_report(PROPS_PASS, "%s: a second run gave the same bits", name);
    free(first);
}

static float g_hsa_scale;   /* the scale of the hsa_attention cases (0: the default 1 / sqrt(E)) */

static void prop_hsa_attention(props_rng *r, ssm_dtype dt, int64_t B, int64_t Lq, int64_t Lk, int64_t HQ, int64_t HK,
                               int64_t E, int64_t Ev, int64_t K, int64_t S, float sm_n, int with_lse, int strided,
                               int repeats) {
    char name[200], scale[32] = "";
    if (g_hsa_scale != 0.0f) snprintf(scale, sizeof scale, " scale=%g", (double)g_hsa_scale);
    snprintf(name, sizeof name, "hsa_attention %s B=%lld Lq=%lld Lk=%lld HQ=%lld HK=%lld E=%lld Ev=%lld K=%lld S=%lld%s%s%s%s",
             dname(dt), (long long)B, (long long)Lq, (long long)Lk, (long long)HQ, (long long)HK, (long long)E,
             (long long)Ev, (long long)K, (long long)S, sm_n != 0.0f ? " sm_n=1" : "", strided ? " strided" : "",
             repeats ? " repeats" : "", scale);
    case_tag(name, sizeof name);
    if (!wanted(name)) return;
    const int64_t C = Lk / S;
    tlayout lq = random_layout(r, 4, strided), lo = random_layout(r, 4, strided);
    dten *q = dt_new(act_kind(dt), 4, B, Lq, HQ, E, &lq), *k = dt_new(act_kind(dt), 4, B, Lk, HK, E, NULL);
    dten *v = dt_new(act_kind(dt), 4, B, Lk, HK, Ev, NULL), *w = dt_new(TK_F32, 4, B, Lq, HK, K, NULL);
    dten *idx = dt_new(TK_I32, 4, B, Lq, HK, K, NULL), *idx_ref = dt_new(TK_I32, 4, B, Lq, HK, K, NULL);
    dten *o = dt_new(act_kind(dt), 4, B, Lq, HQ, Ev, &lo);
    dten *lse = with_lse ? dt_new(TK_F32, 4, B, Lq, HQ, K, NULL) : NULL;
    dt_normal(q, r, 0, 1); dt_normal(k, r, 0, 1); dt_normal(v, r, 0, 1);
    for (int64_t i = 0; i < w->t->numel; i++) tensor_set(w->t, i, rng_uniform(r));
    random_idx(r, idx, idx_ref, B, Lq, HK, K, C, S, Lk - Lq, 1);
    if (repeats) repeat_idx(r, idx, idx_ref, B * Lq * HK, K);
    ssm_hsa_attention_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = dt; hp.B = B; hp.Lq = Lq; hp.Lk = Lk; hp.HQ = HQ; hp.HK = HK; hp.E = E; hp.Ev = Ev; hp.K = K; hp.S = S;
    hp.sm_n = sm_n;
    hp.scale = g_hsa_scale;
    ssm_hsa_attention_params dp = hp;
    hp.q = ht_in(q); hp.k = ht_in(k); hp.v = ht_in(v); hp.idx = ht_in(idx_ref); hp.w = ht_in(w); hp.o = ht_out(o);
    hp.lse = ht_out(lse);
    dp.q = dt_in(q); dp.k = dt_in(k); dp.v = dt_in(v); dp.idx = dt_in(idx); dp.w = dt_in(w); dp.o = dt_out(o);
    dp.lse = dt_out(lse);
    double *ro = dalloc(o->t->numel), *rl = dalloc(B * Lq * HQ * K);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.o = ro;
    rr.lse = with_lse ? rl : NULL;
    ssm_status st = ssm_ref_hsa_attention(&hp, &rr);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "%s: reference returned %s", name, ssm_status_string(st));
    } else {
        dt_up(q); dt_up(k); dt_up(v); dt_up(w); dt_up(idx); dt_up(o); dt_up(lse);
        unsigned char *snap = tensor_snapshot(o->t);
        st = cuda_run(SSM_OP_HSA_ATTENTION, &dp);
        if (st != SSM_OK) {
            props_report(PROPS_FAIL, "%s: ssm_cuda_hsa_attention returned %s", name, ssm_status_string(st));
        } else {
            dt_down(o);
            check_output(name, "o", o, ro, dt, snap);
            if (lse) {
                dt_down(lse);
                check_output(name, "lse", lse, rl, dt, NULL);
            }
            check_deterministic(name, o, lse, &dp);
        }
        free(snap);
    }
    free(ro); free(rl);
    dt_free(q); dt_free(k); dt_free(v); dt_free(w); dt_free(idx); dt_free(idx_ref); dt_free(o); dt_free(lse);
}

/* ================================================================ graph capture, errors */

/* The launchers are captured into a CUDA graph and replayed: same results as a direct call. */
static void prop_graph(props_rng *r) {
    const int64_t B = 1, L = 300, H = 2, P = 64, N = 64;
    dten *x = dt_new(TK_BF16, 4, B, L, H, P, NULL), *dtt = dt_new(TK_BF16, 3, B, L, H, 0, NULL);
    dten *A = dt_new(TK_F32, 1, H, 0, 0, 0, NULL), *Bm = dt_new(TK_BF16, 4, B, L, 1, N, NULL);
    dten *Cm = dt_new(TK_BF16, 4, B, L, 1, N, NULL), *out = dt_new(TK_BF16, 4, B, L, H, P, NULL);
    dt_normal(x, r, 0, 1); dt_normal(dtt, r, 0, 1); dt_normal(Bm, r, 0, 1); dt_normal(Cm, r, 0, 1);
    for (int64_t h = 0; h < H; h++) tensor_set(A->t, h, -1.0 - h);
    dt_up(x); dt_up(dtt); dt_up(A); dt_up(Bm); dt_up(Cm); dt_up(out);
    ssm_ssd_params p;
    memset(&p, 0, sizeof p);
    p.dtype = SSM_BF16; p.B = B; p.L = L; p.H = H; p.P = P; p.N = N; p.Q = 128; p.dt_softplus = 1;
    p.x = dt_in(x); p.dt = dt_in(dtt); p.A = dt_in(A); p.Bm = dt_in(Bm); p.Cm = dt_in(Cm); p.out = dt_out(out);
    size_t ws = ssm_cuda_ssd_workspace_size(&p);
    void *wsp = workspace_for(ws);
    ssm_status st = ssm_cuda_ssd(&p, g_stream, wsp, ws);
    CK(cudaStreamSynchronize(g_stream));
    unsigned char *direct = (unsigned char *)malloc((size_t)out->t->span * 2);
    dt_down(out);
    memcpy(direct, out->t->buf, (size_t)out->t->span * 2);
    CK(cudaMemset(out->d, 0xff, (size_t)out->t->span * 2));
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    int ok = st == SSM_OK;
    CK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeGlobal));
    ssm_status st2 = ssm_cuda_ssd(&p, g_stream, wsp, ws);
    CK(cudaStreamEndCapture(g_stream, &graph));
    ok = ok && st2 == SSM_OK;
    if (ok) {
        CK(cudaGraphInstantiate(&exec, graph, 0));
        CK(cudaGraphLaunch(exec, g_stream));
        CK(cudaGraphLaunch(exec, g_stream));   /* replay twice: the workspace resets itself */
        CK(cudaStreamSynchronize(g_stream));
        dt_down(out);
        ok = memcmp(direct, out->t->buf, (size_t)out->t->span * 2) == 0;
        CK(cudaGraphExecDestroy(exec));
    }
    CK(cudaGraphDestroy(graph));
    props_report(ok ? PROPS_PASS : PROPS_FAIL, "graph capture of ssm_cuda_ssd " BACKEND " (direct %s, captured %s, replay %s)",
                 ssm_status_string(st), ssm_status_string(st2), ok ? "identical" : "differs");
    free(direct);
    dt_free(x); dt_free(dtt); dt_free(A); dt_free(Bm); dt_free(Cm); dt_free(out);
}

/* selective_scan with N states, which the caller expects to be refused as unsupported; d is
   1 MB of device memory (the call must fail before it reads anything). */
static void expect_scan_unsupported(void *d, int64_t N, const char *tag) {
    ssm_selective_scan_params s;
    memset(&s, 0, sizeof s);
    s.B = 1; s.D = 1; s.L = 4; s.N = N;
    s.u.data = d; s.delta.data = d; s.A.data = d; s.Bm.data = d; s.Cm.data = d; s.out.data = (char *)d + 65536;
    const ssm_status st = ssm_cuda_selective_scan(&s, g_stream, NULL, 0);
    props_report(st == SSM_ERR_UNSUPPORTED ? PROPS_PASS : PROPS_FAIL, "errors: selective_scan N=%lld%s -> %s " BACKEND,
                 (long long)N, tag, ssm_status_string(st));
}

static void prop_errors(void) {
    ssm_status st = ssm_cuda_ssd(NULL, g_stream, NULL, 0);
    props_report(st == SSM_ERR_NULL ? PROPS_PASS : PROPS_FAIL, "errors: NULL params -> %s " BACKEND, ssm_status_string(st));
    ssm_ssd_params p;
    memset(&p, 0, sizeof p);
    void *d;
    CK(cudaMalloc(&d, 1 << 20));
    p.dtype = SSM_F32; p.B = 1; p.L = 16; p.H = 1; p.P = 4; p.N = 4;
    p.x.data = d; p.dt.data = d; p.A.data = d; p.Bm.data = d; p.Cm.data = (char *)d + 4096;
    p.out.data = (char *)d + 8192;
    size_t need = ssm_cuda_ssd_workspace_size(&p);
    st = ssm_cuda_ssd(&p, g_stream, NULL, 0);
    props_report(need > 0 && st == SSM_ERR_ARG ? PROPS_PASS : PROPS_FAIL,
                 "errors: ssd without its %zu-byte workspace -> %s " BACKEND, need, ssm_status_string(st));
    expect_scan_unsupported(d, 600, "");
    CK(cudaStreamSynchronize(g_stream));
    CK(cudaFree(d));
}

/* ================================================================ smaller GPUs (emulated) */

#ifdef SSM_CUDA_EMULATE
/* GPUs whose blocks may have less shared memory than sm_90's 227 KB (the emulator stands in for
   one through SSM_EMU_SMEM_OPTIN): kernels that do not fit give way to ones that do, with results
   as good; selective_scan with N > 256 (130 KB) is unsupported below that. sm_80 (163 KB): the
   ssd tensor-core kernels fit, the token-major hsa kernel runs 10 warps a block, the windowed one
   gives way to the general kernel; sm_86 (99 KB): the general ssd kernel, 6 warps. */
static void run_small_smem(props_rng *r) {
    static const struct { const char *bytes, *tag; int scan_ok; } gpus[2] = {
        {"166912", " smem=163K (sm_80)", 1}, {"101376", " smem=99K (sm_86)", 0}};
    void *d;
    CK(cudaMalloc(&d, 1 << 20));
    for (int i = 0; i < 2; i++) {
        setenv("SSM_EMU_SMEM_OPTIN", gpus[i].bytes, 1);
        g_tag = gpus[i].tag;
        prop_ssd(r, SSM_BF16, 2, 300, 8, 64, 128, 2, 256, 0, 0, 0, 0, 0);
        prop_ssd(r, SSM_F16, 2, 200, 3, 64, 128, 1, 128, 0, 0, 0, 1, 0);
        prop_hsa_attention(r, SSM_BF16, 1, 60, 512, 16, 1, 64, 64, 8, 64, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, SSM_F16, 1, 90, 480, 4, 2, 64, 64, 7, 48, 1.0f, 1, 0, 0);
        if (gpus[i].scan_ok) {
            prop_scan(r, SSM_BF16, 1, 3, 40, 300, 1, 0, 0, 0);
        } else {
            expect_scan_unsupported(d, 300, gpus[i].tag);
        }
    }
    unsetenv("SSM_EMU_SMEM_OPTIN");
    g_tag = NULL;
    CK(cudaFree(d));
}

/* ssd with more (row, head) state chains than blocks in flight, as on a GPU at full size: the
   items go out in bands of rows (ceil(grid / H) rows each, the last one shorter). A 3-SM device
   gives a grid of 3 blocks: bands of 2 rows with H = 2 (2, 2, 1), of 3 with H = 1 (3, 2). */
static void run_few_sms(props_rng *r) {
    setenv("SSM_EMU_SMS", "3", 1);
    g_tag = " sms=3";
    prop_ssd(r, SSM_BF16, 5, 300, 2, 64, 128, 1, 128, 0, 0, 0, 0, 0);
    prop_ssd(r, SSM_F16, 5, 200, 1, 64, 64, 1, 128, 0, 1, 0, 1, 0);
    prop_ssd(r, SSM_F32, 5, 37, 2, 5, 7, 1, 16, 0, 0, 0, 0, 0);   /* the general kernel */
    unsetenv("SSM_EMU_SMS");
    g_tag = NULL;
}
#endif

/* ================================================================ big operands (> 2^31 elements) */

/* state_update on a cache of more than 2^31 floats: the rows picked near its end are updated,
   a poisoned neighbour row stays as it was; checked against the reference on a small cache
   holding the same rows. */
static void big_state_update(props_rng *r) {
    const int64_t H = 8, P = 64, N = 128, row = H * P * N, Ns = ((int64_t)1 << 31) / row + 3, B = 3;
    float *dcache;
    size_t bytes = sizeof(float) * (size_t)(Ns * row);
    if (cudaMalloc(&dcache, bytes) != cudaSuccess) {
        cudaGetLastError();
        props_report(PROPS_SKIP, "big state_update " BACKEND " (no %zu bytes on the device)", bytes);
        return;
    }
    const int64_t picks[3] = {Ns - 1, Ns - 3, 5}, watch = Ns - 2;
    dten *small = dt_new(TK_F32, 4, B, H, P, N, NULL), *x = dt_new(TK_BF16, 3, B, H, P, 0, NULL);
    dten *dtt = dt_new(TK_BF16, 3, B, H, P, 0, NULL), *A = dt_new(TK_F32, 3, H, P, N, 0, NULL);
    dten *Bm = dt_new(TK_BF16, 3, B, 1, N, 0, NULL), *Cm = dt_new(TK_BF16, 3, B, 1, N, 0, NULL);
    dten *out = dt_new(TK_BF16, 3, B, H, P, 0, NULL), *idx = dt_new(TK_I32, 1, B, 0, 0, 0, NULL);
    dt_normal(small, r, 0, 1); dt_normal(x, r, 0, 1); dt_normal(dtt, r, 0, 1); dt_normal(Bm, r, 0, 1);
    dt_normal(Cm, r, 0, 1);
    for (int64_t i = 0; i < A->t->numel; i++) tensor_set(A->t, i, -exp(rng_uniform(r) * 2.0));
    for (int64_t b = 0; b < B; b++) {
        tensor_set(idx->t, b, (double)picks[b]);
        CK(cudaMemcpy(dcache + picks[b] * row, (float *)tensor_data(small->t) + b * row, sizeof(float) * row,
                      cudaMemcpyHostToDevice));
    }
    CK(cudaMemset(dcache + watch * row, 0x7f, sizeof(float) * row));
    dt_up(x); dt_up(dtt); dt_up(A); dt_up(Bm); dt_up(Cm); dt_up(out); dt_up(idx);
    ssm_state_update_params hp;
    memset(&hp, 0, sizeof hp);
    hp.dtype = SSM_BF16; hp.B = B; hp.H = H; hp.P = P; hp.N = N; hp.dt_softplus = 1;
    ssm_state_update_params dp = hp;
    hp.state = ht_out(small); hp.x = ht_in(x); hp.dt = ht_in(dtt); hp.A = ht_in(A); hp.Bm = ht_in(Bm);
    hp.Cm = ht_in(Cm); hp.out = ht_out(out);
    dp.Ns = Ns;
    dp.state.data = dcache; dp.x = dt_in(x); dp.dt = dt_in(dtt); dp.A = dt_in(A); dp.Bm = dt_in(Bm);
    dp.Cm = dt_in(Cm); dp.out = dt_out(out); dp.state_index = dt_in(idx);
    double *ro = dalloc(B * H * P), *rs = dalloc(B * row);
    ssm_ref_out rr;
    memset(&rr, 0, sizeof rr);
    rr.out = ro;
    rr.state = rs;
    ssm_status st = ssm_ref_state_update(&hp, &rr);
    ssm_status sc = st == SSM_OK ? cuda_run(SSM_OP_STATE_UPDATE, &dp) : st;
    if (sc != SSM_OK) {
        props_report(PROPS_FAIL, "big state_update Ns=%lld (%lld floats) " BACKEND ": %s", (long long)Ns, (long long)(Ns * row),
                     ssm_status_string(sc));
    } else {
        for (int64_t b = 0; b < B; b++)
            CK(cudaMemcpy((float *)tensor_data(small->t) + b * row, dcache + picks[b] * row, sizeof(float) * row,
                          cudaMemcpyDeviceToHost));
        unsigned char *w = (unsigned char *)malloc(sizeof(float) * row);
        CK(cudaMemcpy(w, dcache + watch * row, sizeof(float) * row, cudaMemcpyDeviceToHost));
        int untouched = 1;
        for (int64_t i = 0; i < row * 4; i++) untouched &= w[i] == 0x7f;
        free(w);
        char name[160];
        snprintf(name, sizeof name, "big state_update bf16 Ns=%lld (%lld floats)%s", (long long)Ns, (long long)(Ns * row),
                 untouched ? "" : " NEIGHBOUR ROW CHANGED");
        dt_down(out);
        check_output(name, "out", out, ro, SSM_BF16, NULL);
        if (!untouched) props_report(PROPS_FAIL, "%s " BACKEND, name);
        else check_output(name, "state", small, rs, SSM_BF16, NULL);
    }
    free(ro); free(rs);
    CK(cudaFree(dcache));
    dt_free(small); dt_free(x); dt_free(dtt); dt_free(A); dt_free(Bm); dt_free(Cm); dt_free(out); dt_free(idx);
}

__global__ void fill_bf16(__nv_bfloat16 *p, int64_t n, uint64_t seed) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        p[i] = __float2bfloat16_rn((float)((double)(z >> 11) * (1.0 / 9007199254740992.0) * 4.0 - 2.0));
    }
}

/* conv1d over x and out of more than 2^31 elements each; the last 512 tokens of every channel
   are checked against the reference run on that tail (its W-1 predecessors as state0). */
static void big_conv1d(props_rng *r) {
    const int64_t B = 1, D = 3, W = 4, L = (((int64_t)1 << 31) / D / 8 + 64) * 8, T = 512;
    __nv_bfloat16 *dx, *dout;
    const size_t bytes = sizeof(__nv_bfloat16) * (size_t)(B * D * L);
    if (cudaMalloc(&dx, bytes) != cudaSuccess || cudaMalloc(&dout, bytes) != cudaSuccess) {
        cudaGetLastError();
        props_report(PROPS_SKIP, "big conv1d " BACKEND " (no 2 x %zu bytes on the device)", bytes);
        return;
    }
    SSM__CU_LAUNCH(1024, 256, 0, 0, fill_bf16)(dx, B * D * L, rng_next(r));
    CK(cudaMemset(dout, 0xff, bytes));
    dten *w = dt_new(TK_F32, 2, D, W, 0, 0, NULL), *bias = dt_new(TK_F32, 1, D, 0, 0, 0, NULL);
    dt_normal(w, r, 0, 0.5);
    dt_normal(bias, r, 0, 0.5);
    dt_up(w);
    dt_up(bias);
    ssm_conv1d_params dp;
    memset(&dp, 0, sizeof dp);
    dp.dtype = SSM_BF16; dp.B = B; dp.D = D; dp.L = L; dp.W = W; dp.silu = 1;
    dp.x.data = dx; dp.weight = dt_in(w); dp.bias = dt_in(bias); dp.out.data = dout;
    ssm_status st = cuda_run(SSM_OP_CONV1D, &dp);
    if (st != SSM_OK) {
        props_report(PROPS_FAIL, "big conv1d L=%lld (%lld elements) " BACKEND ": %s", (long long)L, (long long)(B * D * L),
                     ssm_status_string(st));
    } else {
        dten *xt = dt_new(TK_BF16, 3, 1, D, T, 0, NULL), *s0 = dt_new(TK_F32, 3, 1, D, W - 1, 0, NULL);
        dten *ot = dt_new(TK_BF16, 3, 1, D, T, 0, NULL);
        uint16_t *tail = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)(T + W - 1));
        for (int64_t d = 0; d < D; d++) {
            CK(cudaMemcpy(tail, dx + d * L + L - T - (W - 1), sizeof(uint16_t) * (size_t)(T + W - 1), cudaMemcpyDeviceToHost));
            for (int64_t k = 0; k < W - 1; k++) tensor_set(s0->t, d * (W - 1) + k, ssm_bf16_to_f32(tail[k]));
            memcpy((uint16_t *)tensor_data(xt->t) + d * T, tail + W - 1, sizeof(uint16_t) * (size_t)T);
            CK(cudaMemcpy((uint16_t *)tensor_data(ot->t) + d * T, dout + d * L + L - T, sizeof(uint16_t) * (size_t)T,
                          cudaMemcpyDeviceToHost));
        }
        ssm_conv1d_params hp;
        memset(&hp, 0, sizeof hp);
        hp.dtype = SSM_BF16; hp.B = 1; hp.D = D; hp.L = T; hp.W = W; hp.silu = 1;
        hp.x = ht_in(xt); hp.weight = ht_in(w); hp.bias = ht_in(bias); hp.state0 = ht_in(s0);
        dten *scratch = dt_new(TK_BF16, 3, 1, D, T, 0, NULL);
        hp.out = ht_out(scratch);
        double *ro = dalloc(D * T);
        ssm_ref_out rr;
        memset(&rr, 0, sizeof rr);
        rr.out = ro;
        char name[160];
        snprintf(name, sizeof name, "big conv1d bf16 B=1 D=3 L=%lld (%lld elements), last %lld tokens", (long long)L,
                 (long long)(B * D * L), (long long)T);
        if (ssm_ref_conv1d(&hp, &rr) != SSM_OK) props_report(PROPS_FAIL, "%s: reference failed", name);
        else check_output(name, "out", ot, ro, SSM_BF16, NULL);
        free(ro);
        free(tail);
        dt_free(xt); dt_free(s0); dt_free(ot); dt_free(scratch);
    }
    CK(cudaFree(dx));
    CK(cudaFree(dout));
    dt_free(w);
    dt_free(bias);
}

/* ================================================================ far rows

   One case per kernel (each fast path and the general kernels) with batch row 1 of every
   tensor whose outer dimension is 2 past element 2^31 (dt_new's far mode): offsets over 2^31
   elements in every operand role, at the cost of small shapes. */
static void run_far(props_rng *r) {
    g_far = 1;
    prop_conv1d(r, SSM_BF16, 2, 5, 64, 4, 0, 0, 0);
    prop_conv1d(r, SSM_F32, 2, 7, 37, 3, 0, 0, 0);
    prop_state_update(r, SSM_BF16, 2, 3, 8, 128, 1, 1, 0, 0);
    prop_state_update(r, SSM_F32, 2, 3, 5, 17, 1, 0, 0, 0);
    prop_scan(r, SSM_BF16, 2, 8704, 64, 11, 1, 0, 0, 0);
    prop_scan(r, SSM_F32, 2, 8, 45, 16, 1, 0, 0, 0);
    prop_ssd(r, SSM_BF16, 2, 300, 3, 64, 128, 1, 256, 0, 0, 0, 0, 0);
    prop_ssd(r, SSM_F16, 2, 200, 4, 64, 128, 1, 128, 0, 0, 0, 0, 0);   /* the shared kernel, where it is on */
    prop_ssd(r, SSM_F32, 2, 37, 3, 5, 7, 1, 16, 0, 0, 0, 0, 0);
    prop_hsa_select(r, SSM_BF16, 2, 70, 5, 3, 8, 3, 16, 0, 0, 0);
    prop_hsa_attention(r, SSM_BF16, 2, 70, 256, 48, 3, 64, 64, 8, 32, 1.0f, 1, 0, 0);   /* G % 16 == 0 */
    prop_hsa_attention(r, SSM_BF16, 2, 96, 256, 6, 3, 64, 64, 8, 64, 0.0f, 1, 0, 0);    /* G = 2 */
    prop_hsa_attention(r, SSM_F32, 2, 30, 28, 3, 3, 5, 5, 5, 4, 1.0f, 1, 0, 0);         /* general */
    g_far = 0;
}

/* ================================================================ the property suite */

static void run_props(props_rng *r) {
    const ssm_dtype dts[3] = {SSM_F32, SSM_F16, SSM_BF16};
    for (int di = 0; di < 3; di++) {
        ssm_dtype d = dts[di];
        /* conv1d: vector path (L % 8 == 0, contiguous), strided, varlen, decode with a cache */
        prop_conv1d(r, d, 2, 5, 64, 4, 0, 0, 0);
        prop_conv1d(r, d, 2, 3, 1000, (int64_t)rng_int(r, 1, 8), 0, 0, 0);   /* many threads a row, a partial last one */
        prop_conv1d(r, d, 3, 7, 37, (int64_t)rng_int(r, 1, 8), 0, 0, 1);
        prop_conv1d(r, d, 1, 6, 50, (int64_t)rng_int(r, 2, 8), 1, 0, 0);
        prop_conv1d(r, d, 5, 8, 1, 4, 0, 1, 0);
        prop_conv1d(r, d, 1, 4, 30, 3, 1, 1, 0);
        prop_conv1d(r, d, 0, 4, 16, 4, 0, 0, 0);   /* B = 0 */
        /* state_update: Mamba-2 tied (vector path), Mamba-1, untied, odd N, caches, strided */
        prop_state_update(r, d, 4, 3, 8, 128, 1, 1, 0, 0);
        prop_state_update(r, d, 3, 6, 1, 16, 2, 1, 0, 0);
        prop_state_update(r, d, 5, 4, 6, 32, 4, 0, 1, 0);
        prop_state_update(r, d, 4, 2, 3, 17, 1, 0, 1, 1);
        prop_state_update(r, d, 3, 2, 4, 256, 2, 1, 0, 1);
        prop_state_update(r, d, 64, 24, 64, 128, 1, 1, 1, 0);   /* vector path: 2 blocks per (b, h) */
        prop_state_update(r, d, 9, 5, 7, 64, 5, 0, 0, 0);        /* vector path: P % 8 != 0, N < 128, untied */
        prop_state_update(r, d, 3, 7, 45, 68, 1, 1, 1, 0);       /* vector path: a partial block and warp, lanes past N */
        prop_state_update(r, d, 2, 3, 33, 4, 3, 0, 0, 0);        /* vector path: one lane of states, one row in the last block */
        /* selective_scan: groups, odd N, N = 1 / 256, varlen, in place, strided, time-chunked */
        prop_scan(r, d, 2, 8, 45, 16, 1, 0, 0, 0);
        prop_scan(r, d, 1, 12, 70, 17, 4, 0, 1, 1);
        prop_scan(r, d, 1, 6, 33, 1, 6, 1, 0, 0);
        prop_scan(r, d, 1, 4, 20, 256, 2, 1, 1, 0);
        prop_scan(r, d, 1, 3, g_quick ? 700 : 3000, 16, 1, 0, 0, 0);   /* few rows: NC > 1 */
        prop_scan(r, d, 1, 2, g_quick ? 600 : 2500, 8, 1, 1, 1, 0);     /* NC > 1, varlen, in place */
        prop_scan(r, d, 2, 5, 0, 4, 1, 0, 0, 0);                         /* L = 0 */
        /* 16-bit: the fast kernel (B*D*LPC >= 128 * SMs on GPUs up to 136 SMs; N > 8: LPC = 2 lanes per
           channel in steps of 16 tokens, N <= 8: a thread per channel) */
        prop_scan(r, d, 4, 4352, 40, 16, 1, 0, 0, 0);    /* a partial 32-token tile, L % 16 = 8 */
        prop_scan(r, d, 2, 8704, 64, 11, 2, 0, 1, 0);    /* odd N, 2 groups, in place */
        prop_scan(r, d, 3, 5803, 48, 8, 1, 0, 0, 0);     /* 8 states, a partial block of channels */
        prop_scan(r, d, 4, 4416, 24, 13, 3, 0, 0, 0);    /* 64-channel groups, L % 16 = 8 in the only tile */
        prop_scan(r, d, 3, 5803, 56, 9, 1, 0, 1, 0);     /* one state on the second lane, a partial block, in place */
        prop_scan(r, d, 2, 4400, 8, 16, 1, 0, 0, 0);     /* one group of 8 tokens: the second lane is past L */
        prop_scan(r, d, 1, 8704, 96, 12, 1, 0, 0, 0);    /* whole steps over 3 tiles */
        /* ssd: general kernel (odd P/N, strided, any Q) */
        prop_ssd(r, d, 2, 37, 3, 5, 7, 1, 16, 0, 0, 1, 0, 0);
        prop_ssd(r, d, 1, 90, 4, 8, 17, 2, 32, 1, 1, 0, 0, 0);
        prop_ssd(r, d, 1, 70, 2, 3, 5, 2, 1, 0, 0, 0, 0, 0);
        prop_ssd(r, d, 1, 600, 2, 8, 16, 1, 256, 0, 0, 0, 1, 0);
        /* ssd: tensor-core kernel (16-bit, P = 64, N = 64 / 128; chunks of min(Q, 128) tokens,
           handed out chunk-major over the batch rows) */
        prop_ssd(r, d, 2, g_quick ? 300 : 700, 3, 64, 128, 1, 256, 0, 0, 0, 0, 0);
        prop_ssd(r, d, 1, g_quick ? 200 : 400, 4, 64, 64, 2, 128, 1, 1, 0, 0, 0);
        prop_ssd(r, d, 1, g_quick ? 300 : 640, 2, 64, 128, 2, 100, 0, 1, 0, 1, 0);
        prop_ssd(r, d, 1, 130, 4, 64, 128, 4, 64, 1, 0, 0, 0, 0);
        prop_ssd(r, d, 4, g_quick ? 300 : 1000, 2, 64, 128, 2, 256, 0, 0, 0, 1, 0);   /* 4 rows of chains, tails */
        prop_ssd(r, d, 3, g_quick ? 200 : 530, 2, 64, 64, 1, 512, 0, 1, 0, 0, 0);     /* Q > 128, in place */
        prop_ssd(r, d, 2, 45, 3, 64, 128, 3, 7, 0, 0, 0, 1, 0);                       /* Q < 16, one tile per chunk */
        prop_ssd(r, d, 2, 300, 2, 64, 128, 1, 128, 0, 0, 0, 0, 1);                    /* S_in past f16, small C */
        prop_ssd(r, d, 1, 200, 2, 64, 64, 1, 64, 1, 1, 0, 0, 1);                      /* the same, varlen, in place */
        /* ssd: H / G >= 4, the shared kernel where SSM_CUDA_SSD_SHARED_CB is 4 (C B^T from the
           pre-pass, 8 warps; the emulated legs), else the 4-warp kernel */
        prop_ssd(r, d, 2, g_quick ? 300 : 700, 8, 64, 128, 2, 256, 0, 0, 0, 0, 0);
        prop_ssd(r, d, 1, g_quick ? 200 : 400, 8, 64, 64, 1, 128, 1, 1, 0, 0, 0);      /* varlen, in place */
        prop_ssd(r, d, 3, g_quick ? 200 : 530, 4, 64, 128, 1, 512, 0, 0, 0, 1, 0);     /* Q > 128, 3 rows, tails */
        prop_ssd(r, d, 2, 45, 4, 64, 64, 1, 7, 0, 0, 0, 1, 0);                         /* Q < 16, one tile per chunk */
        prop_ssd(r, d, 2, 300, 4, 64, 128, 1, 100, 0, 0, 0, 0, 1);                    /* S_in past f16, small C */
#ifndef SSM_CUDA_EMULATE
        /* ssd: more (row, head) chains than blocks in flight: bands of rows (the emulated legs
           run this on a 3-SM device, see run_few_sms) */
        prop_ssd(r, d, 7, 256, 100, 64, 64, 1, 128, 0, 0, 0, 0, 0);
#endif
        /* hsa_select: stick / softmax, K > C, no chunks, window, offset */
        prop_hsa_select(r, d, 2, 70, 5, 2, 8, 3, 16, 0, 0, 0);
        prop_hsa_select(r, d, 1, 40, 3, 1, 6, 5, 8, 0, 0, 1);
        prop_hsa_select(r, d, 1, 5, 0, 1, 4, 3, 8, 0, 0, 0);
        prop_hsa_select(r, d, 1, 60, 9, 2, 6, 3, 8, 0, 24, 0);
        prop_hsa_select(r, d, 1, 9, 40, 1, 16, 4, 8, 300, 0, 1);
        prop_hsa_select(r, d, 1, 3, 1500, 1, 8, 6, 4, 6000, 0, 0);   /* more chunks than the score cache */
        /* hsa_attention: general kernel shapes, then the tensor-core kernel for every GQA ratio */
        prop_hsa_attention(r, d, 1, 30, 28, 3, 3, 5, 5, 5, 4, 1.0f, 1, 1, 0);
        prop_hsa_attention(r, d, 1, 24, 24, 2, 1, 8, 6, 6, 8, 0.0f, 1, 0, 1);   /* K > C */
        prop_hsa_attention(r, d, 2, 1, 48, 8, 1, 16, 16, 4, 8, 0.0f, 0, 0, 0);  /* decode */
        for (int64_t G = 1; G <= 16; G *= 2)
            prop_hsa_attention(r, d, 1, g_quick ? 96 : 200, 256, G * (G < 16 ? 2 : 1), G < 16 ? 2 : 1, 64, 64, 8, 64,
                               G == 4 ? 1.0f : 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 130, 192, 6, 2, 64, 64, 5, 16, 0.0f, 1, 0, 0);   /* G = 3, S = 16 */
        prop_hsa_attention(r, d, 1, 64, 128, 32, 1, 64, 64, 4, 32, 0.0f, 1, 0, 0);   /* G = 32 */
        /* tensor-core windows: many per sequence (G = 1: 256 tokens each), repeated chunks,
           K = 64 (the most slots it takes), G = 5 and 12 (tiles across tokens), G = 256 (one
           token per window), decode, S = 48, chunks at the 1024 limit */
        prop_hsa_attention(r, d, 2, g_quick ? 600 : 1100, 1536, 3, 3, 64, 64, 8, 64, 0.0f, 1, 0, 1);
        prop_hsa_attention(r, d, 1, 300, 640, 12, 1, 64, 64, 64, 16, 1.0f, 1, 0, 1);
        prop_hsa_attention(r, d, 1, 90, 480, 10, 2, 64, 64, 7, 48, 0.0f, 0, 0, 0);
        prop_hsa_attention(r, d, 1, 40, 256, 256, 1, 64, 64, 8, 32, 0.0f, 1, 0, 1);
        prop_hsa_attention(r, d, 3, 1, 4096, 16, 1, 64, 64, 8, 64, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 300, 16384, 2, 1, 64, 64, 16, 16, 0.0f, 1, 0, 0);
        /* the phased batches of that kernel: chunks that most tokens of a window select (a chunk's
           tiles over several batches), chunks that one token selects (one-row tiles, a token's
           rows in several phases of a batch), G = 68 with K = 60 (one token a window, each pair's
           rows over five tiles, repeats), G K past its window (the general kernel), strided */
        prop_hsa_attention(r, d, 2, 600, 640, 2, 2, 64, 64, 2, 64, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 40, 8192, 1, 1, 64, 64, 32, 16, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 6, 1024, 68, 1, 64, 64, 60, 16, 1.0f, 1, 0, 1);
        prop_hsa_attention(r, d, 1, 5, 256, 72, 1, 64, 64, 60, 32, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 120, 512, 6, 2, 64, 64, 8, 32, 0.0f, 1, 1, 1);
        /* token-major kernel (G % 16 == 0): two KV heads with strided q / o and sm_n; K = 40
           (slots past lane 31) with repeats and out-of-range indices; S = 16 and 48; G = 48 (three
           tiles per token); more chunks than the windowed kernel takes (C = 1152) */
        prop_hsa_attention(r, d, 2, 70, 256, 32, 2, 64, 64, 8, 32, 1.0f, 1, 1, 0);
        prop_hsa_attention(r, d, 1, 60, 1024, 16, 1, 64, 64, 40, 16, 0.0f, 1, 0, 1);
        prop_hsa_attention(r, d, 1, 50, 480, 48, 1, 64, 64, 7, 48, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 20, 18432, 16, 1, 64, 64, 12, 16, 0.0f, 1, 0, 0);
        /* a negative scale (the tensor-core kernels fold a positive one into the exponent's
           FFMA; a negative one takes the other softmax): token-major, windowed with S = 48 */
        g_hsa_scale = -0.2f;
        prop_hsa_attention(r, d, 1, 60, 512, 16, 1, 64, 64, 8, 64, 0.0f, 1, 0, 0);
        prop_hsa_attention(r, d, 1, 90, 480, 4, 2, 64, 64, 7, 48, 1.0f, 1, 0, 0);
        g_hsa_scale = 0.0f;
    }
    prop_graph(r);
    prop_errors();
#ifdef SSM_CUDA_EMULATE
    run_small_smem(r);
    run_few_sms(r);
#endif
}

int main(int argc, char **argv) {
    int props = 0, big = 0, far = 0, ngold = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--props") == 0) props = 1;
        else if (strcmp(argv[i], "--big") == 0) big = far = 1;
        else if (strcmp(argv[i], "--far") == 0) far = 1;
        else if (strcmp(argv[i], "--quick") == 0) g_quick = 1;
        else if (strncmp(argv[i], "--only=", 7) == 0) g_only = argv[i] + 7;
        else if (strncmp(argv[i], "--seed=", 7) != 0) ngold++;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        props_report(PROPS_SKIP, "cuda backend (no CUDA device)");
        return props_finish();
    }
    printf("device: %s, %d SMs, compute capability %d.%d\n", prop.name, prop.multiProcessorCount, prop.major, prop.minor);
    printf("kernels built with: %s\n", ssm_cuda_config());
    CK(cudaStreamCreate(&g_stream));
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') golden_path(argv[i]);
    if (props || big || far) {
        props_rng r;
        r.s = props_seed(argc, argv);
        if (props) run_props(&r);
        if (far) run_far(&r);
        if (big) {
            big_state_update(&r);
            big_conv1d(&r);
        }
    }
    if (!props && !big && !far && ngold == 0)
        fprintf(stderr, "usage: %s [--props] [--quick] [--only=PREFIX[,...]] [--big] [--far] [--seed=N] [DIR_OR_FILE...]\n", argv[0]);
    if (g_ws) CK(cudaFree(g_ws));
    CK(cudaStreamDestroy(g_stream));
    return props_finish();
}
