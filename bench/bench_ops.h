/* bench_ops.h — one benchmark case per (shape, backend, dtype, threads): inputs, the fixed work
   counts of BENCH.md, the pre-timing check against the double reference, and the call. */
#ifndef BENCH_OPS_H
#define BENCH_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "../ssm.h"
#include "bench_sys.h"

#define BENCH_MAX_REPS 64
#define BENCH_MAX_CHECKED 3

/* Every dimension any op uses; an op reads only its own (0 elsewhere). */
typedef struct bench_shape {
    int64_t B, D, L, N, G, H, P, Q, W, HQ, HK, E, S, K;
} bench_shape;

/* Which canonical workload a case is (BENCH.md's names). */
typedef enum bench_kind {
    BENCH_SCAN_M1 = 0,   /* cpu.scan.m1 */
    BENCH_SSD_M2,        /* cpu.ssd.m2 */
    BENCH_STEP_M2,       /* cpu.step.m2 */
    BENCH_STEP_M1,       /* cpu.step.m1 */
    BENCH_CONV,          /* cpu.conv */
    BENCH_HSA,           /* cpu.hsa */
    BENCH_KIND_COUNT
} bench_kind;

typedef struct bench_checked_output {
    char name[16];
    int passed;
    double rel_l2, max_err, floor, rel_l2_limit;
    int sixteen_bit;     /* stored as f16/bf16: floor_ratio = rel_l2 / floor is meaningful */
} bench_checked_output;

typedef struct bench_check {
    int done;
    int passed;
    char sample[96];     /* what was compared: "8 of 3072 channels", "all" */
    char reason[200];    /* first failure, empty on pass */
    int n_outputs;
    bench_checked_output outputs[BENCH_MAX_CHECKED];   /* [0]: the op's main output */
} bench_check;

typedef struct bench_case {
    char name[64];       /* "cpu.scan.m1", "cpu.scan.m1@L=16384", "cpu.scan.m1@T=2" */
    char gb_name[128];   /* unique name registered with Google Benchmark */
    const char *sweep;   /* "", "L" or "T" */
    bench_kind kind;
    ssm_op op;
    ssm_isa isa;
    ssm_dtype dtype;
    int threads;
    bench_shape shape;
    double min_time;
    int repetitions;
    uint64_t seed;

    /* Cold runs (BENCH.md): the timed calls rotate among copies of the operands the work count
       includes, so each call finds them out of cache. Set by the suite before setup. */
    int cold;            /* rotate (state_update and conv1d) */
    double cold_target;  /* bytes the copies should total together */

    /* filled by setup */
    double flops, exps, bytes;
    double footprint;    /* bytes resident while it runs (the state of an in-place op once) */
    int n_copies;        /* operand sets the timed calls rotate among (1: warm) */
    double copy_bytes;   /* bytes of one rotated set (cold cases; 0 otherwise) */
    bench_check check;

    /* filled while timing */
    int n_reps;
    double rep_s[BENCH_MAX_REPS];
    int64_t rep_iters[BENCH_MAX_REPS];
    int failed;          /* setup or a call failed: no result, listed as skipped */
    char fail_reason[200];
    void *inst;          /* live buffers and params while this case runs */
} bench_case;

const char *bench_kind_name(bench_kind kind);   /* "cpu.scan.m1", ... */
ssm_op bench_kind_op(bench_kind kind);
bench_shape bench_kind_shape(bench_kind kind, int quick);
int bench_kind_has_L(bench_kind kind);

/* Allocates and fills the inputs (first touch by the pool's threads), computes the work counts,
   runs the call once and checks it against the reference; for a cold case then copies the
   rotated operands until the copies total c->cold_target bytes. Returns 0, or -1 with
   c->failed and c->fail_reason set. */
int bench_case_setup(bench_case *c, bench_pool *pool);
/* The timed call (c->isa must be selected by the caller); a cold case moves to its next copy
   on every call. With ex == NULL: the check's call, on the first copy. */
ssm_status bench_case_call(bench_case *c, const ssm_exec *ex);
void bench_case_teardown(bench_case *c);
/* The workspace setup allocated for the case's thread count (NULL, 0 when none). */
void bench_inst_workspace(const bench_case *c, void **workspace, size_t *size);
/* Writes the shape as JSON members into the currently open object of the writer. */
struct bench_json;
void bench_shape_json(struct bench_json *j, const bench_case *c);

#endif /* BENCH_OPS_H */
