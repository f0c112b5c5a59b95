/* golden.c — .ssmg loader and case runner (see golden.h). */
#include "golden.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/ssm_ref.h"

/* ================================================================ loading */

static uint64_t read_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static size_t type_size(int type)
{
    switch (type) {
    case GOLDEN_F32: case GOLDEN_I32: return 4;
    case GOLDEN_F64: case GOLDEN_I64: return 8;
    case GOLDEN_TEXT: return 1;
    default: return 0;
    }
}

/* Decodes count little-endian elements into host order. */
static void decode(int type, const unsigned char *src, int64_t count, void *dst)
{
    size_t size = type_size(type);
    for (int64_t i = 0; i < count; i++) {
        uint64_t v = read_le(src + (size_t)i * size, (int)size);
        if (size == 1) {
            ((unsigned char *)dst)[i] = (unsigned char)v;
        } else if (size == 4) {
            uint32_t v32 = (uint32_t)v;
            memcpy((char *)dst + (size_t)i * 4, &v32, 4);
        } else {
            memcpy((char *)dst + (size_t)i * 8, &v, 8);
        }
    }
}

static int read_file(const char *path, unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = (unsigned char *)malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *grown = (unsigned char *)realloc(buf, cap * 2);
        if (!grown) free(buf);
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

static int load_error(golden_case *gc, char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    golden_free(gc);
    return -1;
}

/* Parses one record at *at; returns NULL or what is wrong. */
static const char *parse_record(const unsigned char *buf, size_t size, size_t *at, golden_record *r)
{
    size_t pos = *at;
    if (size - pos < 2) return "truncated record header";
    size_t name_len = (size_t)read_le(buf + pos, 2);
    pos += 2;
    if (size - pos < name_len + 2) return "truncated record name";
    r->name = (char *)malloc(name_len + 1);
    if (!r->name) return "out of memory";
    memcpy(r->name, buf + pos, name_len);
    r->name[name_len] = '\0';
    pos += name_len;
    r->type = (golden_type)buf[pos];
    r->ndim = buf[pos + 1];
    pos += 2;
    size_t esize = type_size(r->type);
    if (esize == 0) return "unknown record dtype";
    if (r->ndim > GOLDEN_MAX_DIMS) return "too many dimensions";
    if (r->type == GOLDEN_TEXT && r->ndim != 1) return "text record must have one dimension";
    if (size - pos < (size_t)r->ndim * 8) return "truncated dims";
    r->count = 1;
    for (int d = 0; d < r->ndim; d++) {
        uint64_t dim = read_le(buf + pos + (size_t)d * 8, 8);
        if (dim > (uint64_t)(size - pos)) return "dimension larger than the file";
        r->dims[d] = (int64_t)dim;
        if (dim != 0 && (uint64_t)r->count > (uint64_t)size / dim) return "record larger than the file";
        r->count *= (int64_t)dim;
    }
    pos += (size_t)r->ndim * 8;
    if ((uint64_t)r->count > (size - pos) / esize) return "truncated data";
    r->data = malloc((size_t)r->count * esize + 1);
    if (!r->data) return "out of memory";
    decode(r->type, buf + pos, r->count, r->data);
    if (r->type == GOLDEN_TEXT) ((char *)r->data)[r->count] = '\0';
    *at = pos + (size_t)r->count * esize;
    return NULL;
}

int golden_load(const char *path, golden_case *gc, char *err, size_t err_size)
{
    memset(gc, 0, sizeof *gc);
    gc->path = (char *)malloc(strlen(path) + 1);
    if (!gc->path) return load_error(gc, err, err_size, "out of memory");
    strcpy(gc->path, path);
    const char *slash = strrchr(gc->path, '/');
    gc->name = slash ? slash + 1 : gc->path;

    unsigned char *buf;
    size_t size;
    if (read_file(path, &buf, &size) != 0) return load_error(gc, err, err_size, "cannot read %s", path);
    if (size < 12 || memcmp(buf, "SSMGOLD1", 8) != 0) {
        free(buf);
        return load_error(gc, err, err_size, "%s: not an SSMGOLD1 file", path);
    }
    uint64_t count = read_le(buf + 8, 4);
    if (count > size / 4) {   /* a record takes at least 4 bytes */
        free(buf);
        return load_error(gc, err, err_size, "%s: record count %llu larger than the file", path,
                          (unsigned long long)count);
    }
    gc->records = (golden_record *)calloc(count ? count : 1, sizeof *gc->records);
    if (!gc->records) {
        free(buf);
        return load_error(gc, err, err_size, "out of memory");
    }
    size_t at = 12;
    for (uint64_t i = 0; i < count; i++) {
        gc->n_records = (int)i + 1;
        const char *why = parse_record(buf, size, &at, &gc->records[i]);
        if (!why && golden_find(gc, gc->records[i].name) != &gc->records[i]) why = "duplicate record";
        if (why) {
            free(buf);
            return load_error(gc, err, err_size, "%s: record %llu: %s", path, (unsigned long long)i, why);
        }
    }
    free(buf);
    if (at != size) return load_error(gc, err, err_size, "%s: trailing bytes after the last record", path);
    return 0;
}

void golden_free(golden_case *gc)
{
    for (int i = 0; i < gc->n_records; i++) {
        free(gc->records[i].name);
        free(gc->records[i].data);
    }
    free(gc->records);
    free(gc->path);
    memset(gc, 0, sizeof *gc);
}

const golden_record *golden_find(const golden_case *gc, const char *name)
{
    for (int i = 0; i < gc->n_records; i++)
        if (gc->records[i].name && strcmp(gc->records[i].name, name) == 0) return &gc->records[i];
    return NULL;
}

const char *golden_verdict_name(golden_verdict v)
{
    return v == GOLDEN_PASS ? "PASS" : v == GOLDEN_FAIL ? "FAIL" : "SKIP";
}

/* ================================================================ what each op reads */

/* How a record maps onto the call. */
typedef enum role {
    IN_ACT,       /* activation input: f32 record, converted to io_dtype */
    IN_F32,       /* parameter or state input: f32 */
    IN_I32,       /* index input (state_index, idx) */
    IN_I64,       /* cu_seqlens */
    SCALAR_I64,
    SCALAR_F64,
    SCALAR_TEXT,
    OUT_ACT,      /* expect.* of an output stored in io_dtype */
    OUT_F32,      /* expect.* of an f32 output (state, lse, w) */
    OUT_I32       /* expect.idx */
} role;

/* One record an op knows. dims: one symbol per dimension; the first record that has a symbol
   binds it and every later one must agree. Lower case: s state rows (B, nseq or the cache's
   Ns), n cu_seqlens length (nseq + 1), w conv state width (W - 1), r state_index length;
   hsa_attention: q HQ, k HK, M Lk, V Ev; T is Lq. required: an input the op needs, or an
   output it always writes (allocated even when its expect record is absent). */
typedef struct operand {
    const char *name;
    role role;
    const char *dims;
    int required;
} operand;

#define END_OPERANDS {NULL, IN_F32, "", 0}

static const operand selective_scan_operands[] = {
    {"u", IN_ACT, "BDL", 1}, {"delta", IN_ACT, "BDL", 1}, {"A", IN_F32, "DN", 1},
    {"Bm", IN_ACT, "BGNL", 1}, {"Cm", IN_ACT, "BGNL", 1}, {"Dskip", IN_F32, "D", 0},
    {"z", IN_ACT, "BDL", 0}, {"delta_bias", IN_F32, "D", 0}, {"h0", IN_F32, "sDN", 0},
    {"cu_seqlens", IN_I64, "n", 0}, {"delta_softplus", SCALAR_I64, "", 0},
    {"expect.out", OUT_ACT, "BDL", 1}, {"expect.h_last", OUT_F32, "sDN", 0},
    END_OPERANDS};

static const operand state_update_operands[] = {
    {"state", IN_F32, "sHPN", 1}, {"x", IN_ACT, "BHP", 1}, {"dt", IN_ACT, "BHP", 1},
    {"A", IN_F32, "HPN", 1}, {"Bm", IN_ACT, "BGN", 1}, {"Cm", IN_ACT, "BGN", 1},
    {"Dskip", IN_F32, "HP", 0}, {"z", IN_ACT, "BHP", 0}, {"dt_bias", IN_F32, "HP", 0},
    {"state_index", IN_I32, "B", 0}, {"dt_softplus", SCALAR_I64, "", 0},
    {"dt_min", SCALAR_F64, "", 0}, {"dt_max", SCALAR_F64, "", 0},
    {"expect.out", OUT_ACT, "BHP", 1}, {"expect.state", OUT_F32, "sHPN", 1},
    END_OPERANDS};

static const operand ssd_operands[] = {
    {"x", IN_ACT, "BLHP", 1}, {"dt", IN_ACT, "BLH", 1}, {"A", IN_F32, "H", 1},
    {"Bm", IN_ACT, "BLGN", 1}, {"Cm", IN_ACT, "BLGN", 1}, {"Dskip", IN_F32, "HP", 0},
    {"z", IN_ACT, "BLHP", 0}, {"dt_bias", IN_F32, "H", 0}, {"h0", IN_F32, "sHPN", 0},
    {"cu_seqlens", IN_I64, "n", 0}, {"Q", SCALAR_I64, "", 0}, {"dt_softplus", SCALAR_I64, "", 0},
    {"dt_min", SCALAR_F64, "", 0}, {"dt_max", SCALAR_F64, "", 0},
    {"expect.out", OUT_ACT, "BLHP", 1}, {"expect.h_last", OUT_F32, "sHPN", 0},
    END_OPERANDS};

static const operand conv1d_operands[] = {
    {"x", IN_ACT, "BDL", 1}, {"weight", IN_F32, "DW", 1}, {"bias", IN_F32, "D", 0},
    {"state0", IN_F32, "sDw", 0}, {"state_index", IN_I32, "r", 0}, {"cu_seqlens", IN_I64, "n", 0},
    {"silu", SCALAR_I64, "", 0},
    {"expect.out", OUT_ACT, "BDL", 1}, {"expect.state_last", OUT_F32, "sDw", 0},
    END_OPERANDS};

static const operand hsa_select_operands[] = {
    {"qr", IN_ACT, "BTHR", 1}, {"lmk", IN_ACT, "BCHR", 1}, {"K", SCALAR_I64, "", 1},
    {"S", SCALAR_I64, "", 1}, {"q_offset", SCALAR_I64, "", 0}, {"window", SCALAR_I64, "", 0},
    {"mode", SCALAR_TEXT, "", 0},
    {"expect.idx", OUT_I32, "BTHK", 1}, {"expect.w", OUT_F32, "BTHK", 1},
    END_OPERANDS};

static const operand hsa_attention_operands[] = {
    {"q", IN_ACT, "BTqE", 1}, {"k", IN_ACT, "BMkE", 1}, {"v", IN_ACT, "BMkV", 1},
    {"idx", IN_I32, "BTkK", 1}, {"w", IN_F32, "BTkK", 1}, {"S", SCALAR_I64, "", 1},
    {"scale", SCALAR_F64, "", 0}, {"sm_n", SCALAR_F64, "", 0},
    {"expect.o", OUT_ACT, "BTqV", 1}, {"expect.lse", OUT_F32, "BTqK", 0},
    END_OPERANDS};

static const operand *const operands_of_op[SSM_OP_COUNT] = {
    selective_scan_operands, state_update_operands, ssd_operands,
    conv1d_operands, hsa_select_operands, hsa_attention_operands};

enum { MAX_OPERANDS = 20 };

/* State while building a run. */
typedef struct prep {
    golden_run *run;
    const operand *ops;
    const golden_record *rec[MAX_OPERANDS];   /* present records, by operand */
    const void *input[MAX_OPERANDS];          /* converted inputs, by operand */
    int64_t var[128];                         /* shape symbols, -1 unbound */
    char *why;
    size_t why_size;
} prep;

static golden_verdict say(prep *pp, golden_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pp->why, pp->why_size, fmt, ap);
    va_end(ap);
    return v;
}

