/* pool: a per-loop free list of fixed-size I/O blocks. Connections borrow a
 * block only while they hold unread or unwritten bytes, so an idle keep-alive
 * connection costs no buffer and the steady state allocates nothing. */
#ifndef TS_POOL_H
#define TS_POOL_H

#include <stddef.h>

typedef struct pool_block_s pool_block_t;

typedef struct {
    size_t block_size;
    pool_block_t *free;
    size_t nfree;
    size_t max_free; /* blocks beyond this go back to malloc */
} pool_t;

void pool_init(pool_t *p, size_t block_size, size_t max_free);
void pool_close(pool_t *p);
char *pool_get(pool_t *p); /* NULL when out of memory */
void pool_put(pool_t *p, char *block);

#endif
