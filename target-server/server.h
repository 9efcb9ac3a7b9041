/* server: one worker per thread, each with its own libuv loop and its own
 * SO_REUSEPORT listener, sharing nothing on the hot path but a connection
 * counter (for --max-connections). */
#ifndef TS_SERVER_H
#define TS_SERVER_H

#include "config.h"
#include "meter.h"
#include "pool.h"
#include "resp.h"

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

typedef struct conn_s conn_t;

typedef struct srv_worker_s {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;  /* the main thread asks for a graceful drain */
    uv_timer_t sweep; /* header and idle timeouts, coarse */
    uv_timer_t drain; /* bounds the drain */
    pthread_t thread;
    const config_t *cfg;
    atomic_uint_fast64_t *nconns_all; /* shared by all workers */
    pool_t pool;
    resp_cache_t rc;
    uint64_t rng;
    conn_t *conns; /* open connections, for sweep and drain */
    size_t nconns;
    int draining;
    int started;
    meter_t meter;                  /* what this worker served, for GET /stats */
    uint64_t start_ns;              /* uv_hrtime() when the worker started */
    const struct srv_worker_s *all; /* every worker, for GET /stats */
    unsigned nall;
    char scratch[4096]; /* sink for bytes that are read only to be dropped */
} srv_worker_t;

/* Creates n listening sockets bound to cfg's address with SO_REUSEPORT;
 * *port gets the bound port (useful with --port 0). */
int srv_listen_fds(const config_t *cfg, int *fds, unsigned n, int *port, char *err);
int srv_worker_init(srv_worker_t *w, const config_t *cfg, int fd, unsigned idx,
                    atomic_uint_fast64_t *nconns_all, char *err);
int srv_worker_start(srv_worker_t *w, char *err);
/* Thread-safe: begins the graceful drain; the worker's thread then ends. */
void srv_worker_stop(srv_worker_t *w);
void srv_worker_join(srv_worker_t *w);
void srv_worker_close(srv_worker_t *w);

/* The GET /stats document (meter.h) of every worker in w->all, into buf;
 * its length, 0 if it does not fit. Any worker's thread. */
size_t srv_stats_json(const srv_worker_t *w, char *buf, size_t cap);

/* Called by conn when a connection is gone, so a drain can finish. */
void srv_conn_gone(srv_worker_t *w);

#endif
