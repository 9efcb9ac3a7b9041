#include "catalog.h"

#include <stdio.h>
#include <string.h>

/* A new strategy: one line here and one file in agent/strategies/. */
static const catalog_entry_t k_catalog[] = {
    {"threads-recreate", "per chunk of C numbers, C new threads doing blocking requests, joined", 1,
     0},
    {"threads-reuse", "one pool of C threads for the run, a barrier after each chunk of C numbers",
     1, 0},
    {"threads-map", "N threads mapped over the N numbers, one blocking request each", 0, 0},
    {"async-for", "one libuv loop, one curl multi; a for loop adds a transfer per number", 0, 1},
    {"async-map", "as async-for, with every transfer made first by a map over the numbers", 0, 1},
};

size_t catalog_count(void)
{
    return sizeof k_catalog / sizeof *k_catalog;
}

const catalog_entry_t *catalog_at(size_t i)
{
    return i < catalog_count() ? &k_catalog[i] : NULL;
}

const catalog_entry_t *catalog_find(const char *name)
{
    for (size_t i = 0; i < catalog_count(); i++)
        if (strcmp(k_catalog[i].name, name) == 0) return &k_catalog[i];
    return NULL;
}

void catalog_names(char *buf, size_t cap)
{
    size_t used = 0;

    if (cap == 0) return;
    buf[0] = '\0';
    for (size_t i = 0; i < catalog_count() && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", k_catalog[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}
