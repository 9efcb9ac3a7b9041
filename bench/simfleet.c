/* simfleet: one process that looks like N agents to a coordinator, so the
 * coordinator can be measured with a thousand agents on one machine. A
 * benchmark tool, not a test double: tests use real agents.
 *
 * One ROUTER socket binds N TCP endpoints (one port per simulated agent);
 * libzmq gives every connection its own routing id, and each id that says
 * HELLO gets a session of its own. So the work per message is a hash lookup,
 * whatever N is, and simfleet's own CPU stays small beside the coordinator's
 * on a shared machine. Simulated agents speak the protocol through proto/
 * (no second codec) and answer as agent/daemon.c does; the exchange itself
 * lives in one place, the "protocol" section below.
 *
 * A simulated run makes no HTTP request. It starts at GO's start time (or
 * when GO arrives, if later: a late GO shows as start skew, as it would on a
 * real agent) and lasts ceil(requests / concurrency) rounds of --latency-us
 * (+-20 %, a 1 % tail at 3x); its RESULT carries those counts (every request
 * ok), plausible CPU times and a latency histogram built with common/hist. */
#include "curve.h"
#include "facts.h"
#include "fb_exit.h"
#include "hist.h"
#include "opt.h"
#include "proto.h"
#include "catalog.h"
#include "wire.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define SIM_MAX_AGENTS 4096
#define START_WAIT_MAX_NS 100000000ull /* as the agent: a start this far ahead is ignored */
#define RESPONSE_BYTES 131             /* target-server's /multiply answer on the wire */
#define HIST_SAMPLES 64                /* distinct latencies per result */

typedef enum { SIM_IDLE, SIM_PREPARED, SIM_RUNNING } sim_state_t;

typedef struct {
    uint64_t requests, concurrency;
} sim_bench_t;

typedef struct { /* one session: one coordinator connection */
    bool used;
    unsigned char id[WIRE_ID_MAX];
    size_t idlen;
    uint32_t gen; /* bumped when the slot is reused: stale timers are ignored */
    uint64_t session, last_heard, last_sent, hb_seq;
    uint32_t hb_ms, live_ms;
    sim_bench_t *plan; /* NULL: no plan yet */
    uint32_t nbench;
    sim_state_t state;
    proto_step_t step;
    uint64_t start_ns, wall_ns;
} sim_slot_t;

typedef struct {
    uint64_t due;
    uint32_t slot, gen;
} sim_timer_t;

typedef struct {
    void *zctx, *router;
    curve_zap_t zap;
    curve_key_t *authorized;
    size_t nauthorized;
    int tfd; /* timerfd: the earliest RESULT due */
    sim_slot_t *slot;
    size_t nslot;       /* capacity: 4 sessions per endpoint (reconnects) */
    uint32_t *freelist; /* unused slots */
    size_t nfree;
    uint32_t *index;   /* open addressing: routing id -> slot + 1 */
    size_t index_cap;  /* a power of two, 4 x nslot */
    size_t ntomb;      /* deleted entries in index */
    sim_timer_t *heap; /* RESULTs due, earliest first; stale ones skipped */
    size_t nheap, heap_cap;
    uint64_t latency_ns;
    uint64_t rng;
    bool implicit_prepare; /* --implicit-prepare: GO without PREPARE starts a run */
    proto_welcome_t facts;
    proto_msg_t in, out; /* large: the simfleet lives on the heap */
    hist_t *hist;
    unsigned long msgs_in, msgs_out, sessions, results;
} sim_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(sim_t *s) /* xorshift64* */
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 2685821657736338717ull;
}

/* ---- routing id -> session ------------------------------------------------ */

static size_t id_hash(const unsigned char *id, size_t len) /* FNV-1a */
{
    uint64_t h = 14695981039346656037ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ id[i]) * 1099511628211ull;
    return (size_t)h;
}

