#include "drive.h"

#include "export.h"
#include "export_hdr.h"
#include "clock.h"
#include "order.h"
#include "outfile.h"
#include "summary.h"
#include "vet.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT_EVERY_NS 1000000000ull /* interim exports: at most one a second */

#define MS 1000000ull

static void hosts_from_facts(drive_t *r)
{
    for (size_t i = 0; i < r->fleet->n; i++) {
        const fleet_agent_t *a = &r->fleet->a[i];
        bench_host_t h;
        memset(&h, 0, sizeof h);
        snprintf(h.name, sizeof h.name, "%.255s", a->name);
        snprintf(h.host, sizeof h.host, "%s", a->facts.host);
        snprintf(h.cpu_model, sizeof h.cpu_model, "%s", a->facts.cpu_model);
        snprintf(h.kernel, sizeof h.kernel, "%s", a->facts.kernel);
        snprintf(h.libcurl, sizeof h.libcurl, "%s", a->facts.libcurl);
        snprintf(h.libuv, sizeof h.libuv, "%s", a->facts.libuv);
        snprintf(h.libzmq, sizeof h.libzmq, "%s", a->facts.libzmq);
        snprintf(h.version, sizeof h.version, "%s", a->facts.version);
        h.cores = a->facts.cores;
        bench_set_add_host(r->set, &h);
    }
}

static uint64_t run_timeout_ns(const drive_t *r, size_t idx);

/* The plan every agent gets, now and when it comes back after a loss. */
static int set_plan(drive_t *r)
{
    proto_plan_t *p = calloc(1, sizeof *p);

    if (p == NULL) return -1;
    snprintf(p->target_host, sizeof p->target_host, "%s", r->target_host);
    p->target_port = (uint32_t)r->target_port;
    p->timeout_ms = r->opts->timeout_ms;
    p->nbench = (uint32_t)r->matrix->n;
    for (size_t i = 0; i < r->matrix->n; i++) {
        const matrix_entry_t *e = &r->matrix->e[i];
        snprintf(p->bench[i].strategy, sizeof p->bench[i].strategy, "%s", e->strategy);
        if (e->is_command) {
            uint64_t t = run_timeout_ns(r, i) / MS, live = r->opts->liveness_ms;
            snprintf(p->bench[i].command, sizeof p->bench[i].command, "%s", e->exec);
            p->bench[i].no_shell = (uint32_t)r->opts->no_shell;
            p->bench[i].show_output = (uint32_t)r->opts->show_output;
            /* killed on the agent a liveness before we give up on it, so the
             * result of a command that hangs still comes in */
            p->bench[i].cmd_timeout_ms = t - (live < t / 2 ? live : t / 2);
        }
        p->bench[i].requests = e->requests;
        p->bench[i].chunk = e->chunk;
        p->bench[i].connections = e->connections;
        if (!e->is_command) { /* each agent's share of --rate; 0: closed loop */
            p->bench[i].rate_milli = r->opts->rate_milli;
            p->bench[i].duration_ms = r->opts->duration_ms;
        }
    }
    fleet_set_plan(r->fleet, p);
    free(p);
    return 0;
}

uint64_t drive_run_timeout_ms(const matrix_entry_t *e, unsigned timeout_ms, unsigned liveness_ms)
{
    if (e->is_command) return DRIVE_CMD_TIMEOUT_MS + liveness_ms;
    uint64_t conc = e->uses_chunk ? e->chunk : e->uses_connections ? e->connections : e->requests;
    uint64_t waves, t;

    if (conc == 0 || conc > e->requests) conc = e->requests;
    waves = conc ? (e->requests + conc - 1) / conc : 1;
    /* every request timing out, twice over for the CPU around them */
    t = 2 * waves * (uint64_t)timeout_ms + liveness_ms;
    return t < DRIVE_RUN_TIMEOUT_MAX_MS ? t : DRIVE_RUN_TIMEOUT_MAX_MS;
}

