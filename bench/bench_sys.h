/* bench_sys.h — the machine as hwloc describes it, a pinned thread pool, and a clock.

   The pool is what the benchmarks hand to the library through ssm_exec.parallel_for: thread k
   of the pool runs on core k (hwloc's logical core order, first hardware thread of the core),
   and the calling thread is thread 0, pinned to core 0. */
#ifndef BENCH_SYS_H
#define BENCH_SYS_H

#include <stdint.h>

#include "../ssm.h"

#define BENCH_MAX_CACHES 8

typedef struct bench_cache {
    int level;               /* 1, 2, 3, ... */
    char type[16];           /* "data", "unified", "instruction" */
    uint64_t size;           /* bytes of one instance */
    int instances;           /* how many the machine has */
    int cores_sharing;       /* cores under one instance */
} bench_cache;

typedef struct bench_machine {
    char cpu_model[160];
    char cpu_vendor[64];
    char cpu_fms[48];        /* "family/model/stepping" numbers, where hwloc knows them */
    char slug[96];
    char os[128];
    int cores;               /* physical cores */
    int pus;                 /* hardware threads */
    int threads_per_core;
    int numa_nodes;
    int packages;
    uint64_t memory_bytes;
    double clock_mhz;        /* nominal/measured where known, else 0 */
    int n_caches;            /* data and unified caches, innermost first */
    bench_cache caches[BENCH_MAX_CACHES];
} bench_machine;

/* Loads the topology (kept for pinning) and fills m. Returns 0 on success. */
int bench_machine_load(bench_machine *m);
void bench_machine_free(void);

/* Bytes of cache at data level `level` that T threads (on cores 0..T-1) can use together:
   one instance's size times the instances those cores span. 0 when the level does not exist. */
uint64_t bench_cache_capacity(const bench_machine *m, int level, int threads);
/* The deepest data/unified cache level (the last-level cache). */
int bench_llc_level(const bench_machine *m);

/* Pins the calling thread to core `core` (logical index). Returns 0 on success. */
int bench_pin_to_core(int core);

typedef struct bench_pool bench_pool;
bench_pool *bench_pool_create(int n_threads);
void bench_pool_destroy(bench_pool *pool);
int bench_pool_size(const bench_pool *pool);
/* ssm_parallel_for_fn: task i runs on pool thread i (n_tasks <= pool size); returns when all
   have finished. */
void bench_parallel_for(void *pool, int64_t n_tasks, ssm_task_fn fn, void *task_ctx);

double bench_now(void);   /* seconds, monotonic */

#endif /* BENCH_SYS_H */
