/* threads-reuse: one pool of C threads for the whole run; each chunk of C
 * numbers is spread over the pool and a barrier ends it, as the seed
 * submitted a chunk to one ThreadPoolExecutor(C) and waited for its futures
 * before the next. Thread j makes request base+j of every chunk on its own
 * worker.
 *
 * With a rate the pool takes requests as they fall due: a shared counter
 * hands out the next number, the thread sleeps until that request is due
 * and makes it; no barrier, so a slow request holds up only its thread. */
#include "pace.h"
#include "strategy.h"
#include "workers.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct {
    worker_t *w;
    uint64_t lane; /* j */
    uint64_t chunk, n;
    pthread_barrier_t *chunk_done;
    worker_latch_t *go;         /* opened once every thread exists */
    const pace_t *pace;         /* with a rate, else NULL */
    atomic_uint_fast64_t *next; /* with a rate: the next number to take */
} lane_t;

static void run_paced(lane_t *l)
{
    uint64_t i;

    while ((i = atomic_fetch_add_explicit(l->next, 1, memory_order_relaxed)) < l->n &&
           !run_aborted())
        pace_perform(l->pace, &l->w->req, i, &l->w->tally);
}

static void *run_lane(void *arg)
{
    lane_t *l = arg;

    if (worker_latch_wait(l->go) != 0) return NULL; /* a sibling could not start */
    if (l->pace != NULL) {
        run_paced(l);
        return NULL;
    }
    for (uint64_t base = 0; base < l->n; base += l->chunk) {
        if (base + l->lane < l->n) req_perform(&l->w->req, base + l->lane, &l->w->tally);
        pthread_barrier_wait(l->chunk_done);
    }
    return NULL;
}

/* Starts c lanes, lets them run, joins them. */
static int run_lanes(worker_pool_t *pool, pthread_t *tids, lane_t *lanes, uint64_t c,
                     const run_params_t *p, run_result_t *r)
{
    pthread_barrier_t chunk_done;
    worker_latch_t go;
    atomic_uint_fast64_t next = 0;
    pace_t pace;
    uint64_t started = 0;

    pthread_barrier_init(&chunk_done, NULL, (unsigned)c);
    worker_latch_init(&go, 1);
    for (; started < c; started++) {
        lanes[started] =
            (lane_t){pool->all[started],         started, c, p->requests, &chunk_done, &go,
                     p->rate > 0 ? &pace : NULL, &next};
        if (worker_spawn(&tids[started], 0, run_lane, &lanes[started], started, c, &r->error) != 0)
            break;
    }
    if (started == c) {
        if (p->rate > 0) pace_init(&pace, p, r); /* before the latch opens: seen by every lane */
        worker_latch_done(&go);
    } else {
        worker_latch_cancel(&go); /* the barrier would wait for the missing one */
    }
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

    if (tids == NULL || lanes == NULL || worker_pool_init(&pool, p, c, &r->error) != 0) {
        free(tids);
        free(lanes);
        fb_err_set(&r->error, "out of memory for %llu threads", (unsigned long long)c);
        return -1;
    }
    if (worker_pool_fill(&pool, c, &r->error) == 0) rc = run_lanes(&pool, tids, lanes, c, p, r);
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