uint64_t drive_rate_timeout_ms(uint64_t duration_ms, unsigned timeout_ms, unsigned liveness_ms)
{
    uint64_t t = 2 * (duration_ms + timeout_ms) + liveness_ms;

    return t < DRIVE_RUN_TIMEOUT_MAX_MS ? t : DRIVE_RUN_TIMEOUT_MAX_MS;
}

/* How long agents get for a run of benchmark idx: --run-timeout, or what
 * the plan says the slowest honest run can take. */
static uint64_t run_timeout_ns(const drive_t *r, size_t idx)
{
    const cmdline_t *o = r->opts;

    if (o->run_timeout_s) return (uint64_t)o->run_timeout_s * 1000 * MS;
    if (o->rate > 0)
        return drive_rate_timeout_ms(o->duration_ms, o->timeout_ms, o->liveness_ms) * MS;
    return drive_run_timeout_ms(&r->matrix->e[idx], o->timeout_ms, o->liveness_ms) * MS;
}

/* Lockstep: GO names a start time a little ahead, on each agent's clock, so
 * the agents start together however long the GOs and their wake-ups take;
 * the lead grows with the number of agents to be told. */
#define GO_LEAD_PER_AGENT_NS 50000ull
#define GO_LEAD_MAX_NS 5000000ull

static uint64_t go_lead(const fleet_t *f)
{
    uint64_t lead = fleet_live(f) > 1 ? GO_LEAD_PER_AGENT_NS * fleet_live(f) : 0;

    return lead < GO_LEAD_MAX_NS ? lead : GO_LEAD_MAX_NS;
}

/* An open-loop run's extras from one agent's (vetted) result. */
static void collect_pace(drive_t *r, const proto_result_t *res, bench_agent_run_t *ar)
{
    uint64_t sent = res->ok - res->expired; /* vetted: expired <= the timeouts */

    for (int c = 0; c < CAUSE__COUNT; c++)
        sent += res->failed[c];
    ar->paced = 1;
    ar->never_sent = res->expired;
    /* as agent run's record: sent and finished per second of the span */
    ar->achieved = res->span_ns ? (double)sent / ((double)res->span_ns / 1e9) : 0;
    ar->late_p50_s = (double)res->late_p50 / 1e9;
    ar->late_p99_s = (double)res->late_p99 / 1e9;
    ar->late_max_s = (double)res->late_max / 1e9;
    if (vet_service(res, r->agent_service) == 0) hist_merge(r->run_service, r->agent_service);
}

/* The agents' results of one run, as the bench record wants them: an agent
 * without an accepted result (lost, refused, not part of the run) is lost. */
static void collect(drive_t *r, bench_agent_run_t *out)
{
    fleet_t *f = r->fleet;
    int64_t first = INT64_MAX, start[f->n];

    for (size_t i = 0; i < f->n; i++) {
        const proto_result_t *res = fleet_result(f, i);
        bench_agent_run_t *ar = &out[i];
        memset(ar, 0, sizeof *ar);
        ar->lost = res == NULL;
        if (ar->lost) continue;
        ar->wall_s = (double)res->wall_ns / 1e9;
        ar->user_s = (double)res->user_ns / 1e9;
        ar->sys_s = (double)res->sys_ns / 1e9;
        ar->ok = res->ok;
        for (int c = 0; c < CAUSE__COUNT; c++)
            ar->failed[c] = res->failed[c];
        ar->bytes = res->bytes;
        ar->connections = res->connections;
        ar->exit_code = (int)res->exit_code;
        if (r->opts->rate > 0) collect_pace(r, res, ar);
        /* starts on our clock: exact when the agent shares it, else estimated */
        start[i] = fleet_start_ns(f, i);
        if (start[i] < first) first = start[i];
        hist_merge(r->run_latency, f->a[i].latency);
    }
    for (size_t i = 0; i < f->n; i++)
        if (!out[i].lost && r->opts->mode == MODE_LOCKSTEP)
            out[i].start_offset_s = (double)(start[i] - first) / 1e9;
}

/* ---- the target's own view: its GET /stats around each timed run -------- */

#define VIEW_MAX_FAILS 3 /* reads failed in a row before we stop asking */