static size_t index_probe(const sim_t *s, const unsigned char *id, size_t len, bool *found)
{
    size_t mask = s->index_cap - 1, i = id_hash(id, len) & mask;

    for (;; i = (i + 1) & mask) {
        uint32_t v = s->index[i];
        if (v == 0) break;
        if (v != UINT32_MAX && s->slot[v - 1].idlen == len &&
            memcmp(s->slot[v - 1].id, id, len) == 0) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return i;
}

static sim_slot_t *slot_find(sim_t *s, const unsigned char *id, size_t len)
{
    bool found;
    size_t i = index_probe(s, id, len, &found);

    return found ? &s->slot[s->index[i] - 1] : NULL;
}

/* A new session's slot; NULL when every slot is taken. Deleted index
 * entries are tombstones (UINT32_MAX); the index is rebuilt when they pile
 * up, so a probe stays short. */
static sim_slot_t *slot_new(sim_t *s, const unsigned char *id, size_t len)
{
    sim_slot_t *sl;
    uint32_t gen;
    bool found;

    if (s->nfree == 0) return NULL;
    if (s->ntomb > s->index_cap / 4) {
        memset(s->index, 0, s->index_cap * sizeof *s->index);
        for (size_t i = 0; i < s->nslot; i++)
            if (s->slot[i].used)
                s->index[index_probe(s, s->slot[i].id, s->slot[i].idlen, &found)] = (uint32_t)i + 1;
        s->ntomb = 0;
    }
    sl = &s->slot[s->freelist[--s->nfree]];
    gen = sl->gen + 1;
    memset(sl, 0, sizeof *sl);
    sl->used = true;
    sl->gen = gen;
    memcpy(sl->id, id, len);
    sl->idlen = len;
    s->index[index_probe(s, id, len, &found)] = (uint32_t)(sl - s->slot) + 1;
    s->sessions++;
    return sl;
}

static void slot_free(sim_t *s, sim_slot_t *sl)
{
    bool found;
    size_t i = index_probe(s, sl->id, sl->idlen, &found);

    if (found) {
        s->index[i] = UINT32_MAX;
        s->ntomb++;
    }
    free(sl->plan);
    sl->plan = NULL;
    sl->used = false;
    sl->gen++;
    s->freelist[s->nfree++] = (uint32_t)(sl - s->slot);
}

/* ---- timers: a binary heap of RESULTs due ---------------------------------- */

static void heap_swap(sim_t *s, size_t a, size_t b)
{
    sim_timer_t t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static int heap_push(sim_t *s, sim_timer_t t)
{
    size_t i;

    if (s->nheap == s->heap_cap) {
        sim_timer_t *h = realloc(s->heap, 2 * s->heap_cap * sizeof *h);
        if (h == NULL) return -1;
        s->heap = h;
        s->heap_cap *= 2;
    }
    i = s->nheap++;

    s->heap[i] = t;
    while (i > 0 && s->heap[(i - 1) / 2].due > s->heap[i].due) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static sim_timer_t heap_pop(sim_t *s)
{
    sim_timer_t top = s->heap[0];
    size_t i = 0;

    s->heap[0] = s->heap[--s->nheap];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l].due < s->heap[m].due) m = l;
        if (r < s->nheap && s->heap[r].due < s->heap[m].due) m = r;
        if (m == i) break;
        heap_swap(s, i, m);
        i = m;
    }
    return top;
}

