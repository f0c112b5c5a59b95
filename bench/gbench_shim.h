/* gbench_shim.h — a small C interface to Google Benchmark, so the benchmarks can stay in C.

   Only the part of Google Benchmark that both 1.7.1 (Debian 12) and 1.8.3 (Ubuntu 24.04) have is
   used: registration with a name and user data, the iteration loop, pause/resume, real or manual
   time, counters, skip-with-error, custom context, MinTime, Repetitions. The shim runs the
   benchmarks with Google Benchmark's console display (and its --benchmark_out file reporter when
   asked on the command line) and hands every repetition's time back to C through a callback, so
   the C side can write its own JSON beside Google Benchmark's. */
#ifndef GBENCH_SHIM_H
#define GBENCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;            /* a benchmark::State, opaque to C */
typedef struct gb_bench gb_bench;            /* a registered benchmark, opaque to C */

/* The body of a benchmark: set up (untimed state paused if needed), then call gb_loop. */
typedef void (*gb_fn)(gb_state *st, void *user);
/* One timed iteration inside gb_loop. */
typedef void (*gb_iter_fn)(void *ctx);
/* One repetition of one benchmark finished: seconds of real (or manual) time per iteration. */
typedef void (*gb_result_fn)(void *result_ctx, void *user, int64_t repetition,
                             int64_t iterations, double seconds_per_iteration);

/* Parses and removes Google Benchmark's --benchmark_* flags from argv. */
void gb_initialize(int *argc, char **argv);
/* Nonzero (and a message on stderr) when arguments are left that nobody understood. */
int gb_report_unrecognized(int argc, char **argv);
void gb_add_custom_context(const char *key, const char *value);
/* Cycles per second as Google Benchmark measured it (0 when unknown). */
double gb_cpu_cycles_per_second(void);

gb_bench *gb_register(const char *name, gb_fn fn, void *user);
void gb_min_time(gb_bench *b, double seconds);
void gb_repetitions(gb_bench *b, int n);
void gb_use_real_time(gb_bench *b);
void gb_use_manual_time(gb_bench *b);
void gb_iterations(gb_bench *b, int64_t n);   /* fixed count: overrides MinTime */

/* Runs fn(ctx) once per iteration Google Benchmark asks for (real or manual time). */
void gb_loop(gb_state *st, gb_iter_fn fn, void *ctx);
/* Manual-time alternative: returns nonzero while iterations remain; call gb_set_iteration_time
   after each. */
int gb_keep_running(gb_state *st);
void gb_set_iteration_time(gb_state *st, double seconds);
void gb_pause(gb_state *st);
void gb_resume(gb_state *st);
void gb_skip_with_error(gb_state *st, const char *message);
void gb_counter(gb_state *st, const char *name, double value);
/* A rate counter: value per second of the iteration time (Google Benchmark's kIsRate). */
void gb_counter_rate(gb_state *st, const char *name, double value_per_iteration);
void gb_label(gb_state *st, const char *label);

/* Runs every registered benchmark (filtered by --benchmark_filter); result_fn gets every
   non-aggregate repetition. Returns the number of benchmarks run. */
int64_t gb_run(gb_result_fn result_fn, void *result_ctx);
void gb_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* GBENCH_SHIM_H */
