/* cuda_emu.cc — the CPU emulator's scheduler and the CUDA runtime calls the tests make (see
   cuda_emu.h). Device memory is host memory; streams run their work at once, or record it while
   a graph is captured; kernels run block after block, their threads as fibers. */
#include "cuda_emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <map>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

/* Under AddressSanitizer every switch is announced (its fiber API), so that it knows which
   stack is live; device buffers are heap blocks of their exact size, and the dynamic shared
   memory one of the launch's size, so a kernel's access past either is reported as on a GPU
   under compute-sanitizer memcheck.

   Under ThreadSanitizer every thread of a block is a fiber of its own, switched to without
   synchronisation, and the only happens-before edges between them are the ones CUDA gives:
   __syncthreads() (every thread releases the barrier, then acquires it), __syncwarp() (among
   the lanes of its mask), atomics and acquire/release flags. Shuffles, ballots, mma and
   ldmatrix exchange registers but order no memory (the programming guide: they "do not imply
   a memory barrier"), so they add no edge; each lane's ldmatrix row is read by that lane. So a
   shared or global memory access that another thread of the block makes without one of those
   between them is reported, as compute-sanitizer racecheck reports shared-memory hazards. Blocks are ordered
   after one another through the scheduler (the emulator's statics stand in for every block's
   __shared__ variables, so races between blocks are not looked for). */
#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define EMU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EMU_TSAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef EMU_TSAN
#include <sanitizer/tsan_interface.h>
/* The scheduler's bookkeeping is shared by the fibers but is not the kernels' memory. */
#define EMU_UNWATCHED __attribute__((no_sanitize_thread, noinline))
static void hb_release(const void *sync) { __tsan_release((void *)sync); }
static void hb_acquire(const void *sync) { __tsan_acquire((void *)sync); }
#else
#define EMU_UNWATCHED
static void hb_release(const void *) {}
static void hb_acquire(const void *) {}
#endif

/* ---------------------------------------------------------------- fibers */

/* Context switch. On x86-64 a dozen instructions (the callee-saved registers and the stack
   pointer; glibc's swapcontext also makes a system call, which made the tests 50x slower);
   elsewhere ucontext. */
#if defined(__x86_64__)
extern "C" void ssm_emu_swap(void **save_sp, void *load_sp);
extern "C" void ssm_emu_fiber_entry(void);
__asm__(".text\n"
        ".globl ssm_emu_swap\n"
        ".type ssm_emu_swap,@function\n"
        "ssm_emu_swap:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size ssm_emu_swap, .-ssm_emu_swap\n"
        ".globl ssm_emu_fiber_entry\n"
        ".type ssm_emu_fiber_entry,@function\n"
        "ssm_emu_fiber_entry:\n"   /* first resume of a fiber: its index is in r12 */
        "  movq %r12, %rdi\n"
        "  call ssm_emu_fiber_main\n"
        "  ud2\n"
        ".size ssm_emu_fiber_entry, .-ssm_emu_fiber_entry\n");
#endif