static int operand_index(const prep *pp, const char *name)
{
    for (int i = 0; pp->ops[i].name; i++)
        if (strcmp(pp->ops[i].name, name) == 0) return i;
    return -1;
}

static const golden_record *record_of(const prep *pp, const char *name)
{
    int i = operand_index(pp, name);
    return i < 0 ? NULL : pp->rec[i];
}

static ssm_in in_of(const prep *pp, const char *name)
{
    int i = operand_index(pp, name);
    ssm_in t = {i < 0 ? NULL : pp->input[i], NULL};
    return t;
}

static golden_output *output_named(golden_run *run, const char *name)
{
    for (int i = 0; i < run->n_outputs; i++)
        if (strcmp(run->outputs[i].name, name) == 0) return &run->outputs[i];
    return NULL;
}

static ssm_out out_of(golden_run *run, const char *name)
{
    golden_output *o = output_named(run, name);
    ssm_out t = {o ? o->data : NULL, NULL};
    return t;
}

static int64_t V(const prep *pp, char symbol) { return pp->var[(unsigned char)symbol]; }

static int64_t scalar_i64(const prep *pp, const char *name, int64_t dflt)
{
    const golden_record *r = record_of(pp, name);
    if (!r) return dflt;
    return r->type == GOLDEN_I32 ? *(const int32_t *)r->data : *(const int64_t *)r->data;
}

