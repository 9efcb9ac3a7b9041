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

/* A worker's lifetime: it serves until asked to stop, then drains. */
typedef enum {
    SRV_SERVING,  /* accepting and answering */
    SRV_DRAINING, /* listener closed; answering what is in flight, closing the rest */
    SRV_FINISHED, /* no connection left: the worker's handles close, its loop ends */
} srv_state_t;

/* A worker's open connections (for sweep and drain): each connection
 * embeds a link, which srv_conn_add and srv_conn_remove alone change. */
typedef struct srv_link_s {
    struct srv_link_s *prev, *next;
} srv_link_t;

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
    srv_link_t *conns; /* open connections: a list through their links */
    size_t nconns;
    srv_state_t state;
    int started;
    meter_t meter;                  /* what this worker served, for GET /stats */
    uint64_t start_ns;              /* uv_hrtime() when the worker started */
    const struct srv_worker_s *all; /* every worker, for GET /stats */
    unsigned nall;
    char scratch[4096]; /* sink for bytes that are read only to be dropped */
} srv_worker_t;

/* Creates n listening sockets bound to cfg's address with SO_REUSEPORT;
 * *port gets the bound port (useful with --port 0). */
int srv_listen_fds(const config_t *cfg, int *fds, unsigned n, int *port, fb_err_t *err);
int srv_worker_init(srv_worker_t *w, const config_t *cfg, int fd, unsigned idx,
                    atomic_uint_fast64_t *nconns_all, fb_err_t *err);
int srv_worker_start(srv_worker_t *w, fb_err_t *err);
/* Thread-safe: begins the graceful drain; the worker's thread then ends. */
void srv_worker_stop(srv_worker_t *w);
void srv_worker_join(srv_worker_t *w);
void srv_worker_close(srv_worker_t *w);

/* The GET /stats document (meter.h) of every worker in w->all, into buf;
 * its length, 0 if it does not fit. Any worker's thread. */
size_t srv_stats_json(const srv_worker_t *w, char *buf, size_t cap);

/* A connection is open (listed for sweep and drain) / closing (no longer
 * listed). */
void srv_conn_add(srv_worker_t *w, srv_link_t *l);
void srv_conn_remove(srv_worker_t *w, srv_link_t *l);
/* Called by conn when a connection is gone, so a drain can finish. */
void srv_conn_gone(srv_worker_t *w);

#endif