namespace {

enum fiber_state { RUNNABLE, AT_BARRIER, AT_WARP_OP, FINISHED };

struct pending_copy {   /* a cp.async copy; `group`: the commit group it belongs to */
    void *dst;
    const void *src;
    unsigned bytes, group;
};

const size_t kStack = 256 * 1024;   /* kernels keep their register tiles here */
const int kMaxThreads = 1024;
const int kMaxCopies = 256;   /* cp.async copies a thread may have pending; more complete early */

struct fiber {
    void *sp;
    void *asan_fake_stack;
    void *tsan_fiber;
#if !defined(__x86_64__)
    ucontext_t uc;
#endif
    char *stack;
    fiber_state state;
    unsigned barriers;   /* __syncthreads passed in this block (its parity picks the sync object) */
    const void *hb_done; /* the completion object of this lane's last warp operation */
    uint3 tid;
    ssm_emu_op op;
    pending_copy copies[kMaxCopies];   /* cp.async copies not yet completed, in issue order */
    int ncopies;
    unsigned groups;                   /* cp.async groups committed so far */
};

struct block_run {
    int n;                                   /* threads in the block */
    int cur;                                 /* the fiber now running, -1: the scheduler */
    const std::function<void(void)> *body;
    uint3 block;
    dim3 block_dim, grid_dim;
    void *sched_sp;
    void *sched_fake_stack;
    const void *sched_stack;   /* the scheduler's stack, as AddressSanitizer reported it */
    size_t sched_stack_size;
    void *sched_tsan_fiber;
#if !defined(__x86_64__)
    ucontext_t sched_uc;
#endif
};

fiber g_fibers[kMaxThreads];
block_run g_run;
unsigned char *g_dyn_smem;
uint64_t g_rng;
/* Happens-before objects: the block's start and end (with the scheduler), the two barrier
   phases in flight, each lane's arrival at a warp operation, and per warp the two latest
   completions (which the lanes acquire when they go on). */
char g_hb_start, g_hb_end, g_hb_barrier[2], g_hb_lane[kMaxThreads], g_hb_warp[kMaxThreads / 32][2];
unsigned g_warp_completions[kMaxThreads / 32];

uint64_t next_rand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

[[noreturn]] void fatal(const char *what) {
    fprintf(stderr, "cuda_emu: %s\n", what);
    abort();
}

}   // namespace

EMU_UNWATCHED uint3 ssm_emu_thread_idx(void) { return g_fibers[g_run.cur].tid; }
EMU_UNWATCHED uint3 ssm_emu_block_idx(void) { return g_run.block; }
EMU_UNWATCHED dim3 ssm_emu_block_dim(void) { return g_run.block_dim; }
EMU_UNWATCHED dim3 ssm_emu_grid_dim(void) { return g_run.grid_dim; }

extern "C" [[noreturn]] void ssm_emu_fiber_main(long idx);


EMU_UNWATCHED static void set_state(fiber *f, fiber_state st) { f->state = st; }

