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
#define BATCH 64           /* messages read from one agent per wake-up: a flood waits */
#define NOTE_MAX 10        /* stale messages logged per agent; the rest are counted */
#define STALL_MS 50        /* a gap between two looks at the sockets beyond this: we were stopped */

uint64_t fleet_now(void)
{
    return clock_now_ns();
}

/* ---- setup ---------------------------------------------------------------- */

typedef struct {
    curve_key_t secret;
    curve_known_t *known;
    size_t nknown;
} fleet_keys_t;

/* CURVE for one agent: its key must be listed. */
static int secure_agent(fleet_t *f, void *sock, const fleet_keys_t *k, const char *host, int port,
                        const char *known_path, char *err)
{
    const curve_key_t *server = curve_known_find(k->known, k->nknown, host, port);
    char cerr[CURVE_ERR_LEN];

    if (server == NULL) {
        snprintf(err, FLEET_ERR_LEN, "agent %.255s:%d is not in %.255s: refusing to talk to it",
                 host, port, known_path);
        f->fatal = 5;
        return -1;
    }
    if (curve_client_setup(sock, &k->secret, server, cerr) != 0) {
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

static int connect_agent(fleet_t *f, size_t i, const char *host, int port, const fleet_keys_t *k,
                         const char *known_path, char *err)
{
    fleet_agent_t *a = &f->a[i];
    char perr[PROTO_ERR_LEN], ep[320];
    int v6 = strchr(host, ':') != NULL;

    snprintf(a->name, sizeof a->name, v6 ? "[%s]:%d" : "%s:%d", host, port);
    snprintf(ep, sizeof ep, "tcp://%s", a->name);
    a->phase = PEER_LOST; /* until greeted */
    a->result = malloc(sizeof *a->result);
    a->latency = hist_new();
    a->sock = zmq_socket(f->zctx, ZMQ_DEALER);
    if (a->result == NULL || a->latency == NULL || a->sock == NULL) {
        snprintf(err, FLEET_ERR_LEN, "agent %s: %s", a->name,
                 a->result && a->latency ? zmq_strerror(errno) : "out of memory");
        return -1;
    }
    if ((k && secure_agent(f, a->sock, k, host, port, known_path, err) != 0) ||
        monitor_agent(f, i, err) != 0)
        return -1;
    if (wire_socket_setup(a->sock, perr) != 0 ||
        zmq_setsockopt(a->sock, ZMQ_IPV6, &v6, sizeof v6) != 0 || zmq_connect(a->sock, ep) != 0) {
        snprintf(err, FLEET_ERR_LEN, "agent %s: %s", a->name, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* A session id nobody else can guess: messages carrying it are ours. */
static uint64_t new_session(void)
{
    uint64_t s = 0;

    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
        s = fleet_now() ^ ((uint64_t)getpid() << 32);
    return s ? s : 1;
}

int fleet_init(fleet_t *f, char (*hosts)[256], const int *ports, size_t n, uint32_t hb_ms,
               uint32_t live_ms, const char *key_path, const char *known_path, char *err)
{
    fleet_keys_t keys = {0};
    char cerr[CURVE_ERR_LEN];
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
    f->items = calloc(2 * n, sizeof(zmq_pollitem_t));
    f->zctx = zmq_ctx_new();
    if (f->in == NULL || f->out == NULL || f->plan == NULL || f->a == NULL || f->items == NULL ||
        f->zctx == NULL) {
        snprintf(err, FLEET_ERR_LEN, "out of memory");
        return -1;
    }
    f->n = n;
    /* a DEALER and two monitor PAIRs per agent; libzmq's default is 1023 */
    if (3 * n + 16 > 1023) zmq_ctx_set(f->zctx, ZMQ_MAX_SOCKETS, (int)(3 * n + 16));
    if (key_path != NULL && (curve_load_secret(key_path, &keys.secret, cerr) != 0 ||
                             curve_load_known(known_path, &keys.known, &keys.nknown, cerr) != 0)) {
        snprintf(err, FLEET_ERR_LEN, "%s", cerr);
        f->fatal = 1;
        free(keys.known);
        return -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = connect_agent(f, i, hosts[i], ports[i], key_path ? &keys : NULL, known_path, err);
    free(keys.known);
    if (rc != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        zmq_pollitem_t *it = f->items;
        it[i] = (zmq_pollitem_t){f->a[i].sock, 0, ZMQ_POLLIN, 0};
        it[n + i] = (zmq_pollitem_t){f->a[i].mon, 0, ZMQ_POLLIN, 0};
    }
    f->lost = n;
    f->last_look = fleet_now();
    return 0;
}

void fleet_close(fleet_t *f)
{
    for (size_t i = 0; f->a && i < f->n; i++) {
        if (f->a[i].sock) zmq_close(f->a[i].sock);
        if (f->a[i].mon) zmq_close(f->a[i].mon);
        free(f->a[i].result);
        hist_free(&f->a[i].latency);
    }
    if (f->zctx) zmq_ctx_term(f->zctx);
    free(f->a);
    free(f->items);
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

/* Every phase change goes through here, so the count of due answers and of
 * lost agents stays true: the wait loop never scans for them. */
static void set_phase(fleet_t *f, fleet_agent_t *a, peer_phase_t p, uint64_t deadline)
{
    f->waiting += (size_t)awaits(p) - (size_t)awaits(a->phase);
    f->lost += (size_t)(p == PEER_LOST) - (size_t)(a->phase == PEER_LOST);
    a->phase = p;
    a->deadline = awaits(p) ? deadline : 0;
}

static void send_msg(fleet_t *f, fleet_agent_t *a, proto_msg_t *m);

static void send_hello(fleet_t *f, fleet_agent_t *a)
{
    proto_msg_t *m = f->out;

    m->type = PROTO_HELLO;
    m->u.hello.heartbeat_ms = f->hb_ms;
    m->u.hello.liveness_ms = f->live_ms;
    snprintf(m->u.hello.name, sizeof m->u.hello.name, "%s", f->name);
    a->next_hello = fleet_now() + (uint64_t)f->live_ms * MS;
    send_msg(f, a, m);
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
    if (f->loss_abort) fleet_fatal(f, 3, "agent %s lost (--on-agent-loss abort)", a->name);
}

static void send_msg(fleet_t *f, fleet_agent_t *a, proto_msg_t *m)
{
    char err[PROTO_ERR_LEN];

    m->version = proto_version();
    m->session = f->session;
    if (wire_send(a->sock, NULL, 0, m, err) != 0) {
        /* a full queue to a dead agent: it is lost already, or now */
        if (a->phase != PEER_LOST) agent_lost(f, a, "%s", err);
        return;
    }
    a->last_sent = fleet_now();
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
    static const int exit_of[PROTO_ERR__MAX] = {
        [PROTO_ERR_BAD_MESSAGE] = 5,   [PROTO_ERR_VERSION] = 5,     [PROTO_ERR_STRATEGY] = 1,
        [PROTO_ERR_TARGET_DENIED] = 1, [PROTO_ERR_UNREACHABLE] = 4, [PROTO_ERR_INTERNAL] = 1,
        [PROTO_ERR_EXEC_DENIED] = 1,
    };

    switch (e->code) {
    case PROTO_ERR_BUSY: /* serving someone else, or finishing an aborted run */
        if (a->phase == PEER_GREETING || a->phase == PEER_LOST) {
            snprintf(a->busy, sizeof a->busy, "%s", e->message);
            a->next_hello = now + (uint64_t)f->hb_ms * MS;
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
    char why[VET_WHY_LEN];
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
    if (vet_result(&e, res, a->latency, why) != 0) {
        fprintf(stderr,
                "coordinator: agent %s: result of run %" PRIu32 "%s of benchmark %" PRIu32
                " refused: %s\n",
                a->name, a->step.run, a->step.warmup ? " (warmup)" : "", a->step.bench, why);
        f->refused++;
        if (f->loss_abort)
            fleet_fatal(f, 3, "agent %s: result refused (--on-agent-loss abort)", a->name);
        return;
    }
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

static void on_message(fleet_t *f, fleet_agent_t *a, int rc, const char *err)
{
    const proto_msg_t *m = f->in;
    uint64_t now = fleet_now();

    if (rc == PROTO_EVERSION) {
        if (m->type == PROTO_ERROR)
            fleet_fatal(f, 5, "agent %s refused: %s", a->name, m->u.error.message);
        else
            fleet_fatal(f, 5, "agent %s speaks protocol version %u, coordinator speaks %u", a->name,
                        m->version, proto_version());
        return;
    }
    if (rc != PROTO_OK) {
        fleet_fatal(f, 5, "agent %s sent a malformed message: %s", a->name, err);
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

/* We were stopped for `gap` ns (SIGSTOP, a suspended VM, a slow disk under
 * the journal): the agents could not answer us meanwhile, nor we read what
 * they sent, so every clock we keep on them moves on by the gap. Without
 * this a coordinator paused past the liveness would judge healthy agents
 * lost the moment it wakes, before reading their queued answers. Agents
 * that dropped our session while we were away say so (an error of state)
 * and rejoin at the next run boundary. */
static void stalled(fleet_t *f, uint64_t gap, uint64_t now)
{
    f->stalled_ns += gap;
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->deadline != 0) a->deadline += gap;
        /* never in the future: set during the gap, it may already be late */
        a->last_heard = a->last_heard + gap < now ? a->last_heard + gap : now;
    }
}

/* One wake-up: what arrived (at most BATCH messages per agent), then time. */
static int serve_once(fleet_t *f)
{
    zmq_pollitem_t *items = f->items;
    int timeout_ms = (int)(f->hb_ms / 4 + 1);
    char err[PROTO_ERR_LEN];
    uint64_t woke;

    if (zmq_poll(items, 2 * (int)f->n, timeout_ms) < 0 && errno != EINTR) {
        fleet_fatal(f, 1, "poll: %s", zmq_strerror(errno));
        return -1;
    }
    woke = fleet_now();
    if (woke - f->last_look > ((uint64_t)timeout_ms + STALL_MS) * MS)
        stalled(f, woke - f->last_look - (uint64_t)timeout_ms * MS, woke);
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if (items[f->n + i].revents & ZMQ_POLLIN) on_monitor(f, a);
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        for (int k = 0; k < BATCH; k++) {
            int rc = wire_recv(a->sock, NULL, NULL, f->in, err);
            if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
            on_message(f, a, rc, err);
        }
    }
    uint64_t now = fleet_now();
    for (size_t i = 0; i < f->n; i++)
        agent_tick(f, &f->a[i], now);
    f->last_look = fleet_now();
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
           (until == 0 || fleet_now() < until + (f->stalled_ns - stalled0)))
        if (serve_once(f) != 0) break;
    return f->fatal || *f->stop ? -1 : 0;
}

/* ---- the steps ------------------------------------------------------------ */

int fleet_greet(fleet_t *f, const char *name)
{
    uint64_t now = fleet_now();

    snprintf(f->name, sizeof f->name, "%s", name);
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        set_phase(f, a, PEER_GREETING, now + 2ull * f->live_ms * MS);
        a->last_heard = now;
        send_hello(f, a);
    }
    if (serve(f, none_waiting, 0) != 0) return -1;
    if (fleet_live(f) == 0) {
        fleet_fatal(f, 3, "no agent welcomed this session");
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
    for (size_t i = 0; i < f->n; i++)
        if (f->a[i].phase == PEER_WELCOMED || f->a[i].phase == PEER_IDLE) return true;
    return false;
}

static bool someone_idle(const fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->a[i].phase == PEER_IDLE) return true;
    return false;
}

int fleet_next_run(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        f->a[i].has_result = false;
    /* every agent lost: give them the time a greeting gets to come back */
    if (!someone_welcomed(f)) {
        fprintf(stderr, "coordinator: every agent is lost; waiting %.1f s for one to come back\n",
                2 * f->live_ms / 1000.0);
        if (serve(f, someone_welcomed, fleet_now() + 2ull * f->live_ms * MS) != 0) return -1;
    }
    uint64_t due = fleet_now() + ((uint64_t)f->live_ms + PLAN_GRACE_MS) * MS;
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if (a->phase != PEER_WELCOMED) continue;
        set_phase(f, a, PEER_PLANNING, due);
        send_msg(f, a, f->plan);
    }
    if (serve(f, none_waiting, 0) != 0) return -1;
    if (!someone_idle(f)) {
        fleet_fatal(f, 3, "every agent is lost");
        return -1;
    }
    return 0;
}

static void send_step(fleet_t *f, fleet_agent_t *a, proto_type_t t, uint64_t clock_ns)
{
    f->out->type = t;
    f->out->u.step = a->step;
    f->out->u.step.clock_ns = clock_ns;
    send_msg(f, a, f->out);
}

int fleet_prepare(fleet_t *f, size_t only, const proto_step_t *step)
{
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if ((only != SIZE_MAX && only != i) || a->phase != PEER_IDLE) continue;
        a->step = *step;
        a->step.clock_ns = 0;
        a->has_result = false;
        a->prep_sent = fleet_now();
        set_phase(f, a, PEER_PREPARING, a->prep_sent + (uint64_t)f->live_ms * MS);
        send_step(f, a, PROTO_PREPARE, 0);
    }
    return serve(f, none_waiting, 0);
}

int fleet_go(fleet_t *f, size_t only, uint64_t lead_ns, uint64_t timeout_ns)
{
    uint64_t first = fleet_now(), start = first + lead_ns;

    f->run_timeout_ns = timeout_ns;
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        if ((only != SIZE_MAX && only != i) || a->phase != PEER_READY) continue;
        a->go_sent = fleet_now();
        set_phase(f, a, PEER_RUNNING, a->go_sent + timeout_ns);
        send_step(f, a, PROTO_GO,
                  lead_ns == 0 ? 0 : start + (uint64_t)(a->same_clock ? 0 : a->clock_off));
    }
    f->go_fanout_ns = fleet_now() - first;
    return serve(f, none_waiting, 0);
}

int fleet_view(fleet_t *f, size_t i, uint32_t phase)
{
    fleet_agent_t *a = &f->a[i];

    a->stats.status = PROTO_VIEW_UNREACHABLE; /* unless it answers */
    snprintf(a->stats.detail, sizeof a->stats.detail, "the agent did not answer");
    if (a->phase != PEER_IDLE) return 0;
    set_phase(f, a, PEER_VIEWING, fleet_now() + (uint64_t)f->live_ms * MS);
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
    f->out->type = abort ? PROTO_ABORT : PROTO_BYE;
    if (abort) snprintf(f->out->u.abort.reason, sizeof f->out->u.abort.reason, "%s", reason);
    for (size_t i = 0; i < f->n; i++) {
        fleet_agent_t *a = &f->a[i];
        char err[PROTO_ERR_LEN];
        f->out->version = proto_version();
        f->out->session = f->session;
        wire_send(a->sock, NULL, 0, f->out, err); /* best effort: we are leaving */
    }
}
