#include "fleet.h"

#include "curve.h"
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MS 1000000ull

uint64_t fleet_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CURVE for agent i: its key must be listed; ours is loaded once. */
static int secure_agent(fleet_t *f, void *sock, const char *host, int port, const char *key_path,
                        const char *known_path, char *err)
{
    static curve_key_t secret;
    static curve_known_t *known;
    static size_t nknown;
    const curve_key_t *server;
    char cerr[CURVE_ERR_LEN];

    if (key_path == NULL) return 0;
    if (known == NULL && (curve_load_secret(key_path, &secret, cerr) != 0 ||
                          curve_load_known(known_path, &known, &nknown, cerr) != 0)) {
        snprintf(err, FLEET_ERR_LEN, "%s", cerr);
        f->fatal = 1;
        return -1;
    }
    server = curve_known_find(known, nknown, host, port);
    if (server == NULL) {
        snprintf(err, FLEET_ERR_LEN, "agent %.255s:%d is not in %.255s: refusing to talk to it",
                 host, port, known_path);
        f->fatal = 5;
        return -1;
    }
    if (curve_client_setup(sock, &secret, server, cerr) != 0) {
        snprintf(err, FLEET_ERR_LEN, "%s", cerr);
        f->fatal = 1;
        return -1;
    }
    return 0;
}

/* Handshake events of agent i's socket, so a refused key is reported as
 * such instead of looking like a silent agent. */