static double scalar_f64(const prep *pp, const char *name, double dflt)
{
    const golden_record *r = record_of(pp, name);
    if (!r) return dflt;
    return r->type == GOLDEN_F32 ? *(const float *)r->data : *(const double *)r->data;
}

static void *own(golden_run *run, size_t bytes)
{
    if (run->n_buffers == GOLDEN_MAX_BUFFERS) return NULL;
    void *p = malloc(bytes ? bytes : 1);
    if (p) run->buffers[run->n_buffers++] = p;
    return p;
}

/* ---------------------------------------------------------------- record checks */

static int role_accepts(role role, golden_type type)
{
    switch (role) {
    case IN_ACT: case IN_F32: return type == GOLDEN_F32;
    case IN_I32: case IN_I64: case SCALAR_I64: return type == GOLDEN_I32 || type == GOLDEN_I64;
    case SCALAR_F64: return type == GOLDEN_F32 || type == GOLDEN_F64;
    case SCALAR_TEXT: return type == GOLDEN_TEXT;
    case OUT_ACT: case OUT_F32: return type == GOLDEN_F64;
    case OUT_I32: return type == GOLDEN_I32;
    }
    return 0;
}

static int is_scalar(role role) { return role == SCALAR_I64 || role == SCALAR_F64 || role == SCALAR_TEXT; }

/* Every record must be one the op knows, of a type its role allows. */
static golden_verdict match_records(prep *pp)
{
    const golden_case *gc = pp->run->gc;
    for (int i = 0; i < gc->n_records; i++) {
        const golden_record *r = &gc->records[i];
        if (strcmp(r->name, "op") == 0 || strcmp(r->name, "io_dtype") == 0) continue;
        int k = operand_index(pp, r->name);
        if (k < 0) return say(pp, GOLDEN_SKIP, "unknown record '%s'", r->name);
        if (!role_accepts(pp->ops[k].role, r->type))
            return say(pp, GOLDEN_FAIL, "record '%s' has dtype %d, not what it holds", r->name, r->type);
        if (is_scalar(pp->ops[k].role) && pp->ops[k].role != SCALAR_TEXT && r->count != 1)
            return say(pp, GOLDEN_FAIL, "scalar record '%s' has %lld elements", r->name, (long long)r->count);
        pp->rec[k] = r;
    }
    for (int k = 0; pp->ops[k].name; k++)
        if (pp->ops[k].required && !pp->rec[k] && strncmp(pp->ops[k].name, "expect.", 7) != 0)
            return say(pp, GOLDEN_FAIL, "required record '%s' missing", pp->ops[k].name);
    return GOLDEN_PASS;
}

static void format_dims(const prep *pp, const char *dims, const golden_record *r, char *buf, size_t size)
{
    size_t at = (size_t)snprintf(buf, size, "[");
    int n = r ? r->ndim : (int)strlen(dims);
    for (int d = 0; d < n && at < size; d++) {
        int64_t v = r ? r->dims[d] : V(pp, dims[d]);
        const char *sep = d ? "," : "";
        at += v < 0 ? (size_t)snprintf(buf + at, size - at, "%s%c", sep, dims[d])
                    : (size_t)snprintf(buf + at, size - at, "%s%lld", sep, (long long)v);
    }
    if (at < size) snprintf(buf + at, size - at, "]");
}