/* Asks agent i to read the target's counters (phase PROTO_VIEW_*); its
 * answer lands in f->a[i].stats. -1 on a fatal error or a stop. */
static int view_ask(drive_t *r, size_t i, uint32_t phase)
{
    fleet_t *f = r->fleet;

    return fleet_view(f, i, phase);
}

/* Before a timed run: the first live agent reads the target's counters;
 * *reader is that agent, or SIZE_MAX when there will be no view of the run.
 * A target without GET /stats is measured as any other, without it. */
static int view_begin(drive_t *r, size_t *reader)
{
    fleet_t *f = r->fleet;
    const proto_stats_t *s;
    size_t i;

    *reader = SIZE_MAX;
    for (i = 0; i < f->n && f->a[i].phase != PEER_IDLE; i++) {
    }
    if (r->no_view || i == f->n) return 0;
    if (view_ask(r, i, PROTO_VIEW_BEFORE) != 0) return -1;
    s = &f->a[i].stats;
    if (s->status == PROTO_VIEW_OK) {
        *reader = i;
        r->view_fails = 0;
    } else if (s->status == PROTO_VIEW_NONE || ++r->view_fails == VIEW_MAX_FAILS) {
        r->no_view = 1;
        if (s->status != PROTO_VIEW_NONE)
            fprintf(stderr, "coordinator: the target's own view is not recorded from here on: %s\n",
                    s->detail);
    }
    return 0;
}

/* After every result of the run is in: the difference, into *t. */
static int view_end(drive_t *r, size_t reader, bench_target_t *t)
{
    fleet_t *f = r->fleet;
    const proto_stats_t *s = &f->a[reader < f->n ? reader : 0].stats;

    memset(t, 0, sizeof *t);
    if (reader >= f->n || f->a[reader].phase != PEER_IDLE) return 0;
    if (view_ask(r, reader, PROTO_VIEW_AFTER) != 0) return -1;
    if (s->status != PROTO_VIEW_OK || s->phase != PROTO_VIEW_AFTER) return 0;
    *t = (bench_target_t){.seen = 1,
                          .requests = s->requests,
                          .dropped = s->dropped,
                          .connections = s->connections,
                          .cpu_ns = s->cpu_ns,
                          .wall_ns = s->wall_ns,
                          .busy_ns = s->busy_ns,
                          .busy_max_ns = s->busy_max_ns,
                          .loops = s->loops,
                          .cores = s->cores};
    memcpy(t->codes, s->codes, sizeof t->codes);
    r->set->target_view = 1;
    return 0;
}

/* How long the agents loaded the target in a run: the makespan in
 * lockstep, every agent's time one after another in serial. */
static uint64_t load_ns(const drive_t *r, const bench_agent_run_t *agents)
{
    double t = 0;

    for (size_t i = 0; i < r->fleet->n; i++) {
        if (agents[i].lost) continue;
        if (r->opts->mode == MODE_SERIAL)
            t += agents[i].wall_s;
        else
            t = fmax(t, agents[i].start_offset_s + agents[i].wall_s);
    }
    return (uint64_t)(t * 1e9);
}

/* Without -i, a command that exits non-zero stops its benchmark, with
 * hyperfine's message; the run is not kept. */
static bool command_failed(drive_t *r, bench_t *b, uint32_t bench, uint32_t run, int warm)
{
    fleet_t *f = r->fleet;
    unsigned k = warm ? run : run - r->opts->warmup;
    char when[64];

    if (!b->params.is_command || r->opts->ignore_failure) return false;
    for (size_t i = 0; i < f->n; i++) {
        const proto_result_t *res = fleet_result(f, i);
        if (res == NULL || res->exit_code == 0) continue;
        if (k == 0)
            snprintf(when, sizeof when, "the first %s run", warm ? "warmup" : "benchmark");
        else
            snprintf(when, sizeof when, "%s iteration %u", warm ? "warmup" : "benchmark", k);
        progress_end(&r->progress);
        fprintf(stderr,
                "coordinator: benchmark %u (%s), agent %s: Command terminated with non-zero exit "
                "code %u in %s. Use the '-i'/'--ignore-failure' option if you want to ignore "
                "this. Alternatively, use the '--show-output' option to debug what went wrong.\n",
                bench + 1, b->command, f->a[i].name, res->exit_code, when);
        r->stopped[bench] = 1;
        r->cmd_failed = 1;
        return true;
    }
    return false;
}