static int monitor_agent(fleet_t *f, size_t i, char *err)
{
    char ep[64];
    fleet_agent_t *a = &f->a[i];

    snprintf(ep, sizeof ep, "inproc://fleet-mon-%zu", i);
    if (zmq_socket_monitor(a->sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (a->mon = zmq_socket(f->zctx, ZMQ_PAIR)) == NULL || zmq_connect(a->mon, ep) != 0) {
        snprintf(err, FLEET_ERR_LEN, "monitor of agent %s: %s", a->name, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

int fleet_init(fleet_t *f, char (*hosts)[256], const int *ports, size_t n, uint32_t hb_ms,
               uint32_t live_ms, const char *key_path, const char *known_path, char *err)
{
    char perr[PROTO_ERR_LEN], ep[320];
    uint64_t now = fleet_now();

    memset(f, 0, sizeof *f);
    f->hb_ms = hb_ms;
    f->live_ms = live_ms;
    f->session = now ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
    f->in = malloc(sizeof *f->in);
    f->out = malloc(sizeof *f->out);
    f->hello = calloc(1, sizeof *f->hello);
    f->a = calloc(n, sizeof *f->a);
    f->zctx = zmq_ctx_new();
    if (f->in == NULL || f->out == NULL || f->hello == NULL || f->a == NULL || f->zctx == NULL) {
        snprintf(err, FLEET_ERR_LEN, "out of memory");
        return -1;
    }
    f->n = n;
    /* a DEALER and two monitor PAIRs per agent; libzmq's default is 1023 */
    if (3 * n + 16 > 1023) zmq_ctx_set(f->zctx, ZMQ_MAX_SOCKETS, (int)(3 * n + 16));
    for (size_t i = 0; i < n; i++) {
        fleet_agent_t *a = &f->a[i];
        int v6 = strchr(hosts[i], ':') != NULL;
        snprintf(a->name, sizeof a->name, v6 ? "[%s]:%d" : "%s:%d", hosts[i], ports[i]);
        snprintf(ep, sizeof ep, "tcp://%s", a->name);
        a->last_heard = now;
        a->result = malloc(sizeof *a->result);
        a->sock = zmq_socket(f->zctx, ZMQ_DEALER);
        if (a->result == NULL || a->sock == NULL) {
            snprintf(err, FLEET_ERR_LEN, "agent %s: %s", a->name,
                     a->result ? zmq_strerror(errno) : "out of memory");
            return -1;
        }
        if (secure_agent(f, a->sock, hosts[i], ports[i], key_path, known_path, err) != 0 ||
            monitor_agent(f, i, err) != 0)
            return -1;
        if (wire_socket_setup(a->sock, perr) != 0 ||
            zmq_setsockopt(a->sock, ZMQ_IPV6, &v6, sizeof v6) != 0 ||
            zmq_connect(a->sock, ep) != 0) {
            snprintf(err, FLEET_ERR_LEN, "agent %s: %s", a->name, zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

void fleet_close(fleet_t *f)
{
    for (size_t i = 0; f->a && i < f->n; i++) {
        if (f->a[i].sock) zmq_close(f->a[i].sock);
        if (f->a[i].mon) zmq_close(f->a[i].mon);
        free(f->a[i].result);
    }
    if (f->zctx) zmq_ctx_term(f->zctx);
    free(f->a);
    free(f->in);
    free(f->out);
    free(f->hello);
    memset(f, 0, sizeof *f);
}

size_t fleet_live(const fleet_t *f)
{
    return f->n - f->lost;
}

static void fleet_fatal(fleet_t *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fleet_fatal(fleet_t *f, int code, const char *fmt, ...)
{
    va_list ap;

    if (f->fatal) return; /* the first reason is the one to tell */
    f->fatal = code;
    va_start(ap, fmt);
    vsnprintf(f->fatal_msg, sizeof f->fatal_msg, fmt, ap);
    va_end(ap);
}

static void agent_lost(fleet_t *f, fleet_agent_t *a, const char *why)
{
    if (a->state == AGENT_LOST) return;
    a->state = AGENT_LOST;
    a->waiting = a->running = false;
    f->lost++;
    fprintf(stderr, "coordinator: agent %s lost: %s\n", a->name, why);
    if (f->loss_abort)
        fleet_fatal(f, 3, "agent %s lost (--on-agent-loss abort)", a->name);
    else if (fleet_live(f) == 0)
        fleet_fatal(f, 3, "every agent is lost");
}

static void send_msg(fleet_t *f, fleet_agent_t *a, proto_msg_t *m)
{
    char err[PROTO_ERR_LEN];

    m->version = proto_version();
    m->session = f->session;
    if (wire_send(a->sock, NULL, 0, m, err) != 0) {
        agent_lost(f, a, err);
        return;
    }
    a->last_sent = fleet_now();
}

void fleet_send(fleet_t *f, size_t i, bool want_reply)
{
    fleet_agent_t *a = &f->a[i];

    if (a->state == AGENT_LOST) return;
    a->waiting = want_reply;
    if (f->out->type == PROTO_GO) {
        a->running = true;
        a->go_sent = fleet_now();
    }
    send_msg(f, a, f->out);
}

void fleet_send_all(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        fleet_send(f, i, true);
}

/* An agent's refusal: what it means for the whole matrix. */
static void on_error(fleet_t *f, fleet_agent_t *a, const proto_error_t *e)
{
    static const int exit_of[PROTO_ERR__MAX] = {
        [PROTO_ERR_BAD_MESSAGE] = 5, [PROTO_ERR_VERSION] = 5,       [PROTO_ERR_BUSY] = 3,
        [PROTO_ERR_STRATEGY] = 1,    [PROTO_ERR_TARGET_DENIED] = 1, [PROTO_ERR_UNREACHABLE] = 4,
        [PROTO_ERR_STATE] = 5,       [PROTO_ERR_INTERNAL] = 1,
    };

    if (e->code == PROTO_ERR_BUSY && a->hello_retry != 0) { /* say hello again soon */
        a->hello_retry = fleet_now() + (uint64_t)f->hb_ms * MS;
        return;
    }
    fleet_fatal(f, exit_of[e->code], "agent %s: %s: %s", a->name, proto_err_name(e->code),
                e->message);
}

/* A lost agent that answers our hello again (a partition healed, the agent
 * restarted) is back: it takes part from the next run on, after the plan. */
static void on_lost_message(fleet_t *f, fleet_agent_t *a, int rc)
{
    const proto_msg_t *m = f->in;

    if (rc != PROTO_OK || m->type != PROTO_WELCOME || m->session != f->session) return;
    a->state = AGENT_LIVE;
    a->rejoined = true;
    a->waiting = a->running = false;
    a->facts = m->u.welcome;
    a->last_heard = fleet_now();
    f->lost--;
    fprintf(stderr, "coordinator: agent %s is back\n", a->name);
}

static void on_message(fleet_t *f, fleet_agent_t *a, int rc, const char *err, proto_type_t want)
{
    const proto_msg_t *m = f->in;

    if (a->state == AGENT_LOST) {
        on_lost_message(f, a, rc);
        return;
    }
    if (rc == PROTO_EVERSION) {
        if (m->type == PROTO_ERROR)
            fleet_fatal(f, 5, "agent %s refused: %s", a->name, m->u.error.message);
        else
            fleet_fatal(f, 5, "agent %s speaks protocol version %u, coordinator speaks %u", a->name,
                        m->version, proto_version());
        return;
    }
    if (rc != PROTO_OK) { /* logged, not fatal: the agent may still do its part */
        fprintf(stderr, "coordinator: bad message from agent %s: %s\n", a->name, err);
        return;
    }
    if (m->session != f->session && m->type != PROTO_ERROR) return; /* a stale session */
    a->last_heard = fleet_now();
    if (m->type == PROTO_ERROR) {
        on_error(f, a, &m->u.error);
    } else if (m->type == want && a->waiting) {
        a->waiting = false;
        if (want == PROTO_WELCOME) {
            a->facts = m->u.welcome;
            a->hello_retry = 0;
        } else if (want == PROTO_READY) {
            a->ready_clock = m->u.step.clock_ns;
            a->ready_at = a->last_heard;
        } else if (want == PROTO_RESULT) {
            proto_result_copy(a->result, &m->u.result);
            a->running = false;
        } else if (want == PROTO_STATS) {
            a->stats = m->u.stats;
        }
    } else if (m->type != PROTO_HEARTBEAT) {
        fprintf(stderr, "coordinator: agent %s sent an unexpected %s\n", a->name,
                proto_type_name(m->type));
    }
}

/* Heartbeats and liveness. A timed run gets no heartbeat for its first half
 * liveness, so short runs see no traffic at all; longer ones are pinged and
 * the agent's control thread answers, so a busy agent never looks dead. */
static void fleet_tick(fleet_t *f, uint64_t now)
{
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        char why[80];
        if (a->state == AGENT_LOST) { /* knock again, once a liveness */
            if (f->hello->type == PROTO_HELLO && now - a->last_sent >= (uint64_t)f->live_ms * MS)
                send_msg(f, a, f->hello);
            continue;
        }
        if (now - a->last_heard > (uint64_t)f->live_ms * MS) {
            snprintf(why, sizeof why, "silent for more than %u ms", f->live_ms);
            agent_lost(f, a, why);
            continue;
        }
        if (a->hello_retry != 0 && now >= a->hello_retry) {
            f->out->type = PROTO_HELLO;
            a->hello_retry = UINT64_MAX;
            fleet_send(f, i, true);
            continue;
        }
        if (a->hello_retry != 0) continue; /* no session yet: nothing to keep alive */
        if (a->running && now - a->go_sent < (uint64_t)f->live_ms * MS / 2) continue;
        if (now - a->last_sent >= (uint64_t)f->hb_ms * MS) {
            proto_msg_t hb = {.type = PROTO_HEARTBEAT};
            hb.u.heartbeat.seq = now;
            send_msg(f, a, &hb);
        }
    }
}

/* A failed handshake: a key refused on either side, or one side speaking
 * CURVE and the other not. Retrying cannot help: exit 5. */
static void on_monitor(fleet_t *f, fleet_agent_t *a)
{
    zmq_msg_t ev, addr;
    uint16_t id = 0;

    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, a->mon, ZMQ_DONTWAIT) >= 2 && zmq_msg_recv(&addr, a->mon, 0) >= 0)
        memcpy(&id, zmq_msg_data(&ev), sizeof id);
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        fleet_fatal(f, 5, "agent %s: authentication failed: it does not accept our key", a->name);
    else if (id != 0)
        fleet_fatal(f, 5,
                    "agent %s: secure handshake failed: its key is not the one known-agents "
                    "lists, or only one side uses keys",
                    a->name);
}

static bool any_waiting(const fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->a[i].state == AGENT_LIVE && f->a[i].waiting) return true;
    return false;
}

int fleet_wait(fleet_t *f, proto_type_t want, uint64_t deadline)
{
    zmq_pollitem_t *items = calloc(2 * f->n, sizeof *items);
    char err[PROTO_ERR_LEN];

    if (items == NULL) {
        fleet_fatal(f, 1, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) {
        items[i] = (zmq_pollitem_t){f->a[i].sock, 0, ZMQ_POLLIN, 0};
        items[f->n + i] = (zmq_pollitem_t){f->a[i].mon, 0, ZMQ_POLLIN, 0};
    }
    while (!f->fatal && !*f->stop && any_waiting(f)) {
        uint64_t now = fleet_now();
        if (deadline != 0 && now >= deadline) {
            for (size_t i = 0; i < f->n; i++)
                if (f->a[i].state == AGENT_LIVE && f->a[i].waiting)
                    agent_lost(f, &f->a[i], "no answer in time");
            break;
        }
        if (zmq_poll(items, 2 * (int)f->n, f->hb_ms / 4 + 1) < 0 && errno != EINTR) {
            fleet_fatal(f, 1, "poll: %s", zmq_strerror(errno));
            break;
        }
        for (size_t i = 0; i < f->n; i++) {
            fleet_agent_t *a = &f->a[i];
            if (items[f->n + i].revents & ZMQ_POLLIN) on_monitor(f, a);
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            for (;;) {
                int rc = wire_recv(a->sock, NULL, NULL, f->in, err);
                if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
                on_message(f, a, rc, err, want);
            }
        }
        fleet_tick(f, fleet_now());
    }
    free(items);
    return f->fatal || *f->stop ? -1 : 0;
}

int fleet_hello(fleet_t *f, const char *name)
{
    memset(f->out, 0, sizeof *f->out);
    f->out->type = PROTO_HELLO;
    f->out->u.hello.heartbeat_ms = f->hb_ms;
    f->out->u.hello.liveness_ms = f->live_ms;
    snprintf(f->out->u.hello.name, sizeof f->out->u.hello.name, "%s", name);
    *f->hello = *f->out;
    for (size_t i = 0; i < f->n; i++) {
        f->a[i].hello_retry = UINT64_MAX; /* "busy" answers are retried */
        f->a[i].last_heard = fleet_now();
    }
    fleet_send_all(f);
    /* a busy agent (finishing an aborted run) gets two liveness periods */
    if (fleet_wait(f, PROTO_WELCOME, fleet_now() + 2ull * f->live_ms * MS) != 0) return -1;
    for (size_t i = 0; i < f->n; i++)
        f->a[i].hello_retry = 0;
    return 0;
}
