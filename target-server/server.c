#include "server.h"

#include "conn.h"
#include "opt.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket bound to ai's address at port. reuseport: join the port's
 * SO_REUSEPORT group (one listener per worker; libuv 1.44 has no
 * UV_TCP_REUSEPORT, so it is set before bind here). -1 with err. */
static int bind_at(const struct addrinfo *ai, int port, int flags, int reuseport, char *err)
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
        snprintf(err, OPT_ERR_LEN, "cannot listen on port %d: %s", port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* SO_REUSEPORT would let us join a group another server already listens in
 * and quietly take part of its connections; a plain bind first finds any
 * listener on the port. The probe picks the port for --port 0, too. */
static int probe_port(const struct addrinfo *ai, int *port, char *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = bind_at(ai, *port, 0, 0, err);

    if (fd < 0) return -1;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, OPT_ERR_LEN, "cannot listen on port %d: %s", *port, strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    close(fd);
    return 0;
}

int srv_listen_fds(const config_t *cfg, int *fds, unsigned n, int *port, char *err)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *ai;
    unsigned i;
    int rc;

    rc = getaddrinfo(cfg->host, NULL, &hints, &ai);
    if (rc != 0) {
        snprintf(err, OPT_ERR_LEN, "--host: cannot resolve '%.64s': %s", cfg->host,
                 gai_strerror(rc));
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
    snprintf(err + strlen(err), OPT_ERR_LEN - strlen(err), " (%s)", cfg->host);
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

void srv_conn_gone(srv_worker_t *w)
{
    atomic_fetch_sub(w->nconns_all, 1);
    if (w->draining == 1 && w->nconns == 0) {
        w->draining = 2;
        worker_finish(w);
    }
}

static void on_stop(uv_async_t *a)
{
    srv_worker_t *w = a->data;

    if (w->draining) return;
    w->draining = 1;
    uv_close((uv_handle_t *)&w->listener, NULL);
    uv_timer_start(&w->drain, on_drain_timeout, w->cfg->drain_timeout_ms, 0);
    conn_drain(w);
    if (w->nconns == 0 && w->draining == 1) {
        w->draining = 2;
        worker_finish(w);
    }
}

int srv_worker_init(srv_worker_t *w, const config_t *cfg, int fd, unsigned idx,
                    atomic_uint_fast64_t *nconns_all, char *err)
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
    rc = uv_loop_init(&w->loop);
    if (rc == 0) rc = uv_tcp_init(&w->loop, &w->listener);
    if (rc == 0) rc = uv_tcp_open(&w->listener, fd);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&w->listener, 4096, on_connection);
    if (rc == 0) rc = uv_async_init(&w->loop, &w->stop, on_stop);
    if (rc == 0) rc = uv_timer_init(&w->loop, &w->sweep);
    if (rc == 0) rc = uv_timer_init(&w->loop, &w->drain);
    if (rc != 0) {
        snprintf(err, OPT_ERR_LEN, "worker %u: %s", idx, uv_strerror(rc));
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

int srv_worker_start(srv_worker_t *w, char *err)
{
    pthread_attr_t attr;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    rc = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, OPT_ERR_LEN, "cannot start a worker thread: %s", strerror(rc));
        return -1;
    }
    w->started = 1;
    return 0;
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