/* Binds the shape symbols from the records' dims, in table order, and checks agreement. */
static golden_verdict bind_shapes(prep *pp)
{
    for (int k = 0; pp->ops[k].name; k++) {
        const golden_record *r = pp->rec[k];
        const char *dims = pp->ops[k].dims;
        if (!r || is_scalar(pp->ops[k].role)) continue;
        int agree = r->ndim == (int)strlen(dims);
        for (int d = 0; agree && d < r->ndim; d++) {
            int64_t *v = &pp->var[(unsigned char)dims[d]];
            if (*v < 0) *v = r->dims[d];
            agree = *v == r->dims[d];
        }
        if (!agree) {
            char got[96], want[96];
            format_dims(pp, dims, r, got, sizeof got);
            format_dims(pp, dims, NULL, want, sizeof want);
            return say(pp, GOLDEN_FAIL, "record '%s' has shape %s, expected %s", r->name, got, want);
        }
    }
    return GOLDEN_PASS;
}

/* ---------------------------------------------------------------- inputs and outputs */

static golden_verdict convert_inputs(prep *pp)
{
    golden_run *run = pp->run;
    for (int k = 0; pp->ops[k].name; k++) {
        const golden_record *r = pp->rec[k];
        role role = pp->ops[k].role;
        if (!r || role >= OUT_ACT || is_scalar(role)) continue;
        int64_t n = r->count;
        if (role == IN_ACT && run->dtype != SSM_F32) {
            uint16_t *bits = (uint16_t *)own(run, (size_t)n * sizeof *bits);
            if (!bits) return say(pp, GOLDEN_FAIL, "out of memory");
            const float *f = (const float *)r->data;
            for (int64_t i = 0; i < n; i++)
                bits[i] = run->dtype == SSM_F16 ? ssm_f32_to_f16(f[i]) : ssm_f32_to_bf16(f[i]);
            pp->input[k] = bits;
        } else if (role == IN_I32 && r->type == GOLDEN_I64) {
            int32_t *v = (int32_t *)own(run, (size_t)n * sizeof *v);
            if (!v) return say(pp, GOLDEN_FAIL, "out of memory");
            for (int64_t i = 0; i < n; i++) {
                int64_t x = ((const int64_t *)r->data)[i];
                if (x < INT32_MIN || x > INT32_MAX)
                    return say(pp, GOLDEN_FAIL, "record '%s' holds %lld, beyond int32", r->name, (long long)x);
                v[i] = (int32_t)x;
            }
            pp->input[k] = v;
        } else if (role == IN_I64 && r->type == GOLDEN_I32) {
            int64_t *v = (int64_t *)own(run, (size_t)n * sizeof *v);
            if (!v) return say(pp, GOLDEN_FAIL, "out of memory");
            for (int64_t i = 0; i < n; i++) v[i] = ((const int32_t *)r->data)[i];
            pp->input[k] = v;
        } else {
            pp->input[k] = r->data;
        }
    }
    return GOLDEN_PASS;
}

/* Allocates every output the op writes (required) or the case checks (expect present). */
static golden_verdict make_outputs(prep *pp)
{
    golden_run *run = pp->run;
    for (int k = 0; pp->ops[k].name; k++) {
        const operand *op = &pp->ops[k];
        if (op->role < OUT_ACT || (!op->required && !pp->rec[k])) continue;
        golden_output *o = &run->outputs[run->n_outputs++];
        o->name = op->name + strlen("expect.");
        o->expect = pp->rec[k];
        o->ndim = (int)strlen(op->dims);
        o->count = 1;
        for (int d = 0; d < o->ndim; d++) {
            o->dims[d] = V(pp, op->dims[d]);
            if (o->dims[d] < 0)
                return say(pp, GOLDEN_FAIL, "cannot size output '%s': no record gives '%c'", o->name, op->dims[d]);
            o->count *= o->dims[d];
        }
        o->is_index = op->role == OUT_I32;
        o->stored = op->role == OUT_ACT ? run->dtype : SSM_F32;
        o->cls = check_class_of(o->stored, run->dtype);
        size_t elem = o->is_index ? sizeof(int32_t) : ssm_dtype_size(o->stored);
        o->data = own(run, (size_t)o->count * elem);
        o->ref = own(run, (size_t)o->count * (o->is_index ? sizeof(int32_t) : sizeof(double)));
        if (!o->data || !o->ref) return say(pp, GOLDEN_FAIL, "out of memory");
    }
    return GOLDEN_PASS;
}

/* ---------------------------------------------------------------- per-op parameters */

/* State rows (h0, h_last) follow the sequences: nseq of them with cu_seqlens, else B. */
static golden_verdict sequences(prep *pp, int64_t *nseq, int64_t *rows)
{
    int64_t n = V(pp, 'n');
    *nseq = n > 0 ? n - 1 : 0;
    if (n == 0) return say(pp, GOLDEN_FAIL, "cu_seqlens is empty");
    *rows = n > 0 ? *nseq : V(pp, 'B');
    if (V(pp, 's') >= 0 && V(pp, 's') != *rows)
        return say(pp, GOLDEN_FAIL, "state records have %lld rows, expected %lld",
                   (long long)V(pp, 's'), (long long)*rows);
    return GOLDEN_PASS;
}