static void timer_arm(sim_t *s)
{
    struct itimerspec its = {0};

    if (s->nheap > 0) {
        uint64_t due = s->heap[0].due ? s->heap[0].due : 1;
        its.it_value.tv_sec = (time_t)(due / 1000000000ull);
        its.it_value.tv_nsec = (long)(due % 1000000000ull);
    }
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- protocol: what one simulated agent answers ------------------------- */

static void send_msg(sim_t *s, sim_slot_t *sl, const unsigned char *id, size_t idlen,
                     proto_msg_t *m)
{
    fb_err_t err = {""};

    m->version = proto_version();
    if (wire_send(s->router, id, idlen, m, &err) != 0) {
        fprintf(stderr, "simfleet: %s\n", err.msg);
        return;
    }
    s->msgs_out++;
    if (sl) sl->last_sent = now_ns();
}

static void reply(sim_t *s, sim_slot_t *sl, proto_type_t t)
{
    s->out.type = t;
    s->out.session = sl->session;
    send_msg(s, sl, sl->id, sl->idlen, &s->out);
}

static void reply_error(sim_t *s, const unsigned char *id, size_t idlen, uint64_t session,
                        proto_err_t code, const char *text)
{
    proto_error_init(&s->out, session, code, "%s", text);
    send_msg(s, NULL, id, idlen, &s->out);
}

static void on_plan(sim_t *s, sim_slot_t *sl, const proto_plan_t *p)
{
    sim_bench_t *plan = calloc(p->nbench, sizeof *plan);

    for (uint32_t i = 0; plan && i < p->nbench; i++) {
        const catalog_entry_t *st = catalog_find(p->bench[i].strategy);
        if (st == NULL) {
            free(plan);
            reply_error(s, sl->id, sl->idlen, sl->session, PROTO_ERR_STRATEGY, "unknown strategy");
            return;
        }
        uint64_t c = st->uses_chunk ? p->bench[i].chunk : p->bench[i].connections;
        plan[i].requests = p->bench[i].requests;
        plan[i].concurrency = c == 0 ? 1 : c;
    }
    if (plan == NULL) {
        reply_error(s, sl->id, sl->idlen, sl->session, PROTO_ERR_INTERNAL, "out of memory");
        return;
    }
    free(sl->plan);
    sl->plan = plan;
    sl->nbench = p->nbench;
    reply(s, sl, PROTO_ACCEPT);
}

/* GO: the run starts at GO's start time (or now, if that has passed) and
 * its RESULT is due when its simulated requests are done. */
static void on_go(sim_t *s, sim_slot_t *sl, const proto_step_t *g, uint64_t now)
{
    const sim_bench_t *b = &sl->plan[sl->step.bench];
    uint64_t rounds = (b->requests + b->concurrency - 1) / b->concurrency;
    uint64_t jitter = rng_next(s) % (s->latency_ns * 4 / 10 + 1); /* 0..40 %: +-20 % */

    sl->state = SIM_RUNNING;
    sl->start_ns = g->clock_ns > now && g->clock_ns - now <= START_WAIT_MAX_NS ? g->clock_ns : now;
    sl->wall_ns = rounds * (s->latency_ns * 8 / 10 + jitter);
    if (heap_push(
            s, (sim_timer_t){sl->start_ns + sl->wall_ns, (uint32_t)(sl - s->slot), sl->gen}) != 0) {
        sl->state = SIM_IDLE;
        reply_error(s, sl->id, sl->idlen, sl->session, PROTO_ERR_INTERNAL, "out of memory");
    }
}

static void on_session_msg(sim_t *s, sim_slot_t *sl, const proto_msg_t *m, uint64_t now)
{
    switch (m->type) {
    case PROTO_PLAN:
        if (sl->state != SIM_IDLE) break;
        on_plan(s, sl, &m->u.plan);
        return;
    case PROTO_PREPARE:
        if (sl->state != SIM_IDLE) break;
        if (sl->plan == NULL || m->u.step.bench >= sl->nbench) {
            reply_error(s, sl->id, sl->idlen, sl->session, PROTO_ERR_STATE,
                        "prepare without a plan that has it");
            return;
        }
        sl->step = m->u.step;
        sl->state = SIM_PREPARED;
        s->out.u.step = m->u.step;
        s->out.u.step.clock_ns = now;
        reply(s, sl, PROTO_READY);
        return;
    case PROTO_GO:
        if (s->implicit_prepare && sl->state == SIM_IDLE && sl->plan &&
            m->u.step.bench < sl->nbench) { /* a protocol that GO alone starts a run */
            sl->step = m->u.step;
            sl->state = SIM_PREPARED;
        }
        if (sl->state != SIM_PREPARED || m->u.step.bench != sl->step.bench ||
            m->u.step.run != sl->step.run)
            break;
        on_go(s, sl, &m->u.step, now);
        return;
    case PROTO_HEARTBEAT:
        s->out.u.heartbeat = m->u.heartbeat;
        reply(s, sl, PROTO_HEARTBEAT);
        return;
    case PROTO_STATS_REQ: /* no target to read: measured without its own view */
        if (sl->state != SIM_IDLE) break;
        memset(&s->out.u.stats, 0, sizeof s->out.u.stats);
        s->out.u.stats.phase = m->u.stats_req.phase;
        s->out.u.stats.status = PROTO_VIEW_NONE;
        snprintf(s->out.u.stats.detail, sizeof s->out.u.stats.detail, "simfleet: no target");
        reply(s, sl, PROTO_STATS);
        return;
    case PROTO_ABORT:
    case PROTO_BYE:
    case PROTO_ERROR: slot_free(s, sl); return;
    default: break;
    }
    reply_error(s, sl->id, sl->idlen, sl->session, PROTO_ERR_STATE, "unexpected message");
}

static void on_hello(sim_t *s, sim_slot_t *sl, const unsigned char *id, size_t idlen,
                     const proto_msg_t *m, uint64_t now)
{
    if (sl == NULL && (sl = slot_new(s, id, idlen)) == NULL) {
        reply_error(s, id, idlen, m->session, PROTO_ERR_BUSY, "simfleet: every slot is taken");
        return;
    }
    if (sl->state != SIM_IDLE) { /* a new session while a run is timed: as the agent, busy */
        reply_error(s, id, idlen, m->session, PROTO_ERR_BUSY, "finishing a run; retry");
        return;
    }
    free(sl->plan); /* a new session starts without a plan, as on the agent */
    sl->plan = NULL;
    sl->session = m->session;
    sl->hb_ms = m->u.hello.heartbeat_ms;
    sl->live_ms = m->u.hello.liveness_ms;
    sl->last_heard = now;
    memset(&s->out, 0, sizeof s->out);
    s->out.u.welcome = s->facts;
    snprintf(s->out.u.welcome.host, sizeof s->out.u.welcome.host, "simfleet-%zu",
             (size_t)(sl - s->slot));
    reply(s, sl, PROTO_WELCOME);
}

static void on_message(sim_t *s, const unsigned char *id, size_t idlen, int rc,
                       const proto_msg_t *m, const char *err)
{
    sim_slot_t *sl = slot_find(s, id, idlen);
    uint64_t now = now_ns();

    s->msgs_in++;
    if (rc == PROTO_EVERSION) {
        if (m->type != PROTO_ERROR && m->type != PROTO_BYE)
            reply_error(s, id, idlen, m->session, PROTO_ERR_VERSION, "another protocol version");
        return;
    }
    if (rc != PROTO_OK) {
        reply_error(s, id, idlen, 0, PROTO_ERR_BAD_MESSAGE, err);
        return;
    }
    if (m->type == PROTO_HELLO) {
        on_hello(s, sl, id, idlen, m, now);
    } else if (sl == NULL || m->session != sl->session) {
        if (m->type != PROTO_ERROR && m->type != PROTO_BYE)
            reply_error(s, id, idlen, m->session, PROTO_ERR_STATE, "no such session here");
    } else {
        sl->last_heard = now;
        on_session_msg(s, sl, m, now);
    }
}

/* The latency histogram of a run: HIST_SAMPLES latencies sharing the
 * requests, exported as the agent does. No request outlasts its run (the
 * coordinator refuses a result where one does). */
static void result_hist(sim_t *s, uint64_t requests, uint64_t wall_ns, proto_result_t *r)
{
    uint64_t n = requests < HIST_SAMPLES ? requests : HIST_SAMPLES, sum = 0, lo = UINT64_MAX,
             hi = 0;

    hist_reset(s->hist);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t lat = s->latency_ns * 8 / 10 + s->latency_ns / 100 * (rng_next(s) % 41);
        uint64_t cnt = requests / n + (i < requests % n);
        if (rng_next(s) % 100 == 0) lat *= 3;
        if (lat > wall_ns) lat = wall_ns;
        hist_add_bucket(s->hist, (uint32_t)hist_bucket_index(lat), cnt);
        sum += lat * cnt;
        lo = lat < lo ? lat : lo;
        hi = lat > hi ? lat : hi;
    }
    if (n > 0 && hist_set_extremes(s->hist, lo, hi, sum) == 0) {
        r->lat_min = lo;
        r->lat_max = hi;
        r->lat_sum = sum;
        r->nbuckets =
            (uint32_t)hist_export(s->hist, r->bucket_idx, r->bucket_cnt, PROTO_MAX_BUCKETS);
    }
}

