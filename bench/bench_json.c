/* bench_json.c — see bench_json.h. */
#include "bench_json.h"

#include <math.h>

static void json__indent(bench_json *j) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void json__string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* comma, newline and indentation before a member, then "key": */
static void json__member(bench_json *j, const char *key) {
    if (j->count[j->depth]++ > 0) fputc(',', j->f);
    json__indent(j);
    if (key) {
        json__string(j->f, key);
        fputs(": ", j->f);
    }
}

void json_begin(bench_json *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->count[0] = 0;
    fputc('{', f);
}

void json_end(bench_json *j) {
    while (j->depth > 0) json_close(j);
    fputs("\n}\n", j->f);
}

static void json__open(bench_json *j, const char *key, char bracket) {
    json__member(j, key);
    fputc(bracket, j->f);
    if (j->depth + 1 < BENCH_JSON_DEPTH) j->depth++;
    j->count[j->depth] = 0;
    j->closer[j->depth] = bracket == '{' ? '}' : ']';
}

void json_object(bench_json *j, const char *key) { json__open(j, key, '{'); }
void json_array(bench_json *j, const char *key) { json__open(j, key, '['); }

void json_close(bench_json *j) {
    if (j->depth == 0) return;
    int had = j->count[j->depth] > 0;
    char closing = j->closer[j->depth];
    j->depth--;
    if (had) json__indent(j);
    fputc(closing, j->f);
}

void json_num(bench_json *j, const char *key, double value) {
    json__member(j, key);
    if (isfinite(value)) fprintf(j->f, "%.9g", value);
    else fputs("null", j->f);
}

void json_int(bench_json *j, const char *key, int64_t value) {
    json__member(j, key);
    fprintf(j->f, "%lld", (long long)value);
}

void json_str(bench_json *j, const char *key, const char *value) {
    json__member(j, key);
    if (value) json__string(j->f, value);
    else fputs("null", j->f);
}

void json_bool(bench_json *j, const char *key, int value) {
    json__member(j, key);
    fputs(value ? "true" : "false", j->f);
}

void json_null(bench_json *j, const char *key) {
    json__member(j, key);
    fputs("null", j->f);
}
