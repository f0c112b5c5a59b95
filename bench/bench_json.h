/* bench_json.h — a tiny streaming JSON writer (objects, arrays, numbers, strings, null).
   Non-finite numbers are written as null: JSON has no NaN or infinity. */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_JSON_DEPTH 16

typedef struct bench_json {
    FILE *f;
    int depth;
    int count[BENCH_JSON_DEPTH];   /* members written so far at each depth */
    char closer[BENCH_JSON_DEPTH]; /* '}' or ']' for each open level */
} bench_json;

void json_begin(bench_json *j, FILE *f);   /* opens the top-level object */
void json_end(bench_json *j);              /* closes it and ends the line */

/* key == NULL inside arrays */
void json_object(bench_json *j, const char *key);
void json_array(bench_json *j, const char *key);
void json_close(bench_json *j);            /* closes the innermost object or array */
void json_num(bench_json *j, const char *key, double value);
void json_int(bench_json *j, const char *key, int64_t value);
void json_str(bench_json *j, const char *key, const char *value);   /* NULL: null */
void json_bool(bench_json *j, const char *key, int value);
void json_null(bench_json *j, const char *key);

#endif /* BENCH_JSON_H */
