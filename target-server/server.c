#include "server.h"

#include "conn.h"
#include "opt.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A socket bound to ai's address at port. reuseport: join the port's
 * SO_REUSEPORT group (one listener per worker; libuv 1.44 has no
 * UV_TCP_REUSEPORT, so it is set before bind here). -1 with err. */
static int bind_at(const struct addrinfo *ai, int port, int flags, int reuseport, fb_err_t *err)
{
    struct sockaddr_storage ss;
    int fd, one = 1;

    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) != 0) {
        fb_err_set(err, "cannot listen on port %d: %s", port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* SO_REUSEPORT would let us join a group another server already listens in
 * and quietly take part of its connections; a plain bind first finds any
 * listener on the port. The probe picks the port for --port 0, too. */
static int probe_port(const struct addrinfo *ai, int *port, fb_err_t *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = bind_at(ai, *port, 0, 0, err);

    if (fd < 0) return -1;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        fb_err_set(err, "cannot listen on port %d: %s", *port, strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    close(fd);
    return 0;
}

int srv_listen_fds(const config_t *cfg, int *fds, unsigned n, int *port, fb_err_t *err)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *ai;
    unsigned i;
    int rc;

    rc = getaddrinfo(cfg->host, NULL, &hints, &ai);
    if (rc != 0) {
        fb_err_set(err, "--host: cannot resolve '%.64s': %s", cfg->host, gai_strerror(rc));
        return -1;
    }
    *port = cfg->port;
    for (i = 0; i < n; i++) {
        if (i == 0 && probe_port(ai, port, err) != 0) break;
        fds[i] = bind_at(ai, *port, SOCK_NONBLOCK, 1, err);
        if (fds[i] < 0) break;
    }
    freeaddrinfo(ai);
    if (i == n) return 0;
    while (i-- > 0)
        close(fds[i]);
    fb_err_append(err, " (%s)", cfg->host);
    return -1;
}

static void on_connection(uv_stream_t *server, int status)
{
    srv_worker_t *w = server->data;

    if (status == 0) conn_accept(w);
}

static void on_sweep(uv_timer_t *t)
{
    srv_worker_t *w = t->data;

    conn_sweep(w, uv_now(&w->loop));
}

static void worker_finish(srv_worker_t *w)
{
    uv_close((uv_handle_t *)&w->stop, NULL);
    uv_close((uv_handle_t *)&w->sweep, NULL);
    uv_close((uv_handle_t *)&w->drain, NULL);
}

static void on_drain_timeout(uv_timer_t *t)
{
    conn_close_all(t->data); /* srv_conn_gone finishes the worker */
}

/* A drain is over when its last connection is gone. */
static void drain_check(srv_worker_t *w)
{
    if (w->state != SRV_DRAINING || w->nconns != 0) return;
    w->state = SRV_FINISHED;
    worker_finish(w);
}

void srv_conn_add(srv_worker_t *w, srv_link_t *l)
{
    l->prev = NULL;
    l->next = w->conns;
    if (w->conns) w->conns->prev = l;
    w->conns = l;
    w->nconns++;
}

void srv_conn_remove(srv_worker_t *w, srv_link_t *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        w->conns = l->next;
    if (l->next) l->next->prev = l->prev;
    l->prev = l->next = NULL;
    w->nconns--;
}

void srv_conn_gone(srv_worker_t *w)
{
    atomic_fetch_sub(w->nconns_all, 1);
    drain_check(w);
}

static void on_stop(uv_async_t *a)
{
    srv_worker_t *w = a->data;

    if (w->state != SRV_SERVING) return;
    w->state = SRV_DRAINING;
    uv_close((uv_handle_t *)&w->listener, NULL);
    uv_timer_start(&w->drain, on_drain_timeout, w->cfg->drain_timeout_ms, 0);
    conn_drain(w);
    drain_check(w);
}

int srv_worker_init(srv_worker_t *w, const config_t *cfg, int fd, unsigned idx,
                    atomic_uint_fast64_t *nconns_all, fb_err_t *err)
{
    uint64_t sweep = cfg->header_timeout_ms < cfg->idle_timeout_ms ? cfg->header_timeout_ms
                                                                   : cfg->idle_timeout_ms;
    size_t block = 16384;
    int rc;

    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->nconns_all = nconns_all;
    /* a block holds a whole request-target plus room to keep reading */
    if (block < cfg->max_uri + 4096) block = cfg->max_uri + 4096;
    pool_init(&w->pool, block, 256); /* 4 MiB kept per thread at most */
    w->rng = (cfg->seed + 0x9e3779b97f4a7c15ull * (idx + 1)) | 1;
    meter_init(&w->meter);
    rc = uv_loop_init(&w->loop);
    /* idle time in epoll, for GET /stats's busy time; libuv reads it under a lock */
    if (rc == 0) rc = uv_loop_configure(&w->loop, UV_METRICS_IDLE_TIME);
    if (rc == 0) rc = uv_tcp_init(&w->loop, &w->listener);
    if (rc == 0) rc = uv_tcp_open(&w->listener, fd);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&w->listener, 4096, on_connection);
    if (rc == 0) rc = uv_async_init(&w->loop, &w->stop, on_stop);
    if (rc == 0) rc = uv_timer_init(&w->loop, &w->sweep);
    if (rc == 0) rc = uv_timer_init(&w->loop, &w->drain);
    if (rc != 0) {
        fb_err_set(err, "worker %u: %s", idx, uv_strerror(rc));
        return -1;
    }
    w->listener.data = w->stop.data = w->sweep.data = w->drain.data = w;
    /* timeouts are checked at a quarter of the shortest one: coarse but free */
    sweep /= 4;
    if (sweep < 10) sweep = 10;
    if (sweep > 1000) sweep = 1000;
    uv_timer_start(&w->sweep, on_sweep, sweep, sweep);
    return 0;
}

static void *worker_main(void *arg)
{
    srv_worker_t *w = arg;

    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

int srv_worker_start(srv_worker_t *w, fb_err_t *err)
{
    pthread_attr_t attr;
    int rc;

    w->start_ns = uv_hrtime();
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    rc = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fb_err_set(err, "cannot start a worker thread: %s", strerror(rc));
        return -1;
    }
    w->started = 1;
    return 0;
}

size_t srv_stats_json(const srv_worker_t *w, char *buf, size_t cap)
{
    static meter_snapshot_t s; /* 4 KiB: off the small worker stacks (one at a time) */
    static uint64_t last_busy[METER_MAX_LOOPS];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct timespec cpu;
    uint64_t first = UINT64_MAX;
    size_t n;

    pthread_mutex_lock(&mu);
    memset(&s, 0, sizeof s);
    s.loops = w->nall;
    s.cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0)
        s.cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    for (unsigned i = 0; i < w->nall; i++) {
        const srv_worker_t *x = &w->all[i];
        /* idle time first, then the clock: the loop's idle time counts up to
         * a moment before ours, never after it */
        uint64_t idle = uv_metrics_idle_time((uv_loop_t *)&x->loop), now = uv_hrtime();
        uint64_t up = now - x->start_ns, busy = idle < up ? up - idle : 0;
        meter_add(&s, &x->meter);
        if (i < METER_MAX_LOOPS) {
            /* what is left of the gap between the two clock reads could make
             * a quiet loop's busy time step back: it never does */
            if (busy < last_busy[i]) busy = last_busy[i];
            s.busy_ns[i] = last_busy[i] = busy;
        }
        if (x->start_ns < first) first = x->start_ns;
    }
    s.now_ns = uv_hrtime();
    s.uptime_ns = first < s.now_ns ? s.now_ns - first : 0;
    n = meter_json(&s, buf, cap);
    pthread_mutex_unlock(&mu);
    return n;
}

void srv_worker_stop(srv_worker_t *w)
{
    uv_async_send(&w->stop);
}

void srv_worker_join(srv_worker_t *w)
{
    if (w->started) pthread_join(w->thread, NULL);
    w->started = 0;
}

void srv_worker_close(srv_worker_t *w)
{
    uv_loop_close(&w->loop);
    pool_close(&w->pool);
}