static void send_result(sim_t *s, sim_slot_t *sl)
{
    const sim_bench_t *b = &sl->plan[sl->step.bench];
    proto_result_t *r = &s->out.u.result;

    memset(&s->out, 0, sizeof s->out);
    r->bench = sl->step.bench;
    r->run = sl->step.run;
    r->warmup = sl->step.warmup;
    r->start_ns = sl->start_ns;
    r->wall_ns = sl->wall_ns;
    r->user_ns = sl->wall_ns / 4; /* an event loop that mostly waits */
    r->sys_ns = sl->wall_ns / 6;
    r->ok = b->requests;
    r->bytes = b->requests * RESPONSE_BYTES;
    r->connections = b->concurrency < b->requests ? b->concurrency : b->requests;
    result_hist(s, b->requests, sl->wall_ns, r);
    sl->state = SIM_IDLE;
    s->results++;
    reply(s, sl, PROTO_RESULT);
}

/* Liveness of each coordinator, and heartbeats when not timing. */
static void tick(sim_t *s, uint64_t now)
{
    for (size_t i = 0; i < s->nslot; i++) {
        sim_slot_t *sl = &s->slot[i];
        if (!sl->used) continue;
        if (now - sl->last_heard > (uint64_t)sl->live_ms * 1000000u) {
            slot_free(s, sl);
            continue;
        }
        if (sl->state != SIM_RUNNING && now - sl->last_sent >= (uint64_t)sl->hb_ms * 1000000u) {
            s->out.u.heartbeat.seq = ++sl->hb_seq;
            reply(s, sl, PROTO_HEARTBEAT);
        }
    }
}