/* One warmup or timed run on every agent that can take part: those planned
 * at the run boundary. An agent that comes back during the run waits for
 * the next one. */
static int one_run(drive_t *r, bench_t *b, uint32_t bench, uint32_t run, int warm,
                   bench_agent_run_t *agents)
{
    bench_target_t target;
    size_t reader = SIZE_MAX;

    fleet_t *f = r->fleet;
    proto_step_t step = {.bench = bench, .run = run, .warmup = (uint32_t)warm};
    uint64_t timeout = run_timeout_ns(r, bench);

    if (fleet_next_run(f) != 0) return -1;
    if (!warm && view_begin(r, &reader) != 0) return -1;
    if (r->opts->mode == MODE_LOCKSTEP) {
        if (fleet_prepare(f, SIZE_MAX, &step) != 0 ||
            fleet_go(f, SIZE_MAX, go_lead(f), timeout) != 0)
            return -1;
        r->go_fanout_s = (double)f->go_fanout_ns / 1e9;
    } else {
        for (size_t i = 0; i < f->n; i++)
            if (fleet_prepare(f, i, &step) != 0 || fleet_go(f, i, 0, timeout) != 0) return -1;
        r->go_fanout_s = NAN;
    }
    if (command_failed(r, b, bench, run, warm)) return 0;
    if (warm) return 0;
    if (view_end(r, reader, &target) != 0) return -1;
    hist_reset(r->run_latency);
    hist_reset(r->run_service);
    collect(r, agents);
    target.load_ns = target.seen ? load_ns(r, agents) : 0;
    /* on disk first: a run counts once a crash can no longer lose it */
    if (journal_append(r->journal, bench, agents, f->n, r->run_latency,
                       r->opts->rate > 0 ? r->run_service : NULL, &target, &r->err) != 0)
        return -1;
    hist_merge(b->latency, r->run_latency);
    if (bench_add_run(b, agents) != 0 ||
        bench_set_run_hists(b, r->run_latency, r->opts->rate > 0 ? r->run_service : NULL) != 0) {
        fb_err_set(&r->err, "out of memory");
        return -1;
    }
    bench_set_target(b, &target);
    b->runs[b->nruns - 1].go_fanout_s = r->go_fanout_s;
    return 0;
}

/* benches[idx]; the set holds every benchmark of the matrix, in matrix
 * order, made from its entry when first asked for (runs come in any order). */
static bench_t *bench_at(drive_t *r, size_t idx, size_t nagents)
{
    while (r->set->nbench <= idx) {
        const matrix_entry_t *e = &r->matrix->e[r->set->nbench];
        bench_params_t params;
        bench_t *b;
        memset(&params, 0, sizeof params);
        snprintf(params.strategy, sizeof params.strategy, "%s", e->strategy);
        params.is_command = e->is_command;
        params.nparams = e->nparams;
        for (size_t k = 0; k < e->nparams; k++) {
            snprintf(params.param_name[k], BENCH_STR, "%s", e->param_name[k]);
            snprintf(params.param_value[k], BENCH_STR, "%s", e->param_value[k]);
        }
        params.requests = e->requests;
        params.chunk = e->chunk;
        params.connections = e->connections;
        params.uses_chunk = e->uses_chunk;
        params.uses_connections = e->uses_connections;
        params.rate = r->opts->rate;
        params.duration_s = r->opts->duration_s;
        b = bench_new(e->command, &params, nagents);
        if (b == NULL || bench_set_add(r->set, b) != 0) return NULL;
    }
    return r->set->benches[idx];
}

