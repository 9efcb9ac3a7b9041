/* threads-recreate: for each chunk of C numbers, start C threads, each making
 * one blocking request, and join them all before the next chunk; the seed
 * made a new ThreadPoolExecutor(C) per chunk and shut it down. Thread j of
 * every chunk uses worker j, so a connection outlives its thread and is
 * reused by thread j of the next chunk. */
#include "strategy.h"
#include "workers.h"

#include <stdlib.h>

typedef struct {
    worker_t *w;
    uint64_t number;
} job_t;

static void *do_job(void *arg)
{
    job_t *job = arg;

    req_perform(&job->w->req, job->number, &job->w->tally);
    return NULL;
}

/* One chunk: numbers base .. base+m-1 on m new threads, joined. */
static int run_chunk(worker_pool_t *pool, pthread_t *tids, job_t *jobs, uint64_t base, uint64_t m,
                     uint64_t n, char *err)
{
    uint64_t started = 0;

    for (; started < m; started++) {
        jobs[started] = (job_t){pool->all[started], base + started};
        if (worker_spawn(&tids[started], 0, do_job, &jobs[started], base + started, n, err) != 0)
            break;
    }
    for (uint64_t j = 0; j < started; j++)
        pthread_join(tids[j], NULL);
    return started == m ? 0 : -1;
}

static int run(const run_params_t *p, run_result_t *r)
{
    uint64_t n = p->requests, c = p->chunk < n ? p->chunk : n;
    pthread_t *tids = calloc(c, sizeof *tids);
    job_t *jobs = calloc(c, sizeof *jobs);
    worker_pool_t pool;
    int rc = -1;

    if (tids == NULL || jobs == NULL || worker_pool_init(&pool, p, c, r->err) != 0) {
        free(tids);
        free(jobs);
        snprintf(r->err, RUN_ERR_LEN, "out of memory for %llu threads", (unsigned long long)c);
        return -1;
    }
    if (worker_pool_fill(&pool, c, r->err) == 0) {
        rc = 0;
        for (uint64_t base = 0; base < n && rc == 0; base += c)
            rc = run_chunk(&pool, tids, jobs, base, n - base < c ? n - base : c, n, r->err);
    }
    r->threads = n;
    worker_pool_merge(&pool, &r->tally);
    worker_pool_close(&pool);
    free(tids);
    free(jobs);
    return rc;
}

const strategy_t strategy_threads_recreate = {
    .name = "threads-recreate",
    .run = run,
};