static void dt_limits(const prep *pp, int *dt_limit, float *dt_min, float *dt_max)
{
    *dt_limit = record_of(pp, "dt_min") || record_of(pp, "dt_max");
    *dt_min = (float)scalar_f64(pp, "dt_min", -INFINITY);
    *dt_max = (float)scalar_f64(pp, "dt_max", INFINITY);
}

static golden_verdict fill_selective_scan(prep *pp)
{
    ssm_selective_scan_params *p = &pp->run->p.selective_scan;
    int64_t rows;
    golden_verdict v = sequences(pp, &p->nseq, &rows);
    if (v != GOLDEN_PASS) return v;
    p->dtype = pp->run->dtype;
    p->B = V(pp, 'B'), p->D = V(pp, 'D'), p->L = V(pp, 'L'), p->N = V(pp, 'N'), p->G = V(pp, 'G');
    p->u = in_of(pp, "u"), p->delta = in_of(pp, "delta"), p->A = in_of(pp, "A");
    p->Bm = in_of(pp, "Bm"), p->Cm = in_of(pp, "Cm"), p->Dskip = in_of(pp, "Dskip");
    p->z = in_of(pp, "z"), p->delta_bias = in_of(pp, "delta_bias"), p->h0 = in_of(pp, "h0");
    p->cu_seqlens = in_of(pp, "cu_seqlens");
    p->delta_softplus = (int)scalar_i64(pp, "delta_softplus", 0);
    p->out = out_of(pp->run, "out"), p->h_last = out_of(pp->run, "h_last");
    return GOLDEN_PASS;
}

static golden_verdict fill_state_update(prep *pp)
{
    golden_run *run = pp->run;
    ssm_state_update_params *p = &run->p.state_update;
    golden_output *state = output_named(run, "state");
    p->dtype = run->dtype;
    p->B = V(pp, 'B'), p->H = V(pp, 'H'), p->P = V(pp, 'P'), p->N = V(pp, 'N'), p->G = V(pp, 'G');
    p->Ns = V(pp, 's');
    /* The cache is read and written in place: its buffer is the 'state' output, restored from
       the record before each call. */
    run->inout = (float *)state->data;
    run->inout_initial = (const float *)record_of(pp, "state")->data;
    run->inout_count = state->count;
    p->state.data = state->data;
    p->x = in_of(pp, "x"), p->dt = in_of(pp, "dt"), p->A = in_of(pp, "A");
    p->Bm = in_of(pp, "Bm"), p->Cm = in_of(pp, "Cm"), p->Dskip = in_of(pp, "Dskip");
    p->z = in_of(pp, "z"), p->dt_bias = in_of(pp, "dt_bias"), p->state_index = in_of(pp, "state_index");
    p->dt_softplus = (int)scalar_i64(pp, "dt_softplus", 0);
    dt_limits(pp, &p->dt_limit, &p->dt_min, &p->dt_max);
    p->out = out_of(run, "out");
    return GOLDEN_PASS;
}

static golden_verdict fill_ssd(prep *pp)
{
    ssm_ssd_params *p = &pp->run->p.ssd;
    int64_t rows;
    golden_verdict v = sequences(pp, &p->nseq, &rows);
    if (v != GOLDEN_PASS) return v;
    p->dtype = pp->run->dtype;
    p->B = V(pp, 'B'), p->L = V(pp, 'L'), p->H = V(pp, 'H'), p->P = V(pp, 'P');
    p->N = V(pp, 'N'), p->G = V(pp, 'G');
    p->Q = scalar_i64(pp, "Q", 0);
    p->x = in_of(pp, "x"), p->dt = in_of(pp, "dt"), p->A = in_of(pp, "A");
    p->Bm = in_of(pp, "Bm"), p->Cm = in_of(pp, "Cm"), p->Dskip = in_of(pp, "Dskip");
    p->z = in_of(pp, "z"), p->dt_bias = in_of(pp, "dt_bias"), p->h0 = in_of(pp, "h0");
    p->cu_seqlens = in_of(pp, "cu_seqlens");
    p->dt_softplus = (int)scalar_i64(pp, "dt_softplus", 0);
    dt_limits(pp, &p->dt_limit, &p->dt_min, &p->dt_max);
    p->out = out_of(pp->run, "out"), p->h_last = out_of(pp->run, "h_last");
    return GOLDEN_PASS;
}

static golden_verdict fill_conv1d(prep *pp)
{
    golden_run *run = pp->run;
    ssm_conv1d_params *p = &run->p.conv1d;
    int64_t nseq = V(pp, 'n') > 0 ? V(pp, 'n') - 1 : 0;
    int64_t per_row = V(pp, 'n') >= 0 ? nseq : V(pp, 'B');   /* batch entries or sequences */
    int cache = record_of(pp, "state_index") != NULL;
    if (V(pp, 'n') == 0) return say(pp, GOLDEN_FAIL, "cu_seqlens is empty");
    if (V(pp, 'w') >= 0 && V(pp, 'w') != V(pp, 'W') - 1)
        return say(pp, GOLDEN_FAIL, "conv states are %lld wide, expected W-1 = %lld",
                   (long long)V(pp, 'w'), (long long)V(pp, 'W') - 1);
    if (cache && V(pp, 'r') != per_row)
        return say(pp, GOLDEN_FAIL, "state_index has %lld entries, expected %lld",
                   (long long)V(pp, 'r'), (long long)per_row);
    if (!cache && V(pp, 's') >= 0 && V(pp, 's') != per_row)
        return say(pp, GOLDEN_FAIL, "conv states have %lld rows, expected %lld",
                   (long long)V(pp, 's'), (long long)per_row);
    p->dtype = run->dtype;
    p->B = V(pp, 'B'), p->D = V(pp, 'D'), p->L = V(pp, 'L'), p->W = V(pp, 'W');
    p->nseq = nseq;
    p->x = in_of(pp, "x"), p->weight = in_of(pp, "weight"), p->bias = in_of(pp, "bias");
    p->state0 = in_of(pp, "state0"), p->state_index = in_of(pp, "state_index");
    p->cu_seqlens = in_of(pp, "cu_seqlens");
    p->silu = (int)scalar_i64(pp, "silu", 0);
    p->out = out_of(run, "out"), p->state_last = out_of(run, "state_last");
    golden_output *state_last = output_named(run, "state_last");
    if (cache && V(pp, 's') >= 0) p->Ns = V(pp, 's');
    if (cache && state_last) {
        /* A cache is updated in place: state0 and state_last are the same rows, restored from
           state0 (zeros without it) before each call; rows no index picks must stay as they are. */
        run->inout = (float *)state_last->data;
        run->inout_initial = p->state0.data ? (const float *)p->state0.data : NULL;
        run->inout_count = state_last->count;
        p->state0.data = state_last->data;
    }
    return GOLDEN_PASS;
}

