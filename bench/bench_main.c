/* bench_main.c — the roofline-aware benchmark suite of BENCH.md.

   Measures the machine's ceilings, runs every canonical CPU shape on every backend this build
   and CPU have (every dtype each implements, 1 thread and all cores, plus the L and thread
   sweeps) through Google Benchmark, checks each output against the double reference before
   timing, and writes one JSON file with the fields BENCH.md names (report.py turns it into
   tables and charts).

   usage: ssm_bench [--quick] [--out=FILE] [--no-sweeps] [--max-L=N] [--ops=scan,ssd,step,conv,hsa]
                    [--isas=scalar,avx512] [--dtypes=f32,f16,bf16] [--max-threads=T]
                    [--min-time=S] [--reps=N] [--sweep-min-time=S] [--sweep-reps=N] [--list]
                    [--budget=SECONDS]
                    [--benchmark_filter=REGEX] [--benchmark_out=FILE --benchmark_out_format=json]
*/
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>

#include "../ssm.h"
#include "bench_ceil.h"
#include "bench_json.h"
#include "bench_ops.h"
#include "bench_sys.h"
#include "gbench_shim.h"

#ifndef BENCH_CFLAGS
#define BENCH_CFLAGS "unknown"
#endif
#ifndef BENCH_GIT_COMMIT
#define BENCH_GIT_COMMIT "unknown"
#endif
#ifndef BENCH_GBENCH_VERSION
#define BENCH_GBENCH_VERSION "unknown"
#endif

#if defined(__clang__)
#define BENCH_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define BENCH_COMPILER "gcc " __VERSION__
#else
#define BENCH_COMPILER "unknown"
#endif

/* ---------------------------------------------------------------- options */

typedef struct bench_options {
    int quick;
    const char *out;
    int sweeps;
    int64_t max_L;
    int max_threads;
    double min_time, sweep_min_time;
    int reps, sweep_reps;
    char ops[128], isas[64], dtypes[64];
    int list;
    double budget_s;   /* > 0: cases that would start later than this many seconds are skipped */
} bench_options;

static int bench__listed(const char *list, const char *word) {
    if (!list[0]) return 1;
    size_t n = strlen(word);
    for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
        if ((s == list || s[-1] == ',') && (s[n] == 0 || s[n] == ',')) return 1;
    return 0;
}

static const char *bench__opt(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int bench__parse(int argc, char **argv, bench_options *o) {
    memset(o, 0, sizeof *o);
    o->out = "bench.json";
    o->sweeps = 1;
    o->max_L = 65536;
    o->min_time = 0.1;
    o->reps = 5;
    o->sweep_min_time = 0.05;
    o->sweep_reps = 3;
    int quick_defaults = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--quick") == 0) o->quick = quick_defaults = 1;
        else if (strcmp(a, "--no-sweeps") == 0) o->sweeps = 0;
        else if (strcmp(a, "--list") == 0) o->list = 1;
        else if ((v = bench__opt(a, "--out"))) o->out = v;
        else if ((v = bench__opt(a, "--max-L"))) o->max_L = atoll(v);
        else if ((v = bench__opt(a, "--budget"))) o->budget_s = atof(v);
        else if ((v = bench__opt(a, "--max-threads"))) o->max_threads = atoi(v);
        else if ((v = bench__opt(a, "--min-time"))) o->min_time = atof(v);
        else if ((v = bench__opt(a, "--reps"))) o->reps = atoi(v);
        else if ((v = bench__opt(a, "--sweep-min-time"))) o->sweep_min_time = atof(v);
        else if ((v = bench__opt(a, "--sweep-reps"))) o->sweep_reps = atoi(v);
        else if ((v = bench__opt(a, "--ops"))) snprintf(o->ops, sizeof o->ops, "%s", v);
        else if ((v = bench__opt(a, "--isas"))) snprintf(o->isas, sizeof o->isas, "%s", v);
        else if ((v = bench__opt(a, "--dtypes"))) snprintf(o->dtypes, sizeof o->dtypes, "%s", v);
        else {
            fprintf(stderr, "ssm_bench: unknown argument '%s' (see the top of bench_main.c)\n", a);
            return -1;
        }
    }
    if (quick_defaults) {   /* explicit values given after --quick still win: re-parse them */
        o->min_time = 0.01, o->reps = 2, o->sweep_min_time = 0.005, o->sweep_reps = 2;
        for (int i = 1; i < argc; i++) {
            const char *v;
            if ((v = bench__opt(argv[i], "--min-time"))) o->min_time = atof(v);
            if ((v = bench__opt(argv[i], "--reps"))) o->reps = atoi(v);
            if ((v = bench__opt(argv[i], "--sweep-min-time"))) o->sweep_min_time = atof(v);
            if ((v = bench__opt(argv[i], "--sweep-reps"))) o->sweep_reps = atoi(v);
        }
    }
    if (o->reps < 1) o->reps = 1;
    if (o->reps > BENCH_MAX_REPS) o->reps = BENCH_MAX_REPS;
    if (o->sweep_reps < 1) o->sweep_reps = 1;
    if (o->sweep_reps > BENCH_MAX_REPS) o->sweep_reps = BENCH_MAX_REPS;
    return 0;
}

/* ---------------------------------------------------------------- the case list */

#define BENCH_MAX_CASES 1024

