#include "daemon.h"

#include "clock.h"
#include "curve.h"
#include "exec.h"
#include "facts.h"
#include "probe.h"
#include "record.h"
#include "run.h"
#include "strategy.h"
#include "tview.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define PROBE_TIMEOUT_MS 2000
#define BATCH 64 /* messages read per wake-up: a flood cannot starve the rest */

/* The run, as docs/protocol.md's agent states name it: prepared on PREPARE,
 * started on GO, reported when done; draining once aborted (its result is
 * thrown away), which ends within one request's timeout. A session is open
 * only while the run is none, prepared or running. */
typedef enum { RUN_NONE, RUN_PREPARED, RUN_RUNNING, RUN_DRAINING } run_state_t;

typedef struct {
    const daemon_config_t *cfg;
    void *zctx, *router;
    void *done_rx, *done_tx; /* inproc pair: the run thread says "done" */
    curve_zap_t zap;         /* with keys: who may connect */
    curve_key_t *authorized;
    size_t nauthorized;

    /* the session: one coordinator at a time, known by its session id; its
     * route is where its last message came from (a reconnect changes it) */
    bool open;
    unsigned char route[WIRE_ID_MAX];
    size_t routelen;
    uint64_t session, last_heard, last_sent, hb_seq;
    uint32_t hb_ms, live_ms;
    char coordinator[PROTO_STR]; /* its name, clean text (the decoder saw to it) */
    bool have_plan;
    proto_plan_t plan;

    run_state_t run;
    uint64_t prepared_at; /* a prepared run waits for its GO this long at most */
    proto_step_t step;
    const strategy_t *strategy; /* NULL: the benchmark is a command */
    exec_params_t exec;         /* a command's run */
    int exit_code;              /* its exit code */
    run_params_t params;
    run_result_t result;
    int run_rc;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go;
    uint64_t start_at; /* GO's start time on our clock; 0: at once */

    /* the target's own view: its GET /stats before the timed run */
    tview_snap_t view_before;
    int view_before_status; /* PROTO_VIEW_*; UNREACHABLE until read */

    proto_msg_t in, out; /* scratch, large: the daemon lives on the heap */
} daemon_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;

    fputs("agent: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- sending -------------------------------------------------------------- */

static void send_to(daemon_t *d, const void *id, size_t idlen, proto_msg_t *m)
{
    fb_err_t err = {""};

    m->version = proto_version();
    if (wire_send(d->router, id, idlen, m, &err) != 0)
        logf_("%s", err.msg);
    else if (id == d->route)
        d->last_sent = clock_now_ns();
}

static void send_peer(daemon_t *d, proto_type_t t)
{
    d->out.type = t;
    d->out.session = d->session;
    send_to(d, d->route, d->routelen, &d->out);
}

static void send_error(daemon_t *d, const void *id, size_t idlen, uint64_t session,
                       proto_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void send_error(daemon_t *d, const void *id, size_t idlen, uint64_t session,
                       proto_err_t code, const char *fmt, ...)
{
    va_list ap;
    char text[sizeof d->out.u.error.message];

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    proto_error_init(&d->out, session, code, "%s", text);
    send_to(d, id, idlen, &d->out);
}

/* ---- the run thread ------------------------------------------------------- */

/* Sleeps until `at` (CLOCK_MONOTONIC ns) unless it is past or implausibly
 * far: a coordinator's clock estimate is never worth a long stall. */
#define START_WAIT_MAX_NS 100000000ull

static void wait_until(uint64_t at)
{
    uint64_t now = clock_now_ns();
    struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};

    if (at <= now || at - now > START_WAIT_MAX_NS) return;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* A command's run, into d->result's times and d->exit_code. */
static int run_command(daemon_t *d)
{
    exec_result_t x;

    if (exec_run(&d->exec, run_aborted, &x, &d->result.error) != 0) return -1;
    d->result.start_ns = x.start_ns;
    d->result.wall_ns = x.wall_ns;
    d->result.user_ns = x.user_ns;
    d->result.sys_ns = x.sys_ns;
    d->exit_code = x.exit_code;
    if (x.timed_out)
        logf_("run %u of benchmark %u: command killed after its timeout of %llu ms", d->step.run,
              d->step.bench, (unsigned long long)(d->exec.timeout_ns / 1000000));
    return 0;
}

/* One abort flag for the daemon and the strategies: run_aborted(). */
static void *run_main(void *arg)
{
    daemon_t *d = arg;

    pthread_mutex_lock(&d->mu);
    while (!d->go && !run_aborted())
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    wait_until(d->start_at);
    if (!run_aborted() && d->strategy)
        d->run_rc = run_execute(d->strategy, &d->params, &d->result);
    else if (!run_aborted())
        d->run_rc = run_command(d);
    zmq_send(d->done_tx, "", 0, 0);
    return NULL;
}

static void run_release(daemon_t *d)
{
    pthread_mutex_lock(&d->mu);
    d->go = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Stops the run in progress: strategies start no request once the flag is
 * set, so it ends within the requests in flight (their --timeout at worst);
 * its result is thrown away. */
static void run_abort(daemon_t *d)
{
    if (d->run == RUN_NONE || d->run == RUN_DRAINING) return;
    d->run = RUN_DRAINING;
    run_abort_set(1);
    pthread_mutex_lock(&d->mu);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* An open-loop run's extras: the service-time histogram, the lateness
 * summary and the span the achieved rate counts over (record.c's). */
static void pace_to_msg(const daemon_t *d, proto_result_t *m)
{
    const run_result_t *r = &d->result;
    const tally_t *t = &r->tally;
    uint64_t sum = 0;

    m->expired = t->expired;
    m->late_p50 = hist_percentile(t->lateness, 50);
    m->late_p99 = hist_percentile(t->lateness, 99);
    m->late_max = hist_max(t->lateness);
    m->span_ns = record_pace_span_ns(&d->params, r);
    m->svc_min = hist_min(t->service);
    m->svc_max = hist_max(t->service);
    hist_sum(t->service, &sum);
    m->svc_sum = sum;
    m->svc_nbuckets = (uint32_t)hist_export(t->service, m->svc_idx, m->svc_cnt, PROTO_MAX_BUCKETS);
}

static void result_to_msg(const daemon_t *d, proto_result_t *m)
{
    const run_result_t *r = &d->result;
    const tally_t *t = &r->tally;
    uint64_t sum = 0;

    /* proto's failure causes are req_outcome_t's, OK left out */
    _Static_assert(REQ__COUNT - 1 == PROTO_FAIL__COUNT, "failure causes differ");
    m->bench = d->step.bench;
    m->run = d->step.run;
    m->warmup = d->step.warmup;
    m->start_ns = r->start_ns;
    m->wall_ns = r->wall_ns;
    m->user_ns = r->user_ns;
    m->sys_ns = r->sys_ns;
    if (d->strategy == NULL) { /* a command: no requests of ours to count */
        m->exit_code = (uint32_t)d->exit_code;
        return;
    }
    m->ok = t->count[REQ_OK];
    for (int i = 0; i < PROTO_FAIL__COUNT; i++)
        m->failed[i] = t->count[i + 1];
    m->bytes = t->bytes;
    m->connections = t->connects;
    m->lat_min = hist_min(t->latency);
    m->lat_max = hist_max(t->latency);
    hist_sum(t->latency, &sum);
    m->lat_sum = sum;
    m->nbuckets =
        (uint32_t)hist_export(t->latency, m->bucket_idx, m->bucket_cnt, PROTO_MAX_BUCKETS);
    if (d->params.rate > 0 && t->service && t->lateness) pace_to_msg(d, m);
}

static void on_run_done(daemon_t *d)
{
    char c;

    zmq_recv(d->done_rx, &c, sizeof c, ZMQ_DONTWAIT);
    pthread_join(d->thread, NULL);
    if (d->run == RUN_DRAINING) {
        logf_("run %u of benchmark %u aborted", d->step.run, d->step.bench);
    } else if (d->run_rc != 0) {
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_INTERNAL, "%s %s: %s",
                   d->strategy ? d->strategy->name : "command", "could not run",
                   d->result.error.msg);
    } else {
        memset(&d->out, 0, sizeof d->out);
        result_to_msg(d, &d->out.u.result);
        send_peer(d, PROTO_RESULT);
    }
    run_result_close(&d->result);
    d->run = RUN_NONE;
}

/* ---- session -------------------------------------------------------------- */

static void session_end(daemon_t *d, const char *why)
{
    if (!d->open) return;
    if (!d->cfg->quiet || strcmp(why, "bye") != 0)
        logf_("session %016" PRIx64 " with %s ended: %s", d->session, d->coordinator, why);
    run_abort(d);
    d->open = false;
    d->have_plan = false;
}

static bool from_route(const daemon_t *d, const void *id, size_t idlen)
{
    return d->open && idlen == d->routelen && memcmp(id, d->route, idlen) == 0;
}

static bool allowed(const daemon_config_t *cfg, const char *host, int port)
{
    if (cfg->nallow == 0) return true;
    for (unsigned i = 0; i < cfg->nallow; i++)
        if (strcmp(cfg->allow_host[i], host) == 0 &&
            (cfg->allow_port[i] < 0 || cfg->allow_port[i] == port))
            return true;
    return false;
}

/* HELLO: a session opens when none is (and no aborted run is winding down).
 * The serving coordinator's own HELLO (its session, or its connection)
 * means it starts over: the old session ends first. Anyone else is busy,
 * and that answer is no sign of life of the session we serve. */
static void on_hello(daemon_t *d, const void *id, size_t idlen, const proto_msg_t *m)
{
    bool again = d->open && (m->session == d->session || from_route(d, id, idlen));

    if (d->open && !again) {
        send_error(d, id, idlen, m->session, PROTO_ERR_BUSY,
                   "agent is serving session %016" PRIx64 " of %s", d->session, d->coordinator);
        return;
    }
    if (again)
        session_end(d, m->session == d->session ? "the coordinator greeted this agent again"
                                                : "the coordinator opened a new session");
    if (d->run != RUN_NONE) { /* an aborted run is still winding down */
        send_error(d, id, idlen, m->session, PROTO_ERR_BUSY, "agent is finishing a run; retry");
        return;
    }
    d->open = true;
    memcpy(d->route, id, idlen);
    d->routelen = idlen;
    d->session = m->session;
    d->hb_ms = m->u.hello.heartbeat_ms;
    d->live_ms = m->u.hello.liveness_ms;
    d->last_heard = clock_now_ns();
    snprintf(d->coordinator, sizeof d->coordinator, "%s", m->u.hello.name);
    if (!d->cfg->quiet) logf_("session %016" PRIx64 " opened by %s", d->session, d->coordinator);
    memset(&d->out, 0, sizeof d->out);
    facts_collect(&d->out.u.welcome);
    send_peer(d, PROTO_WELCOME);
}

/* What exec_run would run: a command without a shell must split into words. */
static bool has_words(const proto_bench_t *b)
{
    char buf[PROTO_CMD], *argv[EXEC_ARGS_MAX + 1];

    if (!b->no_shell) return b->command[strspn(b->command, " ")] != '\0';
    return exec_split(b->command, buf, argv) >= 0;
}

static void on_plan(daemon_t *d, const proto_plan_t *p)
{
    char names[256];
    fb_err_t err = {""};

    for (uint32_t i = 0; i < p->nbench; i++)
        if (p->bench[i].command[0] && !d->cfg->allow_exec) {
            send_error(
                d, d->route, d->routelen, d->session, PROTO_ERR_EXEC_DENIED,
                "benchmark %u of the plan is a command, and this agent runs none: start it with "
                "--allow-exec",
                i + 1);
            return;
        } else if (!p->bench[i].command[0] && strategy_find(p->bench[i].strategy) == NULL) {
            catalog_names(names, sizeof names);
            send_error(d, d->route, d->routelen, d->session, PROTO_ERR_STRATEGY,
                       "unknown strategy '%s'; valid: %s", p->bench[i].strategy, names);
            return;
        }
    for (uint32_t i = 0; i < p->nbench; i++)
        if (proto_bench_check(&p->bench[i], &err) != 0) {
            send_error(d, d->route, d->routelen, d->session, PROTO_ERR_BAD_MESSAGE,
                       "benchmark %u of the plan: %s", i + 1, err.msg);
            return;
        } else if (p->bench[i].command[0] && !has_words(&p->bench[i])) {
            /* refused now, not after GO */
            send_error(d, d->route, d->routelen, d->session, PROTO_ERR_BAD_MESSAGE,
                       "benchmark %u of the plan: command '%.64s' has no words or more than %d",
                       i + 1, p->bench[i].command, EXEC_ARGS_MAX);
            return;
        }
    if (!allowed(d->cfg, p->target_host, (int)p->target_port)) {
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_TARGET_DENIED,
                   "target %s:%u is not in this agent's --allow-target", p->target_host,
                   p->target_port);
        return;
    }
    if (probe_tcp(p->target_host, (int)p->target_port, PROBE_TIMEOUT_MS, &err) != 0) {
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_UNREACHABLE, "%s", err.msg);
        return;
    }
    d->plan = *p;
    d->have_plan = true;
    send_peer(d, PROTO_ACCEPT);
}

static void state_error(daemon_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void state_error(daemon_t *d, const char *fmt, ...)
{
    va_list ap;
    char text[sizeof d->out.u.error.message];

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    send_error(d, d->route, d->routelen, d->session, PROTO_ERR_STATE, "%s", text);
}

static void on_prepare(daemon_t *d, const proto_step_t *s)
{
    const proto_bench_t *b;
    fb_err_t err = {""};

    if (!d->have_plan || s->bench >= d->plan.nbench) {
        state_error(d, "prepare of benchmark %u without a plan that has it", s->bench);
        return;
    }
    b = &d->plan.bench[s->bench];
    run_params_defaults(&d->params);
    snprintf(d->params.host, sizeof d->params.host, "%s", d->plan.target_host);
    d->params.port = (int)d->plan.target_port;
    d->params.requests = b->requests;
    d->params.chunk = b->chunk;
    d->params.connections = b->connections;
    d->params.in_flight = b->connections;
    d->params.timeout_ms = d->plan.timeout_ms;
    d->strategy = b->command[0] ? NULL : strategy_find(b->strategy);
    d->exec = (exec_params_t){.command = b->command,
                              .no_shell = (int)b->no_shell,
                              .show_output = (int)b->show_output,
                              .host = d->plan.target_host,
                              .port = (int)d->plan.target_port,
                              .iteration = s->run,
                              .warmup = (int)s->warmup,
                              .timeout_ns = b->cmd_timeout_ms * 1000000ull};
    d->exit_code = 0;
    /* open loop: the plan gives this agent's share of the fleet's rate */
    d->params.rate = (double)b->rate_milli / 1000.0;
    d->params.duration_s = (double)b->duration_ms / 1000.0;
    if (run_params_finish(&d->params, &err) != 0) {
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_INTERNAL, "prepare: %s",
                   err.msg);
        return;
    }
    if (run_result_init(&d->result) != 0) {
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_INTERNAL,
                   "prepare: out of memory");
        return;
    }
    d->step = *s;
    d->go = false;
    d->run_rc = 0;
    run_abort_set(0);
    if (pthread_create(&d->thread, NULL, run_main, d) != 0) {
        run_result_close(&d->result);
        send_error(d, d->route, d->routelen, d->session, PROTO_ERR_INTERNAL,
                   "cannot start the run thread");
        return;
    }
    d->run = RUN_PREPARED;
    d->prepared_at = clock_now_ns();
    d->out.u.step = *s;
    d->out.u.step.clock_ns = clock_now_ns(); /* lets a coordinator on another host map our clock */
    send_peer(d, PROTO_READY);
}

/* The target's GET /stats, before a timed run (kept) or after it (the
 * difference sent). Here in the control thread: no run is going on, and a
 * short timeout keeps our heartbeats on time. */
static void on_stats_req(daemon_t *d, uint32_t phase)
{
    proto_stats_t *o = &d->out.u.stats;
    uint32_t timeout = d->live_ms / 4 < 1000 ? d->live_ms / 4 : 1000;
    tview_snap_t *after = malloc(sizeof *after);
    int st;

    memset(&d->out, 0, sizeof d->out);
    if (!d->have_plan || after == NULL) {
        free(after);
        state_error(d, "stats before a plan");
        return;
    }
    st = tview_read(d->plan.target_host, (int)d->plan.target_port, timeout,
                    phase == PROTO_VIEW_BEFORE ? &d->view_before : after, o->detail,
                    sizeof o->detail);
    if (phase == PROTO_VIEW_BEFORE)
        d->view_before_status = st;
    else if (st == PROTO_VIEW_OK && d->view_before_status == PROTO_VIEW_OK)
        tview_delta(&d->view_before, after, o);
    else if (st == PROTO_VIEW_OK) { /* no "before" to subtract */
        st = PROTO_VIEW_UNREACHABLE;
        snprintf(o->detail, sizeof o->detail, "GET /stats: no reading from before the run");
    }
    if (phase == PROTO_VIEW_AFTER) d->view_before_status = PROTO_VIEW_UNREACHABLE; /* used */
    if (o->status == PROTO_VIEW_OK) o->status = (uint32_t)st;
    o->phase = phase;
    free(after);
    send_peer(d, PROTO_STATS);
}

static void on_go(daemon_t *d, const proto_step_t *s)
{
    if (d->run != RUN_PREPARED || s->bench != d->step.bench || s->run != d->step.run ||
        s->warmup != d->step.warmup) {
        state_error(d, "go of run %u of benchmark %u, which is not the prepared one", s->run,
                    s->bench);
        return;
    }
    d->run = RUN_RUNNING;
    d->start_at = s->clock_ns;
    run_release(d);
}

/* A message of the open session: docs/protocol.md's agent table. */
static void on_session_msg(daemon_t *d, const proto_msg_t *m)
{
    switch (m->type) {
    case PROTO_PLAN:
        if (d->run == RUN_NONE)
            on_plan(d, &m->u.plan);
        else
            state_error(d, "plan during run %u of benchmark %u", d->step.run, d->step.bench);
        return;
    case PROTO_PREPARE:
        if (d->run == RUN_NONE)
            on_prepare(d, &m->u.step);
        else
            state_error(d, "prepare during run %u of benchmark %u", d->step.run, d->step.bench);
        return;
    case PROTO_STATS_REQ:
        if (d->run != RUN_NONE) {
            state_error(d, "stats during run %u of benchmark %u", d->step.run, d->step.bench);
            return;
        }
        on_stats_req(d, m->u.stats_req.phase);
        return;
    case PROTO_GO: on_go(d, &m->u.step); return;
    case PROTO_HEARTBEAT:
        d->out.u.heartbeat = m->u.heartbeat;
        send_peer(d, PROTO_HEARTBEAT);
        return;
    case PROTO_ABORT: session_end(d, m->u.abort.reason[0] ? m->u.abort.reason : "aborted"); return;
    case PROTO_BYE: session_end(d, "bye"); return;
    case PROTO_ERROR: session_end(d, m->u.error.message); return;
    default: state_error(d, "unexpected %s", proto_type_name(m->type)); return;
    }
}

/* One received message, or a decoding error to answer. Only messages of
 * the open session are signs of the coordinator's life. */
static void on_message(daemon_t *d, const unsigned char *id, size_t idlen, int rc,
                       const proto_msg_t *m, const char *err)
{
    if (rc == PROTO_EVERSION) {
        logf_("refused a message: it speaks protocol %u, this agent %u", m->version,
              proto_version());
        if (m->type == PROTO_ERROR || m->type == PROTO_BYE) return; /* never answered */
        send_error(d, id, idlen, m->session, PROTO_ERR_VERSION,
                   "agent speaks protocol version %u, coordinator speaks %u", proto_version(),
                   m->version);
        return;
    }
    if (rc != PROTO_OK) {
        logf_("refused a bad message: %s", err);
        send_error(d, id, idlen, 0, PROTO_ERR_BAD_MESSAGE, "bad message: %s", err);
        return;
    }
    if (m->type == PROTO_HELLO) {
        on_hello(d, id, idlen, m);
    } else if (d->open && m->session == d->session) {
        d->last_heard = clock_now_ns();
        memcpy(d->route, id, idlen); /* the coordinator may have reconnected */
        d->routelen = idlen;
        on_session_msg(d, m);
    } else if (m->type != PROTO_ERROR && m->type != PROTO_BYE) { /* never answer those */
        send_error(d, id, idlen, m->session, PROTO_ERR_STATE,
                   "no session %016" PRIx64 " here: send hello first", m->session);
    }
}

/* Deadlines of the session: the coordinator's liveness, and a prepared run
 * waits for its GO two liveness periods at most; our own heartbeats when
 * not timing. */
static void tick(daemon_t *d)
{
    uint64_t now = clock_now_ns(), live = (uint64_t)d->live_ms * 1000000u;

    if (!d->open) return;
    if (now - d->last_heard > live) {
        session_end(d, "coordinator lost (silent for longer than the liveness)");
        return;
    }
    if (d->run == RUN_PREPARED && now - d->prepared_at > 2 * live) {
        session_end(d, "no go for the prepared run within two liveness periods");
        return;
    }
    if (d->run != RUN_RUNNING && now - d->last_sent >= (uint64_t)d->hb_ms * 1000000u) {
        d->out.u.heartbeat.seq = ++d->hb_seq;
        send_peer(d, PROTO_HEARTBEAT);
    }
}

static int poll_timeout_ms(const daemon_t *d)
{
    return d->open ? (int)(d->hb_ms / 2 > 0 ? d->hb_ms / 2 : 1) : 500;
}

/* ---- setup ---------------------------------------------------------------- */

/* With keys: the ZAP handler first (so no peer is ever let in unchecked),
 * then the router as a CURVE server. */
static int daemon_secure(daemon_t *d, fb_err_t *err)
{
    curve_key_t secret;

    if (d->cfg->key_path == NULL) return 0;
    if (curve_load_secret(d->cfg->key_path, &secret, err) != 0 ||
        curve_load_authorized(d->cfg->authorized_path, &d->authorized, &d->nauthorized, err) != 0 ||
        curve_zap_init(&d->zap, d->zctx, d->authorized, d->nauthorized, err) != 0 ||
        curve_server_setup(d->router, &secret, err) != 0)
        return -1;
    return 0;
}

static int daemon_bind(daemon_t *d, char *endpoint, size_t cap, fb_err_t *err)
{
    char ep[300];
    int v6 = strchr(d->cfg->host, ':') != NULL;
    size_t sz = cap;

    if (d->cfg->port == 0)
        snprintf(ep, sizeof ep, v6 ? "tcp://[%s]:*" : "tcp://%s:*", d->cfg->host);
    else
        snprintf(ep, sizeof ep, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d", d->cfg->host, d->cfg->port);
    d->router = zmq_socket(d->zctx, ZMQ_ROUTER);
    if (d->router == NULL) {
        fb_err_set(err, "socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (daemon_secure(d, err) != 0) return -1;
    if (wire_socket_setup(d->router, err) != 0 ||
        zmq_setsockopt(d->router, ZMQ_IPV6, &v6, sizeof v6) != 0 || zmq_bind(d->router, ep) != 0) {
        fb_err_set(err, "cannot listen on %s: %s", ep, zmq_strerror(errno));
        return -1;
    }
    zmq_getsockopt(d->router, ZMQ_LAST_ENDPOINT, endpoint, &sz);
    d->done_rx = zmq_socket(d->zctx, ZMQ_PAIR);
    d->done_tx = zmq_socket(d->zctx, ZMQ_PAIR);
    if (zmq_bind(d->done_rx, "inproc://agent-done") != 0 ||
        zmq_connect(d->done_tx, "inproc://agent-done") != 0) {
        fb_err_set(err, "inproc pipe: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void daemon_loop(daemon_t *d)
{
    unsigned char id[WIRE_ID_MAX];
    size_t idlen = 0;
    fb_err_t err = {""};

    while (!g_stop) {
        zmq_pollitem_t items[3] = {{d->router, 0, ZMQ_POLLIN, 0},
                                   {d->done_rx, 0, ZMQ_POLLIN, 0},
                                   {d->zap.sock, 0, ZMQ_POLLIN, 0}};
        unsigned long denied = d->zap.denied;
        if (zmq_poll(items, d->zap.sock ? 3 : 2, poll_timeout_ms(d)) < 0 && errno != EINTR) break;
        if (items[1].revents & ZMQ_POLLIN) on_run_done(d);
        if (d->zap.sock && (items[2].revents & ZMQ_POLLIN)) {
            curve_zap_serve(&d->zap);
            if (d->zap.denied != denied)
                logf_("refused a coordinator whose key is not in %s", d->cfg->authorized_path);
        }
        for (int k = 0; k < BATCH; k++) {
            int rc = wire_recv(d->router, id, &idlen, &d->in, &err);
            if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
            on_message(d, id, idlen, rc, &d->in, err.msg);
        }
        tick(d);
    }
}

fb_exit_t daemon_run(const daemon_config_t *cfg)
{
    daemon_t *d = calloc(1, sizeof *d);
    struct sigaction sa = {.sa_handler = on_signal};
    char endpoint[300] = "";
    fb_err_t err = {""};
    fb_exit_t rc = FB_EXIT_USAGE;

    if (d == NULL) {
        fprintf(stderr, "agent: out of memory\n");
        return FB_EXIT_USAGE;
    }
    d->cfg = cfg;
    d->view_before_status = PROTO_VIEW_UNREACHABLE;
    run_raise_fd_limit(); /* each connection of a run is a descriptor */
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    d->zctx = zmq_ctx_new();
    if (d->zctx == NULL) fb_err_set(&err, "ZeroMQ context: %s", zmq_strerror(errno));
    if (d->zctx == NULL || daemon_bind(d, endpoint, sizeof endpoint, &err) != 0) {
        fprintf(stderr, "agent: %s\n", err.msg);
    } else {
        printf("agent: listening on %s\n", endpoint);
        fflush(stdout);
        daemon_loop(d);
        session_end(d, "agent stopping");
        if (d->run != RUN_NONE) { /* wait for the aborted run to wind down */
            char c;
            zmq_recv(d->done_rx, &c, sizeof c, 0);
            pthread_join(d->thread, NULL);
            run_result_close(&d->result);
        }
        rc = FB_EXIT_OK;
    }
    if (d->router) zmq_close(d->router);
    curve_zap_close(&d->zap);
    free(d->authorized);
    if (d->done_rx) zmq_close(d->done_rx);
    if (d->done_tx) zmq_close(d->done_tx);
    if (d->zctx) zmq_ctx_term(d->zctx);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
    return rc;
}
