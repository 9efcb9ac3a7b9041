/* --export-json: hyperfine's schema, plus fleetbench's extras under one
 * "fleetbench" key per result and one at top level. Times are seconds. */
#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

/* 15 significant digits print 1.098 as 1.098, not 1.0980000000000001 as
 * jansson's default 17 would, and still hold a nanosecond-resolution time
 * below 10^6 s exactly. */
#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15))

/* Builders return NULL when out of memory; jansson's *_set_new and
 * *_append_new then fail too, which each caller checks once at the end. */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null(); /* NAN is hyperfine's None */
}

static json_t *jsec(uint64_t ns)
{
    return json_real((double)ns / 1e9);
}

/* One number per measured run, read from each run by get. */
typedef json_t *(*run_get_t)(const bench_run_t *r, size_t agent);

static json_t *per_run(const bench_t *b, run_get_t get, size_t agent)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < b->nruns; i++)
        if (b->runs[i].measured) rc = json_array_append_new(a, get(&b->runs[i], agent));
    if (rc != 0) json_decref(a);
    return rc == 0 ? a : NULL;
}

static json_t *run_time(const bench_run_t *r, size_t agent)
{
    return json_real(r->time_s);
}

static json_t *run_exit(const bench_run_t *r, size_t agent)
{
    return json_integer(r->exit_code);
}

/* A command's exit_codes are its process's, as hyperfine's are. */
static json_t *run_proc_exit(const bench_run_t *r, size_t agent)
{
    return json_integer(r->proc_exit);
}

/* An agent lost in a run has no numbers there: null keeps the arrays aligned
 * with "times". */
static json_t *run_fanout(const bench_run_t *r, size_t agent)
{
    return jnum(r->go_fanout_s);
}

static json_t *agent_wall(const bench_run_t *r, size_t agent)
{
    return r->agents[agent].lost ? json_null() : json_real(r->agents[agent].wall_s);
}

static json_t *agent_user(const bench_run_t *r, size_t agent)
{
    return r->agents[agent].lost ? json_null() : json_real(r->agents[agent].user_s);
}

static json_t *agent_sys(const bench_run_t *r, size_t agent)
{
    return r->agents[agent].lost ? json_null() : json_real(r->agents[agent].sys_s);
}

static json_t *agent_offset(const bench_run_t *r, size_t agent)
{
    return r->agents[agent].lost ? json_null() : json_real(r->agents[agent].start_offset_s);
}

static json_t *agent_json(const bench_set_t *set, const bench_t *b, size_t a)
{
    uint64_t ok = 0, failed = 0;

    for (size_t i = 0; i < b->nruns; i++) {
        const bench_agent_run_t *r = &b->runs[i].agents[a];
        if (!b->runs[i].measured || r->lost) continue;
        ok += r->ok;
        for (int c = 0; c < CAUSE__COUNT; c++)
            failed += r->failed[c];
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:I}", "name",
                     a < set->nagents ? set->agents[a].name : "", "times",
                     per_run(b, agent_wall, a), "user", per_run(b, agent_user, a), "system",
                     per_run(b, agent_sys, a), "start_offsets", per_run(b, agent_offset, a), "ok",
                     (json_int_t)ok, "failed", (json_int_t)failed);
}

static json_t *latency_json(const hist_t *h)
{
    json_t *o;
    int rc;

    if (hist_count(h) == 0) return json_pack("{s:I}", "count", (json_int_t)0);
    o = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)hist_count(h), "mean",
                  jnum(hist_mean(h) / 1e9), "min", jsec(hist_min(h)));
    rc = o ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < HIST_NPCTS; i++)
        rc = json_object_set_new(o, hist_pcts[i].name, jsec(hist_percentile(h, hist_pcts[i].p)));
    if (rc == 0) rc = json_object_set_new(o, "max", jsec(hist_max(h)));
    if (rc != 0) json_decref(o);
    return rc == 0 ? o : NULL;
}

static json_t *counts_json(const bench_stats_t *s)
{
    json_t *o = json_object();
    int rc = o ? 0 : -1;

    for (int c = 0; rc == 0 && c < CAUSE__COUNT; c++)
        rc = json_object_set_new(o, cause_name(c), json_integer((json_int_t)s->failed[c]));
    if (rc != 0) json_decref(o);
    return rc == 0 ? o : NULL;
}

/* Every dimension's value, as numbers, whether scanned or not. */
static json_t *setup_json(const bench_t *b)
{
    json_t *o = json_pack("{s:s, s:I}", "strategy", b->params.strategy, "requests",
                          (json_int_t)b->params.requests);
    int rc = o ? 0 : -1;

    if (rc == 0 && b->params.uses_chunk)
        rc = json_object_set_new(o, "chunk", json_integer((json_int_t)b->params.chunk));
    if (rc == 0 && b->params.uses_connections)
        rc = json_object_set_new(o, "connections", json_integer((json_int_t)b->params.connections));
    if (rc == 0 && b->params.rate > 0)
        rc = json_object_set_new(o, "rate", json_real(b->params.rate)) ||
             json_object_set_new(o, "duration", json_real(b->params.duration_s));
    if (rc != 0) json_decref(o);
    return rc == 0 ? o : NULL;
}

