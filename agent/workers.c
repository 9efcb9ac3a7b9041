#include "workers.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Enough for curl_easy_perform on a numeric host; threads-map starts N of
 * them. Sanitizers grow frames several times. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WORKER_STACK (512 * 1024)
#else
#define WORKER_STACK (64 * 1024)
#endif

static worker_t *worker_new(const run_params_t *params, fb_err_t *err)
{
    worker_t *w = malloc(sizeof *w);

    if (w == NULL) {
        fb_err_set(err, "out of memory for a worker");
        return NULL;
    }
    if (tally_init(&w->tally) != 0 || (params->rate > 0 && tally_pace(&w->tally) != 0)) {
        fb_err_set(err, "out of memory for a histogram");
        tally_close(&w->tally);
        free(w);
        return NULL;
    }
    if (req_init(&w->req, params->base_url, params->timeout_ms, err) != 0) {
        tally_close(&w->tally);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(worker_t *w)
{
    req_close(&w->req);
    tally_close(&w->tally);
    free(w);
}

int worker_pool_init(worker_pool_t *p, const run_params_t *params, size_t cap, fb_err_t *err)
{
    memset(p, 0, sizeof *p);
    p->params = params;
    p->cap = cap;
    p->all = calloc(cap ? cap : 1, sizeof *p->all);
    p->idle = calloc(cap ? cap : 1, sizeof *p->idle);
    if (p->all == NULL || p->idle == NULL) {
        free(p->all);
        free(p->idle);
        fb_err_set(err, "out of memory for %zu workers", cap);
        return -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    return 0;
}

void worker_pool_close(worker_pool_t *p)
{
    for (size_t i = 0; i < p->nall; i++)
        worker_free(p->all[i]);
    free(p->all);
    free(p->idle);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

int worker_pool_fill(worker_pool_t *p, size_t n, fb_err_t *err)
{
    while (p->nall < n && p->nall < p->cap) {
        worker_t *w = worker_new(p->params, err);
        if (w == NULL) return -1;
        p->all[p->nall++] = w;
    }
    return 0;
}

worker_t *worker_pool_take(worker_pool_t *p)
{
    worker_t *w = NULL;
    fb_err_t err;

    pthread_mutex_lock(&p->lock);
    if (p->nidle > 0) w = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->lock);
    if (w != NULL) return w;

    w = worker_new(p->params, &err); /* outside the lock: curl_easy_init is slow-ish */
    pthread_mutex_lock(&p->lock);
    if (w != NULL && p->nall < p->cap) {
        p->all[p->nall++] = w;
    } else {
        if (w != NULL) fb_err_set(&err, "more workers than the %zu planned", p->cap);
        if (p->err.msg[0] == '\0') p->err = err;
        if (w != NULL) worker_free(w);
        w = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    return w;
}

void worker_pool_give(worker_pool_t *p, worker_t *w)
{
    pthread_mutex_lock(&p->lock);
    p->idle[p->nidle++] = w; /* nidle <= nall <= cap */
    pthread_mutex_unlock(&p->lock);
}

void worker_pool_merge(worker_pool_t *p, tally_t *t)
{
    for (size_t i = 0; i < p->nall; i++)
        tally_merge(t, &p->all[i]->tally);
}

int worker_spawn(pthread_t *t, int detached, void *(*fn)(void *), void *arg, uint64_t index,
                 uint64_t total, fb_err_t *err)
{
    pthread_attr_t attr;
    size_t stack = WORKER_STACK < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : WORKER_STACK;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    if (detached) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fb_err_set(err,
                   "cannot start thread %llu of %llu: %s (see ulimit -u and -v, "
                   "/proc/sys/kernel/threads-max, vm.max_map_count)",
                   (unsigned long long)index + 1, (unsigned long long)total, strerror(rc));
        return -1;
    }
    return 0;
}

static void lower_limit(uint64_t *limit, const char **what, uint64_t v, const char *name)
{
    if (v < *limit) {
        *limit = v;
        *what = name;
    }
}

static uint64_t read_u64_file(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;

    if (f == NULL) return UINT64_MAX;
    if (fscanf(f, "%llu", &v) != 1) v = ULLONG_MAX;
    fclose(f);
    return v;
}

uint64_t worker_thread_limit(const char **what)
{
    uint64_t limit = UINT64_MAX;
    struct rlimit rl;

    *what = "no known limit";
    lower_limit(&limit, what, read_u64_file("/proc/sys/kernel/threads-max"), "kernel.threads-max");
    lower_limit(&limit, what, read_u64_file("/proc/sys/kernel/pid_max"), "kernel.pid_max");
    if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lower_limit(&limit, what, (uint64_t)rl.rlim_cur, "ulimit -u");
    return limit;
}

void worker_latch_init(worker_latch_t *l, uint64_t count)
{
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->zero, NULL);
    l->count = count;
    l->cancelled = 0;
}

void worker_latch_close(worker_latch_t *l)
{
    pthread_cond_destroy(&l->zero);
    pthread_mutex_destroy(&l->lock);
}

void worker_latch_add(worker_latch_t *l, uint64_t n)
{
    pthread_mutex_lock(&l->lock);
    l->count += n;
    pthread_mutex_unlock(&l->lock);
}

void worker_latch_done(worker_latch_t *l)
{
    pthread_mutex_lock(&l->lock);
    /* signalled under the lock: the waiter cannot destroy the condition
     * before this thread is done with it */
    if (--l->count == 0) pthread_cond_broadcast(&l->zero);
    pthread_mutex_unlock(&l->lock);
}

int worker_latch_wait(worker_latch_t *l)
{
    int rc;

    pthread_mutex_lock(&l->lock);
    while (l->count > 0 && !l->cancelled)
        pthread_cond_wait(&l->zero, &l->lock);
    rc = l->cancelled ? -1 : 0;
    pthread_mutex_unlock(&l->lock);
    return rc;
}

void worker_latch_cancel(worker_latch_t *l)
{
    pthread_mutex_lock(&l->lock);
    l->cancelled = 1;
    pthread_cond_broadcast(&l->zero);
    pthread_mutex_unlock(&l->lock);
}
