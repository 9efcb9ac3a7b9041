/* threads-map: N threads mapped over the N numbers, one request each, as
 * the seed's ThreadPoolExecutor(max_workers=N).map. Threads are detached
 * (a finished thread's stack is freed at once, so N is bounded by the
 * threads alive together, not by N stacks) and counted down on a latch.
 * Each thread borrows a worker from the pool for its request and gives it
 * back, so connections are reused by later threads: the run opens as many
 * as there were requests in progress at once.
 *
 * With a rate, the thread of request i starts when i falls due. Threads
 * alive at once are then the requests in progress, at most rate x --timeout
 * (a request ends --timeout after it fell due): a run that could need more
 * than the system allows is refused before it starts. */
#include "pace.h"
#include "strategy.h"
#include "workers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    worker_pool_t pool;
    worker_latch_t running;
    const pace_t *pace; /* with a rate, else NULL */
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
        if (ctx->pace != NULL)
            pace_perform(ctx->pace, &w->req, a->number, &w->tally);
        else
            req_perform(&w->req, a->number, &w->tally);
        worker_pool_give(&ctx->pool, w);
    }
    worker_latch_done(&ctx->running); /* the last touch of ctx */
    return NULL;
}

/* -1 with err if rate x timeout threads could be alive at once and the
 * system allows fewer. */
static int check_paced_threads(const run_params_t *p, fb_err_t *err)
{
    double worst = ceil(p->rate * (double)p->timeout_ms / 1000.0) + 1;
    uint64_t need = worst < (double)p->requests ? (uint64_t)worst : p->requests;
    const char *what;
    uint64_t limit = worker_thread_limit(&what);

    if (need <= limit) return 0;
    fb_err_set(err,
               "at --rate %g with --timeout %llu ms up to %llu requests, each on its own thread, "
               "can be in progress at once; %s allows %llu threads: lower --rate or --timeout",
               p->rate, (unsigned long long)p->timeout_ms, (unsigned long long)need, what,
               (unsigned long long)limit);
    return -1;
}

static int run(const run_params_t *p, run_result_t *r)
{
    uint64_t n = p->requests, started = 0;
    map_arg_t *args;
    map_ctx_t ctx;
    pace_t pace;
    pthread_t tid;
    int aborted = 0;

    if (p->rate > 0 && check_paced_threads(p, &r->error) != 0) return -1;
    args = calloc(n, sizeof *args);
    if (args == NULL || worker_pool_init(&ctx.pool, p, n, &r->error) != 0) {
        free(args);
        fb_err_set(&r->error, "out of memory for %llu threads", (unsigned long long)n);
        return -1;
    }
    worker_latch_init(&ctx.running, 0);
    ctx.pace = NULL;
    if (p->rate > 0) {
        pace_init(&pace, p, r);
        ctx.pace = &pace;
    }
    for (; started < n; started++) {
        if (ctx.pace != NULL && pace_sleep_until(pace_due(&pace, started)) != 0) {
            aborted = 1; /* the rest is not made, as with every strategy */
            break;
        }
        args[started] = (map_arg_t){&ctx, started};
        worker_latch_add(&ctx.running, 1);
        if (worker_spawn(&tid, 1, map_one, &args[started], started, n, &r->error) != 0) {
            worker_latch_done(&ctx.running);
            break;
        }
    }
    worker_latch_wait(&ctx.running);
    r->threads = started;
    if ((started == n || aborted) && ctx.pool.err.msg[0] != '\0') r->error = ctx.pool.err;
    worker_pool_merge(&ctx.pool, &r->tally);
    worker_pool_close(&ctx.pool);
    worker_latch_close(&ctx.running);
    free(args);
    return (started == n || aborted) && ctx.pool.err.msg[0] == '\0' ? 0 : -1;
}

const strategy_t strategy_threads_map = {
    .name = "threads-map",
    .run = run,
};