/* The target's own view (its GET /stats) of the runs that have one; null
 * for a target without it. */
static json_t *target_json(const bench_stats_t *s)
{
    if (s->target_runs == 0) return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:I, "
                     "s:I, s:I, s:I}",
                     "requests", (json_int_t)s->target_requests, "busy", jnum(s->busy), "busy_max",
                     jnum(s->busy_max), "cpu", jnum(s->cpu), "loops", (json_int_t)s->target_loops,
                     "cores", (json_int_t)s->target_cores, "status", "1xx",
                     (json_int_t)s->target_codes[0], "2xx", (json_int_t)s->target_codes[1], "3xx",
                     (json_int_t)s->target_codes[2], "4xx", (json_int_t)s->target_codes[3], "5xx",
                     (json_int_t)s->target_codes[4], "dropped", (json_int_t)s->target_dropped,
                     "connections", (json_int_t)s->target_connections, "runs",
                     (json_int_t)s->target_runs, "compared_runs", (json_int_t)s->target_cmp_runs,
                     "agents_requests", (json_int_t)s->agents_cmp);
}

/* Against its group's reference: the ratio of the means and Welch's p
 * (null for the reference itself, or where a side has one run). */
static json_t *comparison_json(const bench_set_t *set, const bench_table_t *t, size_t i)
{
    size_t g = t->group[i];

    if (g >= t->ngroups) return json_null();
    return json_pack("{s:I, s:s, s:o, s:o, s:o, s:s}", "group", (json_int_t)g, "reference",
                     set->benches[t->groups[g].fastest]->command, "ratio", jnum(t->rel[i].ratio),
                     "ratio_stddev", jnum(bench_table_is_ref(t, i) ? NAN : t->rel[i].stddev),
                     "welch_p", jnum(t->welch[i].p), "by", t->by_p99 ? "p99" : "time");
}

/* Rate mode: the fleet's rate asked and held (the agents' achieved rates
 * summed, mean over the measured runs), and how the agents kept the
 * schedule: never sent, and how late they sent (the worst run's). */
static json_t *rate_json(const bench_t *b, const bench_stats_t *s)
{
    return json_pack("{s:f, s:o, s:f, s:f, s:I, s:{s:o, s:o}}", "target", b->params.rate,
                     "achieved", jnum(s->rate_achieved), "per_agent",
                     b->params.rate / (double)b->nagents, "duration", b->params.duration_s,
                     "never_sent", (json_int_t)s->never_sent, "lateness", "p99",
                     jnum(s->late_p99_s), "max", jnum(s->late_max_s));
}

static json_t *extras_json(const bench_set_t *set, const bench_table_t *t, size_t i)
{
    const bench_t *b = set->benches[i];
    const bench_stats_t *s = &t->stats[i];
    json_t *agents = json_array(), *o;
    int rc = agents ? 0 : -1;

    for (size_t a = 0; rc == 0 && a < b->nagents; a++)
        rc = json_array_append_new(agents, agent_json(set, b, a));
    if (rc != 0) {
        json_decref(agents);
        return NULL;
    }
    o = json_pack("{s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, "
                  "s:{s:o, s:o}, s:o, s:o, s:o, s:o}",
                  "setup", setup_json(b), "runs", "measured", (json_int_t)s->time.n, "failed",
                  (json_int_t)s->runs_failed, "lost", (json_int_t)s->runs_lost, "unmeasured",
                  (json_int_t)s->runs_unmeasured, "throughput", jnum(s->throughput), "requests",
                  "ok", (json_int_t)s->ok, "failed", (json_int_t)s->failed_total, "bytes",
                  (json_int_t)s->bytes, "connections", (json_int_t)s->connections, "failures",
                  counts_json(s), "latency", latency_json(b->latency), "skew", "p50",
                  jnum(s->skew_median), "max", jnum(s->skew_max), "go_fanout",
                  per_run(b, run_fanout, 0), "agents", agents, "comparison",
                  comparison_json(set, t, i), "target", target_json(s));
    if (o && b->params.rate > 0 && b->service)
        if (json_object_set_new(o, "rate", rate_json(b, s)) != 0 ||
            json_object_set_new(o, "service", latency_json(b->service)) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* NULL with *rc 0 when there are none: hyperfine leaves an empty map out. */
static json_t *params_json(const bench_set_t *set, size_t i, int *rc)
{
    export_param_t p[EXPORT_MAX_PARAMS];
    size_t n = export_params(set, i, p);
    json_t *o;

    *rc = 0;
    if (n == 0) return NULL;
    o = json_object();
    *rc = o ? 0 : -1;
    for (size_t k = 0; *rc == 0 && k < n; k++)
        *rc = json_object_set_new(o, p[k].name, json_string(p[k].value));
    if (*rc != 0) json_decref(o);
    return *rc == 0 ? o : NULL;
}

static json_t *result_json(const bench_set_t *set, const bench_table_t *t, size_t i)
{
    const bench_stats_t *s = &t->stats[i];
    const bench_t *b = set->benches[i];
    int rc;
    json_t *params = params_json(set, i, &rc);

    if (rc != 0) return NULL;
    /* hyperfine's key order; "o*" leaves "parameters" out when NULL */
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o*, s:o}", "command",
                     b->command, "mean", jnum(s->time.mean), "stddev", jnum(s->time.stddev),
                     "median", jnum(s->time.median), "user", jnum(s->user), "system",
                     jnum(s->system), "min", jnum(s->time.min), "max", jnum(s->time.max), "times",
                     per_run(b, run_time, 0), "exit_codes",
                     per_run(b, b->params.is_command ? run_proc_exit : run_exit, 0), "parameters",
                     params, "fleetbench", extras_json(set, t, i));
}

