/* workers: what the three threads-* strategies share.
 *
 * A worker is one easy handle with its own tally. Whoever holds a worker
 * uses its handle for every request it makes, so the handle's connection
 * stays alive through the run; a handle is only ever passed from one thread
 * to the next through a join, a barrier or the pool's lock, never used by two
 * at once and never sharing a connection cache (curl's CURL_LOCK_DATA_CONNECT
 * across threads is unsafe). The pool holds every worker of a run, so they
 * are merged and freed in one place. Threads start with small stacks; a
 * latch lets the main thread wait for its threads, or call them off. */
#ifndef AGENT_WORKERS_H
#define AGENT_WORKERS_H

#include "request.h"
#include "run.h"
#include "tally.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    req_t req;
    tally_t tally;
} worker_t;

typedef struct {
    pthread_mutex_t lock; /* guards idle, all and err for take/give */
    worker_t **all;       /* every worker made this run */
    size_t nall, cap;
    worker_t **idle; /* ready to be taken */
    size_t nidle;
    const run_params_t *params;
    fb_err_t err; /* why take failed, when it did */
} worker_pool_t;

/* A pool that will hold at most cap workers. */
int worker_pool_init(worker_pool_t *p, const run_params_t *params, size_t cap, fb_err_t *err);
/* Frees every worker. */
void worker_pool_close(worker_pool_t *p);
/* Makes workers until there are n (<= cap), for strategies that index them
 * (p->all[i]) instead of taking them. */
int worker_pool_fill(worker_pool_t *p, size_t n, fb_err_t *err);
/* Thread-safe: an idle worker, or a new one while fewer than cap exist.
 * NULL (p->err says why) if none can be made. */
worker_t *worker_pool_take(worker_pool_t *p);
/* Thread-safe: w is idle again. */
void worker_pool_give(worker_pool_t *p, worker_t *w);
/* Adds every worker's tally into t; call after the threads are done. */
void worker_pool_merge(worker_pool_t *p, tally_t *t);

/* Starts fn(arg) on a new thread with a small stack, detached or joinable.
 * On failure err names the thread (index of total) and the reason. */
int worker_spawn(pthread_t *t, int detached, void *(*fn)(void *), void *arg, uint64_t index,
                 uint64_t total, fb_err_t *err);

/* The most threads the system lets this process have at once, as far as
 * it says: the least of kernel.threads-max, kernel.pid_max and (but for
 * root) ulimit -u; what names the limit that binds. */
uint64_t worker_thread_limit(const char **what);

/* A counter the main thread can wait on until it reaches zero. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t zero;
    uint64_t count;
    int cancelled;
} worker_latch_t;

void worker_latch_init(worker_latch_t *l, uint64_t count);
void worker_latch_close(worker_latch_t *l);
void worker_latch_add(worker_latch_t *l, uint64_t n);
/* Counts one down. A detached thread calls this last: after it returns the
 * latch may be gone. */
void worker_latch_done(worker_latch_t *l);
/* Blocks until the count is zero (0) or the latch is cancelled (-1). */
int worker_latch_wait(worker_latch_t *l);
/* Wakes every waiter with -1. */
void worker_latch_cancel(worker_latch_t *l);

#endif
