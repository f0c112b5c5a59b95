/* test_golden — runs every .ssmg conformance case on every CPU backend this machine has and on
   the float64 reference, one line per case and backend:

       PASS|FAIL|SKIP <case file> <backend> max_err=<worst ratio to the tolerance> rel_l2=<...>

   A FAIL line adds the element that decided (index, expected, got) and why; a SKIP line why.
   The last line is "N passed, M failed, K skipped"; the exit status is 1 on any failure.

   usage: test_golden DIR_OR_FILE... */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

typedef struct tally {
    int passed, failed, skipped;
} tally;

typedef struct file_list {
    char **paths;
    int n, cap;
} file_list;

static int add_path(file_list *list, const char *dir, const char *name)
{
    if (list->n == list->cap) {
        int cap = list->cap ? 2 * list->cap : 64;
        char **grown = (char **)realloc(list->paths, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        list->paths = grown;
        list->cap = cap;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = (char *)malloc(len);
    if (!path) return -1;
    snprintf(path, len, "%s%s%s", dir, *dir ? "/" : "", name);
    list->paths[list->n++] = path;
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the .ssmg files of a directory (sorted), or the argument itself when it is a file.
   A directory without cases is an error: an empty run must not look like a pass. */
static int collect(file_list *list, const char *arg)
{
    DIR *dir = opendir(arg);
    if (!dir) {
        if (!has_suffix(arg, ".ssmg")) return -1;
        return add_path(list, "", arg);
    }
    int first = list->n;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (has_suffix(e->d_name, ".ssmg") && add_path(list, arg, e->d_name) != 0) break;
    closedir(dir);
    qsort(list->paths + first, (size_t)(list->n - first), sizeof *list->paths, by_name);
    return list->n > first ? 0 : -1;
}

static const char *backend_name(int backend)
{
    return backend == GOLDEN_REFERENCE ? "reference" : ssm_isa_name((ssm_isa)backend);
}

static void count(tally *t, golden_verdict v)
{
    if (v == GOLDEN_PASS) t->passed++;
    else if (v == GOLDEN_FAIL) t->failed++;
    else t->skipped++;
}

/* One case on every backend: each available CPU ISA, then the reference. */
static void run_case(const char *path, tally *t)
{
    golden_case gc;
    golden_run run;
    golden_report rep;
    char why[256];
    int backends[SSM_ISA_COUNT + 1], n_backends = 0;
    for (int isa = SSM_ISA_SCALAR; isa < SSM_ISA_COUNT; isa++)
        if (ssm_isa_available((ssm_isa)isa)) backends[n_backends++] = isa;
    backends[n_backends++] = GOLDEN_REFERENCE;

    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (golden_load(path, &gc, why, sizeof why) != 0) {
        printf("FAIL %s - cannot load: %s\n", name, why);
        t->failed++;
        return;
    }
    golden_verdict prepared = golden_prepare(&gc, &run, why, sizeof why);
    for (int i = 0; i < n_backends; i++) {
        if (prepared == GOLDEN_PASS) {
            golden_execute(&run, backends[i], &rep);
        } else {
            memset(&rep, 0, sizeof rep);
            rep.verdict = prepared;
            snprintf(rep.message, sizeof rep.message, "%s", why);
        }
        golden_print_report(gc.name, backend_name(backends[i]), &rep);
        count(t, rep.verdict);
    }
    if (prepared == GOLDEN_PASS) golden_release(&run);
    golden_free(&gc);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    file_list list = {NULL, 0, 0};
    tally t = {0, 0, 0};
    int first = 1;
    if (argc > 2 && strncmp(argv[1], "--expect-isa=", 13) == 0) {
        /* Checks what dispatch chose by itself, before any case selects a backend: e.g. on a
           CPU without AVX-512 (qemu -cpu Haswell) the binary must run, and run scalar. */
        const char *want = argv[1] + 13, *got = ssm_backend_name();
        int ok = strcmp(want, got) == 0;
        printf("%s dispatch - picks %s (got %s)\n", ok ? "PASS" : "FAIL", want, got);
        if (ok) t.passed++; else t.failed++;
        first = 2;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: %s [--expect-isa=NAME] DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        if (collect(&list, argv[i]) != 0) {
            printf("FAIL %s - no .ssmg case there\n", argv[i]);
            t.failed++;
        }
    }
    for (int i = 0; i < list.n; i++) {
        run_case(list.paths[i], &t);
        free(list.paths[i]);
    }
    free(list.paths);
    ssm_set_isa(SSM_ISA_AUTO);
    printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}
