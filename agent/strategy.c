#include "strategy.h"

#include <stdio.h>
#include <string.h>

/* The run functions, in the catalogue's order (test_agent_strategy checks
 * that every catalogue entry has its strategy here, under the same name). */
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

const catalog_entry_t *strategy_info(const strategy_t *s)
{
    return catalog_find(s->name);
}