typedef struct bench_suite {
    bench_options opt;
    bench_machine machine;
    bench_ceilings ceilings;
    bench_pool *pool;
    int all_threads;
    int n_cases;
    bench_case *cases;
    bench_case *current;
    int tcounts[BENCH_MAX_TCOUNTS];
    int n_tcounts;
    double load_start;   /* 1-minute load average when the run began */
    double start;        /* bench_now() at the start of main */
    ssm_isa default_isa; /* the library's own choice, before the cases select theirs */
    double llc_bytes;    /* the last-level cache hwloc reports, all instances together */
    double cold_target;  /* bytes a cold case's copies total: 2x the LLC within a memory cap */
    double cold_cap;     /* that cap */
} bench_suite;

static bench_suite g_suite;

static const char *bench__op_key(bench_kind kind) {
    switch (kind) {
    case BENCH_SCAN_M1: return "scan";
    case BENCH_SSD_M2: return "ssd";
    case BENCH_STEP_M2: case BENCH_STEP_M1: return "step";
    case BENCH_CONV: return "conv";
    default: return "hsa";
    }
}

/* BENCH.md: the streaming ops' canonical results (and their sweeps) are cold; the scan, ssd
   and hsa shapes are compute-bound and run warm. */
static int bench__kind_is_cold(bench_kind kind) {
    return kind == BENCH_STEP_M2 || kind == BENCH_STEP_M1 || kind == BENCH_CONV;
}