static golden_verdict fill_hsa_select(prep *pp)
{
    ssm_hsa_select_params *p = &pp->run->p.hsa_select;
    const golden_record *mode = record_of(pp, "mode");
    p->mode = SSM_HSA_STICK;
    if (mode && strcmp((const char *)mode->data, "softmax") == 0) p->mode = SSM_HSA_SOFTMAX;
    else if (mode && strcmp((const char *)mode->data, "stick") != 0)
        return say(pp, GOLDEN_SKIP, "unknown mode '%s'", (const char *)mode->data);
    p->dtype = pp->run->dtype;
    p->B = V(pp, 'B'), p->Lq = V(pp, 'T'), p->C = V(pp, 'C'), p->HR = V(pp, 'H'), p->R = V(pp, 'R');
    p->K = scalar_i64(pp, "K", 0), p->S = scalar_i64(pp, "S", 0);
    p->q_offset = scalar_i64(pp, "q_offset", 0), p->window = scalar_i64(pp, "window", 0);
    p->qr = in_of(pp, "qr"), p->lmk = in_of(pp, "lmk");
    p->idx = out_of(pp->run, "idx"), p->w = out_of(pp->run, "w");
    return GOLDEN_PASS;
}

static golden_verdict fill_hsa_attention(prep *pp)
{
    ssm_hsa_attention_params *p = &pp->run->p.hsa_attention;
    p->dtype = pp->run->dtype;
    p->B = V(pp, 'B'), p->Lq = V(pp, 'T'), p->Lk = V(pp, 'M'), p->HQ = V(pp, 'q'), p->HK = V(pp, 'k');
    p->E = V(pp, 'E'), p->Ev = V(pp, 'V'), p->K = V(pp, 'K');
    p->S = scalar_i64(pp, "S", 0);
    p->scale = (float)scalar_f64(pp, "scale", 0.0);
    p->sm_n = (float)scalar_f64(pp, "sm_n", 0.0);
    p->q = in_of(pp, "q"), p->k = in_of(pp, "k"), p->v = in_of(pp, "v");
    p->idx = in_of(pp, "idx"), p->w = in_of(pp, "w");
    p->o = out_of(pp->run, "o"), p->lse = out_of(pp->run, "lse");
    return GOLDEN_PASS;
}

typedef golden_verdict (*fill_fn)(prep *pp);
static const fill_fn fill_of_op[SSM_OP_COUNT] = {
    fill_selective_scan, fill_state_update, fill_ssd,
    fill_conv1d, fill_hsa_select, fill_hsa_attention};

/* ---------------------------------------------------------------- prepare */

static golden_verdict read_op_and_dtype(prep *pp)
{
    golden_run *run = pp->run;
    const golden_record *op = golden_find(run->gc, "op"), *io = golden_find(run->gc, "io_dtype");
    if (!op || op->type != GOLDEN_TEXT) return say(pp, GOLDEN_FAIL, "no 'op' text record");
    if (!io || io->type != GOLDEN_TEXT) return say(pp, GOLDEN_FAIL, "no 'io_dtype' text record");
    int k = 0;
    while (k < SSM_OP_COUNT && strcmp(ssm_op_name((ssm_op)k), (const char *)op->data) != 0) k++;
    if (k == SSM_OP_COUNT) return say(pp, GOLDEN_SKIP, "unknown op '%s'", (const char *)op->data);
    run->op = (ssm_op)k;
    int d = 0;
    while (d < SSM_DTYPE_COUNT && strcmp(ssm_dtype_name((ssm_dtype)d), (const char *)io->data) != 0) d++;
    if (d == SSM_DTYPE_COUNT) return say(pp, GOLDEN_SKIP, "unknown io_dtype '%s'", (const char *)io->data);
    run->dtype = (ssm_dtype)d;
    pp->ops = operands_of_op[k];
    return GOLDEN_PASS;
}