/* ---- sockets and the loop ------------------------------------------------- */

typedef struct {
    size_t n;
    char host[256];
    const char *agents_file, *key_path, *authorized_path;
    uint64_t latency_us, seed;
    bool implicit_prepare;
} sim_opts_t;

static int sim_secure(sim_t *s, const sim_opts_t *o)
{
    fb_err_t err = {""};
    curve_key_t secret;

    if (o->key_path == NULL) return 0;
    if (curve_load_secret(o->key_path, &secret, &err) != 0 ||
        curve_load_authorized(o->authorized_path, &s->authorized, &s->nauthorized, &err) != 0 ||
        curve_zap_init(&s->zap, s->zctx, s->authorized, s->nauthorized, &err) != 0 ||
        curve_server_setup(s->router, &secret, &err) != 0) {
        fprintf(stderr, "simfleet: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Binds the N endpoints and lists them, one HOST:PORT per line. */
static int sim_bind(sim_t *s, const sim_opts_t *o, FILE *list)
{
    fb_err_t err = {""};
    char ep[300], last[300];
    int v6 = strchr(o->host, ':') != NULL;

    s->router = zmq_socket(s->zctx, ZMQ_ROUTER);
    if (s->router == NULL || sim_secure(s, o) != 0 || wire_socket_setup(s->router, &err) != 0 ||
        zmq_setsockopt(s->router, ZMQ_IPV6, &v6, sizeof v6) != 0) {
        fprintf(stderr, "simfleet: socket: %s\n", zmq_strerror(errno));
        return -1;
    }
    snprintf(ep, sizeof ep, v6 ? "tcp://[%s]:*" : "tcp://%s:*", o->host);
    for (size_t i = 0; i < o->n; i++) {
        size_t sz = sizeof last;
        const char *port;
        if (zmq_bind(s->router, ep) != 0 ||
            zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, last, &sz) != 0 ||
            (port = strrchr(last, ':')) == NULL) {
            fprintf(stderr, "simfleet: cannot listen on %s (agent %zu): %s\n", ep, i + 1,
                    zmq_strerror(errno));
            return -1;
        }
        fprintf(list, v6 ? "[%s]%s\n" : "%s%s\n", o->host, port);
    }
    return 0;
}

static void on_timer(sim_t *s)
{
    uint64_t expirations, now = now_ns();

    if (read(s->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return;
    while (s->nheap > 0 && s->heap[0].due <= now) {
        sim_timer_t t = heap_pop(s);
        sim_slot_t *sl = &s->slot[t.slot];
        if (sl->used && sl->gen == t.gen && sl->state == SIM_RUNNING) send_result(s, sl);
    }
}

static void sim_loop(sim_t *s)
{
    unsigned char id[WIRE_ID_MAX];
    size_t idlen = 0;
    fb_err_t err = {""};
    uint64_t next_tick = 0;

    while (!g_stop) {
        zmq_pollitem_t items[3] = {{s->router, 0, ZMQ_POLLIN, 0},
                                   {NULL, s->tfd, ZMQ_POLLIN, 0},
                                   {s->zap.sock, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, s->zap.sock ? 3 : 2, 50) < 0 && errno != EINTR) break;
        if (s->zap.sock && (items[2].revents & ZMQ_POLLIN)) curve_zap_serve(&s->zap);
        if (items[1].revents & ZMQ_POLLIN) {
            on_timer(s);
            timer_arm(s);
        }
        for (;;) {
            int rc = wire_recv(s->router, id, &idlen, &s->in, &err);
            if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
            on_message(s, id, idlen, rc, &s->in, err.msg);
        }
        timer_arm(s); /* a GO may have added an earlier RESULT */
        uint64_t now = now_ns();
        if (now >= next_tick) { /* every 10 ms: liveness and heartbeats of all sessions */
            tick(s, now);
            next_tick = now + 10000000ull;
        }
    }
}

/* ---- setup ---------------------------------------------------------------- */

static const char k_usage[] =
    "Usage: simfleet -n N [OPTIONS]\n"
    "\n"
    "Simulates N fleetbench agents in one process (for bench/fleet.sh): one port\n"
    "each, the agent protocol, runs that make no HTTP request but report plausible\n"
    "results. Prints the agents' HOST:PORT lines (or writes --agents-file), then\n"
    "\"simfleet: N agents ready\" on stdout, and serves until SIGINT/SIGTERM.\n"
    "\n"
    "  -n, --agents N          simulated agents (1..4096)\n"
    "      --host ADDR         where they listen (default 127.0.0.1)\n"
    "      --agents-file FILE  write the HOST:PORT lines there (for coordinator\n"
    "                          --agents-file) instead of stdout\n"
    "      --latency-us US     simulated latency of one request (default 100)\n"
    "      --key FILE          CURVE secret key (every endpoint shares it)\n"
    "      --authorized-keys FILE  coordinator public keys let in\n"
    "      --seed S            jitter seed (default 1)\n"
    "      --implicit-prepare  a GO with no PREPARE before it starts the run (for\n"
    "                          routerbench --no-prepare: a two-message exchange)\n"
    "  -h, --help              this text\n"
    "Exit: 0 after a signal; 1 usage or setup error.\n";

static int sim_parse(sim_opts_t *o, int argc, char **argv, fb_err_t *err)
{
    static const struct option k_opts[] = {{"agents", required_argument, NULL, 'n'},
                                           {"host", required_argument, NULL, 'H'},
                                           {"agents-file", required_argument, NULL, 'f'},
                                           {"latency-us", required_argument, NULL, 'l'},
                                           {"key", required_argument, NULL, 'k'},
                                           {"authorized-keys", required_argument, NULL, 'a'},
                                           {"seed", required_argument, NULL, 's'},
                                           {"help", no_argument, NULL, 'h'},
                                           {"implicit-prepare", no_argument, NULL, 'i'},
                                           {NULL, 0, NULL, 0}};
    static const opt_cli_t k_cli = {"simfleet --help", k_opts, NULL};
    uint64_t v;
    int c;

    memset(o, 0, sizeof *o);
    strcpy(o->host, "127.0.0.1");
    o->latency_us = 100;
    o->seed = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:h", k_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (opt_u64("--agents", optarg, 1, SIM_MAX_AGENTS, &v, err) != 0) return -1;
            o->n = (size_t)v;
            break;
        case 'H': snprintf(o->host, sizeof o->host, "%s", optarg); break;
        case 'f': o->agents_file = optarg; break;
        case 'l':
            if (opt_u64("--latency-us", optarg, 1, 10000000, &o->latency_us, err) != 0) return -1;
            break;
        case 'k': o->key_path = optarg; break;
        case 'i': o->implicit_prepare = true; break;
        case 'a': o->authorized_path = optarg; break;
        case 's':
            if (opt_u64("--seed", optarg, 1, UINT64_MAX, &o->seed, err) != 0) return -1;
            break;
        case 'h': fputs(k_usage, stdout); exit(FB_EXIT_OK);
        default: opt_getopt_error(&k_cli, c, argv, err); return -1;
        }
    }
    if (optind < argc) {
        opt_unexpected(&k_cli, argv[optind], err);
        return -1;
    }
    if (o->n == 0) {
        fb_err_set(err, "-n N: how many agents to simulate");
        return -1;
    }
    if ((o->key_path == NULL) != (o->authorized_path == NULL)) {
        fb_err_set(err, "--key and --authorized-keys go together");
        return -1;
    }
    return 0;
}

/* A listener and a connection per agent, plus libzmq's own. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int sim_init(sim_t *s, const sim_opts_t *o)
{
    s->nslot = 4 * o->n;
    for (s->index_cap = 16; s->index_cap < 4 * s->nslot; s->index_cap *= 2) {
    }
    s->slot = calloc(s->nslot, sizeof *s->slot);
    s->freelist = calloc(s->nslot, sizeof *s->freelist);
    s->index = calloc(s->index_cap, sizeof *s->index);
    s->heap_cap = s->nslot;
    s->heap = calloc(s->heap_cap, sizeof *s->heap);
    for (size_t i = 0; s->freelist && i < s->nslot; i++) /* slot 0 first */
        s->freelist[s->nfree++] = (uint32_t)(s->nslot - 1 - i);
    s->hist = hist_new();
    s->latency_ns = o->latency_us * 1000;
    s->implicit_prepare = o->implicit_prepare;
    s->rng = o->seed;
    s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s->zctx = zmq_ctx_new();
    if (s->slot == NULL || s->freelist == NULL || s->index == NULL || s->heap == NULL ||
        s->hist == NULL || s->tfd < 0 || s->zctx == NULL) {
        fprintf(stderr, "simfleet: out of memory or descriptors\n");
        return -1;
    }
    facts_collect(&s->facts); /* the real boot id: the coordinator shares our clock */
    return 0;
}

static void sim_close(sim_t *s)
{
    for (size_t i = 0; s->slot && i < s->nslot; i++)
        free(s->slot[i].plan);
    if (s->router) zmq_close(s->router);
    curve_zap_close(&s->zap);
    if (s->zctx) zmq_ctx_term(s->zctx);
    if (s->tfd >= 0) close(s->tfd);
    free(s->authorized);
    free(s->slot);
    free(s->freelist);
    free(s->index);
    free(s->heap);
    hist_free(&s->hist);
}

int main(int argc, char **argv)
{
    fb_err_t err;
    sim_opts_t o;
    sim_t *s;
    FILE *list = stdout;
    struct sigaction sa = {.sa_handler = on_signal};
    int rc = FB_EXIT_USAGE;

    if (sim_parse(&o, argc, argv, &err) != 0) {
        fprintf(stderr, "simfleet: %s\n", err.msg);
        return FB_EXIT_USAGE;
    }
    raise_nofile();
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((s = calloc(1, sizeof *s)) == NULL) return FB_EXIT_USAGE;
    s->tfd = -1;
    if (o.agents_file && (list = fopen(o.agents_file, "w")) == NULL) {
        fprintf(stderr, "simfleet: %s: %s\n", o.agents_file, strerror(errno));
        free(s);
        return FB_EXIT_USAGE;
    }
    if (sim_init(s, &o) == 0 && sim_bind(s, &o, list) == 0) {
        if (list != stdout && fclose(list) != 0) {
            fprintf(stderr, "simfleet: %s: %s\n", o.agents_file, strerror(errno));
        } else {
            list = stdout;
            printf("simfleet: %zu agents ready\n", o.n);
            fflush(stdout);
            sim_loop(s);
            fprintf(stderr,
                    "simfleet: stopping: %lu sessions, %lu results, %lu messages in, %lu out\n",
                    s->sessions, s->results, s->msgs_in, s->msgs_out);
            rc = FB_EXIT_OK;
        }
    }
    if (list != stdout) fclose(list);
    sim_close(s);
    free(s);
    return rc;
}