EMU_UNWATCHED static void to_scheduler(fiber *me) {
#ifdef EMU_ASAN
    /* a finished fiber passes no save slot: its fake frames go */
    __sanitizer_start_switch_fiber(me->state == FINISHED ? NULL : &me->asan_fake_stack, g_run.sched_stack,
                                   g_run.sched_stack_size);
#endif
#ifdef EMU_TSAN
    __tsan_switch_to_fiber(g_run.sched_tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(__x86_64__)
    ssm_emu_swap(&me->sp, g_run.sched_sp);
#else
    swapcontext(&me->uc, &g_run.sched_uc);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(me->asan_fake_stack, NULL, NULL);
#endif
}

EMU_UNWATCHED static void resume(int i) {
    g_run.cur = i;
    fiber *f = &g_fibers[i];
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(&g_run.sched_fake_stack, f->stack + 4096, kStack - 4096);
#endif
#ifdef EMU_TSAN
    __tsan_switch_to_fiber(f->tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(__x86_64__)
    ssm_emu_swap(&g_run.sched_sp, f->sp);
#else
    swapcontext(&g_run.sched_uc, &f->uc);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(g_run.sched_fake_stack, NULL, NULL);
#endif
    g_run.cur = -1;
}

/* ---------------------------------------------------------------- cp.async

   A thread's copies are held back until a cp.async.wait_group lets them complete, the latest
   point a GPU may complete them, so a read of shared memory that lacks its wait sees the old
   contents (NaN bytes in a fresh buffer) and fails a test. Copies that no committed group
   holds are never waited for. */

/* Completes the copies of groups before `group_end`, in issue order. (No heap here: under
   ThreadSanitizer memory one thread frees and another reuses would look like a race.) */
static void complete_copies(fiber *f, unsigned group_end) {
    int kept = 0;
    for (int i = 0; i < f->ncopies; i++) {
        const pending_copy c = f->copies[i];
        if (c.group < group_end) memcpy(c.dst, c.src, c.bytes);
        else f->copies[kept++] = c;
    }
    f->ncopies = kept;
}

extern "C" void ssm_emu_fiber_main(long idx) {
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(NULL, &g_run.sched_stack, &g_run.sched_stack_size);
#endif
    fiber *me = &g_fibers[idx];
    hb_acquire(&g_hb_start);
    (*g_run.body)();
    complete_copies(me, ~0u);   /* a GPU completes them too; nothing should read them now */
    hb_release(&g_hb_end);
    set_state(me, FINISHED);
    to_scheduler(me);
    fatal("a finished thread was resumed");
}

#if !defined(__x86_64__)
static void fiber_start_uc(int idx) { ssm_emu_fiber_main(idx); }
#endif

EMU_UNWATCHED static void fiber_init(int i) {
    fiber *f = &g_fibers[i];
    if (!f->stack) {
        void *m = mmap(NULL, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) fatal("no memory for a thread stack");
        mprotect(m, 4096, PROT_NONE);   /* overflow faults instead of corrupting a neighbour */
        f->stack = (char *)m;
#ifdef EMU_TSAN
        f->tsan_fiber = __tsan_create_fiber(0);
#endif
    }
    f->state = RUNNABLE;
    f->barriers = 0;
    f->ncopies = 0;
    f->groups = 0;
#ifdef EMU_ASAN
    /* the frames of the fiber's last run never returned: their redzones are still marked */
    __asan_unpoison_memory_region(f->stack + 4096, kStack - 4096);
#endif
#if defined(__x86_64__)
    /* What ssm_emu_swap pops: r15 r14 r13 r12(=index) rbx rbp, then the return address. */
    void **top = (void **)(f->stack + kStack);
    void **sp = top - 7;
    for (int k = 0; k < 6; k++) sp[k] = NULL;
    sp[3] = (void *)(intptr_t)i;
    sp[6] = (void *)ssm_emu_fiber_entry;
    f->sp = sp;
#else
    getcontext(&f->uc);
    f->uc.uc_stack.ss_sp = f->stack + 4096;
    f->uc.uc_stack.ss_size = kStack - 4096;
    f->uc.uc_link = NULL;
    makecontext(&f->uc, (void (*)(void))fiber_start_uc, 1, i);
#endif
}

EMU_UNWATCHED static fiber *me_or_fail(const char *what) {
    if (g_run.cur < 0) fatal(what);
    return &g_fibers[g_run.cur];
}

ssm_emu_op *ssm_emu_my_op(void) { return &me_or_fail("a warp operation outside a kernel")->op; }

void ssm_emu_cp_async(void *dst, const void *src, unsigned bytes) {
    fiber *me = me_or_fail("cp.async outside a kernel");
    if (me->ncopies == kMaxCopies) complete_copies(me, ~0u);   /* early, as a GPU may */
    me->copies[me->ncopies++] = pending_copy{dst, src, bytes, me->groups};
}
void ssm_emu_cp_commit(void) { me_or_fail("cp.async.commit_group outside a kernel")->groups++; }
/* cp.async.wait_group n: all but the n most recently committed groups are complete. */
void ssm_emu_cp_wait(unsigned n) {
    fiber *me = me_or_fail("cp.async.wait_group outside a kernel");
    complete_copies(me, me->groups > n ? me->groups - n : 0);
}

EMU_UNWATCHED static unsigned next_barrier(fiber *f) { return f->barriers++ & 1u; }

void ssm_emu_syncthreads(void) {
    fiber *me = me_or_fail("__syncthreads outside a kernel");
    const unsigned phase = next_barrier(me);
    hb_release(&g_hb_barrier[phase]);
    set_state(me, AT_BARRIER);
    to_scheduler(me);
    hb_acquire(&g_hb_barrier[phase]);
}

void ssm_emu_yield(void) {
    if (g_run.cur < 0) return;
    to_scheduler(&g_fibers[g_run.cur]);
}

void *ssm_emu_dyn_smem(void) { return g_dyn_smem; }

/* ---------------------------------------------------------------- warp operations */

static float half_bits_to_float(uint16_t h, int kind) {
    if (kind == SSM_EMU_MMA_BF16) return __uint_as_float((uint32_t)h << 16);
    __half_raw raw;
    raw.x = h;
    return __half2float(__half(raw));
}

/* m16n8k16, A row-major 16x16, B column-major 16x8, f32 accumulators; lane = 4 g + t holds
   A[g][2t..], A[g+8][2t..], A[g][2t+8..], A[g+8][2t+8..]; B[2t..][g], B[2t+8..][g];
   C[g][2t..], C[g+8][2t..] (PTX ISA, "Matrix Fragments for mma.m16n8k16"). */
EMU_UNWATCHED static void complete_mma(fiber *w, int kind) {
    float A[16][16], B[16][8], C[16][8];
    for (int l = 0; l < 32; l++) {
        const ssm_emu_op &o = w[l].op;
        const int g = l >> 2, t = l & 3;
        for (int h = 0; h < 2; h++) {
            A[g][2 * t + h] = half_bits_to_float((uint16_t)(o.a[0] >> (16 * h)), kind);
            A[g + 8][2 * t + h] = half_bits_to_float((uint16_t)(o.a[1] >> (16 * h)), kind);
            A[g][2 * t + 8 + h] = half_bits_to_float((uint16_t)(o.a[2] >> (16 * h)), kind);
            A[g + 8][2 * t + 8 + h] = half_bits_to_float((uint16_t)(o.a[3] >> (16 * h)), kind);
            B[2 * t + h][g] = half_bits_to_float((uint16_t)(o.b[0] >> (16 * h)), kind);
            B[2 * t + 8 + h][g] = half_bits_to_float((uint16_t)(o.b[1] >> (16 * h)), kind);
            C[g][2 * t + h] = o.c[h];
            C[g + 8][2 * t + h] = o.c[2 + h];
        }
    }
    for (int l = 0; l < 32; l++) {
        const int g = l >> 2, t = l & 3;
        for (int q = 0; q < 4; q++) {
            const int i = g + (q >> 1) * 8, j = 2 * t + (q & 1);
            double s = C[i][j];
            for (int k = 0; k < 16; k++) s += (double)A[i][k] * (double)B[k][j];
            w[l].op.c[q] = (float)s;
        }
    }
}

/* ldmatrix .x4: lanes 8m..8m+7 give the row addresses of matrix m; lane 4 r + c receives
   row r, columns 2c, 2c+1 of each matrix (with .trans: column r, rows 2c, 2c+1). */
EMU_UNWATCHED static void complete_ldmatrix(fiber *w, bool trans) {
    for (int l = 0; l < 32; l++) {
        const int r = l >> 2, c = l & 3;
        for (int m = 0; m < 4; m++) {
            uint16_t lo, hi;
            if (!trans) {
                lo = w[8 * m + r].op.row[2 * c];
                hi = w[8 * m + r].op.row[2 * c + 1];
            } else {
                lo = w[8 * m + 2 * c].op.row[r];
                hi = w[8 * m + 2 * c + 1].op.row[r];
            }
            w[l].op.rr[m] = (uint32_t)lo | ((uint32_t)hi << 16);
        }
    }
}

EMU_UNWATCHED static int shfl_source(const ssm_emu_op &o, int lane) {
    const int width = o.width, base = lane & ~(width - 1);
    switch (o.kind) {
    case SSM_EMU_SHFL: return base + (o.arg & (width - 1));
    case SSM_EMU_SHFL_XOR: {
        const int j = lane ^ o.arg;
        return j >= base + width || j < base ? lane : j;
    }
    default: {   /* up */
        const int j = lane - o.arg;
        return j < base ? lane : j;
    }
    }
}

EMU_UNWATCHED static void complete_op(fiber *w, int nl, const ssm_emu_op &mine) {
    const unsigned mask = mine.mask;
    switch (mine.kind) {
    case SSM_EMU_MMA_BF16:
    case SSM_EMU_MMA_F16: complete_mma(w, mine.kind); break;
    case SSM_EMU_LDSM:
    case SSM_EMU_LDSM_T: complete_ldmatrix(w, mine.kind == SSM_EMU_LDSM_T); break;
    case SSM_EMU_BALLOT: {
        uint64_t bits = 0;
        for (int l = 0; l < 32; l++)
            if ((mask >> l & 1) && w[l].op.v) bits |= 1ull << l;
        for (int l = 0; l < 32; l++)
            if (mask >> l & 1) w[l].op.r = bits;
        break;
    }
    case SSM_EMU_SYNCWARP: break;
    default:
        for (int l = 0; l < 32; l++) {
            if (!(mask >> l & 1)) continue;
            const int src = shfl_source(w[l].op, l);
            /* a source lane outside the mask gives an undefined value: poison it */
            w[l].op.r = (src < nl && (mask >> src & 1)) ? w[src].op.v : 0xfff0deadfff0deadull;
        }
    }
}

/* Whether every lane of the mask of fiber i's operation has posted one (stops on misuse). */
EMU_UNWATCHED static bool warp_ready(int i) {
    const int w0 = i & ~31, nl = g_run.n - w0 < 32 ? g_run.n - w0 : 32;
    const fiber *w = &g_fibers[w0];
    const ssm_emu_op &mine = g_fibers[i].op;
    const unsigned mask = mine.mask;
    if ((mine.kind == SSM_EMU_MMA_BF16 || mine.kind == SSM_EMU_MMA_F16 || mine.kind == SSM_EMU_LDSM ||
         mine.kind == SSM_EMU_LDSM_T) && nl != 32)
        fatal("mma/ldmatrix in a warp of fewer than 32 threads");
    if ((mine.kind == SSM_EMU_SHFL || mine.kind == SSM_EMU_SHFL_XOR || mine.kind == SSM_EMU_SHFL_UP) &&
        (mine.width < 1 || mine.width > 32 || (mine.width & (mine.width - 1))))
        fatal("shuffle width not a power of 2 <= 32");
    if (!(mask >> (i & 31) & 1)) fatal("a lane not in its own warp operation's mask");
    for (int l = 0; l < 32; l++) {
        if (!(mask >> l & 1)) continue;
        if (l >= nl) fatal("a warp operation's mask names a lane past the block");
        if (w[l].state == FINISHED) fatal("a warp operation's mask names a lane that has returned");
        if (w[l].state != AT_WARP_OP && l != (i & 31)) return false;   /* not there yet */
        if (w[l].op.kind != mine.kind || w[l].op.mask != mask) fatal("lanes of one mask at different warp operations");
    }
    return true;
}

/* The completion object of this warp operation, handed to every lane of the mask. */
EMU_UNWATCHED static const void *completion_of(int w0, unsigned mask) {
    const int w = w0 / 32;
    const void *obj = &g_hb_warp[w][g_warp_completions[w]++ & 1u];
    for (int l = 0; l < 32; l++)
        if (mask >> l & 1) g_fibers[w0 + l].hb_done = obj;
    return obj;
}
EMU_UNWATCHED static const void *done_of(const fiber *f) { return f->hb_done; }

EMU_UNWATCHED static void wake_lanes(int w0, unsigned mask) {
    for (int l = 0; l < 32; l++)
        if (mask >> l & 1) g_fibers[w0 + l].state = RUNNABLE;
}

/* Posts this lane's part; the last lane of the mask to arrive completes the operation for all
   of them. A __syncwarp also orders memory: each lane releases on arrival, the completing lane
   acquires them all and releases a completion object, which every lane acquires when it goes
   on. */
void ssm_emu_warp_op(void) {
    fiber *me = me_or_fail("a warp operation outside a kernel");
    const int i = (int)(me - g_fibers), w0 = i & ~31, nl = g_run.n - w0 < 32 ? g_run.n - w0 : 32;
    const unsigned mask = me->op.mask;
    const bool orders_memory = me->op.kind == SSM_EMU_SYNCWARP;
    if (orders_memory) hb_release(&g_hb_lane[i]);
    if (warp_ready(i)) {
        if (orders_memory)
            for (int l = 0; l < 32; l++)
                if (mask >> l & 1) hb_acquire(&g_hb_lane[w0 + l]);
        complete_op(&g_fibers[w0], nl, me->op);
        const void *done = completion_of(w0, mask);
        if (orders_memory) hb_release(done);
        wake_lanes(w0, mask);
        to_scheduler(me);   /* let the others run first: a fiber never runs ahead of its warp */
    } else {
        set_state(me, AT_WARP_OP);
        to_scheduler(me);
    }
    if (orders_memory) hb_acquire(done_of(me));
}

void ssm_emu_mma_m16n8k16(int kind, float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
    ssm_emu_op *o = ssm_emu_my_op();
    o->kind = kind;
    o->mask = 0xffffffffu;
    memcpy(o->a, a, sizeof o->a);
    o->b[0] = b0;
    o->b[1] = b1;
    memcpy(o->c, d, sizeof o->c);
    ssm_emu_warp_op();
    memcpy(d, o->c, sizeof o->c);
}

void ssm_emu_ldmatrix_x4(int kind, uint32_t *r, const void *p) {
    ssm_emu_op *o = ssm_emu_my_op();
    o->kind = kind;
    o->mask = 0xffffffffu;
    memcpy(o->row, p, sizeof o->row);   /* this lane's row of 8 16-bit values, read by this lane */
    ssm_emu_warp_op();
    memcpy(r, o->rr, sizeof o->rr);
}

/* ---------------------------------------------------------------- blocks and grids */

/* Runs the threads of one block to their end: resume every runnable one (in a shuffled order),
   and when none is left, release a barrier that all unfinished threads wait at. */
EMU_UNWATCHED static void run_block(int n) {
    g_run.n = n;
    for (int i = 0; i < n; i++) fiber_init(i);
    const dim3 bd = g_run.block_dim;
    for (int i = 0; i < n; i++)
        g_fibers[i].tid = make_uint3(i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y));
    std::vector<int> order(n);
    for (int i = 0; i < n; i++) order[i] = i;
    for (;;) {
        for (int i = n - 1; i > 0; i--) std::swap(order[i], order[next_rand() % (uint64_t)(i + 1)]);
        bool ran = false;
        for (int k = 0; k < n; k++) {
            const int i = order[k];
            if (g_fibers[i].state != RUNNABLE) continue;
            resume(i);
            ran = true;
        }
        if (ran) continue;
        int finished = 0, at_barrier = 0;
        for (int i = 0; i < n; i++) {
            finished += g_fibers[i].state == FINISHED;
            at_barrier += g_fibers[i].state == AT_BARRIER;
        }
        if (finished == n) return;
        if (finished + at_barrier != n) fatal("deadlock: threads wait at warp operations that cannot complete");
        for (int i = 0; i < n; i++)
            if (g_fibers[i].state == AT_BARRIER) g_fibers[i].state = RUNNABLE;
    }
}

/* ---------------------------------------------------------------- runtime */

struct CUstream_st {
    bool capturing;
    std::vector<std::function<void(void)>> captured;
};
struct CUgraph_st {
    std::vector<std::function<void(void)>> work;
};
struct CUgraphExec_st {
    std::vector<std::function<void(void)>> work;
};

/* Aligned as a GPU allocation is, and of exactly n bytes, so that AddressSanitizer reports the
   first byte past the end. */
static void *exact_alloc(size_t align, size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, align, n ? n : 1) != 0) return NULL;
    return p;
}