static bench_case *bench__add(bench_suite *s, bench_kind kind, ssm_isa isa, ssm_dtype dtype,
                              int threads, const char *sweep, int64_t L) {
    if (s->n_cases >= BENCH_MAX_CASES) return NULL;
    bench_case *c = &s->cases[s->n_cases++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->op = bench_kind_op(kind);
    c->isa = isa;
    c->dtype = dtype;
    c->threads = threads;
    c->sweep = sweep;
    c->shape = bench_kind_shape(kind, s->opt.quick);
    const char *base = bench_kind_name(kind);
    char prefixed[48];
    if (s->opt.quick) {   /* quick shapes are not BENCH.md's: never publish them under its names */
        snprintf(prefixed, sizeof prefixed, "quick.%s", base + 4);
        base = prefixed;
    }
    if (strcmp(sweep, "L") == 0) {
        c->shape.L = L;
        snprintf(c->name, sizeof c->name, "%s@L=%lld", base, (long long)L);
    } else if (strcmp(sweep, "T") == 0) {
        snprintf(c->name, sizeof c->name, "%s@T=%d", base, threads);
    } else if (strcmp(sweep, "warm") == 0) {
        snprintf(c->name, sizeof c->name, "%s@warm", base);
    } else {
        snprintf(c->name, sizeof c->name, "%s", base);
    }
    snprintf(c->gb_name, sizeof c->gb_name, "%s/%s/%s/T=%d", c->name, ssm_isa_name(isa),
             ssm_dtype_name(dtype), threads);
    int is_sweep = sweep[0] != 0;
    c->min_time = is_sweep ? s->opt.sweep_min_time : s->opt.min_time;
    c->repetitions = is_sweep ? s->opt.sweep_reps : s->opt.reps;
    c->seed = 0x55AA0000ull + (uint64_t)kind * 1000003ull + (uint64_t)c->shape.L;
    c->cold = bench__kind_is_cold(kind) && strcmp(sweep, "warm") != 0;
    c->cold_target = s->cold_target;
    return c;
}

/* The backend the sweeps use for an op: the best available that implements it in f32. */
static ssm_isa bench__best_isa_for(ssm_op op, const char *isas) {
    for (int i = SSM_ISA_COUNT - 1; i >= SSM_ISA_SCALAR; i--)
        if (ssm_isa_available((ssm_isa)i) && ssm_isa_supports((ssm_isa)i, op, SSM_F32) &&
            bench__listed(isas, ssm_isa_name((ssm_isa)i)))
            return (ssm_isa)i;
    return SSM_ISA_AUTO;
}

/* Canonical cases first, then the thread sweeps, then the L sweeps from short to long: with a
   time budget (--budget) the cases cut are the longest sweep points. */
static void bench__build_cases(bench_suite *s) {
    const bench_options *o = &s->opt;
    int all = s->all_threads;
    for (int k = 0; k < BENCH_KIND_COUNT; k++) {
        bench_kind kind = (bench_kind)k;
        ssm_op op = bench_kind_op(kind);
        if (!bench__listed(o->ops, bench__op_key(kind))) continue;
        for (int i = SSM_ISA_SCALAR; i < SSM_ISA_COUNT; i++) {
            ssm_isa isa = (ssm_isa)i;
            if (!ssm_isa_available(isa) || !bench__listed(o->isas, ssm_isa_name(isa))) continue;
            for (int d = 0; d < SSM_DTYPE_COUNT; d++) {
                ssm_dtype dtype = (ssm_dtype)d;
                if (!ssm_isa_supports(isa, op, dtype)) {
                    fprintf(stderr, "ssm_bench: skip %s on %s/%s (not implemented by that backend)\n",
                            bench_kind_name(kind), ssm_isa_name(isa), ssm_dtype_name(dtype));
                    continue;
                }
                if (!bench__listed(o->dtypes, ssm_dtype_name(dtype))) continue;
                bench__add(s, kind, isa, dtype, 1, "", 0);
                if (all > 1) bench__add(s, kind, isa, dtype, all, "", 0);
            }
        }
    }
    if (!o->sweeps || !bench__listed(o->dtypes, "f32")) return;
    for (int k = 0; k < BENCH_KIND_COUNT; k++) {
        bench_kind kind = (bench_kind)k;
        ssm_isa best = bench__best_isa_for(bench_kind_op(kind), o->isas);
        if (!bench__listed(o->ops, bench__op_key(kind)) || best == SSM_ISA_AUTO) continue;
        for (int t = 2; t < all; t *= 2) bench__add(s, kind, best, SSM_F32, t, "T", 0);
    }
    /* the cold shapes once more with their inputs left in cache, to show what the cache buys */
    for (int k = 0; k < BENCH_KIND_COUNT; k++) {
        bench_kind kind = (bench_kind)k;
        ssm_isa best = bench__best_isa_for(bench_kind_op(kind), o->isas);
        if (!bench__listed(o->ops, bench__op_key(kind)) || best == SSM_ISA_AUTO ||
            !bench__kind_is_cold(kind))
            continue;
        bench__add(s, kind, best, SSM_F32, 1, "warm", 0);
        if (all > 1) bench__add(s, kind, best, SSM_F32, all, "warm", 0);
    }
    int first_L = s->n_cases;
    for (int k = 0; k < BENCH_KIND_COUNT; k++) {
        bench_kind kind = (bench_kind)k;
        ssm_isa best = bench__best_isa_for(bench_kind_op(kind), o->isas);
        if (!bench__listed(o->ops, bench__op_key(kind)) || best == SSM_ISA_AUTO ||
            !bench_kind_has_L(kind))
            continue;
        int64_t L0 = bench_kind_shape(kind, o->quick).L;
        if (o->quick) {   /* half and double the quick shape's L */
            bench__add(s, kind, best, SSM_F32, all, "L", L0 / 2);
            bench__add(s, kind, best, SSM_F32, all, "L", L0 * 2);
            continue;
        }
        for (int64_t L = 1024; L <= o->max_L; L *= 2)
            if (L != L0) bench__add(s, kind, best, SSM_F32, all, "L", L);
    }
    /* stable insertion sort of the L sweep by L: short sequences first */
    for (int i = first_L + 1; i < s->n_cases; i++) {
        bench_case tmp = s->cases[i];
        int j = i;
        for (; j > first_L && s->cases[j - 1].shape.L > tmp.shape.L; j--) s->cases[j] = s->cases[j - 1];
        s->cases[j] = tmp;
    }
}

/* ---------------------------------------------------------------- running one case */

typedef struct bench_iter {
    bench_case *c;
    ssm_exec exec;
    ssm_status status;
} bench_iter;

static void bench__iteration(void *ctx) {
    bench_iter *it = ctx;
    ssm_status st = bench_case_call(it->c, &it->exec);
    if (st != SSM_OK) it->status = st;
}

static void bench__print_check(const bench_case *c) {
    const bench_check *k = &c->check;
    const bench_checked_output *o = k->n_outputs ? &k->outputs[0] : NULL;
    fprintf(stderr, "check %-26s %-7s %-5s T=%-3d %s  rel_l2 %.3g  max_err %.3g  (%s)%s%s\n",
            c->name, ssm_isa_name(c->isa), ssm_dtype_name(c->dtype), c->threads,
            k->passed ? "PASS" : "FAIL", o ? o->rel_l2 : NAN, o ? o->max_err : NAN, k->sample,
            k->passed ? "" : "  ", k->reason);
}

static void bench__run_case(gb_state *st, void *user) {
    bench_suite *s = &g_suite;
    bench_case *c = user;
    if (s->current != c) {
        if (s->current) bench_case_teardown(s->current);
        s->current = c;
        ssm_set_isa(c->isa);   /* setup and check run outside the timed loop */
        if (s->opt.budget_s > 0 && bench_now() - s->start > s->opt.budget_s) {
            c->failed = 1;
            snprintf(c->fail_reason, sizeof c->fail_reason, "time budget of %.0f s used up",
                     s->opt.budget_s);
        } else if (bench_case_setup(c, s->pool) == 0) {
            bench__print_check(c);
        }
        if (c->failed) fprintf(stderr, "ssm_bench: %s: %s\n", c->gb_name, c->fail_reason);
    }
    if (c->failed) {
        gb_skip_with_error(st, c->fail_reason);
        return;
    }
    ssm_set_isa(c->isa);
    bench_iter it;
    memset(&it, 0, sizeof it);
    it.c = c;
    it.exec.n_threads = c->threads;
    it.exec.parallel_for = bench_parallel_for;
    it.exec.pool = s->pool;
    bench_inst_workspace(c, &it.exec.workspace, &it.exec.workspace_size);
    gb_loop(st, bench__iteration, &it);
    if (it.status != SSM_OK) {
        c->failed = 1;
        snprintf(c->fail_reason, sizeof c->fail_reason, "call: %s", ssm_status_string(it.status));
        gb_skip_with_error(st, c->fail_reason);
        return;
    }
    gb_counter_rate(st, "FLOP/s", c->flops);
    gb_counter_rate(st, "bytes/s", c->bytes);
}

static void bench__on_result(void *ctx, void *user, int64_t repetition, int64_t iterations,
                             double seconds) {
    (void)ctx;
    (void)repetition;
    bench_case *c = user;
    if (c->failed || c->n_reps >= BENCH_MAX_REPS) return;
    c->rep_s[c->n_reps] = seconds;
    c->rep_iters[c->n_reps] = iterations;
    c->n_reps++;
}

/* ---------------------------------------------------------------- roof and JSON */

typedef struct bench_roof {
    double median, min, max;
    double t_flops, t_exps, t_bytes, roof;
    double pct;
    const char *bound;
    int level;
    double bw_gbs, fma_gflops, exp_per_s;
    double flop_gflops;        /* the FLOP ceiling the roof used: FMA f32, or the AMX-BF16 tiles */
    const char *flop_ceiling;  /* "fma_f32" or "amx_bf16" */
    uint64_t bw_ws;   /* working set of the triad point the bandwidth came from */
} bench_roof;

/* BENCH.md's "matching FLOP ceiling": ssm_avx512.h runs bf16 SSD's chunk products and bf16
   hsa_attention's on AMX tiles where the CPU has them (and SSM_NO_AMX is unset), so those
   results are judged against the AMX-BF16 peak, not the f32 FMA one they could exceed. */
static int bench__runs_on_amx(const bench_case *c) {
    const char *off = getenv("SSM_NO_AMX");
    return (c->kind == BENCH_SSD_M2 || c->kind == BENCH_HSA) && c->dtype == SSM_BF16 && c->isa == SSM_ISA_AVX512 &&
           bench_cpu_has_amx_bf16() && !(off && *off && strcmp(off, "0") != 0);
}

static int bench__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A case is cold when the operand sets it rotates among total more than the last-level cache
   (a single set larger than the LLC counts: each pass evicts its own start). */
static int bench__cold(const bench_suite *s, const bench_case *c) {
    return c->cold && c->copy_bytes * (double)c->n_copies > s->llc_bytes;
}

static bench_roof bench__roof(const bench_suite *s, const bench_case *c) {
    bench_roof r;
    memset(&r, 0, sizeof r);
    double t[BENCH_MAX_REPS];
    int n = c->n_reps;
    memcpy(t, c->rep_s, sizeof(double) * (size_t)n);
    qsort(t, (size_t)n, sizeof(double), bench__cmp_double);
    r.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    r.min = t[0];
    r.max = t[n - 1];
    const bench_ceilings *ce = &s->ceilings;
    int ti = bench_ceilings_tindex(ce, c->threads);
    if (bench__cold(s, c)) {   /* every call finds its operands in DRAM */
        r.level = ce->n_levels - 1;
        r.bw_gbs = bench_bandwidth_for(ce, UINT64_MAX, c->threads, &r.bw_ws);
    } else {   /* warm, or copies too few to leave the LLC: the level the whole rotation fits in */
        double resident = c->n_copies > 1 ? c->copy_bytes * c->n_copies : c->footprint;
        if (resident < c->footprint) resident = c->footprint;
        r.level = bench_level_of(ce, &s->machine, (uint64_t)resident, c->threads);
        r.bw_gbs = bench_bandwidth_for(ce, (uint64_t)resident, c->threads, &r.bw_ws);
    }
    r.fma_gflops = ce->fma_gflops[ti];
    r.flop_gflops = r.fma_gflops;
    r.flop_ceiling = "fma_f32";
    if (bench__runs_on_amx(c) && ce->amx_bf16_gflops[ti] > 0) {
        r.flop_gflops = ce->amx_bf16_gflops[ti];
        r.flop_ceiling = "amx_bf16";
    }
    r.exp_per_s = ce->exp_per_s[ti];
    r.t_flops = c->flops / (r.flop_gflops * 1e9);
    r.t_exps = c->exps / r.exp_per_s;
    r.t_bytes = c->bytes / (r.bw_gbs * 1e9);
    r.roof = r.t_flops, r.bound = "flops";
    if (r.t_exps > r.roof) r.roof = r.t_exps, r.bound = "exps";
    if (r.t_bytes > r.roof) r.roof = r.t_bytes, r.bound = "bytes";
    r.pct = 100.0 * r.roof / r.median;
    return r;
}

static void bench__json_machine(bench_json *j, const bench_machine *m) {
    json_object(j, "machine");
    json_str(j, "slug", m->slug);
    json_str(j, "cpu_model", m->cpu_model);
    json_str(j, "cpu_vendor", m->cpu_vendor);
    json_str(j, "cpu_family_model_stepping", m->cpu_fms);
    json_int(j, "cores", m->cores);
    json_int(j, "threads_per_core", m->threads_per_core);
    json_int(j, "pus", m->pus);
    json_int(j, "numa_nodes", m->numa_nodes);
    json_int(j, "packages", m->packages);
    json_num(j, "memory_bytes", (double)m->memory_bytes);
    if (m->clock_mhz > 0) json_num(j, "clock_mhz", m->clock_mhz);
    else json_null(j, "clock_mhz");
    json_str(j, "os", m->os);
    json_array(j, "caches");
    for (int i = 0; i < m->n_caches; i++) {
        json_object(j, NULL);
        json_int(j, "level", m->caches[i].level);
        json_str(j, "type", m->caches[i].type);
        json_num(j, "size_bytes", (double)m->caches[i].size);
        json_int(j, "instances", m->caches[i].instances);
        json_int(j, "cores_sharing", m->caches[i].cores_sharing);
        json_close(j);
    }
    json_close(j);
    json_object(j, "features");
    json_bool(j, "avx512f", bench_cpu_has_avx512f());
    json_bool(j, "avx512bf16", bench_cpu_has_avx512bf16());
    json_bool(j, "amx_bf16", bench_cpu_has_amx_bf16());
    json_close(j);
    json_null(j, "gpu");
    json_close(j);
}

static void bench__json_build(bench_json *j) {
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object(j, "build");
    json_str(j, "compiler", BENCH_COMPILER);
    json_str(j, "flags", BENCH_CFLAGS);
    json_str(j, "git_commit", BENCH_GIT_COMMIT);
    json_str(j, "date", date);
    json_str(j, "ssm_version", SSM_VERSION_STRING);
    json_str(j, "google_benchmark", BENCH_GBENCH_VERSION);
    char hw[32];
    unsigned v = hwloc_get_api_version();
    snprintf(hw, sizeof hw, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    json_str(j, "hwloc_api", hw);
    json_array(j, "backends");
    for (int i = SSM_ISA_SCALAR; i < SSM_ISA_COUNT; i++)
        if (ssm_isa_available((ssm_isa)i)) json_str(j, NULL, ssm_isa_name((ssm_isa)i));
    json_close(j);
    json_str(j, "default_backend", ssm_isa_name(g_suite.default_isa));
    json_close(j);
}

static void bench__json_ceilings(bench_json *j, const bench_suite *s) {
    const bench_ceilings *c = &s->ceilings;
    int t1 = bench_ceilings_tindex(c, 1), ta = bench_ceilings_tindex(c, s->all_threads);
    int dram = c->n_levels - 1;
    json_object(j, "ceilings");
    json_num(j, "triad_gbs_1t", c->triad_gbs[t1][dram]);
    json_num(j, "triad_gbs_all", c->triad_gbs[ta][dram]);
    json_num(j, "fma_gflops_1t", c->fma_gflops[t1]);
    json_num(j, "fma_gflops_all", c->fma_gflops[ta]);
    json_num(j, "exp_per_s_1t", c->exp_per_s[t1]);
    json_num(j, "exp_per_s_all", c->exp_per_s[ta]);
    json_num(j, "clock_ghz_1t", c->clock_ghz[t1]);
    json_num(j, "clock_ghz_all", c->clock_ghz[ta]);
    json_num(j, "bf16_dot_gflops_1t", c->bf16_dot_gflops[t1] >= 0 ? c->bf16_dot_gflops[t1] : NAN);
    json_num(j, "bf16_dot_gflops_all", c->bf16_dot_gflops[ta] >= 0 ? c->bf16_dot_gflops[ta] : NAN);
    json_num(j, "amx_bf16_gflops_1t", c->amx_bf16_gflops[t1] >= 0 ? c->amx_bf16_gflops[t1] : NAN);
    json_num(j, "amx_bf16_gflops_all", c->amx_bf16_gflops[ta] >= 0 ? c->amx_bf16_gflops[ta] : NAN);
    json_null(j, "gpu_copy_gbs");
    json_null(j, "gpu_fp32_tflops");
    json_null(j, "gpu_bf16_mma_tflops");
    json_str(j, "fma_isa", c->fma_isa);
    json_str(j, "exp_isa", c->exp_isa);
    json_str(j, "clock_note", "clock_ghz: cycles per second of the slowest of T busy cores, from a "
                              "dependent chain of one-cycle adds (beside 512-bit FMAs where the CPU "
                              "has AVX-512); a compute-bound kernel's speed-up from 1 to T threads "
                              "is bounded by T x clock_ghz(T) / clock_ghz(1)");
    json_str(j, "triad_isa", c->triad_isa);
    json_str(j, "triad_note", "a[i] = b[i] + s*c[i] on doubles, 24 bytes per element, best of "
                              "trials; triad: one point per memory level; triad_sweep: working sets "
                              "twice apart with the triad (gbs) and an in-place update "
                              "a[i] = s*a[i] + b[i] (update_gbs, no write-allocate): the roofs "
                              "read the better of the two at each result's footprint");
    json_num(j, "seconds", c->seconds);
    json_int(j, "passes", c->passes);
    json_str(j, "passes_note", "measured before and after the kernels; every figure is the better "
                               "of the passes");
    json_array(j, "levels");
    for (int li = 0; li < c->n_levels; li++) json_str(j, NULL, c->levels[li].name);
    json_close(j);
    json_array(j, "by_threads");
    for (int ti = 0; ti < c->n_tcounts; ti++) {
        json_object(j, NULL);
        json_int(j, "threads", c->tcounts[ti]);
        json_num(j, "fma_gflops", c->fma_gflops[ti]);
        json_num(j, "exp_per_s", c->exp_per_s[ti]);
        json_num(j, "clock_ghz", c->clock_ghz[ti]);
        json_num(j, "bf16_dot_gflops", c->bf16_dot_gflops[ti] >= 0 ? c->bf16_dot_gflops[ti] : NAN);
        json_num(j, "amx_bf16_gflops", c->amx_bf16_gflops[ti] >= 0 ? c->amx_bf16_gflops[ti] : NAN);
        json_array(j, "triad");
        for (int li = 0; li < c->n_levels; li++) {
            json_object(j, NULL);
            json_str(j, "level", c->levels[li].name);
            json_num(j, "ws_bytes", (double)c->triad_ws[ti][li]);
            json_num(j, "gbs", c->triad_gbs[ti][li]);
            json_close(j);
        }
        json_close(j);
        json_array(j, "triad_sweep");
        for (int k = 0; k < c->n_sweep[ti]; k++) {
            json_object(j, NULL);
            json_num(j, "ws_bytes", (double)c->sweep_ws[ti][k]);
            json_num(j, "gbs", c->sweep_gbs[ti][k]);
            json_num(j, "update_gbs", c->sweep_update_gbs[ti][k]);
            json_close(j);
        }
        json_close(j);
        json_close(j);
    }
    json_close(j);
    json_close(j);
}

static int bench__json_result(bench_json *j, const bench_suite *s, const bench_case *c) {
    bench_roof r = bench__roof(s, c);
    json_object(j, NULL);
    json_str(j, "name", c->name);
    json_str(j, "op", ssm_op_name(c->op));
    json_str(j, "backend", ssm_isa_name(c->isa));
    json_str(j, "dtype", ssm_dtype_name(c->dtype));
    json_int(j, "threads", c->threads);
    json_str(j, "sweep", c->sweep[0] ? c->sweep : NULL);
    json_object(j, "shape");
    bench_shape_json(j, c);
    json_close(j);
    json_object(j, "time_s");
    json_num(j, "median", r.median);
    json_num(j, "min", r.min);
    json_num(j, "max", r.max);
    json_int(j, "reps", c->n_reps);
    json_int(j, "iterations", c->rep_iters[0]);
    json_close(j);
    json_num(j, "flops", c->flops);
    json_num(j, "bytes", c->bytes);
    json_num(j, "exps", c->exps);
    json_num(j, "footprint_bytes", c->footprint);
    json_bool(j, "cold", bench__cold(s, c));
    if (c->cold) {
        json_int(j, "cold_copies", c->n_copies);
        json_num(j, "cold_bytes", c->copy_bytes * (double)c->n_copies);
        json_num(j, "llc_bytes", s->llc_bytes);
        if (!bench__cold(s, c)) {
            char note[200];
            snprintf(note, sizeof note, "not cold: the %d copies total %.0f MiB, not above the "
                     "%.0f MiB last-level cache (memory cap %.0f MiB)", c->n_copies,
                     c->copy_bytes * (double)c->n_copies / 1048576.0, s->llc_bytes / 1048576.0,
                     s->cold_cap / 1048576.0);
            json_str(j, "cold_note", note);
        }
    }
    json_num(j, "gflops", c->flops / r.median * 1e-9);
    json_num(j, "gbs", c->bytes / r.median * 1e-9);
    json_num(j, "exps_per_s", c->exps / r.median);
    json_num(j, "intensity", c->flops / c->bytes);
    json_num(j, "roof_s", r.roof);
    json_num(j, "roof_gflops", c->flops / r.roof * 1e-9);
    json_num(j, "pct_roof", r.pct);
    json_str(j, "bound", r.bound);
    json_str(j, "level", s->ceilings.levels[r.level].name);
    json_object(j, "roof_terms_s");
    json_num(j, "flops", r.t_flops);
    json_num(j, "exps", r.t_exps);
    json_num(j, "bytes", r.t_bytes);
    json_close(j);
    json_object(j, "ceilings_used");
    json_num(j, "fma_gflops", r.fma_gflops);
    json_str(j, "flop_ceiling", r.flop_ceiling);
    json_num(j, "flop_gflops", r.flop_gflops);
    json_num(j, "exp_per_s", r.exp_per_s);
    json_num(j, "bandwidth_gbs", r.bw_gbs);
    json_num(j, "bandwidth_ws_bytes", (double)r.bw_ws);
    json_close(j);
    const bench_check *k = &c->check;
    const bench_checked_output *main_out = k->n_outputs ? &k->outputs[0] : NULL;
    json_object(j, "check");
    json_bool(j, "passed", k->done && k->passed);
    json_num(j, "rel_l2", main_out ? main_out->rel_l2 : NAN);
    json_num(j, "max_err", main_out ? main_out->max_err : NAN);
    if (main_out && main_out->sixteen_bit) {
        json_num(j, "floor", main_out->floor);
        json_num(j, "floor_ratio", main_out->floor > 0 ? main_out->rel_l2 / main_out->floor : NAN);
    }
    json_str(j, "sample", k->sample);
    if (k->reason[0]) json_str(j, "reason", k->reason);
    json_array(j, "outputs");
    for (int i = 0; i < k->n_outputs; i++) {
        const bench_checked_output *o = &k->outputs[i];
        json_object(j, NULL);
        json_str(j, "name", o->name);
        json_bool(j, "passed", o->passed);
        json_num(j, "rel_l2", o->rel_l2);
        json_num(j, "rel_l2_limit", o->rel_l2_limit);
        json_num(j, "max_err", o->max_err);
        json_num(j, "floor", o->floor);
        json_close(j);
    }
    json_close(j);
    json_close(j);
    if (r.pct > 100.0) json_str(j, "warning", "pct_roof above 100: a work count or a ceiling is wrong");
    json_close(j);

    fprintf(stderr, "%-26s %-7s %-5s T=%-3d median %10.4f ms  %8.2f GFLOP/s  %8.2f GB/s  %6.1f%% of roof (%s%s%s)  check %s%s\n",
            c->name, ssm_isa_name(c->isa), ssm_dtype_name(c->dtype), c->threads, r.median * 1e3,
            c->flops / r.median * 1e-9, c->bytes / r.median * 1e-9, r.pct, r.bound,
            strcmp(r.bound, "bytes") == 0 ? ":" : "",
            strcmp(r.bound, "bytes") == 0 ? s->ceilings.levels[r.level].name : "",
            k->passed ? "pass" : "FAIL", bench__cold(s, c) ? "  cold" : "");
    if (r.pct > 100.0)
        fprintf(stderr, "\n*** WARNING: %s %s %s T=%d runs at %.1f%% of its roof: a work count or a "
                        "ceiling is wrong ***\n\n",
                c->name, ssm_isa_name(c->isa), ssm_dtype_name(c->dtype), c->threads, r.pct);
    return r.pct > 100.0;
}

static int bench__write_json(const bench_suite *s, double total_s) {
    FILE *f = fopen(s->opt.out, "w");
    if (!f) {
        perror(s->opt.out);
        return -1;
    }
    bench_json j;
    json_begin(&j, f);
    json_int(&j, "schema", 1);
    json_str(&j, "mode", s->opt.quick ? "quick" : "full");
    bench__json_machine(&j, &s->machine);
    bench__json_build(&j);
    bench__json_ceilings(&j, s);
    json_object(&j, "method");
    json_str(&j, "timing", "Google Benchmark, real time, library threads from a pinned pool (hwloc)");
    json_str(&j, "cache_state", "state_update and conv1d (canonical names and their sweeps) "
                                "are cold: the timed calls rotate among copies of the counted "
                                "operands (state, activations, outputs; conv1d's weights too) "
                                "totalling more than the last-level cache, and the roof uses "
                                "the DRAM bandwidth; their @warm variants and every other op "
                                "(scan, ssd, hsa: compute-bound) run warm, inputs resident "
                                "between iterations, against the bandwidth of the level the "
                                "compulsory bytes fit in");
    json_num(&j, "llc_bytes", s->llc_bytes);
    json_num(&j, "cold_target_bytes", s->cold_target);
    json_num(&j, "cold_cap_bytes", s->cold_cap);
    json_num(&j, "min_time_s", s->opt.min_time);
    json_int(&j, "repetitions", s->opt.reps);
    json_num(&j, "sweep_min_time_s", s->opt.sweep_min_time);
    json_int(&j, "sweep_repetitions", s->opt.sweep_reps);
    json_num(&j, "run_seconds", total_s);
    /* other work on the machine skews real time: say how busy it was before this run began
       (later figures would count this run's own threads) */
    json_num(&j, "load_avg_start", s->load_start);
    json_close(&j);
    json_array(&j, "results");
    int over = 0, failed_checks = 0;
    for (int i = 0; i < s->n_cases; i++) {
        const bench_case *c = &s->cases[i];
        if (c->failed || c->n_reps == 0) continue;
        over += bench__json_result(&j, s, c);
        failed_checks += !(c->check.done && c->check.passed);
    }
    json_close(&j);
    json_array(&j, "skipped");
    for (int i = 0; i < s->n_cases; i++) {
        const bench_case *c = &s->cases[i];
        if (!c->failed && c->n_reps > 0) continue;
        json_object(&j, NULL);
        json_str(&j, "name", c->name);
        json_str(&j, "backend", ssm_isa_name(c->isa));
        json_str(&j, "dtype", ssm_dtype_name(c->dtype));
        json_int(&j, "threads", c->threads);
        json_str(&j, "reason", c->failed ? c->fail_reason : "not run (filtered)");
        json_close(&j);
    }
    json_close(&j);
    json_end(&j);
    fclose(f);
    if (over)
        fprintf(stderr, "*** WARNING: %d result(s) above 100%% of their roof (see above) ***\n", over);
    if (failed_checks)
        fprintf(stderr, "*** WARNING: %d result(s) failed the reference check ***\n", failed_checks);
    fprintf(stderr, "ssm_bench: wrote %s\n", s->opt.out);
    return 0;
}

/* ---------------------------------------------------------------- main */

static void bench__print_ceilings(const bench_ceilings *c, const char *title) {
    fprintf(stderr, "%s:\n", title);
    for (int ti = 0; ti < c->n_tcounts; ti++) {
        fprintf(stderr, "ceilings T=%-3d clock %.2f GHz  FMA %8.1f GFLOP/s  exp %7.2f Gexp/s  bf16-dot ",
                c->tcounts[ti], c->clock_ghz[ti], c->fma_gflops[ti], c->exp_per_s[ti] * 1e-9);
        if (c->bf16_dot_gflops[ti] >= 0) fprintf(stderr, "%.1f GFLOP/s", c->bf16_dot_gflops[ti]);
        else fprintf(stderr, "n/a");
        if (c->amx_bf16_gflops[ti] >= 0) fprintf(stderr, "  AMX-bf16 %.1f GFLOP/s", c->amx_bf16_gflops[ti]);
        fprintf(stderr, "  triad");
        for (int li = 0; li < c->n_levels; li++)
            fprintf(stderr, " %s %.1f", c->levels[li].name, c->triad_gbs[ti][li]);
        fprintf(stderr, " GB/s\n");
    }
}

/* Cold copies total twice the LLC (hwloc's figure, every instance) and at least 256 MiB, the
   smallest working set the DRAM triad uses (a VM may report less cache than its host gives it),
   within a cap that keeps a case's memory reasonable: 1.5 GiB (256 MiB for --quick), at most a
   quarter of the RAM. A cap below the LLC leaves those results marked not cold. */
static void bench__cold_budget(bench_suite *s) {
    const bench_machine *m = &s->machine;
    s->llc_bytes = (double)bench_cache_capacity(m, bench_llc_level(m), m->cores);
    s->cold_cap = (s->opt.quick ? 256.0 : 1536.0) * 1048576.0;
    if (m->memory_bytes && s->cold_cap > (double)m->memory_bytes / 4)
        s->cold_cap = (double)m->memory_bytes / 4;
    s->cold_target = 2.0 * s->llc_bytes;
    if (s->cold_target < 256.0 * 1048576.0) s->cold_target = 256.0 * 1048576.0;
    if (s->cold_target > s->cold_cap) s->cold_target = s->cold_cap;
    if (s->cold_target <= s->llc_bytes)
        fprintf(stderr, "ssm_bench: cold copies capped at %.0f MiB, below the %.0f MiB last-level "
                        "cache: those results are marked not cold\n",
                s->cold_target / 1048576.0, s->llc_bytes / 1048576.0);
}

static void bench__context(const bench_suite *s) {
    char buf[64];
    gb_add_custom_context("ssm_machine", s->machine.slug);
    gb_add_custom_context("ssm_cpu_model", s->machine.cpu_model);
    snprintf(buf, sizeof buf, "%d", s->machine.cores);
    gb_add_custom_context("ssm_cores", buf);
    gb_add_custom_context("ssm_git_commit", BENCH_GIT_COMMIT);
    gb_add_custom_context("ssm_flags", BENCH_CFLAGS);
    char backends[64] = "";
    for (int i = SSM_ISA_SCALAR; i < SSM_ISA_COUNT; i++)
        if (ssm_isa_available((ssm_isa)i)) {
            if (backends[0]) strncat(backends, ",", sizeof backends - strlen(backends) - 1);
            strncat(backends, ssm_isa_name((ssm_isa)i), sizeof backends - strlen(backends) - 1);
        }
    gb_add_custom_context("ssm_backends", backends);
}

int main(int argc, char **argv) {
    double start = bench_now();
    gb_initialize(&argc, argv);
    bench_suite *s = &g_suite;
    if (getloadavg(&s->load_start, 1) != 1) s->load_start = NAN;
    s->start = start;
    if (bench__parse(argc, argv, &s->opt) != 0) return 2;
    if (bench_machine_load(&s->machine) != 0) {
        fprintf(stderr, "ssm_bench: hwloc could not load the topology\n");
        return 1;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && (uint64_t)pages * (uint64_t)page > s->machine.memory_bytes)
        s->machine.memory_bytes = (uint64_t)pages * (uint64_t)page;
    if (s->machine.clock_mhz <= 0 && gb_cpu_cycles_per_second() > 0)
        s->machine.clock_mhz = gb_cpu_cycles_per_second() * 1e-6;
    s->all_threads = s->machine.cores;
    if (s->opt.max_threads > 0 && s->opt.max_threads < s->all_threads)
        s->all_threads = s->opt.max_threads;

    s->default_isa = ssm_get_isa();
    bench__cold_budget(s);
    s->cases = calloc(BENCH_MAX_CASES, sizeof *s->cases);
    if (!s->cases) return 1;
    bench__build_cases(s);
    if (s->opt.list) {
        for (int i = 0; i < s->n_cases; i++) printf("%s\n", s->cases[i].gb_name);
        return 0;
    }

    fprintf(stderr, "ssm_bench: %s, %d cores x %d threads, %d NUMA node(s); %d cases\n",
            s->machine.cpu_model, s->machine.cores, s->machine.threads_per_core,
            s->machine.numa_nodes, s->n_cases);
    s->pool = bench_pool_create(s->all_threads);
    if (!s->pool) return 1;
    for (int t = 1; t < s->all_threads && s->n_tcounts < BENCH_MAX_TCOUNTS - 1; t *= 2)
        s->tcounts[s->n_tcounts++] = t;
    s->tcounts[s->n_tcounts++] = s->all_threads;
    bench_ceilings_measure(&s->ceilings, &s->machine, s->pool, s->tcounts, s->n_tcounts,
                           s->opt.quick);
    bench__print_ceilings(&s->ceilings, "ceilings");
    bench__context(s);

    for (int i = 0; i < s->n_cases; i++) {
        bench_case *c = &s->cases[i];
        gb_bench *b = gb_register(c->gb_name, bench__run_case, c);
        gb_use_real_time(b);
        gb_min_time(b, c->min_time);
        gb_repetitions(b, c->repetitions);
    }
    gb_run(bench__on_result, s);
    if (s->current) bench_case_teardown(s->current);
    s->current = NULL;
    gb_shutdown();

    /* a second pass after the kernels: a ceiling measured while something else used the machine
       would make the roofs too low (and pct_roof too high); keep the better of the two */
    static bench_ceilings again;
    bench_ceilings_measure(&again, &s->machine, s->pool, s->tcounts, s->n_tcounts, s->opt.quick);
    bench_ceilings_merge(&s->ceilings, &again);
    bench__print_ceilings(&s->ceilings, "ceilings (best of both passes)");

    int rc = bench__write_json(s, bench_now() - start);
    bench_pool_destroy(s->pool);
    bench_machine_free();
    free(s->cases);
    fprintf(stderr, "ssm_bench: %.1f s in all\n", bench_now() - start);
    return rc == 0 ? 0 : 1;
}
