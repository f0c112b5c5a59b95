/* bench_ceil.h — the machine's ceilings, measured in the same run as the kernels (BENCH.md).

   - Bandwidth: a STREAM-style triad a[i] = b[i] + s*c[i] (double, 24 bytes per element counted:
     two reads, one write) over a working-set sweep that puts the data in each cache level and
     in DRAM, for every thread count the benchmarks use. Each thread works on its own arrays,
     touched first by that thread (pinned), so pages sit on its NUMA node.
   - FMA peak: f32 FMAs in many independent accumulators (AVX-512 when the CPU has it, else
     AVX2+FMA, NEON, or scalar), per thread count.
   - 16-bit matrix peaks: AVX512-BF16 dot (vdpbf16ps) and AMX-BF16 tiles where present, else
     not measured (null in the JSON).
   - exp throughput: a vectorised exp polynomial (range reduction + degree-6 polynomial) over an
     L1-resident array, exps per second, per thread count.
   - Core clock with T cores busy: a dependent chain of one-cycle integer adds (x86-64: beside
     independent 512-bit FMAs where the CPU has AVX-512, so the core runs under the licence the
     kernels run under), cycles per second of the slowest thread. Turbo falls as more cores
     are busy: the speed-up from 1 to T threads of a compute-bound kernel cannot exceed
     T x clock(T) / clock(1), and the scaling targets are judged against that.
   Every figure is the best of several timed trials, as STREAM reports. */
#ifndef BENCH_CEIL_H
#define BENCH_CEIL_H

#include <stdint.h>

#include "bench_sys.h"

#define BENCH_MAX_LEVELS 6       /* caches + DRAM */
#define BENCH_MAX_TCOUNTS 12
#define BENCH_MAX_SWEEP 32       /* triad working-set sweep points (x2 apart) */

typedef struct bench_level {
    char name[8];                /* "L1", "L2", "L3", "DRAM" */
    int cache_level;             /* 0 for DRAM */
} bench_level;

typedef struct bench_ceilings {
    int n_levels;
    bench_level levels[BENCH_MAX_LEVELS];
    int n_tcounts;
    int tcounts[BENCH_MAX_TCOUNTS];                      /* thread counts measured */
    uint64_t triad_ws[BENCH_MAX_TCOUNTS][BENCH_MAX_LEVELS];  /* total working set, bytes */
    double triad_gbs[BENCH_MAX_TCOUNTS][BENCH_MAX_LEVELS];
    /* The same triad over working sets twice apart, from half an L1 per thread to the DRAM
       set: the roof reads its bandwidth here, so a cache level that is larger on paper than in
       practice (VMs report the host's whole LLC) cannot inflate it. */
    int n_sweep[BENCH_MAX_TCOUNTS];
    uint64_t sweep_ws[BENCH_MAX_TCOUNTS][BENCH_MAX_SWEEP];   /* total working set, bytes */
    double sweep_gbs[BENCH_MAX_TCOUNTS][BENCH_MAX_SWEEP];
    /* a[i] = s*a[i] + b[i] over the same working sets: in place, so no write-allocate traffic
       (the pattern of state_update); the roofs take the better of the two */
    double sweep_update_gbs[BENCH_MAX_TCOUNTS][BENCH_MAX_SWEEP];
    double fma_gflops[BENCH_MAX_TCOUNTS];
    double exp_per_s[BENCH_MAX_TCOUNTS];
    double clock_ghz[BENCH_MAX_TCOUNTS];                 /* NAN: not measured on this ISA */
    double bf16_dot_gflops[BENCH_MAX_TCOUNTS];           /* < 0: not present */
    double amx_bf16_gflops[BENCH_MAX_TCOUNTS];           /* < 0: not present */
    const char *fma_isa;         /* which kernel measured the FMA peak */
    const char *exp_isa;
    const char *triad_isa;
    double seconds;              /* how long measuring took */
    int passes;                  /* measurements merged into these figures */
} bench_ceilings;

/* Measures everything for each thread count in tcounts (each <= the pool's size). quick: fewer
   and shorter trials, smaller DRAM working set (for a smoke run). */
void bench_ceilings_measure(bench_ceilings *c, const bench_machine *m, bench_pool *pool,
                            const int *tcounts, int n_tcounts, int quick);

/* Keeps, for every figure, the better of dst and src (two passes over the same thread counts
   and working sets): the machine's peak is what it can do, and a pass disturbed by other work
   only ever measures less. */
void bench_ceilings_merge(bench_ceilings *dst, const bench_ceilings *src);

/* Index of thread count t in c->tcounts, or of the nearest count below it. */
int bench_ceilings_tindex(const bench_ceilings *c, int threads);

/* The memory level a working set of `bytes` shared by `threads` threads lives in: the smallest
   cache whose capacity for those threads holds it, else DRAM. Returns an index into levels. */
int bench_level_of(const bench_ceilings *c, const bench_machine *m, uint64_t bytes, int threads);

/* Bandwidth (GB/s) for a working set of `bytes` shared by `threads` threads: the best sweep
   figure, triad or in-place update, at the largest working set not above it (the smallest
   point for tinier sets) or at any larger one, so the roof never assumes less bandwidth than
   the machine showed at that size. *ws gets that sweep point's working set. */
double bench_bandwidth_for(const bench_ceilings *c, uint64_t bytes, int threads, uint64_t *ws);

/* CPU features this file checks (also recorded in the JSON). */
int bench_cpu_has_avx512f(void);
int bench_cpu_has_avx512bf16(void);
int bench_cpu_has_amx_bf16(void);   /* present and the OS granted the tile state */

#endif /* BENCH_CEIL_H */