golden_verdict golden_prepare(const golden_case *gc, golden_run *run, char *why, size_t why_size)
{
    prep pp;
    memset(run, 0, sizeof *run);
    memset(&pp, 0, sizeof pp);
    run->gc = gc;
    pp.run = run;
    pp.why = why;
    pp.why_size = why_size;
    if (why_size) why[0] = '\0';
    for (int i = 0; i < 128; i++) pp.var[i] = -1;

    golden_verdict v = read_op_and_dtype(&pp);
    if (v == GOLDEN_PASS) v = match_records(&pp);
    if (v == GOLDEN_PASS && run->op == SSM_OP_HSA_SELECT) pp.var['K'] = scalar_i64(&pp, "K", 0);
    if (v == GOLDEN_PASS) v = bind_shapes(&pp);
    if (v == GOLDEN_PASS) v = convert_inputs(&pp);
    if (v == GOLDEN_PASS) v = make_outputs(&pp);
    if (v == GOLDEN_PASS) v = fill_of_op[run->op](&pp);
    if (v == GOLDEN_PASS) {
        int compared = 0;
        for (int i = 0; i < run->n_outputs; i++) compared |= run->outputs[i].expect != NULL;
        if (!compared) v = say(&pp, GOLDEN_FAIL, "no expect.* record: nothing to compare");
    }
    if (v != GOLDEN_PASS) golden_release(run);
    return v;
}

void golden_release(golden_run *run)
{
    for (int i = 0; i < run->n_buffers; i++) free(run->buffers[i]);
    run->n_buffers = 0;
    run->n_outputs = 0;
}

/* ================================================================ running */

/* NaN patterns no kernel computes by accident; int32 far outside any valid index. */
#define POISON_F32 0x7FC5A5A5u
#define POISON_F16 0x7E5Au
#define POISON_BF16 0x7FC5u
#define POISON_F64 0x7FF8A5A5A5A5A5A5ull
#define POISON_I32 0x7FC5A5A5

void golden_reset(golden_run *run)
{
    for (int i = 0; i < run->n_outputs; i++) {
        golden_output *o = &run->outputs[i];
        for (int64_t j = 0; j < o->count; j++) {
            if (o->is_index) {
                ((int32_t *)o->data)[j] = POISON_I32;
                ((int32_t *)o->ref)[j] = POISON_I32;
                continue;
            }
            uint64_t nan64 = POISON_F64;
            memcpy((double *)o->ref + j, &nan64, sizeof nan64);
            if (o->stored == SSM_F32) {
                uint32_t nan32 = POISON_F32;
                memcpy((float *)o->data + j, &nan32, sizeof nan32);
            } else {
                ((uint16_t *)o->data)[j] = o->stored == SSM_F16 ? POISON_F16 : POISON_BF16;
            }
        }
    }
    if (run->inout) {
        if (run->inout_initial)
            memcpy(run->inout, run->inout_initial, (size_t)run->inout_count * sizeof(float));
        else
            memset(run->inout, 0, (size_t)run->inout_count * sizeof(float));
    }
}

static void *ref_buffer(const golden_run *run, const char *name)
{
    for (int i = 0; i < run->n_outputs; i++)
        if (strcmp(run->outputs[i].name, name) == 0) return run->outputs[i].ref;
    return NULL;
}

static ssm_status call_reference(golden_run *run)
{
    ssm_ref_out r;
    r.out = (double *)ref_buffer(run, "out");
    r.h_last = (double *)ref_buffer(run, "h_last");
    r.state = (double *)ref_buffer(run, "state");
    r.state_last = (double *)ref_buffer(run, "state_last");
    r.idx = (int32_t *)ref_buffer(run, "idx");
    r.w = (double *)ref_buffer(run, "w");
    r.o = (double *)ref_buffer(run, "o");
    r.lse = (double *)ref_buffer(run, "lse");
    switch (run->op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_ref_selective_scan(&run->p.selective_scan, &r);
    case SSM_OP_STATE_UPDATE: return ssm_ref_state_update(&run->p.state_update, &r);
    case SSM_OP_SSD: return ssm_ref_ssd(&run->p.ssd, &r);
    case SSM_OP_CONV1D: return ssm_ref_conv1d(&run->p.conv1d, &r);
    case SSM_OP_HSA_SELECT: return ssm_ref_hsa_select(&run->p.hsa_select, &r);
    case SSM_OP_HSA_ATTENTION: return ssm_ref_hsa_attention(&run->p.hsa_attention, &r);
    default: return SSM_ERR_ARG;
    }
}

static ssm_status call_library(golden_run *run, const ssm_exec *ex)
{
    switch (run->op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_selective_scan(&run->p.selective_scan, ex);
    case SSM_OP_STATE_UPDATE: return ssm_state_update(&run->p.state_update, ex);
    case SSM_OP_SSD: return ssm_ssd(&run->p.ssd, ex);
    case SSM_OP_CONV1D: return ssm_conv1d(&run->p.conv1d, ex);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select(&run->p.hsa_select, ex);
    case SSM_OP_HSA_ATTENTION: return ssm_hsa_attention(&run->p.hsa_attention, ex);
    default: return SSM_ERR_ARG;
    }
}

static ssm_status validate(const golden_run *run)
{
    switch (run->op) {
    case SSM_OP_SELECTIVE_SCAN: return ssm_selective_scan_validate(&run->p.selective_scan);
    case SSM_OP_STATE_UPDATE: return ssm_state_update_validate(&run->p.state_update);
    case SSM_OP_SSD: return ssm_ssd_validate(&run->p.ssd);
    case SSM_OP_CONV1D: return ssm_conv1d_validate(&run->p.conv1d);
    case SSM_OP_HSA_SELECT: return ssm_hsa_select_validate(&run->p.hsa_select);
    case SSM_OP_HSA_ATTENTION: return ssm_hsa_attention_validate(&run->p.hsa_attention);
    default: return SSM_ERR_ARG;
    }
}

ssm_status golden_call(golden_run *run, int backend, const ssm_exec *ex)
{
    return backend == GOLDEN_REFERENCE ? call_reference(run) : call_library(run, ex);
}

/* ---------------------------------------------------------------- comparing */

