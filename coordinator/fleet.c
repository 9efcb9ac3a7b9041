#include "fleet.h"

#include "clock.h"
#include "curve.h"
#include "vet.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MS 1000000ull
#define PLAN_GRACE_MS 3000 /* the agents probe the target before accepting */
#define RECV_MAX 4096      /* messages read per wake-up: a flood waits for the timers */
#define NOTE_MAX 10        /* stale messages logged per agent; the rest are counted */
#define STALL_MS 50        /* a gap between two looks at the sockets beyond this: we were stopped */

/* ---- the heap of due times ---------------------------------------------- */

/* Every agent is always in the heap, keyed by `due`: nothing of it (a
 * deadline, its liveness, a heartbeat or a HELLO to send) falls due
 * earlier. A key may be early, never late: a change that only moves an
 * agent's times later (a message heard, a message sent) leaves its key, and
 * the agent is looked at once for nothing; a change that may move one
 * earlier (a phase, a HELLO planned) lowers the key. So a message costs a
 * comparison, a wake-up the agents that are due. */

static bool heap_less(const fleet_t *f, size_t x, size_t y)
{
    return f->a[f->heap[x]].due < f->a[f->heap[y]].due;
}

static void heap_swap(fleet_t *f, size_t x, size_t y)
{
    size_t t = f->heap[x];

    f->heap[x] = f->heap[y];
    f->heap[y] = t;
    f->a[f->heap[x]].slot = x;
    f->a[f->heap[y]].slot = y;
}

static void heap_up(fleet_t *f, size_t x)
{
    while (x > 0 && heap_less(f, x, (x - 1) / 2)) {
        heap_swap(f, x, (x - 1) / 2);
        x = (x - 1) / 2;
    }
}

static void heap_down(fleet_t *f, size_t x)
{
    for (;;) {
        size_t l = 2 * x + 1, m = x;
        if (l < f->n && heap_less(f, l, m)) m = l;
        if (l + 1 < f->n && heap_less(f, l + 1, m)) m = l + 1;
        if (m == x) return;
        heap_swap(f, x, m);
        x = m;
    }
}

static uint64_t min_u64(uint64_t x, uint64_t y)
{
    return x < y ? x : y;
}

/* The first time something of agent a falls due (agent_tick's checks). */
static uint64_t agent_due(const fleet_t *f, const fleet_agent_t *a)
{
    uint64_t live = (uint64_t)f->live_ms * MS, hb;

    if (a->phase == PEER_LOST) return a->next_hello;
    if (a->phase == PEER_GREETING) return min_u64(a->deadline, a->next_hello);
    hb = a->last_sent + (uint64_t)f->hb_ms * MS;
    if (a->phase == PEER_RUNNING && hb < a->go_sent + live / 2) hb = a->go_sent + live / 2;
    hb = min_u64(hb, a->last_heard + live + 1);
    return a->deadline != 0 ? min_u64(hb, a->deadline) : hb;
}

/* Something of a may fall due earlier now: lower its key if so. */
static void arm(fleet_t *f, fleet_agent_t *a)
{
    uint64_t due = agent_due(f, a);

    if (due >= a->due) return;
    a->due = due;
    heap_up(f, a->slot);
}

/* Every key exact again (after a stall moved every clock on). */
static void heap_rebuild(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        f->a[i].due = agent_due(f, &f->a[i]);
    for (size_t i = f->n / 2; i-- > 0;)
        heap_down(f, i);
}

/* ---- setup ---------------------------------------------------------------- */

#define ID_LEN 5 /* 'A' and the index, big-endian: libzmq's own ids start with 0 */

static void agent_id(size_t i, unsigned char id[ID_LEN])
{
    id[0] = 'A';
    id[1] = (unsigned char)(i >> 24);
    id[2] = (unsigned char)(i >> 16);
    id[3] = (unsigned char)(i >> 8);
    id[4] = (unsigned char)i;
}

/* The agent a routing id names, or SIZE_MAX for anything else. */
static size_t id_agent(const fleet_t *f, const unsigned char *id, size_t len)
{
    size_t i;

    if (len != ID_LEN || id[0] != 'A') return SIZE_MAX;
    i = (size_t)id[1] << 24 | (size_t)id[2] << 16 | (size_t)id[3] << 8 | id[4];
    return i < f->n ? i : SIZE_MAX;
}

typedef struct {
    curve_key_t secret;
    curve_known_t *known;
    size_t nknown;
    bool set; /* our own key pair is on the router */
} fleet_keys_t;

/* CURVE for the next connect: the agent's key must be listed. libzmq copies
 * the socket's security options into each connection at zmq_connect, so
 * one router holds a server key per agent. */
