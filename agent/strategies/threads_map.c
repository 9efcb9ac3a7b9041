/* threads-map: N threads mapped over the N numbers, one request each, as
 * the seed's ThreadPoolExecutor(max_workers=N).map. Threads are detached
 * (a finished thread's stack is freed at once, so N is bounded by the
 * threads alive together, not by N stacks) and counted down on a latch.
 * Each thread borrows a worker from the pool for its request and gives it
 * back, so connections are reused by later threads: the run opens as many
 * as there were requests in progress at once. */
#include "strategy.h"
#include "workers.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    worker_pool_t pool;
    worker_latch_t running;
} map_ctx_t;

typedef struct {
    map_ctx_t *ctx;
    uint64_t number;
} map_arg_t;

static void *map_one(void *arg)
{
    map_arg_t *a = arg;
    map_ctx_t *ctx = a->ctx;
    worker_t *w = worker_pool_take(&ctx->pool);

    if (w != NULL) { /* else pool.err says why; the run fails */
        req_perform(&w->req, a->number, &w->tally);
        worker_pool_give(&ctx->pool, w);
    }
    worker_latch_done(&ctx->running); /* the last touch of ctx */
    return NULL;
}

static int run(const run_params_t *p, run_result_t *r)
{
    uint64_t n = p->requests, started = 0;
    map_arg_t *args = calloc(n, sizeof *args);
    map_ctx_t ctx;
    pthread_t tid;

    if (args == NULL || worker_pool_init(&ctx.pool, p, n, r->err) != 0) {
        free(args);
        snprintf(r->err, RUN_ERR_LEN, "out of memory for %llu threads", (unsigned long long)n);
        return -1;
    }
    worker_latch_init(&ctx.running, 0);
    for (; started < n; started++) {
        args[started] = (map_arg_t){&ctx, started};
        worker_latch_add(&ctx.running, 1);
        if (worker_spawn(&tid, 1, map_one, &args[started], started, n, r->err) != 0) {
            worker_latch_done(&ctx.running);
            break;
        }
    }
    worker_latch_wait(&ctx.running);
    r->threads = started;
    if (started == n && ctx.pool.err[0] != '\0') memcpy(r->err, ctx.pool.err, RUN_ERR_LEN);
    worker_pool_merge(&ctx.pool, &r->tally);
    worker_pool_close(&ctx.pool);
    worker_latch_close(&ctx.running);
    free(args);
    return started == n && ctx.pool.err[0] == '\0' ? 0 : -1;
}

const strategy_t strategy_threads_map = {
    .name = "threads-map",
    .run = run,
};
