/* strategy: the interface every way of making N requests implements, and
 * the table of them. What a strategy is called and which parameters it uses
 * is in common/catalog.c, shared with the coordinator; here each catalogue
 * entry gets its run function. A new strategy is one line in the catalogue,
 * one file in strategies/ defining a const strategy_t, and one line in the
 * table in strategy.c. */
#ifndef AGENT_STRATEGY_H
#define AGENT_STRATEGY_H

#include "catalog.h"
#include "run.h"

#include <stddef.h>

struct strategy_s {
    const char *name; /* its entry in the catalogue: "threads-reuse" */
    /* Makes requests 0 .. p->requests-1 and merges every request into
     * r->tally; sets r->threads. -1 with r->err if it could not run (a
     * thread or handle could not be made); failed requests are counted,
     * not errors. Timing is the caller's (run_execute). */
    int (*run)(const run_params_t *p, run_result_t *r);
};

/* NULL if there is no strategy of that name. */
const strategy_t *strategy_find(const char *name);
/* As many as catalog_count(), in the catalogue's order. */
size_t strategy_count(void);
/* The i-th strategy, NULL when i >= strategy_count(). */
const strategy_t *strategy_at(size_t i);
/* s's catalogue entry: summary, uses_chunk, uses_connections. */
const catalog_entry_t *strategy_info(const strategy_t *s);

#endif
