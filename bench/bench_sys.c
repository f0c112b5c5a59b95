/* bench_sys.c — hwloc machine description, pinned pool, clock. See bench_sys.h. */
#define _GNU_SOURCE
#include "bench_sys.h"

#include <ctype.h>
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_SPIN_PAUSE() _mm_pause()
#else
#define BENCH_SPIN_PAUSE() ((void)0)
#endif

static hwloc_topology_t bench__topo;
static int bench__topo_loaded;

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- machine */

static void bench__copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

/* "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.0GHz" -> "intel-xeon-platinum-8480" (the slug names a
   results folder, so it keeps only what identifies the part) */
static void bench__make_slug(bench_machine *m) {
    char words[160];
    bench__copy(words, sizeof words, m->cpu_model[0] ? m->cpu_model : "unknown-cpu");
    char *at = strchr(words, '@');
    if (at) *at = 0;
    static const char *noise[] = {"(R)", "(r)", "(TM)", "(tm)", " CPU", " Processor", " processor"};
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++) {
        char *hit;
        while ((hit = strstr(words, noise[i])) != NULL)
            memmove(hit, hit + strlen(noise[i]), strlen(hit + strlen(noise[i])) + 1);
    }
    size_t n = 0;
    int dash = 0;
    for (const char *s = words; *s && n + 1 < sizeof m->slug - 12; s++) {
        if (isalnum((unsigned char)*s)) {
            if (dash && n > 0) m->slug[n++] = '-';
            m->slug[n++] = (char)tolower((unsigned char)*s);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    m->slug[n] = 0;
    snprintf(m->slug + n, sizeof m->slug - n, "-%dc", m->cores);
}

static double bench__read_clock_mhz(void) {
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (f) {
        double khz = 0;
        int ok = fscanf(f, "%lf", &khz) == 1;
        fclose(f);
        if (ok && khz > 0) return khz / 1000.0;
    }
    f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    double mhz = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) mhz = atof(colon + 1);
            break;
        }
    }
    fclose(f);
    return mhz;
}

static void bench__load_caches(bench_machine *m) {
    static const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE,
                                              HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
                                              HWLOC_OBJ_L5CACHE};
    m->n_caches = 0;
    for (int i = 0; i < 5 && m->n_caches < BENCH_MAX_CACHES; i++) {
        int count = hwloc_get_nbobjs_by_type(bench__topo, levels[i]);
        if (count <= 0) continue;
        hwloc_obj_t obj = hwloc_get_obj_by_type(bench__topo, levels[i], 0);
        bench_cache *c = &m->caches[m->n_caches++];
        c->level = (int)obj->attr->cache.depth;
        c->size = obj->attr->cache.size;
        c->instances = count;
        int sharing = hwloc_get_nbobjs_inside_cpuset_by_type(bench__topo, obj->cpuset,
                                                             HWLOC_OBJ_CORE);
        c->cores_sharing = sharing > 0 ? sharing : 1;
        bench__copy(c->type, sizeof c->type,
                    obj->attr->cache.type == HWLOC_OBJ_CACHE_DATA ? "data"
                    : obj->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                           : "unified");
    }
}

int bench_machine_load(bench_machine *m) {
    memset(m, 0, sizeof *m);
    if (!bench__topo_loaded) {
        if (hwloc_topology_init(&bench__topo) != 0) return -1;
        if (hwloc_topology_load(bench__topo) != 0) {
            hwloc_topology_destroy(bench__topo);
            return -1;
        }
        bench__topo_loaded = 1;
    }
    hwloc_obj_t root = hwloc_get_root_obj(bench__topo);
    hwloc_obj_t pkg = hwloc_get_obj_by_type(bench__topo, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (!model) model = hwloc_obj_get_info_by_name(root, "CPUModel");
    const char *vendor = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUVendor") : NULL;
    bench__copy(m->cpu_model, sizeof m->cpu_model, model ? model : "unknown");
    bench__copy(m->cpu_vendor, sizeof m->cpu_vendor, vendor ? vendor : "");
    const char *fam = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUFamilyNumber") : NULL;
    const char *mod = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModelNumber") : NULL;
    const char *step = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUStepping") : NULL;
    snprintf(m->cpu_fms, sizeof m->cpu_fms, "%s/%s/%s", fam ? fam : "?", mod ? mod : "?",
             step ? step : "?");
    const char *os = hwloc_obj_get_info_by_name(root, "OSName");
    const char *rel = hwloc_obj_get_info_by_name(root, "OSRelease");
    snprintf(m->os, sizeof m->os, "%s %s", os ? os : "", rel ? rel : "");

    m->pus = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_PU);
    m->cores = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_CORE);
    if (m->cores <= 0) m->cores = m->pus > 0 ? m->pus : 1;
    m->threads_per_core = m->pus > 0 ? m->pus / m->cores : 1;
    if (m->threads_per_core < 1) m->threads_per_core = 1;
    m->numa_nodes = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_NUMANODE);
    m->packages = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_PACKAGE);
    m->memory_bytes = root->total_memory;
    m->clock_mhz = bench__read_clock_mhz();
    bench__load_caches(m);
    bench__make_slug(m);
    return 0;
}

void bench_machine_free(void) {
    if (bench__topo_loaded) hwloc_topology_destroy(bench__topo);
    bench__topo_loaded = 0;
}

