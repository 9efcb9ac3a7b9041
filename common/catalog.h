/* catalog: the strategies by name — what each is called, one line about it,
 * and which parameters change what it does. The coordinator plans with it
 * (the matrix) and the agent runs by it (agent/strategy.c registers one run
 * function per entry), so both agree on names without the coordinator
 * linking the agent's libcurl and libuv. */
#ifndef FB_CATALOG_H
#define FB_CATALOG_H

#include <stddef.h>

typedef struct {
    const char *name;     /* as on the command line: "threads-reuse" */
    const char *summary;  /* one line for --help */
    int uses_chunk;       /* -c changes what it does */
    int uses_connections; /* --connections changes what it does */
} catalog_entry_t;

/* In the seed's order: threads-recreate, threads-reuse, threads-map,
 * async-for, async-map. */
size_t catalog_count(void);
/* The i-th entry, NULL when i >= catalog_count(). */
const catalog_entry_t *catalog_at(size_t i);
/* NULL when no strategy has that name. */
const catalog_entry_t *catalog_find(const char *name);
/* "threads-recreate, threads-reuse, ..." into buf, for error messages. */
void catalog_names(char *buf, size_t cap);

#endif
