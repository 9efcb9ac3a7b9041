#include "runner.h"

#include "facts.h"
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000ull
#define PLAN_GRACE_MS 3000 /* the agents probe the target before accepting */

static void hosts_from_facts(runner_t *r)
{
    char boot[PROTO_STR];

    facts_boot_id(boot, sizeof boot);
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
        r->agent_same_clock[i] = boot[0] && strcmp(boot, a->facts.boot_id) == 0;
    }
}

static int send_plan(runner_t *r)
{
    fleet_t *f = r->fleet;
    proto_plan_t *p = &f->out->u.plan;

    memset(f->out, 0, sizeof *f->out);
    f->out->type = PROTO_PLAN;
    snprintf(p->target_host, sizeof p->target_host, "%s", r->target_host);
    p->target_port = (uint32_t)r->target_port;
    p->timeout_ms = r->opts->timeout_ms;
    p->nbench = (uint32_t)r->matrix->n;
    for (size_t i = 0; i < r->matrix->n; i++) {
        const matrix_entry_t *e = &r->matrix->e[i];
        snprintf(p->bench[i].strategy, sizeof p->bench[i].strategy, "%s", e->strategy);
        p->bench[i].requests = e->requests;
        p->bench[i].chunk = e->chunk;
        p->bench[i].connections = e->connections;
    }
    fleet_send_all(f);
    return fleet_wait(f, PROTO_ACCEPT, fleet_now() + (f->live_ms + PLAN_GRACE_MS) * MS);
}

static void step_msg(fleet_t *f, proto_type_t t, uint32_t bench, uint32_t run, int warm)
{
    memset(f->out, 0, sizeof *f->out);
    f->out->type = t;
    f->out->u.step.bench = bench;
    f->out->u.step.run = run;
    f->out->u.step.warmup = (uint32_t)warm;
}

/* PREPARE -> READY for the agents in `only` (all live ones when SIZE_MAX);
 * estimates each agent's clock offset from the exchange (NTP's midpoint). */
static int prepare(runner_t *r, size_t only, uint32_t bench, uint32_t run, int warm)
{
    fleet_t *f = r->fleet;
    uint64_t sent = fleet_now();

    step_msg(f, PROTO_PREPARE, bench, run, warm);
    for (size_t i = 0; i < f->n; i++)
        if (only == SIZE_MAX || only == i) fleet_send(f, i, true);
    if (fleet_wait(f, PROTO_READY, sent + (uint64_t)f->live_ms * MS) != 0) return -1;
    for (size_t i = 0; i < f->n; i++)
        if ((only == SIZE_MAX || only == i) && f->a[i].state == AGENT_LIVE)
            r->agent_clock_off[i] =
                (int64_t)(f->a[i].ready_clock - (sent + (f->a[i].ready_at - sent) / 2));
    return 0;
}

static int go(runner_t *r, size_t only, uint32_t bench, uint32_t run, int warm)
{
    fleet_t *f = r->fleet;

    step_msg(f, PROTO_GO, bench, run, warm);
    if (only == SIZE_MAX) {
        fleet_send_all(f);
    } else {
        fleet_send(f, only, true);
    }
    return fleet_wait(f, PROTO_RESULT, 0);
}

/* Merges one agent's result histogram into the benchmark's. */
static void merge_latency(bench_t *b, const proto_result_t *res)
{
    hist_t *h = hist_new();

    if (h == NULL) return;
    for (uint32_t i = 0; i < res->nbuckets; i++)
        if (hist_add_bucket(h, res->bucket_idx[i], res->bucket_cnt[i]) != 0) goto out;
    if (hist_set_extremes(h, res->lat_min, res->lat_max, res->lat_sum) != 0) goto out;
    hist_merge(b->latency, h);
out:
    hist_free(&h);
}

