#include "pool.h"

#include <stdlib.h>

struct pool_block_s {
    pool_block_t *next;
};

void pool_init(pool_t *p, size_t block_size, size_t max_free)
{
    p->block_size = block_size < sizeof(pool_block_t) ? sizeof(pool_block_t) : block_size;
    p->free = NULL;
    p->nfree = 0;
    p->max_free = max_free;
}

void pool_close(pool_t *p)
{
    while (p->free != NULL) {
        pool_block_t *b = p->free;
        p->free = b->next;
        free(b);
    }
    p->nfree = 0;
}

char *pool_get(pool_t *p)
{
    pool_block_t *b = p->free;

    if (b == NULL) return malloc(p->block_size);
    p->free = b->next;
    p->nfree--;
    return (char *)b;
}

void pool_put(pool_t *p, char *block)
{
    pool_block_t *b = (pool_block_t *)(void *)block;

    if (p->nfree >= p->max_free) {
        free(block);
        return;
    }
    b->next = p->free;
    p->free = b;
    p->nfree++;
}
