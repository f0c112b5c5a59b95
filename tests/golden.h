/* golden.h — the one loader for .ssmg conformance cases (../shared/golden/FORMAT.md) and the
   one way to run them, shared by the tests and the benchmarks.

       golden_case gc;  golden_run run;  golden_report rep;  char why[256];
       golden_load("tests/golden/ssd--f32-all.ssmg", &gc, why, sizeof why);
       golden_prepare(&gc, &run, why, sizeof why);     // params struct + buffers, or SKIP/FAIL
       golden_execute(&run, SSM_ISA_SCALAR, &rep);      // reset, select backend, call, compare
       golden_release(&run);  golden_free(&gc);

   golden_prepare maps the records to the op's parameter struct: activation inputs converted to
   the case's io_dtype, f32 parameters and states kept f32, index records as int32 / int64,
   shapes taken from the records' dims (and checked against each other), scalars as FORMAT.md
   says. A record it does not know makes the case SKIP, naming the record. Before each call the
   outputs are poisoned with NaN bit patterns and in/out states restored from their records, so
   an unwritten element fails; every expect.* record is then compared with check.h. */
#ifndef SSM_TESTS_GOLDEN_H
#define SSM_TESTS_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GOLDEN_MAX_DIMS 8

typedef enum golden_type {
    GOLDEN_F32 = 1,
    GOLDEN_F64 = 2,
    GOLDEN_I32 = 3,
    GOLDEN_I64 = 4,
    GOLDEN_TEXT = 5
} golden_type;

typedef struct golden_record {
    char *name;
    golden_type type;
    int ndim;
    int64_t dims[GOLDEN_MAX_DIMS];
    int64_t count;          /* prod(dims) */
    void *data;             /* count elements in host order (float, double, int32_t, int64_t);
                               text: count bytes plus a terminating NUL */
} golden_record;

typedef struct golden_case {
    char *path;
    const char *name;       /* file name without the directory */
    int n_records;
    golden_record *records;
} golden_case;

/* Reads a whole .ssmg file. Returns 0, or -1 with a message in err. */
int golden_load(const char *path, golden_case *gc, char *err, size_t err_size);
void golden_free(golden_case *gc);
const golden_record *golden_find(const golden_case *gc, const char *name);

typedef enum golden_verdict { GOLDEN_PASS = 0, GOLDEN_FAIL, GOLDEN_SKIP } golden_verdict;
const char *golden_verdict_name(golden_verdict v);   /* "PASS", "FAIL", "SKIP" */

/* Backend argument of golden_call / golden_execute: a CPU ssm_isa, or the float64 reference. */
#define GOLDEN_REFERENCE (-1)

enum { GOLDEN_MAX_OUTPUTS = 4, GOLDEN_MAX_BUFFERS = 32 };

/* One output of the op: the kernel's buffer, the reference's buffer and the expect record. */
typedef struct golden_output {
    const char *name;               /* "out", "h_last", "state", "state_last", "idx", "w", "o", "lse" */
    const golden_record *expect;    /* NULL: produced (the op always writes it) but not compared */
    int64_t count;
    int64_t dims[GOLDEN_MAX_DIMS];
    int ndim;
    int is_index;                   /* int32 (idx) */
    ssm_dtype stored;               /* storage dtype of a float output */
    check_class cls;
    void *data;                     /* kernel output (or the in/out state buffer) */
    void *ref;                      /* reference output: double, or int32 for idx */
} golden_output;

typedef struct golden_run {
    const golden_case *gc;
    ssm_op op;
    ssm_dtype dtype;                /* the case's io_dtype */
    union {
        ssm_selective_scan_params selective_scan;
        ssm_state_update_params state_update;
        ssm_ssd_params ssd;
        ssm_conv1d_params conv1d;
        ssm_hsa_select_params hsa_select;
        ssm_hsa_attention_params hsa_attention;
    } p;
    int n_outputs;
    golden_output outputs[GOLDEN_MAX_OUTPUTS];
    float *inout;                   /* in/out state (state_update's state, conv1d's cache) */
    const float *inout_initial;     /* its record, restored before every call */
    int64_t inout_count;
    int n_buffers;
    void *buffers[GOLDEN_MAX_BUFFERS];   /* everything golden_release frees */
} golden_run;

typedef struct golden_report {
    golden_verdict verdict;
    const golden_output *output;    /* the output that decided (worst or failing); may be NULL */
    check_result check;             /* its check */
    char message[256];              /* on FAIL or SKIP: why (status, reason) */
} golden_report;

/* Builds the op's parameter struct and buffers. GOLDEN_PASS: ready; GOLDEN_SKIP: an unknown
   record (named in why); GOLDEN_FAIL: a malformed case (why says what). */
golden_verdict golden_prepare(const golden_case *gc, golden_run *run, char *why, size_t why_size);
void golden_release(golden_run *run);

/* Poisons every output (NaN bit patterns) and restores in/out states from their records. */
void golden_reset(golden_run *run);
/* Calls the op on a backend: the library with the ISA currently selected (any ssm_isa value
   here means "the library"; selecting it is the caller's job), or GOLDEN_REFERENCE. */
ssm_status golden_call(golden_run *run, int backend, const ssm_exec *ex);
/* Compares the outputs of the last golden_call on that backend with the expect records. */
void golden_compare(const golden_run *run, int backend, golden_report *rep);
/* The whole step for one backend: SKIP if the ISA lacks the op/dtype, else select it, reset,
   call, and compare. */
void golden_execute(golden_run *run, int backend, golden_report *rep);

/* Writes "name[i,j,k]" for a flat index into an output, e.g. "out[0,3,17]". */
void golden_format_index(const golden_output *o, int64_t flat, char *buf, size_t size);
/* Prints one result line, "PASS|FAIL|SKIP case backend max_err=... rel_l2=... [output]", with the
   worst element and the reason on a FAIL, and flushes (a crash later keeps the line). */
void golden_print_report(const char *case_name, const char *backend, const golden_report *rep);

#ifdef __cplusplus
}
#endif

#endif /* SSM_TESTS_GOLDEN_H */
