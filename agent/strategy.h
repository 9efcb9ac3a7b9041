/* strategy: the interface every way of making N requests implements, and
 * the table of them. A new strategy is one file in strategies/ defining a
 * const strategy_t, and one line in the table in strategy.c. */
#ifndef AGENT_STRATEGY_H
#define AGENT_STRATEGY_H

#include "run.h"

#include <stddef.h>

struct strategy_s {
    const char *name;     /* as on the command line: "threads-reuse" */
    const char *summary;  /* one line for --help */
    int uses_chunk;       /* -c changes what it does */
    int uses_connections; /* --connections changes what it does */
    /* Makes requests 0 .. p->requests-1 and merges every request into
     * r->tally; sets r->threads. -1 with r->err if it could not run (a
     * thread or handle could not be made); failed requests are counted,
     * not errors. Timing is the caller's (run_execute). */
    int (*run)(const run_params_t *p, run_result_t *r);
};

/* NULL if there is no strategy of that name. */
const strategy_t *strategy_find(const char *name);
size_t strategy_count(void);
/* The i-th strategy in table order, i < strategy_count(). */
const strategy_t *strategy_at(size_t i);
/* "threads-recreate, threads-reuse, ..." into buf, for error messages. */
void strategy_names(char *buf, size_t cap);

#endif