static json_t *host_json(const bench_host_t *h)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "name", h->name, "host",
                     h->host, "cpu_model", h->cpu_model, "cores", (json_int_t)h->cores, "kernel",
                     h->kernel, "libcurl", h->libcurl, "libuv", h->libuv, "libzmq", h->libzmq,
                     "version", h->version);
}

/* The benchmarks a view left out: no measured run, so no result. */
static json_t *left_out_json(const bench_set_t *set)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < set->nleft_out; i++)
        rc = json_array_append_new(a, json_pack("{s:s, s:I}", "command", set->left_out[i]->command,
                                                "runs", (json_int_t)set->left_out[i]->nruns));
    if (rc != 0) json_decref(a);
    return rc == 0 ? a : NULL;
}

/* The groups of comparable benchmarks: what each one's members share. */
static json_t *groups_json(const bench_set_t *set, const bench_table_t *t)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;

    for (size_t g = 0; rc == 0 && g < t->ngroups; g++) {
        const bench_group_t *x = &t->groups[g];
        json_t *members = json_array();
        for (size_t i = 0; members && i < t->nbench; i++)
            if (t->group[i] == g &&
                json_array_append_new(members, json_string(set->benches[i]->command)) != 0) {
                json_decref(members);
                members = NULL;
            }
        rc = json_array_append_new(
            a, json_pack("{s:s, s:I, s:I, s:o, s:s, s:o}", "label", x->label, "requests",
                         (json_int_t)x->requests, "concurrency", (json_int_t)x->concurrency,
                         "agents", x->agents ? json_integer((json_int_t)x->agents) : json_null(),
                         "reference", set->benches[x->fastest]->command, "benchmarks", members));
    }
    if (rc != 0) json_decref(a);
    return rc == 0 ? a : NULL;
}

static json_t *top_json(const bench_set_t *set, const bench_table_t *t)
{
    json_t *agents = json_array();
    int rc = agents ? 0 : -1;

    for (size_t a = 0; rc == 0 && a < set->nagents; a++)
        rc = json_array_append_new(agents, host_json(&set->agents[a]));
    if (rc != 0) {
        json_decref(agents);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "version",
                     FB_VERSION, "target", set->target, "target_view", set->target_view, "date",
                     set->date, "mode", set->mode, "order",
                     set->order[0] ? json_string(set->order) : json_null(), "seed",
                     set->seeded ? json_integer((json_int_t)set->seed) : json_null(), "warmup",
                     (json_int_t)set->warmup, "handshake", jnum(set->handshake_s), "agents", agents,
                     "groups", groups_json(set, t), "unfinished", left_out_json(set));
}

static json_t *root_json(const bench_set_t *set, const bench_table_t *t)
{
    json_t *results = json_array();
    int rc = results ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < set->nbench; i++)
        rc = json_array_append_new(results, result_json(set, t, i));
    if (rc != 0) {
        json_decref(results);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "results", results, "fleetbench", top_json(set, t));
}

int export_json(FILE *out, const bench_set_t *set, fb_err_t *err)
{
    bench_table_t t;
    json_t *root;
    int rc;

    if (bench_table_init(&t, set) != 0) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    root = root_json(set, &t);
    bench_table_close(&t);
    if (root == NULL) {
        /* a command or host fact that is not UTF-8 fails like memory does */
        fb_err_set(err, "cannot build the JSON document (out of memory, or text "
                        "that is not UTF-8)");
        return -1;
    }
    rc = json_dumpf(root, out, JSON_FLAGS);
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || ferror(out)) {
        fb_err_set(err, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}
