#include "strategy.h"

#include <stdio.h>
#include <string.h>

/* The table, in the seed's order. A new strategy: one line here. */
#define STRATEGY_TABLE(X)                                                                          \
    X(threads_recreate)                                                                            \
    X(threads_reuse)                                                                               \
    X(threads_map)                                                                                 \
    X(async_for)                                                                                   \
    X(async_map)

#define DECLARE(id) extern const strategy_t strategy_##id;
#define ENTRY(id) &strategy_##id,
STRATEGY_TABLE(DECLARE)
static const strategy_t *const k_table[] = {STRATEGY_TABLE(ENTRY)};

const strategy_t *strategy_find(const char *name)
{
    for (size_t i = 0; i < strategy_count(); i++)
        if (strcmp(k_table[i]->name, name) == 0) return k_table[i];
    return NULL;
}

size_t strategy_count(void)
{
    return sizeof k_table / sizeof k_table[0];
}

const strategy_t *strategy_at(size_t i)
{
    return i < strategy_count() ? k_table[i] : NULL;
}

void strategy_names(char *buf, size_t cap)
{
    size_t used = 0;

    if (cap == 0) return;
    buf[0] = '\0';
    for (size_t i = 0; i < strategy_count() && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", k_table[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
}
