#include "async.h"

#include "clock.h"
#include "request.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

struct async_s {
    uv_loop_t loop;
    uv_timer_t timer; /* curl's next timeout, when it is > 0 ms */
    uv_idle_t kick;   /* curl's next timeout, when it is 0 ms */
    /* With a rate: a timerfd wakes the loop when the next request is due,
     * to the microsecond (a uv timer has 1 ms steps, which would make every
     * request up to 1 ms late). Watched only while armed. */
    int pace_fd;
    uv_poll_t pace_poll;
    int pace_armed;
    CURLM *multi;
    req_t *slots; /* one easy handle each, recycled */
    size_t nslots;
    req_t **idle; /* slots not in the multi */
    size_t nidle;
    size_t active;               /* added to the multi, not finished */
    struct async_sock_s **owned; /* by fd: watchers of the sockets on_open made */
    size_t nowned;
    tally_t tally;
    int failed; /* a callback failed: err says why */
    fb_err_t err;
};

/* A watcher of one socket. Every uv_poll_start costs two epoll_ctl and a
 * new watcher an ioctl, so watchers of curl's connections (made in on_open,
 * "owned") outlive CURL_POLL_REMOVE: between two requests on a kept-alive
 * connection the watcher is parked, still registered, and the next request
 * needs no system call to watch it. on_close ends it before the fd is
 * closed, so a new socket reusing the fd number never meets it. Sockets
 * curl makes otherwise (a resolver's) get a watcher from announce to
 * REMOVE. Freed in the close callback. */
typedef struct async_sock_s {
    uv_poll_t poll;
    curl_socket_t fd;
    int events; /* what the poll watches: 0 stopped */
    int wanted; /* what curl wants: 0 parked */
    int owned;
    async_t *a;
} async_sock_t;

/* Callbacks cannot return errors to their caller: the first one is kept
 * and async_submit/async_drain return it. */
static void async_fail(async_t *a, const char *fmt, ...)
{
    va_list ap;

    if (a->failed) return;
    a->failed = 1;
    va_start(ap, fmt);
    fb_err_vset(&a->err, fmt, ap);
    va_end(ap);
}

static void collect_done(async_t *a)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(a->multi, &left)) != NULL) {
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;

        if (m->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        req_finish((req_t *)priv, rc, &a->tally);
        curl_multi_remove_handle(a->multi, easy); /* m is invalid from here */
        a->idle[a->nidle++] = (req_t *)priv;
        a->active--;
    }
}