uint64_t bench_cache_capacity(const bench_machine *m, int level, int threads) {
    for (int i = 0; i < m->n_caches; i++) {
        const bench_cache *c = &m->caches[i];
        if (c->level != level) continue;
        int spanned = (threads + c->cores_sharing - 1) / c->cores_sharing;
        if (spanned > c->instances) spanned = c->instances;
        if (spanned < 1) spanned = 1;
        return c->size * (uint64_t)spanned;
    }
    return 0;
}

int bench_llc_level(const bench_machine *m) {
    int level = 0;
    for (int i = 0; i < m->n_caches; i++)
        if (m->caches[i].level > level) level = m->caches[i].level;
    return level;
}

int bench_pin_to_core(int core) {
    if (!bench__topo_loaded) return -1;
    int n = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_CORE);
    hwloc_obj_type_t type = n > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    if (n <= 0) n = hwloc_get_nbobjs_by_type(bench__topo, HWLOC_OBJ_PU);
    if (n <= 0) return -1;
    hwloc_obj_t obj = hwloc_get_obj_by_type(bench__topo, type, (unsigned)(core % n));
    if (!obj || !obj->cpuset) return -1;
    hwloc_bitmap_t set = hwloc_bitmap_dup(obj->cpuset);
    hwloc_bitmap_singlify(set);   /* one hardware thread: SMT siblings stay out of each other's way */
    int rc = hwloc_set_cpubind(bench__topo, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
    return rc;
}

/* ---------------------------------------------------------------- pool */

/* Workers spin briefly for the next task (dispatch latency matters for the small decode ops),
   then sleep on a condition variable so an idle pool does not steal the cores. */
#define BENCH_SPIN_ROUNDS (1 << 14)

typedef struct bench_worker {
    _Alignas(64) _Atomic uint64_t generation;   /* bumped by the dispatcher to hand over one
                                                   task; one cache line per worker, so spinning
                                                   workers do not share lines */
    struct bench_pool *pool;
    int index;
    pthread_t thread;
    int sleeping;                  /* under pool->lock */
} bench_worker;

struct bench_pool {
    int n;
    bench_worker *workers;         /* [1..n): worker 0 is the caller */
    ssm_task_fn fn;
    void *ctx;
    _Atomic int64_t pending;
    _Atomic int stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static void bench__run_task(bench_worker *w) {
    bench_pool *pool = w->pool;
    pool->fn(pool->ctx, w->index);
    atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel);
}

static void *bench__worker_main(void *arg) {
    bench_worker *w = arg;
    bench_pool *pool = w->pool;
    bench_pin_to_core(w->index);
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = atomic_load_explicit(&w->generation, memory_order_acquire);
        for (int spin = 0; gen == seen && spin < BENCH_SPIN_ROUNDS; spin++) {
            BENCH_SPIN_PAUSE();
            gen = atomic_load_explicit(&w->generation, memory_order_acquire);
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->lock);
            w->sleeping = 1;
            while ((gen = atomic_load(&w->generation)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->lock);
            w->sleeping = 0;
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stop)) break;
        seen = gen;
        bench__run_task(w);
    }
    return NULL;
}

bench_pool *bench_pool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    bench_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads;
    pool->workers = aligned_alloc(64, (size_t)n_threads * sizeof *pool->workers);
    if (pool->workers) memset(pool->workers, 0, (size_t)n_threads * sizeof *pool->workers);
    if (!pool->workers) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    bench_pin_to_core(0);
    for (int i = 1; i < n_threads; i++) {
        bench_worker *w = &pool->workers[i];
        w->pool = pool;
        w->index = i;
        atomic_init(&w->generation, 0);
        if (pthread_create(&w->thread, NULL, bench__worker_main, w) != 0) {
            pool->n = i;   /* run with the threads we got */
            break;
        }
    }
    return pool;
}

void bench_pool_destroy(bench_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n; i++) {
        /* a spinning worker sees stop on its next generation check */
        atomic_fetch_add(&pool->workers[i].generation, 1);
        pthread_join(pool->workers[i].thread, NULL);
    }
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->workers);
    free(pool);
}

int bench_pool_size(const bench_pool *pool) { return pool ? pool->n : 1; }

void bench_parallel_for(void *pool_ptr, int64_t n_tasks, ssm_task_fn fn, void *task_ctx) {
    bench_pool *pool = pool_ptr;
    if (n_tasks <= 0) return;
    if (!pool || pool->n <= 1 || n_tasks == 1) {
        for (int64_t i = 0; i < n_tasks; i++) fn(task_ctx, i);
        return;
    }
    int64_t handed = n_tasks < pool->n ? n_tasks : pool->n;
    pool->fn = fn;
    pool->ctx = task_ctx;
    atomic_store(&pool->pending, handed - 1);
    for (int64_t i = 1; i < handed; i++)
        atomic_fetch_add_explicit(&pool->workers[i].generation, 1, memory_order_release);
    pthread_mutex_lock(&pool->lock);
    for (int64_t i = 1; i < handed; i++)
        if (pool->workers[i].sleeping) {
            pthread_cond_broadcast(&pool->wake);
            break;
        }
    pthread_mutex_unlock(&pool->lock);
    fn(task_ctx, 0);
    /* tasks past the pool size (the library never asks for them) run here, serially */
    for (int64_t i = handed; i < n_tasks; i++) fn(task_ctx, i);
    for (long spin = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spin++) {
        if (spin < BENCH_SPIN_ROUNDS) BENCH_SPIN_PAUSE();
        else sched_yield();
    }
}