static cudaError_t g_last_error = cudaSuccess;
static std::map<const void *, int> g_max_dyn_smem;   /* cudaFuncAttributeMaxDynamicSharedMemorySize */

static cudaError_t set_error(cudaError_t e) {
    if (e != cudaSuccess) g_last_error = e;
    return e;
}

/* Runs now, or records into the graph that the stream is capturing. */
static void on_stream(cudaStream_t s, std::function<void(void)> work) {
    if (s && s->capturing) s->captured.push_back(std::move(work));
    else work();
}

static int emulated_sms(void) {
    const char *e = getenv("SSM_EMU_SMS");
    const int n = e ? atoi(e) : 132;
    return n > 0 ? n : 132;
}

/* The opt-in limit of shared memory per block: sm_90's 227 KB, or SSM_EMU_SMEM_OPTIN bytes (read
   at every query, so that a test can stand in for a GPU with less, e.g. sm_86's 99 KB). */
static size_t max_dyn_smem(void) {
    const char *e = getenv("SSM_EMU_SMEM_OPTIN");
    const long n = e ? atol(e) : 0;
    return n > 0 ? (size_t)n : (size_t)227 * 1024;
}

bool ssm_emu_run_grid(dim3 grid, dim3 block, size_t smem, cudaStream_t stream, const void *kernel,
                      std::function<void(void)> body) {
    const uint64_t threads = (uint64_t)block.x * block.y * block.z;
    auto it = g_max_dyn_smem.find(kernel);
    const size_t smem_ok = it != g_max_dyn_smem.end() ? (size_t)it->second : 48 * 1024;
    if (threads == 0 || threads > kMaxThreads || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.y > 65535 || grid.z > 65535) {
        set_error(cudaErrorInvalidConfiguration);
        return false;
    }
    if (smem > smem_ok) {
        set_error(cudaErrorInvalidValue);
        return false;
    }
    on_stream(stream, [grid, block, smem, body]() {
        g_dyn_smem = (unsigned char *)exact_alloc(128, smem);
        const char *seed = getenv("SSM_EMU_SEED");
        if (!g_rng) g_rng = seed ? strtoull(seed, NULL, 10) * 0x9e3779b97f4a7c15ull + 1 : 1;
        g_run.grid_dim = grid;
        g_run.block_dim = block;
        g_run.body = &body;
        g_run.cur = -1;
#ifdef EMU_TSAN
        g_run.sched_tsan_fiber = __tsan_get_current_fiber();
#endif
        for (unsigned z = 0; z < grid.z; z++)
            for (unsigned y = 0; y < grid.y; y++)
                for (unsigned x = 0; x < grid.x; x++) {
                    g_run.block = make_uint3(x, y, z);
                    memset(g_dyn_smem, 0xff, smem);
                    hb_release(&g_hb_start);
                    run_block((int)(block.x * block.y * block.z));
                    hb_acquire(&g_hb_end);
                }
        free(g_dyn_smem);
        g_dyn_smem = NULL;
    });
    return true;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = g_last_error;
    g_last_error = cudaSuccess;
    return e;
}
const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error (emulated)";
    case cudaErrorInvalidValue: return "invalid argument (emulated)";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument (emulated)";
    case cudaErrorMemoryAllocation: return "out of memory (emulated)";
    default: return "error (emulated)";
    }
}