static int secure_agent(fleet_t *f, fleet_keys_t *k, const char *host, int port,
                        const char *known_path, fb_err_t *err)
{
    const curve_key_t *server = curve_known_find(k->known, k->nknown, host, port);

    if (server == NULL) {
        fb_err_set(err, "agent %.255s:%d is not in %.255s: refusing to talk to it", host, port,
                   known_path);
        f->fatal = FB_EXIT_PROTOCOL;
        return -1;
    }
    if (!k->set) { /* our key pair once: deriving the public key costs a scalar product */
        if (curve_client_setup(f->router, &k->secret, server, err) != 0) {
            f->fatal = FB_EXIT_USAGE;
            return -1;
        }
        k->set = true;
    } else if (zmq_setsockopt(f->router, ZMQ_CURVE_SERVERKEY, server->key, CURVE_KEY_LEN) != 0) {
        fb_err_set(err, "CURVE server key of %.255s:%d: %s", host, port, zmq_strerror(errno));
        f->fatal = FB_EXIT_USAGE;
        return -1;
    }
    return 0;
}

static int connect_agent(fleet_t *f, size_t i, const char *host, int port, fleet_keys_t *k,
                         const char *known_path, fb_err_t *err)
{
    fleet_agent_t *a = &f->a[i];
    unsigned char id[ID_LEN];
    char ep[320];
    int v6 = strchr(host, ':') != NULL;

    snprintf(a->name, sizeof a->name, v6 ? "[%s]:%d" : "%s:%d", host, port);
    snprintf(ep, sizeof ep, "tcp://%s", a->name);
    a->phase = PEER_LOST; /* until greeted */
    a->slot = i;
    a->result = malloc(sizeof *a->result); /* touched only as far as a RESULT goes */
    a->latency = hist_new();
    if (a->result == NULL || a->latency == NULL) {
        fb_err_set(err, "agent %s: out of memory", a->name);
        return -1;
    }
    if (k && secure_agent(f, k, host, port, known_path, err) != 0) return -1;
    agent_id(i, id);
    /* the connect routing id names this connection only, across reconnects */
    if (zmq_setsockopt(f->router, ZMQ_CONNECT_ROUTING_ID, id, ID_LEN) != 0 ||
        zmq_setsockopt(f->router, ZMQ_IPV6, &v6, sizeof v6) != 0 ||
        zmq_connect(f->router, ep) != 0) {
        fb_err_set(err, "agent %s: %s", a->name, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* One router for the fleet, and one monitor for its handshakes, so a
 * refused key is reported as such instead of looking like a silent agent. */
static int open_router(fleet_t *f, fb_err_t *err)
{
    fb_err_t perr;
    int one = 1;

    f->router = zmq_socket(f->zctx, ZMQ_ROUTER);
    if (f->router == NULL || wire_socket_setup(f->router, &perr) != 0 ||
        /* a send to an agent without a connection fails instead of vanishing */
        zmq_setsockopt(f->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_socket_monitor(f->router, "inproc://fleet-mon",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (f->mon = zmq_socket(f->zctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(f->mon, "inproc://fleet-mon") != 0) {
        fb_err_set(err, "the agents' socket: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* A session id nobody else can guess: messages carrying it are ours. */
static uint64_t new_session(void)
{
    uint64_t s = 0;

    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
        s = clock_now_ns() ^ ((uint64_t)getpid() << 32);
    return s ? s : 1;
}

int fleet_init(fleet_t *f, char (*hosts)[256], const int *ports, size_t n, uint32_t hb_ms,
               uint32_t live_ms, const char *key_path, const char *known_path, fb_err_t *err)
{
    fleet_keys_t keys = {0};
    int rc = 0;

    memset(f, 0, sizeof *f);
    f->hb_ms = hb_ms;
    f->live_ms = live_ms;
    f->session = new_session();
    clock_boot_id(f->boot_id, sizeof f->boot_id);
    f->in = malloc(sizeof *f->in);
    f->out = calloc(1, sizeof *f->out);
    f->plan = calloc(1, sizeof *f->plan);
    f->a = calloc(n, sizeof *f->a);
    f->heap = calloc(n, sizeof *f->heap);
    f->zctx = zmq_ctx_new();
    if (f->in == NULL || f->out == NULL || f->plan == NULL || f->a == NULL || f->heap == NULL ||
        f->zctx == NULL) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    f->n = n;
    if (key_path != NULL && (curve_load_secret(key_path, &keys.secret, err) != 0 ||
                             curve_load_known(known_path, &keys.known, &keys.nknown, err) != 0)) {
        f->fatal = FB_EXIT_USAGE;
        free(keys.known);
        return -1;
    }
    rc = open_router(f, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        f->heap[i] = i;
        rc = connect_agent(f, i, hosts[i], ports[i], key_path ? &keys : NULL, known_path, err);
    }
    free(keys.known);
    if (rc != 0) return -1;
    f->count[PEER_LOST] = n;
    f->lost = n;
    f->last_look = clock_now_ns();
    return 0;
}

void fleet_close(fleet_t *f)
{
    for (size_t i = 0; f->a && i < f->n; i++) {
        free(f->a[i].result);
        hist_free(&f->a[i].latency);
    }
    if (f->router) zmq_close(f->router);
    if (f->mon) zmq_close(f->mon);
    if (f->zctx) zmq_ctx_term(f->zctx);
    free(f->a);
    free(f->heap);
    free(f->in);
    free(f->out);
    free(f->plan);
    memset(f, 0, sizeof *f);
}

size_t fleet_live(const fleet_t *f)
{
    return f->n - f->lost;
}

/* ---- what happens to one agent -------------------------------------------- */

static void fleet_fatal(fleet_t *f, fb_exit_t code, const char *fmt, ...) FB_ERR_PRINTF(3, 4);
static void fleet_fatal(fleet_t *f, fb_exit_t code, const char *fmt, ...)
{
    va_list ap;

    if (f->fatal) return; /* the first reason is the one to tell */
    f->fatal = code;
    va_start(ap, fmt);
    fb_err_vset(&f->fatal_err, fmt, ap);
    va_end(ap);
}

/* A message that is late, stale or unasked: logged (a few per agent), and
 * otherwise ignored. Never an error: messages cross on the wire. */
static void note(fleet_agent_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(fleet_agent_t *a, const char *fmt, ...)
{
    va_list ap;

    if (++a->noted > NOTE_MAX) return;
    fprintf(stderr, "coordinator: agent %s: ", a->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, a->noted == NOTE_MAX ? " (no more such lines for it)\n" : "\n");
}

static bool awaits(peer_phase_t p)
{
    return p == PEER_GREETING || p == PEER_PLANNING || p == PEER_PREPARING || p == PEER_RUNNING ||
           p == PEER_VIEWING;
}

/* Every phase change goes through here, so the counts of due answers and
 * of agents per phase stay true (the wait loop never scans for them), and
 * the agent's key in the heap covers its new deadline. */
static void set_phase(fleet_t *f, fleet_agent_t *a, peer_phase_t p, uint64_t deadline)
{
    f->waiting += (size_t)awaits(p) - (size_t)awaits(a->phase);
    f->count[a->phase]--;
    f->count[p]++;
    f->lost = f->count[PEER_LOST];
    a->phase = p;
    a->deadline = awaits(p) ? deadline : 0;
    arm(f, a);
}

static void send_msg(fleet_t *f, fleet_agent_t *a, proto_msg_t *m);

static void send_hello(fleet_t *f, fleet_agent_t *a)
{
    proto_msg_t *m = f->out;

    m->type = PROTO_HELLO;
    m->u.hello.heartbeat_ms = f->hb_ms;
    m->u.hello.liveness_ms = f->live_ms;
    snprintf(m->u.hello.name, sizeof m->u.hello.name, "%s", f->name);
    a->next_hello = clock_now_ns() + (uint64_t)f->live_ms * MS;
    send_msg(f, a, m);
    arm(f, a);
}

/* Lost: its missing runs are marked, it is told to drop what it was doing
 * (if it is still there) and greeted again; once it answers it gets the
 * plan at the next run boundary. */
static void agent_lost(fleet_t *f, fleet_agent_t *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void agent_lost(fleet_t *f, fleet_agent_t *a, const char *fmt, ...)
{
    bool had_session = a->phase != PEER_GREETING;
    va_list ap;

    if (a->phase == PEER_LOST) return;
    set_phase(f, a, PEER_LOST, 0);
    a->has_result = false;
    fprintf(stderr, "coordinator: agent %s lost: ", a->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (had_session) {
        f->out->type = PROTO_ABORT;
        snprintf(f->out->u.abort.reason, sizeof f->out->u.abort.reason,
                 "the coordinator lost this agent");
        send_msg(f, a, f->out);
        send_hello(f, a);
    }
    if (f->loss_abort)
        fleet_fatal(f, FB_EXIT_LOST, "agent %s lost (--on-agent-loss abort)", a->name);
}

static void read_monitor(fleet_t *f);

/* Encoded bytes to agent a: its routing id, then the message. */
static void send_raw(fleet_t *f, fleet_agent_t *a, const char *buf, size_t len, proto_type_t t)
{
    unsigned char id[ID_LEN];

    agent_id((size_t)(a - f->a), id);
    if (zmq_send(f->router, id, ID_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(f->router, buf, len, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        /* no connection: libzmq gave it up after a failed handshake (the
         * monitor says so: exit 5, not a loss) or a protocol error */
        if (e == EHOSTUNREACH) read_monitor(f);
        /* else a full queue to a dead agent: it is lost already, or now */
        if (a->phase != PEER_LOST && !f->fatal)
            agent_lost(f, a, "sending %s: %s", proto_type_name(t), zmq_strerror(e));
        return;
    }
    a->last_sent = clock_now_ns();
}

/* Encodes m (with our version and session) into *buf: the bytes go to as
 * many agents as need the same ones. 0, or -1 (fatal: we built it wrong). */
static int encode(fleet_t *f, proto_msg_t *m, char **buf, size_t *len)
{
    fb_err_t err;

    m->version = proto_version();
    m->session = f->session;
    if (proto_encode(m, buf, len, &err) != 0) {
        fleet_fatal(f, FB_EXIT_USAGE, "encoding %s: %s", proto_type_name(m->type), err.msg);
        return -1;
    }
    return 0;
}

static void send_msg(fleet_t *f, fleet_agent_t *a, proto_msg_t *m)
{
    char *buf;
    size_t len;

    if (encode(f, m, &buf, &len) != 0) return;
    send_raw(f, a, buf, len, m->type);
    free(buf);
}

static void welcomed(fleet_t *f, fleet_agent_t *a, const proto_welcome_t *w)
{
    a->facts = *w;
    a->same_clock = f->boot_id[0] && strcmp(f->boot_id, w->boot_id) == 0;
    a->busy[0] = '\0';
    set_phase(f, a, PEER_WELCOMED, 0);
}

/* An agent's refusal: what it means for the agent, or for the whole matrix. */
static void on_error(fleet_t *f, fleet_agent_t *a, const proto_error_t *e, uint64_t now)
{
    static const fb_exit_t exit_of[PROTO_ERR__MAX] = {
        [PROTO_ERR_BAD_MESSAGE] = FB_EXIT_PROTOCOL,    [PROTO_ERR_VERSION] = FB_EXIT_PROTOCOL,
        [PROTO_ERR_STRATEGY] = FB_EXIT_USAGE,          [PROTO_ERR_TARGET_DENIED] = FB_EXIT_USAGE,
        [PROTO_ERR_UNREACHABLE] = FB_EXIT_UNREACHABLE, [PROTO_ERR_INTERNAL] = FB_EXIT_USAGE,
        [PROTO_ERR_EXEC_DENIED] = FB_EXIT_USAGE,
    };

    switch (e->code) {
    case PROTO_ERR_BUSY: /* serving someone else, or finishing an aborted run */
        if (a->phase == PEER_GREETING || a->phase == PEER_LOST) {
            snprintf(a->busy, sizeof a->busy, "%s", e->message);
            a->next_hello = now + (uint64_t)f->hb_ms * MS;
            arm(f, a);
        }
        return;
    case PROTO_ERR_STATE: /* it has no session with us (restarted, or it dropped us) */
        if (a->phase != PEER_LOST)
            agent_lost(f, a, "out of step (%s); greeting it again", e->message);
        return;
    default:
        fleet_fatal(f, exit_of[e->code], "agent %s: %s: %s", a->name, proto_err_name(e->code),
                    e->message);
    }
}

static void on_result(fleet_t *f, fleet_agent_t *a, const proto_result_t *res, uint64_t now)
{
    const proto_plan_t *plan = &f->plan->u.plan;
    vet_expect_t e = {.step = a->step, .timeout_ns = f->run_timeout_ns, .cores = a->facts.cores};
    fb_err_t why;
    /* the run's window on the agent's clock, widened by the offset estimate's
     * error and by 0.1 % of its length (clocks slewed by NTP drift apart) */
    int64_t off = a->same_clock ? 0 : a->clock_off;
    uint64_t slack = MS + (a->same_clock ? 0 : a->clock_err + (now - a->prep_sent) / 1000);
    __int128 lo = (__int128)a->go_sent + off - slack, hi = (__int128)now + off + slack;

    e.requests = a->step.bench < plan->nbench ? plan->bench[a->step.bench].requests : 0;
    e.command = a->step.bench < plan->nbench && plan->bench[a->step.bench].command[0];
    e.duration_ns = a->step.bench < plan->nbench ? plan->bench[a->step.bench].duration_ms * MS : 0;
    e.start_lo = lo < 0 ? 0 : (uint64_t)lo;
    e.end_hi = hi > (__int128)UINT64_MAX ? UINT64_MAX : hi < 0 ? 0 : (uint64_t)hi;
    a->result_at = now;
    set_phase(f, a, PEER_IDLE, 0);
    if (vet_result(&e, res, a->latency, &why) != 0) {
        fprintf(stderr,
                "coordinator: agent %s: result of run %" PRIu32 "%s of benchmark %" PRIu32
                " refused: %s\n",
                a->name, a->step.run, a->step.warmup ? " (warmup)" : "", a->step.bench, why.msg);
        f->refused++;
        if (f->loss_abort)
            fleet_fatal(f, FB_EXIT_LOST, "agent %s: result refused (--on-agent-loss abort)",
                        a->name);
        return;
    }
    /* a copy of what it holds (the header, the buckets in use), not a swap of
     * buffers: the decoder clears all 96 KiB of the one it fills, so swapped
     * buffers would each be resident in full (+90 MiB at 1024 agents) */
    proto_result_copy(a->result, res);
    a->has_result = true;
}

static bool step_is(const fleet_agent_t *a, const proto_step_t *s)
{
    return s->bench == a->step.bench && s->run == a->step.run && s->warmup == a->step.warmup;
}

/* A lost agent: only a WELCOME of our session brings it back (at the next
 * run boundary); "busy" makes us ask again soon; the rest is stale. */
static void on_lost_message(fleet_t *f, fleet_agent_t *a, const proto_msg_t *m, uint64_t now)
{
    if (m->type == PROTO_WELCOME) {
        welcomed(f, a, &m->u.welcome);
        a->last_heard = now;
        fprintf(stderr, "coordinator: agent %s is back; it takes part from the next run\n",
                a->name);
    } else if (m->type == PROTO_ERROR) {
        on_error(f, a, &m->u.error, now);
    }
}

/* READY of the step asked: the clock offset by NTP's midpoint (the agent
 * read its clock between our send and our receipt). */
static void on_ready(fleet_t *f, fleet_agent_t *a, const proto_step_t *s, uint64_t now)
{
    a->ready_clock = s->clock_ns;
    a->ready_at = now;
    a->clock_off = (int64_t)(a->ready_clock - (a->prep_sent + (now - a->prep_sent) / 2));
    a->clock_err = (now - a->prep_sent) / 2;
    set_phase(f, a, PEER_READY, 0);
}

/* One valid message of our session from agent a: docs/protocol.md's table.
 * What does not fit the phase is late or stale, and ignored. */
static void on_session_msg(fleet_t *f, fleet_agent_t *a, const proto_msg_t *m, uint64_t now)
{
    peer_phase_t p = a->phase;

    if (p == PEER_LOST) {
        on_lost_message(f, a, m, now);
        return;
    }
    a->last_heard = now;
    if (m->type == PROTO_HEARTBEAT)
        return;
    else if (m->type == PROTO_ERROR)
        on_error(f, a, &m->u.error, now);
    else if (m->type == PROTO_WELCOME && p == PEER_GREETING)
        welcomed(f, a, &m->u.welcome);
    else if (m->type == PROTO_WELCOME && (p == PEER_WELCOMED || p == PEER_PLANNING))
        return; /* the answer to a second HELLO that crossed the first WELCOME */
    else if (m->type == PROTO_ACCEPT && p == PEER_PLANNING)
        set_phase(f, a, PEER_IDLE, 0);
    else if (m->type == PROTO_READY && p == PEER_PREPARING && step_is(a, &m->u.step))
        on_ready(f, a, &m->u.step, now);
    else if (m->type == PROTO_RESULT && p == PEER_RUNNING)
        on_result(f, a, &m->u.result, now);
    else if (m->type == PROTO_STATS && p == PEER_VIEWING) {
        a->stats = m->u.stats;
        set_phase(f, a, PEER_IDLE, 0);
    } else
        note(a, "ignored a late or unasked %s", proto_type_name(m->type));
}

static void on_message(fleet_t *f, fleet_agent_t *a, int rc, const fb_err_t *err)
{
    const proto_msg_t *m = f->in;
    uint64_t now = clock_now_ns();

    if (rc == PROTO_EVERSION) {
        if (m->type == PROTO_ERROR)
            fleet_fatal(f, FB_EXIT_PROTOCOL, "agent %s refused: %s", a->name, m->u.error.message);
        else
            fleet_fatal(f, FB_EXIT_PROTOCOL,
                        "agent %s speaks protocol version %u, coordinator speaks %u", a->name,
                        m->version, proto_version());
        return;
    }
    if (rc != PROTO_OK) {
        fleet_fatal(f, FB_EXIT_PROTOCOL, "agent %s sent a malformed message: %s", a->name,
                    err->msg);
        return;
    }
    a->heard = true;
    /* another session's message is stale (or a stranger's): never liveness;
     * an error about a message it could not read carries no session */
    if (m->session != f->session && !(m->type == PROTO_ERROR && m->session == 0)) {
        note(a, "ignored a %s of another session", proto_type_name(m->type));
        return;
    }
    on_session_msg(f, a, m, now);
}

/* ---- time ----------------------------------------------------------------- */

static void deadline_passed(fleet_t *f, fleet_agent_t *a)
{
    switch (a->phase) {
    case PEER_GREETING:
        if (a->busy[0])
            agent_lost(f, a, "still busy after %u ms: %s", 2 * f->live_ms, a->busy);
        else if (a->heard)
            agent_lost(f, a, "no welcome in %u ms", 2 * f->live_ms);
        else
            agent_lost(f, a,
                       "no answer from %s in %.1f s — is `agent` running there and reachable?",
                       a->name, 2 * f->live_ms / 1000.0);
        return;
    case PEER_PLANNING: agent_lost(f, a, "no answer to the plan in time"); return;
    case PEER_PREPARING:
        agent_lost(f, a, "not ready for run %" PRIu32 " of benchmark %" PRIu32 " within %u ms",
                   a->step.run, a->step.bench, f->live_ms);
        return;
    case PEER_RUNNING:
        agent_lost(f, a,
                   "no result of run %" PRIu32 " of benchmark %" PRIu32
                   " within the run timeout (%.1f s)",
                   a->step.run, a->step.bench, (double)f->run_timeout_ns / 1e9);
        return;
    case PEER_VIEWING: /* no view of this run; the agent itself is judged by its liveness */
        set_phase(f, a, PEER_IDLE, 0);
        return;
    default: return;
    }
}

/* Deadlines, liveness, heartbeats and greetings of one agent. A timed run
 * gets no heartbeat for its first half liveness, so short runs see no
 * traffic at all; longer ones are pinged and the agent's control thread
 * answers, so a busy agent never looks dead. */
static void agent_tick(fleet_t *f, fleet_agent_t *a, uint64_t now)
{
    uint64_t live = (uint64_t)f->live_ms * MS;

    if (a->phase == PEER_LOST || a->phase == PEER_GREETING) {
        if (a->phase == PEER_GREETING && now >= a->deadline) deadline_passed(f, a);
        if (now >= a->next_hello) send_hello(f, a); /* lost: once a liveness; busy: sooner */
        return;
    }
    if (now - a->last_heard > live) {
        agent_lost(f, a, "silent for more than %u ms", f->live_ms);
        return;
    }
    if (a->deadline != 0 && now >= a->deadline) {
        deadline_passed(f, a);
        return;
    }
    if (a->phase == PEER_RUNNING && now - a->go_sent < live / 2) return;
    if (now - a->last_sent >= (uint64_t)f->hb_ms * MS) {
        f->out->type = PROTO_HEARTBEAT;
        f->out->u.heartbeat.seq = ++a->hb_seq;
        send_msg(f, a, f->out);
    }
}

/* The agent a monitor event's address names ("tcp://127.0.0.1:5555", the
 * peer's numeric address), or NULL: an agent given by host name is named by
 * its address only. A scan, as it happens once: the error is fatal. */
static const fleet_agent_t *agent_at(const fleet_t *f, const char *addr)
{
    if (strncmp(addr, "tcp://", 6) != 0) return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->a[i].name, addr + 6) == 0) return &f->a[i];
    return NULL;
}

/* A failed handshake: a key refused on either side, or one side speaking
 * CURVE and the other not. Retrying cannot help: exit 5. */
static bool on_monitor(fleet_t *f)
{
    zmq_msg_t ev, addr;
    uint16_t id = 0;
    char where[320] = "?", name[340];
    const fleet_agent_t *a;
    int got;

    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    got = zmq_msg_recv(&ev, f->mon, ZMQ_DONTWAIT);
    if (got >= 2 && zmq_msg_recv(&addr, f->mon, 0) >= 0) {
        memcpy(&id, zmq_msg_data(&ev), sizeof id);
        snprintf(where, sizeof where, "%.*s", (int)min_u64(zmq_msg_size(&addr), 300),
                 (const char *)zmq_msg_data(&addr));
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    if (got < 0) return false;
    a = agent_at(f, where);
    if (a != NULL)
        snprintf(name, sizeof name, "%s", a->name);
    else
        snprintf(name, sizeof name, "at %s", where);
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        fleet_fatal(f, FB_EXIT_PROTOCOL,
                    "agent %s: authentication failed: it does not accept our key", name);
    else if (id != 0)
        fleet_fatal(f, FB_EXIT_PROTOCOL,
                    "agent %s: secure handshake failed: its key is not the one known-agents "
                    "lists, or only one side uses keys",
                    name);
    return true;
}

/* Every handshake event queued: before a loss is blamed on silence, as a
 * failed handshake also ends the connection. */
static void read_monitor(fleet_t *f)
{
    while (!f->fatal && on_monitor(f)) {
    }
}

/* We were stopped for `gap` ns (SIGSTOP, a suspended VM, a slow disk under
 * the journal): the agents could not answer us meanwhile, nor we read what
 * they sent, so every clock we keep on them moves on by the gap. Without
 * this a coordinator paused past the liveness would judge healthy agents
 * lost the moment it wakes, before reading their queued answers. Agents
 * that dropped our session while we were away say so (an error of state)
 * and rejoin at the next run boundary. Rare, so a pass over the fleet. */
static void stalled(fleet_t *f, uint64_t gap, uint64_t now)
{
    f->stalled_ns += gap;
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->deadline != 0) a->deadline += gap;
        /* never in the future: set during the gap, it may already be late */
        a->last_heard = a->last_heard + gap < now ? a->last_heard + gap : now;
    }
    heap_rebuild(f);
}

/* What arrived, at most RECV_MAX messages (a flood waits for the timers):
 * the routing id names the agent, no lookup. */
static void serve_messages(fleet_t *f)
{
    unsigned char id[WIRE_ID_MAX];
    size_t idlen, i;
    fb_err_t err;

    for (int k = 0; k < RECV_MAX && !f->fatal; k++) {
        int rc = wire_recv(f->router, id, &idlen, f->in, &err);
        if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
        if ((i = id_agent(f, id, idlen)) == SIZE_MAX) continue; /* not a connection of ours */
        on_message(f, &f->a[i], rc, &err);
    }
}

/* The agents whose time came: the top of the heap, and only that. */
static void serve_due(fleet_t *f)
{
    uint64_t now = clock_now_ns();

    while (f->n > 0 && f->a[f->heap[0]].due <= now) {
        fleet_agent_t *a = &f->a[f->heap[0]];
        agent_tick(f, a, now);
        a->due = agent_due(f, a);
        if (a->due <= now) a->due = now + MS; /* nothing of it is due now: never spin */
        heap_down(f, 0);
    }
}

/* One wake-up: what arrived, then the agents due. The poll sleeps until the
 * first agent is due (or `until`, or a heartbeat at most). */
static int serve_once(fleet_t *f, uint64_t until)
{
    zmq_pollitem_t items[2] = {{f->router, 0, ZMQ_POLLIN, 0}, {f->mon, 0, ZMQ_POLLIN, 0}};
    uint64_t now = clock_now_ns(), wake = now + (uint64_t)f->hb_ms * MS, woke;
    int timeout_ms;

    if (f->n > 0) wake = min_u64(wake, f->a[f->heap[0]].due);
    if (until != 0) wake = min_u64(wake, until);
    timeout_ms = wake > now ? (int)((wake - now + MS - 1) / MS) : 0;
    if (zmq_poll(items, 2, timeout_ms) < 0 && errno != EINTR) {
        fleet_fatal(f, FB_EXIT_USAGE, "poll: %s", zmq_strerror(errno));
        return -1;
    }
    woke = clock_now_ns();
    if (woke - f->last_look > ((uint64_t)timeout_ms + STALL_MS) * MS)
        stalled(f, woke - f->last_look - (uint64_t)timeout_ms * MS, woke);
    if (items[1].revents & ZMQ_POLLIN) read_monitor(f);
    if (items[0].revents & ZMQ_POLLIN) serve_messages(f);
    serve_due(f);
    f->last_look = clock_now_ns();
    return 0;
}

typedef bool (*fleet_done_t)(const fleet_t *f);

static bool none_waiting(const fleet_t *f)
{
    return f->waiting == 0;
}

/* Serves the sockets until done(f), the deadline (0: none; every awaited
 * answer has its own; moved on by our stalls as theirs), a fatal error or a
 * stop. 0, or -1 (fatal or stop). */
static int serve(fleet_t *f, fleet_done_t done, uint64_t until)
{
    uint64_t stalled0 = f->stalled_ns;

    while (!f->fatal && !*f->stop && !done(f) &&
           (until == 0 || clock_now_ns() < until + (f->stalled_ns - stalled0)))
        if (serve_once(f, until == 0 ? 0 : until + (f->stalled_ns - stalled0)) != 0) break;
    return f->fatal || *f->stop ? -1 : 0;
}

/* ---- the steps ------------------------------------------------------------ */

int fleet_greet(fleet_t *f, const char *name)
{
    uint64_t now = clock_now_ns();

    snprintf(f->name, sizeof f->name, "%s", name);
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        set_phase(f, a, PEER_GREETING, now + 2ull * f->live_ms * MS);
        a->last_heard = now;
        send_hello(f, a);
    }
    if (serve(f, none_waiting, 0) != 0) return -1;
    read_monitor(f); /* a refused key is why, if it is */
    if (f->fatal) return -1;
    if (fleet_live(f) == 0) {
        fleet_fatal(f, FB_EXIT_LOST, "no agent welcomed this session");
        return -1;
    }
    return 0;
}

void fleet_set_plan(fleet_t *f, const proto_plan_t *plan)
{
    f->plan->type = PROTO_PLAN;
    f->plan->u.plan = *plan;
}

static bool someone_welcomed(const fleet_t *f)
{
    return f->count[PEER_WELCOMED] + f->count[PEER_IDLE] > 0;
}

/* Every agent in phase `from` (and `only`, unless SIZE_MAX) gets the same
 * bytes and goes to phase `to`, its answer due by `due`: one encoding, then
 * a tight loop of sends. */
static int send_all(fleet_t *f, size_t only, peer_phase_t from, peer_phase_t to, uint64_t due,
                    proto_msg_t *m)
{
    char *buf;
    size_t len, lo = only == SIZE_MAX ? 0 : only, hi = only == SIZE_MAX ? f->n : only + 1;

    if (encode(f, m, &buf, &len) != 0) return -1;
    for (size_t i = lo; i < hi; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->phase != from) continue;
        set_phase(f, a, to, due);
        send_raw(f, a, buf, len, m->type);
    }
    free(buf);
    return 0;
}

int fleet_next_run(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        f->a[i].has_result = false;
    /* every agent lost: give them the time a greeting gets to come back */
    if (!someone_welcomed(f)) {
        fprintf(stderr, "coordinator: every agent is lost; waiting %.1f s for one to come back\n",
                2 * f->live_ms / 1000.0);
        if (serve(f, someone_welcomed, clock_now_ns() + 2ull * f->live_ms * MS) != 0) return -1;
    }
    if (f->count[PEER_WELCOMED] > 0) {
        uint64_t due = clock_now_ns() + ((uint64_t)f->live_ms + PLAN_GRACE_MS) * MS;
        if (send_all(f, SIZE_MAX, PEER_WELCOMED, PEER_PLANNING, due, f->plan) != 0) return -1;
    }
    if (serve(f, none_waiting, 0) != 0) return -1;
    read_monitor(f);
    if (f->count[PEER_IDLE] == 0) {
        fleet_fatal(f, FB_EXIT_LOST, "every agent is lost");
        return -1;
    }
    return 0;
}

int fleet_prepare(fleet_t *f, size_t only, const proto_step_t *step)
{
    size_t lo = only == SIZE_MAX ? 0 : only, hi = only == SIZE_MAX ? f->n : only + 1;
    uint64_t now = clock_now_ns();

    /* the step first: send_all sends and moves to PREPARING in one pass */
    for (size_t i = lo; i < hi; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->phase != PEER_IDLE) continue;
        a->step = *step;
        a->step.clock_ns = 0;
        a->has_result = false;
        a->prep_sent = now; /* before the sends: the clock offset's bound stays true */
    }
    f->step = *step;
    f->step.clock_ns = 0;
    f->out->type = PROTO_PREPARE;
    f->out->u.step = f->step;
    if (send_all(f, only, PEER_IDLE, PEER_PREPARING, now + (uint64_t)f->live_ms * MS, f->out) != 0)
        return -1;
    return serve(f, none_waiting, 0);
}

int fleet_go(fleet_t *f, size_t only, uint64_t lead_ns, uint64_t timeout_ns)
{
    size_t lo = only == SIZE_MAX ? 0 : only, hi = only == SIZE_MAX ? f->n : only + 1;
    uint64_t first = clock_now_ns(), start = first + lead_ns, due = first + timeout_ns;
    char *same, *own;
    size_t len, olen;

    f->run_timeout_ns = timeout_ns;
    /* the start time once; agents sharing our clock all get these bytes */
    f->out->type = PROTO_GO;
    f->out->u.step = f->step; /* every ready agent was prepared for it */
    f->out->u.step.clock_ns = lead_ns == 0 ? 0 : start;
    if (encode(f, f->out, &same, &len) != 0) return -1;
    for (size_t i = lo; i < hi; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->phase != PEER_READY) continue;
        a->go_sent = first;
        set_phase(f, a, PEER_RUNNING, due);
        if (lead_ns == 0 || a->same_clock) {
            send_raw(f, a, same, len, PROTO_GO);
            continue;
        }
        /* another host: the start time on its clock */
        f->out->u.step.clock_ns = start + (uint64_t)a->clock_off;
        if (encode(f, f->out, &own, &olen) != 0) break;
        send_raw(f, a, own, olen, PROTO_GO);
        free(own);
    }
    free(same);
    f->go_fanout_ns = clock_now_ns() - first;
    return serve(f, none_waiting, 0);
}

int fleet_view(fleet_t *f, size_t i, uint32_t phase)
{
    fleet_agent_t *a = &f->a[i];

    a->stats.status = PROTO_VIEW_UNREACHABLE; /* unless it answers */
    snprintf(a->stats.detail, sizeof a->stats.detail, "the agent did not answer");
    if (a->phase != PEER_IDLE) return 0;
    set_phase(f, a, PEER_VIEWING, clock_now_ns() + (uint64_t)f->live_ms * MS);
    f->out->type = PROTO_STATS_REQ;
    memset(&f->out->u.stats_req, 0, sizeof f->out->u.stats_req);
    f->out->u.stats_req.phase = phase;
    send_msg(f, a, f->out);
    return serve(f, none_waiting, 0);
}

const proto_result_t *fleet_result(const fleet_t *f, size_t i)
{
    return f->a[i].has_result ? f->a[i].result : NULL;
}

int64_t fleet_start_ns(const fleet_t *f, size_t i)
{
    const fleet_agent_t *a = &f->a[i];

    return (int64_t)a->result->start_ns - (a->same_clock ? 0 : a->clock_off);
}

void fleet_end(fleet_t *f, bool abort, const char *reason)
{
    unsigned char id[ID_LEN];
    fb_err_t err;
    char *buf;
    size_t len;

    f->out->type = abort ? PROTO_ABORT : PROTO_BYE;
    if (abort) snprintf(f->out->u.abort.reason, sizeof f->out->u.abort.reason, "%s", reason);
    f->out->version = proto_version();
    f->out->session = f->session;
    if (f->router == NULL || proto_encode(f->out, &buf, &len, &err) != 0) return;
    for (size_t i = 0; i < f->n; i++) { /* best effort: we are leaving */
        agent_id(i, id);
        if (zmq_send(f->router, id, ID_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_send(f->router, buf, len, ZMQ_DONTWAIT);
    }
    free(buf);
}
