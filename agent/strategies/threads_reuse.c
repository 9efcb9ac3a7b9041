/* threads-reuse: one pool of C threads for the whole run; each chunk of C
 * numbers is spread over the pool and a barrier ends it, as the seed
 * submitted a chunk to one ThreadPoolExecutor(C) and waited for its futures
 * before the next. Thread j makes request base+j of every chunk on its own
 * worker. */
#include "strategy.h"
#include "workers.h"

#include <stdlib.h>

typedef struct {
    worker_t *w;
    uint64_t lane; /* j */
    uint64_t chunk, n;
    pthread_barrier_t *chunk_done;
    worker_latch_t *go; /* opened once every thread exists */
} lane_t;

static void *run_lane(void *arg)
{
    lane_t *l = arg;

    if (worker_latch_wait(l->go) != 0) return NULL; /* a sibling could not start */
    for (uint64_t base = 0; base < l->n; base += l->chunk) {
        if (base + l->lane < l->n) req_perform(&l->w->req, base + l->lane, &l->w->tally);
        pthread_barrier_wait(l->chunk_done);
    }
    return NULL;
}

/* Starts c lanes, lets them run, joins them. */
static int run_lanes(worker_pool_t *pool, pthread_t *tids, lane_t *lanes, uint64_t c, uint64_t n,
                     char *err)
{
    pthread_barrier_t chunk_done;
    worker_latch_t go;
    uint64_t started = 0;

    pthread_barrier_init(&chunk_done, NULL, (unsigned)c);
    worker_latch_init(&go, 1);
    for (; started < c; started++) {
        lanes[started] = (lane_t){pool->all[started], started, c, n, &chunk_done, &go};
        if (worker_spawn(&tids[started], 0, run_lane, &lanes[started], started, c, err) != 0) break;
    }
    if (started == c)
        worker_latch_done(&go);
    else
        worker_latch_cancel(&go); /* the barrier would wait for the missing one */
    for (uint64_t j = 0; j < started; j++)
        pthread_join(tids[j], NULL);
    worker_latch_close(&go);
    pthread_barrier_destroy(&chunk_done);
    return started == c ? 0 : -1;
}

static int run(const run_params_t *p, run_result_t *r)
{
    uint64_t n = p->requests, c = p->chunk < n ? p->chunk : n;
    pthread_t *tids = calloc(c, sizeof *tids);
    lane_t *lanes = calloc(c, sizeof *lanes);
    worker_pool_t pool;
    int rc = -1;

    if (tids == NULL || lanes == NULL || worker_pool_init(&pool, p, c, r->err) != 0) {
        free(tids);
        free(lanes);
        snprintf(r->err, RUN_ERR_LEN, "out of memory for %llu threads", (unsigned long long)c);
        return -1;
    }
    if (worker_pool_fill(&pool, c, r->err) == 0) rc = run_lanes(&pool, tids, lanes, c, n, r->err);
    r->threads = c;
    worker_pool_merge(&pool, &r->tally);
    worker_pool_close(&pool);
    free(tids);
    free(lanes);
    return rc;
}

const strategy_t strategy_threads_reuse = {
    .name = "threads-reuse",
    .run = run,
};