cudaError_t cudaMalloc(void **p, size_t n) {
    *p = exact_alloc(256, n);
    return set_error(*p || n == 0 ? cudaSuccess : cudaErrorMemoryAllocation);
}
cudaError_t cudaFree(void *p) {
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind) {
    memmove(dst, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind, cudaStream_t s) {
    on_stream(s, [=]() { memmove(dst, src, n); });
    return cudaSuccess;
}
cudaError_t cudaMemset(void *p, int v, size_t n) {
    memset(p, v, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s) {
    on_stream(s, [=]() { memset(p, v, n); });
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *s) {
    *s = new CUstream_st();
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    delete s;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
    if (!s || s->capturing) return set_error(cudaErrorInvalidValue);
    s->capturing = true;
    s->captured.clear();
    return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g) {
    if (!s || !s->capturing) return set_error(cudaErrorInvalidValue);
    s->capturing = false;
    *g = new CUgraph_st{std::move(s->captured)};
    s->captured.clear();
    return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long) {
    *e = new CUgraphExec_st{g->work};
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
    for (auto &w : e->work) on_stream(s, w);
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
    delete e;
    return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
    delete g;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *d) {
    *d = 0;
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr attr, int) {
    switch (attr) {
    case cudaDevAttrMultiProcessorCount: *v = emulated_sms(); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)max_dyn_smem(); break;
    case cudaDevAttrComputeCapabilityMajor: *v = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
    default: return set_error(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulator (cuda_emu) of an sm_90 GPU");
    p->multiProcessorCount = emulated_sms();
    p->major = 9;
    p->minor = 0;
    p->sharedMemPerBlockOptin = max_dyn_smem();
    p->maxThreadsPerBlock = kMaxThreads;
    p->warpSize = 32;
    return cudaSuccess;
}
cudaError_t cudaFuncSetAttribute(const void *f, cudaFuncAttribute attr, int v) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaSuccess;
    if (v < 0 || (size_t)v > max_dyn_smem()) return set_error(cudaErrorInvalidValue);
    g_max_dyn_smem[f] = v;
    return cudaSuccess;
}
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *n, const void *, int, size_t, unsigned) {
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *n, const void *f, int threads, size_t smem) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(n, f, threads, smem, 0);
}