int drive_replay(void *drive, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                 const hist_t *latency, const hist_t *service, const bench_target_t *target,
                 fb_err_t *err)
{
    drive_t *r = drive;
    size_t want = r->opts->nagents ? r->opts->nagents : 1; /* 0: one embedded agent */
    bench_t *b;

    if (bench >= r->matrix->n || nagents != want) {
        fb_err_set(err,
                   "run of benchmark %zu with %zu agents does not fit the "
                   "matrix (%zu benchmarks, %zu agents)",
                   bench, nagents, r->matrix->n, want);
        return -1;
    }
    b = bench_at(r, bench, nagents);
    if (b == NULL || b->nruns >= r->opts->runs) {
        fb_err_set(err, "run of benchmark %zu out of order or one too many", bench);
        return -1;
    }
    if ((r->opts->rate > 0) != (service != NULL)) {
        fb_err_set(err, "run of benchmark %zu %s a service-time histogram", bench,
                   service ? "has" : "lacks");
        return -1;
    }
    hist_merge(b->latency, latency);
    if (bench_add_run(b, agents) != 0 || bench_set_run_hists(b, latency, service) != 0) return -1;
    if (target != NULL) {
        bench_set_target(b, target);
        r->set->target_view = 1;
    }
    return 0;
}

int drive_export(const drive_t *r, bool final)
{
    const cmdline_t *o = r->opts;
    const struct {
        const char *path;
        export_format_t fmt;
    } ex[] = {{o->export_json, EXPORT_JSON},
              {o->export_md, EXPORT_MARKDOWN},
              {o->export_csv, EXPORT_CSV},
              {o->report, EXPORT_HTML}};
    fb_err_t err = {""};
    bench_set_t view; /* a benchmark with no measured run is left out */
    int rc = 0;

    if (bench_set_view(r->set, &view) != 0) {
        fprintf(stderr, "coordinator: exports: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
        /* a device or FIFO would get one copy per round: the last only */
        if (ex[i].path == NULL || (!final && outfile_in_place(ex[i].path))) continue;
        if (export_write(ex[i].path, ex[i].fmt, &view, &err) != 0) {
            fprintf(stderr, "coordinator: %s\n", err.msg);
            rc = -1;
        }
    }
    bench_set_view_close(&view);
    /* one file per benchmark, numbered as the summary numbers them */
    if (o->export_hdr && (final || !outfile_in_place(o->export_hdr)) &&
        export_hdr(o->export_hdr, r->set, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        rc = -1;
    }
    return rc;
}

/* The blocks of the benchmarks done, in matrix order whatever the run
 * order: from *printed on, up to the first one not done (all when `all`:
 * the matrix ended early). */
static void print_done(drive_t *r, size_t *printed, int all)
{
    for (; *printed < r->set->nbench; (*printed)++) {
        size_t i = *printed;
        if (r->set->benches[i]->nruns < r->opts->runs && !all) break;
        if (r->set->benches[i]->nruns == 0) continue;
        progress_end(&r->progress);
        summary_bench(r->out, r->set, i, r->color);
        fflush(r->out);
    }
}

/* Walks the order's steps; a step whose run the journal already holds is
 * skipped (a benchmark's timed runs come in their own order, so its first
 * nruns are done), and so are the warmups of a benchmark with nothing left. */
static int run_order(drive_t *r, bench_agent_run_t *agents, size_t *printed)
{
    unsigned runs = r->opts->runs, warmup = r->opts->warmup;
    size_t total = 0, done = 0;
    uint64_t t0 = clock_now_ns(), exported = t0;
    order_step_t st;
    order_t ord;
    int rc = 0;

    if (bench_at(r, r->matrix->n - 1, r->fleet->n) == NULL ||
        order_init(&ord, r->matrix->n, warmup, runs, r->opts->order, r->opts->seed) != 0) {
        fb_err_set(&r->err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->set->nbench; i++)
        total += runs - r->set->benches[i]->nruns;
    r->progress.total = total;
    r->progress.warmup = warmup;
    while (rc == 0 && order_next(&ord, &st)) {
        bench_t *b = r->set->benches[st.bench];
        if (st.warm ? b->nruns >= runs : b->nruns > st.run) continue;
        if (r->stopped[st.bench]) continue; /* a command failed there (no -i) */
        progress_bench(&r->progress, st.bench, b->command, st.warm, st.warm ? st.run : done,
                       progress_estimate(b));
        rc = one_run(r, b, st.bench, st.warm ? st.run : warmup + st.run, st.warm, agents);
        if (rc != 0 || st.warm) continue;
        r->progress.pace_s = (double)(clock_now_ns() - t0) / 1e9 / (double)++done;
        progress_run(&r->progress, done, progress_estimate(b));
        print_done(r, printed, 0);
        /* as hyperfine after each benchmark, so a crash keeps them; between
         * benchmarks' ends at most once per EXPORT_EVERY_NS: an export's cost
         * grows with the runs made, and interleaved runs end a round every
         * run (the journal is what --resume reads, written before this) */
        if (st.round_end && (b->nruns >= runs || clock_now_ns() - exported >= EXPORT_EVERY_NS)) {
            drive_export(r, false);
            exported = clock_now_ns();
        }
    }
    order_close(&ord);
    return rc;
}

/* The worst thing that happened: a lost agent outranks failed requests, as
 * fb_exit.h orders them. */
static fb_exit_t final_code(const drive_t *r)
{
    fb_exit_t code = FB_EXIT_OK;

    if (r->fleet->lost > 0 || r->fleet->refused > 0) return FB_EXIT_LOST;
    if (r->cmd_failed) code = FB_EXIT_FAILED;
    for (size_t i = 0; i < r->set->nbench; i++)
        for (size_t k = 0; k < r->set->benches[i]->nruns; k++)
            if (r->set->benches[i]->runs[k].exit_code > (int)code)
                code = (fb_exit_t)r->set->benches[i]->runs[k].exit_code;
    return code;
}

fb_exit_t drive_matrix(drive_t *r)
{
    fleet_t *f = r->fleet;
    bench_agent_run_t *agents = calloc(f->n, sizeof *agents);
    size_t printed = 0;
    int rc = 0;

    r->stopped = calloc(r->matrix->n ? r->matrix->n : 1, sizeof *r->stopped);
    if (agents == NULL || r->stopped == NULL || (r->run_latency = hist_new()) == NULL ||
        (r->run_service = hist_new()) == NULL || (r->agent_service = hist_new()) == NULL) {
        free(agents);
        free(r->stopped);
        r->stopped = NULL;
        hist_free(&r->run_latency);
        hist_free(&r->run_service);
        fb_err_set(&r->err, "out of memory");
        return FB_EXIT_USAGE;
    }
    progress_init(&r->progress, r->out, isatty(fileno(r->out)), r->color);
    if (set_plan(r) != 0 || fleet_greet(f, "coordinator") != 0) goto done;
    r->set->handshake_s = (double)(clock_now_ns() - r->connect_ns) / 1e9;
    hosts_from_facts(r);
    if (fleet_next_run(f) != 0) goto done; /* the plan: refusals end the matrix before it starts */
    rc = run_order(r, agents, &printed);
done:
    print_done(r, &printed, 1); /* what the runs that finished measured */
    progress_end(&r->progress); /* a run failed or was interrupted mid-benchmark */
    /* tell the agents, whatever happened; they go idle */
    fleet_end(f, f->fatal || *f->stop,
              *f->stop ? "coordinator interrupted" : "coordinator stopped the matrix");
    free(agents);
    free(r->stopped);
    r->stopped = NULL;
    hist_free(&r->run_latency);
    hist_free(&r->run_service);
    hist_free(&r->agent_service);
    if (*f->stop) return FB_EXIT_INTERRUPTED;
    if (f->fatal) return f->fatal;
    return rc != 0 ? FB_EXIT_USAGE : final_code(r);
}

bool drive_finished(const drive_t *r)
{
    if (r->set->nbench < r->matrix->n) return false;
    for (size_t i = 0; i < r->set->nbench; i++)
        if (r->set->benches[i]->nruns < r->opts->runs) return false;
    return true;
}