static check_values values_of(const golden_output *o, int backend)
{
    if (backend == GOLDEN_REFERENCE) return check_f64((const double *)o->ref);
    if (o->stored == SSM_F32) return check_f32((const float *)o->data);
    return check_u16((const uint16_t *)o->data, o->stored);
}

/* Keeps the first failure, else the worst passing output. */
static void note(golden_report *rep, const golden_output *o, check_result c)
{
    if (rep->verdict == GOLDEN_FAIL) return;
    if (!c.pass) {
        rep->verdict = GOLDEN_FAIL;
        rep->output = o;
        rep->check = c;
        snprintf(rep->message, sizeof rep->message, "%s", c.reason);
    } else if (!rep->output || c.max_err > rep->check.max_err) {
        rep->output = o;
        rep->check = c;
    }
}

void golden_compare(const golden_run *run, int backend, golden_report *rep)
{
    const golden_output *idx = NULL, *w = NULL;
    memset(rep, 0, sizeof *rep);
    rep->verdict = GOLDEN_PASS;
    for (int i = 0; i < run->n_outputs; i++) {
        const golden_output *o = &run->outputs[i];
        if (o->is_index) idx = o;
        else if (run->op == SSM_OP_HSA_SELECT && strcmp(o->name, "w") == 0) w = o;
        else if (o->expect)
            note(rep, o, check_array(values_of(o, backend), (const double *)o->expect->data, o->count, o->cls));
    }
    if (run->op != SSM_OP_HSA_SELECT) return;
    if (idx && idx->expect) {
        check_result ci, cw;
        const int32_t *got = (const int32_t *)(backend == GOLDEN_REFERENCE ? idx->ref : idx->data);
        check_values got_w = w ? values_of(w, backend) : check_f64(NULL);
        const double *exp_w = w && w->expect ? (const double *)w->expect->data : NULL;
        check_hsa_select(&run->p.hsa_select, got, got_w, (const int32_t *)idx->expect->data, exp_w,
                         w ? w->cls : CHECK_F32, &ci, &cw);
        note(rep, idx, ci);
        if (exp_w) note(rep, w, cw);
    } else if (w && w->expect) {
        note(rep, w, check_array(values_of(w, backend), (const double *)w->expect->data, w->count, w->cls));
    }
}

void golden_execute(golden_run *run, int backend, golden_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (backend != GOLDEN_REFERENCE) {
        ssm_isa isa = (ssm_isa)backend;
        if (!ssm_isa_supports(isa, run->op, run->dtype)) {
            rep->verdict = GOLDEN_SKIP;
            snprintf(rep->message, sizeof rep->message, "%s does not implement %s for %s", ssm_isa_name(isa),
                     ssm_op_name(run->op), ssm_dtype_name(run->dtype));
            return;
        }
        ssm_status st = ssm_set_isa(isa);
        if (st != SSM_OK || ssm_get_isa() != isa) {
            rep->verdict = GOLDEN_FAIL;
            snprintf(rep->message, sizeof rep->message, "ssm_set_isa(%s) returned %s, backend now %s",
                     ssm_isa_name(isa), ssm_status_string(st), ssm_backend_name());
            return;
        }
        st = validate(run);
        if (st != SSM_OK) {
            rep->verdict = GOLDEN_FAIL;
            snprintf(rep->message, sizeof rep->message, "ssm_%s_validate returned %s",
                     ssm_op_name(run->op), ssm_status_string(st));
            return;
        }
    }
    golden_reset(run);
    ssm_status st = golden_call(run, backend, NULL);
    if (st != SSM_OK) {
        rep->verdict = GOLDEN_FAIL;
        snprintf(rep->message, sizeof rep->message, "%s_%s returned %s",
                 backend == GOLDEN_REFERENCE ? "ssm_ref" : "ssm", ssm_op_name(run->op), ssm_status_string(st));
        return;
    }
    golden_compare(run, backend, rep);
}

void golden_format_index(const golden_output *o, int64_t flat, char *buf, size_t size)
{
    int64_t index[GOLDEN_MAX_DIMS];
    for (int d = o->ndim - 1; d >= 0; d--) {
        index[d] = o->dims[d] ? flat % o->dims[d] : 0;
        flat = o->dims[d] ? flat / o->dims[d] : 0;
    }
    size_t at = (size_t)snprintf(buf, size, "%s[", o->name);
    for (int d = 0; d < o->ndim && at < size; d++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", d ? "," : "", (long long)index[d]);
    if (at < size) snprintf(buf + at, size - at, "]");
}

void golden_print_report(const char *case_name, const char *backend, const golden_report *rep)
{
    const check_result *c = &rep->check;
    printf("%s %s %s", golden_verdict_name(rep->verdict), case_name, backend);
    if (rep->verdict == GOLDEN_SKIP) {
        printf(" (%s)\n", rep->message);
        fflush(stdout);
        return;
    }
    if (rep->output) {
        printf(" max_err=%.3g rel_l2=%.3g", c->max_err, c->rel_l2);
        if (rep->output->cls == CHECK_F16 || rep->output->cls == CHECK_BF16)
            printf(" floor=%.3g", c->floor);
        printf(" [%s]", rep->output->name);
    }
    if (rep->verdict == GOLDEN_FAIL) {
        if (rep->output && c->worst >= 0) {
            char at[128];
            golden_format_index(rep->output, c->worst, at, sizeof at);
            printf(" at %s expected %.9g got %.9g", at, c->expected, c->got);
        }
        printf(": %s", rep->message);
    }
    printf("\n");
    fflush(stdout);
}