static void socket_action(async_t *a, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode mc = curl_multi_socket_action(a->multi, fd, flags, &running);

    if (mc != CURLM_OK) async_fail(a, "curl_multi_socket_action: %s", curl_multi_strerror(mc));
    collect_done(a);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    async_sock_t *s = h->data;
    int flags = 0;

    if (s->wanted == 0) {
        /* parked and the peer closed or wrote: stop watching (level-triggered,
         * it would fire on every iteration); curl finds the connection dead
         * when it next tries it */
        uv_poll_stop(&s->poll);
        s->events = 0;
        return;
    }
    if (status < 0) {
        flags = CURL_CSELECT_ERR; /* curl finds out what went wrong on the socket */
    } else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    socket_action(s->a, s->fd, flags);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static async_sock_t *watcher_new(async_t *a, curl_socket_t fd, int owned)
{
    async_sock_t *s = calloc(1, sizeof *s);
    int e;

    if (s == NULL) {
        async_fail(a, "out of memory for a socket watcher");
        return NULL;
    }
    if ((e = uv_poll_init_socket(&a->loop, &s->poll, fd)) != 0) {
        free(s);
        async_fail(a, "uv_poll_init_socket(%d): %s", (int)fd, uv_strerror(e));
        return NULL;
    }
    s->fd = fd;
    s->owned = owned;
    s->a = a;
    s->poll.data = s;
    return s;
}

/* uv_close stops the poll at once (epoll_ctl DEL), before any close(fd). */
static void watcher_close(async_sock_t *s)
{
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int watcher_watch(async_sock_t *s, int events)
{
    int e;

    s->wanted = events;
    if (events == s->events) return 0;
    if ((e = uv_poll_start(&s->poll, events, on_poll)) != 0) {
        async_fail(s->a, "uv_poll_start(%d): %s", (int)s->fd, uv_strerror(e));
        return -1;
    }
    s->events = events;
    return 0;
}

static async_sock_t *owned_get(async_t *a, curl_socket_t fd)
{
    return fd >= 0 && (size_t)fd < a->nowned ? a->owned[fd] : NULL;
}

static int owned_set(async_t *a, curl_socket_t fd, async_sock_t *s)
{
    if ((size_t)fd >= a->nowned) {
        size_t n = (size_t)fd + 1 > 2 * a->nowned ? (size_t)fd + 1 : 2 * a->nowned;
        async_sock_t **grown = realloc(a->owned, n * sizeof *grown);
        if (grown == NULL) return -1;
        memset(grown + a->nowned, 0, (n - a->nowned) * sizeof *grown);
        a->owned = grown;
        a->nowned = n;
    }
    a->owned[fd] = s;
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection's socket, and its watcher. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    async_t *a = clientp;
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
    async_sock_t *s;

    if (fd == CURL_SOCKET_BAD) return fd; /* curl reports errno as a connect error */
    if ((s = owned_get(a, fd)) != NULL) {
        /* The last socket with this number was closed without on_close:
         * libcurl 7.88 to 8.1 close a socket whose connect was cut short
         * (by a timeout) without CURLOPT_CLOSESOCKETFUNCTION (fixed in 8.2,
         * curl PR 11439). Its watcher would make uv_poll_init_socket fail
         * with EEXIST. */
        a->owned[fd] = NULL;
        watcher_close(s);
    }
    if ((s = watcher_new(a, fd, 1)) == NULL) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    if (owned_set(a, fd, s) != 0) {
        async_fail(a, "out of memory for socket %d", (int)fd);
        watcher_close(s);
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the watcher goes first, then the fd. */
static int on_close(void *clientp, curl_socket_t fd)
{
    async_t *a = clientp;
    async_sock_t *s = owned_get(a, fd);

    if (s != NULL) {
        a->owned[fd] = NULL;
        watcher_close(s);
    }
    return close(fd);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    async_t *a = userp;
    async_sock_t *s = socketp ? socketp : owned_get(a, fd);
    int events = 0;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL && s->owned)
            s->wanted = 0; /* parked until curl wants it again or closes it */
        else if (s != NULL)
            watcher_close(s);
        return 0;
    }
    if (s == NULL && (s = watcher_new(a, fd, 0)) == NULL) return -1;
    curl_multi_assign(a->multi, fd, s);
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    return watcher_watch(s, events);
}

static void on_timer(uv_timer_t *t)
{
    socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static void on_kick(uv_idle_t *i)
{
    uv_idle_stop(i);
    socket_action(i->data, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION. 0 ms means "as soon as possible": an idle handle
 * runs it on the next loop iteration, after polling. A 0 ms uv timer would
 * do in theory, but libuv 1.44 runs a timer restarted with 0 from its own
 * callback again in the same pass, a busy loop that starves the sockets. */
static int on_curl_timer(CURLM *multi, long ms, void *userp)
{
    async_t *a = userp;

    uv_timer_stop(&a->timer);
    uv_idle_stop(&a->kick);
    if (ms == 0)
        uv_idle_start(&a->kick, on_kick);
    else if (ms > 0)
        uv_timer_start(&a->timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

static int multi_setup(async_t *a, const run_params_t *p, fb_err_t *err)
{
    long conns = p->connections > 1000000 ? 1000000 : (long)p->connections;
    CURLMcode mc;

    a->multi = curl_multi_init();
    if (a->multi == NULL) {
        fb_err_set(err, "curl_multi_init failed");
        return -1;
    }
    /* MAXCONNECTS: the cache keeps every connection alive between transfers */
    if ((mc = curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, on_socket)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns)) != CURLM_OK ||
        (mc = curl_multi_setopt(a->multi, CURLMOPT_MAXCONNECTS, conns)) != CURLM_OK) {
        fb_err_set(err, "curl_multi_setopt: %s", curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

static int slots_setup(async_t *a, const run_params_t *p, fb_err_t *err)
{
    uint64_t n = p->in_flight == 0 || p->in_flight > p->requests ? p->requests : p->in_flight;

    a->slots = calloc(n ? n : 1, sizeof *a->slots);
    a->idle = calloc(n ? n : 1, sizeof *a->idle);
    if (a->slots == NULL || a->idle == NULL) {
        fb_err_set(err, "out of memory for %llu transfers", (unsigned long long)n);
        return -1;
    }
    for (; a->nslots < n; a->nslots++) {
        CURL *easy;
        if (req_init(&a->slots[a->nslots], p->base_url, p->timeout_ms, err) != 0) return -1;
        easy = a->slots[a->nslots].easy;
        if (curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, a) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, a) != CURLE_OK) {
            fb_err_set(err, "curl_easy_setopt: socket callbacks refused");
            a->nslots++;
            return -1;
        }
    }
    /* reversed, so that slot 0 is taken first */
    for (size_t i = 0; i < a->nslots; i++)
        a->idle[a->nidle++] = &a->slots[a->nslots - 1 - i];
    return 0;
}

static int pace_setup(async_t *a, fb_err_t *err)
{
    int e;

    a->pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (a->pace_fd < 0) {
        fb_err_set(err, "timerfd_create: %s", strerror(errno));
        return -1;
    }
    if ((e = uv_poll_init(&a->loop, &a->pace_poll, a->pace_fd)) != 0) {
        close(a->pace_fd);
        a->pace_fd = -1;
        fb_err_set(err, "uv_poll_init(timerfd): %s", uv_strerror(e));
        return -1;
    }
    a->pace_poll.data = a;
    return 0;
}

async_t *async_new(const run_params_t *p, fb_err_t *err)
{
    async_t *a = calloc(1, sizeof *a);
    int e;

    if (a == NULL || tally_init(&a->tally) != 0 || (p->rate > 0 && tally_pace(&a->tally) != 0)) {
        if (a != NULL) tally_close(&a->tally);
        free(a);
        fb_err_set(err, "out of memory");
        return NULL;
    }
    if ((e = uv_loop_init(&a->loop)) != 0) {
        fb_err_set(err, "uv_loop_init: %s", uv_strerror(e));
        tally_close(&a->tally);
        free(a);
        return NULL;
    }
    uv_timer_init(&a->loop, &a->timer);
    uv_idle_init(&a->loop, &a->kick);
    a->timer.data = a->kick.data = a;
    a->pace_fd = -1;
    if (multi_setup(a, p, err) != 0 || slots_setup(a, p, err) != 0 ||
        (p->rate > 0 && pace_setup(a, err) != 0))
        async_free(&a);
    return a;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h)) return;
    uv_close(h, h->type == UV_POLL ? on_sock_closed : NULL);
}

void async_free(async_t **ap)
{
    async_t *a = *ap;

    if (a == NULL) return;
    if (a->multi != NULL) {
        /* only after an error are handles still in the multi */
        for (size_t i = 0; a->active > 0 && i < a->nslots; i++)
            curl_multi_remove_handle(a->multi, a->slots[i].easy);
        curl_multi_cleanup(a->multi);
    }
    for (size_t i = 0; i < a->nslots; i++)
        req_close(&a->slots[i]);
    if (a->pace_fd >= 0) uv_close((uv_handle_t *)&a->pace_poll, NULL); /* not a socket watcher */
    uv_walk(&a->loop, close_handle, NULL);
    uv_run(&a->loop, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(&a->loop);
    if (a->pace_fd >= 0) close(a->pace_fd);
    tally_close(&a->tally);
    free(a->owned);
    free(a->slots);
    free(a->idle);
    free(a);
    *ap = NULL;
}

static int async_error(async_t *a, fb_err_t *err)
{
    if (!a->failed) return 0;
    *err = a->err;
    return -1;
}

/* One loop iteration: blocks until a socket is ready or a timeout is due. */
static int async_step(async_t *a, fb_err_t *err)
{
    if (uv_run(&a->loop, UV_RUN_ONCE) == 0 && a->active > 0) {
        /* nothing armed although transfers are running: let curl re-arm */
        socket_action(a, CURL_SOCKET_TIMEOUT, 0);
        if (a->active > 0 && !uv_loop_alive(&a->loop))
            async_fail(a, "event loop stalled with %zu transfers running", a->active);
    }
    return async_error(a, err);
}

int async_submit(async_t *a, uint64_t number, const char *url, fb_err_t *err)
{
    req_t *r;
    CURLMcode mc;

    if (run_aborted()) return 0; /* not made, not counted: the run is dropped */
    while (a->nidle == 0)
        if (async_step(a, err) != 0) return -1;
    r = a->idle[--a->nidle];
    req_start(r, number, url);
    if ((mc = curl_multi_add_handle(a->multi, r->easy)) != CURLM_OK) {
        a->idle[a->nidle++] = r;
        fb_err_set(err, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    a->active++;
    return async_error(a, err);
}

/* The timerfd fired: it only wakes the loop (async_submit_paced looks at
 * the clock). Read to clear it; unwatched until armed again. */
static void on_pace(uv_poll_t *h, int status, int events)
{
    async_t *a = h->data;
    uint64_t expirations;

    (void)status;
    (void)events;
    while (read(a->pace_fd, &expirations, sizeof expirations) == (ssize_t)sizeof expirations)
        ;
    uv_poll_stop(h);
    a->pace_armed = 0;
}

static int pace_arm(async_t *a, uint64_t due_ns, fb_err_t *err)
{
    struct itimerspec when = {
        .it_value = {(time_t)(due_ns / 1000000000u), (long)(due_ns % 1000000000u)}};
    int e;

    if (timerfd_settime(a->pace_fd, TFD_TIMER_ABSTIME, &when, NULL) != 0) {
        fb_err_set(err, "timerfd_settime: %s", strerror(errno));
        return -1;
    }
    if (!a->pace_armed) {
        if ((e = uv_poll_start(&a->pace_poll, UV_READABLE, on_pace)) != 0) {
            fb_err_set(err, "uv_poll_start(timerfd): %s", uv_strerror(e));
            return -1;
        }
        a->pace_armed = 1;
    }
    return 0;
}

int async_submit_paced(async_t *a, const pace_t *s, uint64_t number, const char *url, fb_err_t *err)
{
    uint64_t due = pace_due(s, number), now;
    req_t *r;
    CURLMcode mc;

    for (;;) {
        if (run_aborted()) return 0; /* not made, not counted: the run is dropped */
        now = clock_now_ns();
        if (pace_expire(s, due, now, &a->tally)) return async_error(a, err);
        if (now >= due && a->nidle > 0) break;
        /* at most PACE_SLICE_NS ahead, so that run_abort_set is seen */
        if (now < due &&
            pace_arm(a, due - now > PACE_SLICE_NS ? now + PACE_SLICE_NS : due, err) != 0)
            return -1;
        if (async_step(a, err) != 0) return -1;
    }
    r = a->idle[--a->nidle];
    req_start_due(r, number, url, due, s->timeout_ns / 1000000u);
    if ((mc = curl_multi_add_handle(a->multi, r->easy)) != CURLM_OK) {
        a->idle[a->nidle++] = r;
        fb_err_set(err, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    a->active++;
    return async_error(a, err);
}

int async_drain(async_t *a, fb_err_t *err)
{
    while (a->active > 0)
        if (async_step(a, err) != 0) return -1;
    return async_error(a, err);
}

void async_merge(async_t *a, tally_t *t)
{
    tally_merge(t, &a->tally);
}
