/* matrix: the benchmarks a coordinator runs, from --matrix and the
 * parameter lists (cartesian product), in --matrix order.
 *
 * -c C is the concurrency of every strategy: the chunk of the threads
 * strategies, the connection limit of the async ones. --connections, when
 * given, sets the async ones' instead. A list multiplies only the strategies
 * it applies to (threads-map, a thread per request, takes neither). */
#ifndef CO_MATRIX_H
#define CO_MATRIX_H

#include "fb_err.h"

#include <stddef.h>
#include <stdint.h>

#define MATRIX_MAX_LIST 64
#define MATRIX_MAX 1024               /* benchmarks, as proto's PROTO_MAX_BENCH */
#define MATRIX_MAX_CONNECTIONS 100000 /* as proto's PROTO_MAX_CONNECTIONS */

typedef struct {
    uint64_t v[MATRIX_MAX_LIST];
    size_t n;
} matrix_list_t;

#define MATRIX_MAX_PARAMS 8 /* -L lists */
#define MATRIX_PARAM_LEN 128

typedef struct {
    const char *strategy; /* the agent strategy table's name; "" for a command */
    uint64_t requests, chunk, connections;
    int uses_chunk, uses_connections;
    char command[160]; /* "threads-reuse -r 1000 -c 100", "async-for -r 1000 -c 100":
                          `agent run` arguments */
    /* a command (coordinator/commands.c): run as a whole process */
    int is_command;
    char *exec;     /* malloc'd: the command line, {NAME}s substituted */
    char *name;     /* malloc'd: how it is shown (-n, or the command line) */
    size_t nparams; /* -L values it was made with, in -L order */
    const char *param_name[MATRIX_MAX_PARAMS];
    char param_value[MATRIX_MAX_PARAMS][MATRIX_PARAM_LEN];
} matrix_entry_t;

typedef struct {
    matrix_entry_t *e;
    size_t n, cap;
} matrix_t;

/* A new zeroed entry at the end of m; NULL with err when the matrix is full
 * (MATRIX_MAX) or memory is out. */
matrix_entry_t *matrix_append(matrix_t *m, fb_err_t *err);

/* "100,1000" into l, each in [min, max]; err names flag and value. */
int matrix_list_parse(matrix_list_t *l, const char *flag, const char *s, uint64_t min, uint64_t max,
                      fb_err_t *err);

/* spec: all | threads | async | NAME[,NAME...] (groups allowed in the list),
 * benchmarks in the order the spec names them (a group in the strategy
 * table's order; a name given twice counts once). An unknown name is an
 * error listing the valid ones. conc: -c; conns: --connections, or NULL or
 * empty when not given (the async strategies then take conc). */
int matrix_build(matrix_t *m, const char *spec, const matrix_list_t *requests,
                 const matrix_list_t *conc, const matrix_list_t *conns, fb_err_t *err);
/* Rate mode: each command says --rate R --duration S (the fleet's rate)
 * where it said -r N ("async-for --rate 2000 --duration 10 -c 100"). */
void matrix_name_rate(matrix_t *m, double rate, double duration_s);
void matrix_free(matrix_t *m);

#endif