/* The agents' results of one run, as the bench record wants them. */
static void collect(runner_t *r, bench_t *b, size_t only, uint32_t run, bench_agent_run_t *out)
{
    fleet_t *f = r->fleet;
    uint64_t first = UINT64_MAX;
    int64_t start[f->n];

    for (size_t i = 0; i < f->n; i++) {
        const proto_result_t *res = f->a[i].result;
        bench_agent_run_t *ar = &out[i];
        memset(ar, 0, sizeof *ar);
        ar->lost = f->a[i].state != AGENT_LIVE || (only != SIZE_MAX && only != i) ||
                   res->run != run;
        if (ar->lost) continue;
        ar->wall_s = (double)res->wall_ns / 1e9;
        ar->user_s = (double)res->user_ns / 1e9;
        ar->sys_s = (double)res->sys_ns / 1e9;
        ar->ok = res->ok;
        _Static_assert((int)BENCH_CAUSE__COUNT == (int)PROTO_FAIL__COUNT, "causes differ");
        for (int c = 0; c < BENCH_CAUSE__COUNT; c++) ar->failed[c] = res->failed[c];
        ar->bytes = res->bytes;
        ar->connections = res->connections;
        /* starts on our clock: exact when the agent shares it, else estimated */
        start[i] = (int64_t)res->start_ns - (r->agent_same_clock[i] ? 0 : r->agent_clock_off[i]);
        if ((uint64_t)start[i] < first) first = (uint64_t)start[i];
        merge_latency(b, res);
    }
    for (size_t i = 0; i < f->n; i++)
        if (!out[i].lost && r->opts->mode == MODE_LOCKSTEP)
            out[i].start_offset_s = (double)(start[i] - (int64_t)first) / 1e9;
}

static int one_run(runner_t *r, bench_t *b, uint32_t bench, uint32_t run, int warm,
                   bench_agent_run_t *agents)
{
    fleet_t *f = r->fleet;

    for (size_t i = 0; i < f->n; i++) f->a[i].result->run = UINT32_MAX; /* none yet */
    if (r->opts->mode == MODE_LOCKSTEP) {
        if (prepare(r, SIZE_MAX, bench, run, warm) != 0 || go(r, SIZE_MAX, bench, run, warm) != 0)
            return -1;
    } else {
        for (size_t i = 0; i < f->n; i++) {
            if (f->a[i].state != AGENT_LIVE) continue;
            if (prepare(r, i, bench, run, warm) != 0 || go(r, i, bench, run, warm) != 0)
                return -1;
        }
    }
    if (warm) return 0;
    collect(r, b, SIZE_MAX, run, agents);
    return bench_add_run(b, agents);
}

static int one_bench(runner_t *r, size_t idx, bench_agent_run_t *agents)
{
    const matrix_entry_t *e = &r->matrix->e[idx];
    bench_params_t params;
    bench_t *b;
    unsigned total = r->opts->warmup + r->opts->runs;

    memset(&params, 0, sizeof params);
    snprintf(params.strategy, sizeof params.strategy, "%s", e->strategy);
    params.requests = e->requests;
    params.chunk = e->chunk;
    params.connections = e->connections;
    params.uses_chunk = e->uses_chunk;
    params.uses_connections = e->uses_connections;
    b = bench_new(e->command, &params, r->fleet->n);
    if (b == NULL || bench_set_add(r->set, b) != 0) return -1;
    for (unsigned k = 0; k < total; k++) {
        int warm = k < r->opts->warmup;
        if (one_run(r, b, (uint32_t)idx, k, warm, agents) != 0) return -1;
    }
    summary_bench(r->out, r->set, r->set->nbench - 1, r->color);
    fflush(r->out);
    return 0;
}

/* The worst thing that happened, in SPEC 7's order of precedence. */
static int final_code(const runner_t *r)
{
    int code = 0;

    if (r->fleet->lost > 0) return 3;
    for (size_t i = 0; i < r->set->nbench; i++)
        for (size_t k = 0; k < r->set->benches[i]->nruns; k++)
            if (r->set->benches[i]->runs[k].exit_code > code)
                code = r->set->benches[i]->runs[k].exit_code;
    return code;
}

int runner_run(runner_t *r)
{
    fleet_t *f = r->fleet;
    bench_agent_run_t *agents = calloc(f->n, sizeof *agents);
    int rc = 0;

    if (agents == NULL) return 1;
    if (fleet_hello(f, "coordinator") != 0) goto done;
    hosts_from_facts(r);
    if (send_plan(r) != 0) goto done;
    for (size_t i = 0; i < r->matrix->n && rc == 0; i++) rc = one_bench(r, i, agents);
done:
    /* tell the agents, whatever happened; they go idle */
    memset(f->out, 0, sizeof *f->out);
    f->out->type = f->fatal || *f->stop ? PROTO_ABORT : PROTO_BYE;
    if (f->out->type == PROTO_ABORT)
        snprintf(f->out->u.abort.reason, sizeof f->out->u.abort.reason, "%s",
                 *f->stop ? "coordinator interrupted" : "coordinator stopped the matrix");
    for (size_t i = 0; i < f->n; i++) fleet_send(f, i, false);
    free(agents);
    if (*f->stop) return 130;
    if (f->fatal) return f->fatal;
    return rc != 0 ? 1 : final_code(r);
}
