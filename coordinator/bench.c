#include "bench.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bench_t *bench_new(const char *command, const bench_params_t *params, size_t nagents)
{
    bench_t *b;

    if (nagents == 0) return NULL;
    b = calloc(1, sizeof *b);
    if (b == NULL) return NULL;
    b->command = strdup(command);
    b->latency = hist_new();
    if (params->rate > 0) b->service = hist_new();
    if (b->command == NULL || b->latency == NULL || (params->rate > 0 && b->service == NULL)) {
        bench_free(&b);
        return NULL;
    }
    b->params = *params;
    b->nagents = nagents;
    return b;
}

void bench_free(bench_t **b)
{
    if (b == NULL || *b == NULL) return;
    for (size_t i = 0; i < (*b)->nruns; i++)
        free((*b)->runs[i].agents);
    free((*b)->runs);
    free((*b)->command);
    hist_free(&(*b)->latency);
    hist_free(&(*b)->service);
    free(*b);
    *b = NULL;
}

static void run_derive(bench_run_t *r, size_t nagents)
{
    double first = INFINITY, last = -INFINITY, end = -INFINITY, user = 0, sys = 0;
    size_t live = 0;
    int failed = 0, lost = 0;

    for (size_t i = 0; i < nagents; i++) {
        const bench_agent_run_t *a = &r->agents[i];
        if (a->lost) {
            lost = 1;
            continue;
        }
        live++;
        first = fmin(first, a->start_offset_s);
        last = fmax(last, a->start_offset_s);
        end = fmax(end, a->start_offset_s + a->wall_s);
        user += a->user_s;
        sys += a->sys_s;
        for (int c = 0; c < CAUSE__COUNT; c++)
            failed |= a->failed[c] != 0;
        /* lockstep: the agents' shares of the rate add up */
        r->rate_achieved += a->achieved;
        r->never_sent += a->never_sent;
        r->late_p99_s = fmax(r->late_p99_s, a->late_p99_s);
        r->late_max_s = fmax(r->late_max_s, a->late_max_s);
    }
    r->proc_exit = 0;
    for (size_t i = 0; i < nagents && r->proc_exit == 0; i++)
        if (!r->agents[i].lost) r->proc_exit = r->agents[i].exit_code;
    r->measured = live > 0;
    r->exit_code = lost ? FB_EXIT_LOST : failed ? FB_EXIT_FAILED : FB_EXIT_OK;
    if (live == 0) {
        r->time_s = r->user_s = r->sys_s = r->skew_s = NAN;
        return;
    }
    r->time_s = end - first;
    r->user_s = user / (double)live;
    r->sys_s = sys / (double)live;
    r->skew_s = last - first;
}

int bench_add_run(bench_t *b, const bench_agent_run_t *agents)
{
    bench_run_t *r;

    if (b->nruns == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        bench_run_t *runs = realloc(b->runs, cap * sizeof *runs);
        if (runs == NULL) return -1;
        b->runs = runs;
        b->cap = cap;
    }
    r = &b->runs[b->nruns];
    memset(r, 0, sizeof *r);
    r->agents = malloc(b->nagents * sizeof *r->agents);
    if (r->agents == NULL) return -1;
    memcpy(r->agents, agents, b->nagents * sizeof *r->agents);
    run_derive(r, b->nagents);
    r->go_fanout_s = NAN; /* drive.c sets it */
    b->nruns++;
    return 0;
}

int bench_set_run_hists(bench_t *b, const hist_t *latency, const hist_t *service)
{
    bench_run_t *r;

    if (b->nruns == 0) return 0;
    r = &b->runs[b->nruns - 1];
    for (int k = 0; k < HIST_NPCTS; k++) {
        r->lat_pct_s[k] = (double)hist_percentile(latency, hist_pcts[k].p) / 1e9;
        if (service) r->svc_pct_s[k] = (double)hist_percentile(service, hist_pcts[k].p) / 1e9;
    }
    if (b->service && service && hist_merge(b->service, service) != 0) return -1;
    return 0;
}

void bench_set_target(bench_t *b, const bench_target_t *t)
{
    if (b->nruns > 0) b->runs[b->nruns - 1].target = *t;
}

static double fraction(double part, double whole)
{
    return whole > 0 ? fmin(1.0, part / whole) : NAN;
}

/* The target's view of the measured runs that have one. */
static void add_target(bench_stats_t *s, const bench_t *b)
{
    double load = 0, busy = 0, busy_max = 0, cpu = 0, loops_load = 0, cores_load = 0;

    for (size_t i = 0; i < b->nruns; i++) {
        const bench_run_t *r = &b->runs[i];
        const bench_target_t *t = &r->target;
        uint64_t asked = 0;
        if (!r->measured || !t->seen) continue;
        s->target_runs++;
        s->target_requests += t->requests;
        for (int c = 0; c < 5; c++)
            s->target_codes[c] += t->codes[c];
        s->target_dropped += t->dropped;
        s->target_connections += t->connections;
        s->target_loops = t->loops;
        s->target_cores = t->cores;
        load += (double)t->load_ns;
        loops_load += (double)t->load_ns * t->loops;
        cores_load += (double)t->load_ns * t->cores;
        busy += (double)t->busy_ns;
        busy_max += (double)t->busy_max_ns;
        cpu += (double)t->cpu_ns;
        if (r->exit_code == FB_EXIT_LOST) continue; /* a lost agent's requests: unknown */
        if (b->params.is_command) continue;         /* a command's requests are its own */
        for (size_t a = 0; a < b->nagents; a++) {
            asked += r->agents[a].ok;
            for (int c = 0; c < CAUSE__COUNT; c++)
                asked += r->agents[a].failed[c];
        }
        s->target_cmp += t->requests;
        s->agents_cmp += asked;
        s->target_cmp_runs++;
    }
    s->busy = fraction(busy, loops_load);
    s->busy_max = fraction(busy_max, load);
    s->cpu = fraction(cpu, cores_load);
}

static void add_counts(bench_stats_t *s, const bench_run_t *r, size_t nagents)
{
    for (size_t i = 0; i < nagents; i++) {
        const bench_agent_run_t *a = &r->agents[i];
        if (a->lost) continue;
        s->ok += a->ok;
        s->bytes += a->bytes;
        s->connections += a->connections;
        for (int c = 0; c < CAUSE__COUNT; c++) {
            s->failed[c] += a->failed[c];
            s->failed_total += a->failed[c];
        }
    }
}

/* Where p99 is among hist_pcts, what rate mode ranks by. */
static int p99_index(void)
{
    for (int k = 0; k < HIST_NPCTS; k++)
        if (hist_pcts[k].p == 99) return k;
    return HIST_NPCTS - 1; /* never: hist.h lists p99 */
}

int bench_stats(const bench_t *b, bench_stats_t *s)
{
    /* one block, four series of measured runs: time, user, system, skew */
    double *buf = calloc((b->nruns ? b->nruns : 1) * 5, sizeof *buf), *t, *u, *y, *k, *q, busy = 0;
    double achieved = 0;
    size_t n = 0;
    int rc = 0;

    memset(s, 0, sizeof *s);
    if (buf == NULL) return -1;
    t = buf;
    u = t + b->nruns;
    y = u + b->nruns;
    k = y + b->nruns;
    q = k + b->nruns;
    for (size_t i = 0; i < b->nruns; i++) {
        const bench_run_t *r = &b->runs[i];
        if (!r->measured) {
            s->runs_unmeasured++;
            continue;
        }
        t[n] = r->time_s;
        u[n] = r->user_s;
        y[n] = r->sys_s;
        k[n] = r->skew_s;
        q[n] = r->lat_pct_s[p99_index()];
        n++;
        achieved += r->rate_achieved;
        s->never_sent += r->never_sent;
        s->late_p99_s = fmax(s->late_p99_s, r->late_p99_s);
        s->late_max_s = fmax(s->late_max_s, r->late_max_s);
        busy += r->time_s;
        s->runs_failed += r->exit_code == FB_EXIT_FAILED;
        s->runs_lost += r->exit_code == FB_EXIT_LOST;
        add_counts(s, r, b->nagents);
    }
    s->user = stats_mean(u, n);
    s->system = stats_mean(y, n);
    s->skew_max = stats_max(k, n);
    s->throughput = busy > 0 ? (double)s->ok / busy : NAN;
    add_target(s, b);
    s->rate_achieved = n ? achieved / (double)n : NAN;
    if (stats_describe(t, n, &s->time) != 0 ||
        stats_describe(b->params.rate > 0 ? q : t, n, &s->rank) != 0 ||
        stats_outliers(t, n, &s->outliers) != 0 || stats_median(k, n, &s->skew_median) != 0)
        rc = -1;
    free(buf);
    return rc;
}

uint64_t bench_concurrency(const bench_params_t *p)
{
    return p->uses_chunk ? p->chunk : p->uses_connections ? p->connections : p->requests;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which agents b's measured runs had, as a text two benchmarks share only
 * when their runs had the same agent sets: each distinct set as 0s and 1s,
 * sorted, joined. *agents: how many each run had, 0 if that varied; *first:
 * one run's set. NULL when out of memory. */
static char *agents_key(const bench_t *b, size_t *agents, const char **first)
{
    size_t w = b->nagents + 1, n = 0;
    char *key = malloc(b->nruns * w + 1), *text = malloc(b->nruns * w + 1);
    char **runs = malloc((b->nruns ? b->nruns : 1) * sizeof *runs);

    if (key == NULL || text == NULL || runs == NULL) goto fail;
    for (size_t i = 0; i < b->nruns; i++) {
        if (!b->runs[i].measured) continue;
        runs[n] = text + n * w;
        for (size_t a = 0; a < b->nagents; a++)
            runs[n][a] = b->runs[i].agents[a].lost ? '0' : '1';
        runs[n][b->nagents] = '\0';
        n++;
    }
    qsort(runs, n, sizeof *runs, cmp_str);
    key[0] = '\0';
    *agents = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(runs[i], runs[i - 1]) == 0) continue;
        strcat(key, runs[i]);
        strcat(key, ",");
    }
    if (n > 0 && strcmp(runs[0], runs[n - 1]) == 0)
        for (size_t a = 0; a < b->nagents; a++)
            *agents += runs[0][a] == '1';
    *first = n ? key : "";
    free(runs);
    free(text);
    return key;
fail:
    free(key);
    free(text);
    free(runs);
    return NULL;
}

/* "-r 100, concurrency 100, 2 agents"; a subset of the fleet is named. */
static void group_label(bench_group_t *g, const bench_set_t *s, const char *runset, size_t nagents,
                        int any_command)
{
    size_t n = strlen(g->label);

    const bench_params_t *p = &s->benches[g->fastest]->params;

    if (p->rate > 0)
        n += (size_t)snprintf(g->label + n, sizeof g->label - n, "--rate %g --duration %g, ",
                              p->rate, p->duration_s);
    else if (!any_command)
        n += (size_t)snprintf(g->label + n, sizeof g->label - n,
                              "-r %" PRIu64 ", concurrency %" PRIu64 ", ", g->requests,
                              g->concurrency);
    if (g->agents == 0) {
        snprintf(g->label + n, sizeof g->label - n, "agents varied between runs");
        return;
    }
    if (g->agents == nagents) {
        snprintf(g->label + n, sizeof g->label - n, "%zu agent%s", g->agents,
                 g->agents == 1 ? "" : "s");
        return;
    }
    n += (size_t)snprintf(g->label + n, sizeof g->label - n, "%zu of %zu agents", g->agents,
                          nagents);
    if (g->agents > 3 || s->nagents < nagents) return;
    for (size_t a = 0, k = 0; a < nagents && n < sizeof g->label; a++)
        if (runset[a] == '1')
            n += (size_t)snprintf(g->label + n, sizeof g->label - n, "%s%s", k++ ? ", " : " (",
                                  s->agents[a].name);
    if (n < sizeof g->label) snprintf(g->label + n, sizeof g->label - n, ")");
}

/* Puts each measured benchmark in its group: the first earlier one with
 * the same requests, concurrency and agents' key, or a new one. With a
 * command in the set, as in hyperfine, only the agents count: fleetbench
 * cannot know how much work a command does (making it comparable, e.g.
 * with -L, is the user's part). */
static int group_all(bench_table_t *t, const bench_set_t *s)
{
    size_t n = s->nbench;
    char **keys = calloc(n ? n : 1, sizeof *keys);
    int rc = keys ? 0 : -1, any_command = 0;

    for (size_t i = 0; i < n; i++)
        any_command |= s->benches[i]->params.is_command;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        const bench_t *b = s->benches[i];
        const char *runset;
        size_t agents, g;
        t->group[i] = n; /* for now: no group */
        if (t->stats[i].time.n == 0) continue;
        if ((keys[i] = agents_key(b, &agents, &runset)) == NULL) {
            rc = -1;
            break;
        }
        for (g = 0; g < t->ngroups; g++) {
            const bench_group_t *x = &t->groups[g];
            const bench_t *m = s->benches[x->fastest];
            /* rate mode: the same offered load, whatever each client's
             * concurrency model (which is what is compared) */
            if ((any_command ||
                 (x->requests == b->params.requests &&
                  (b->params.rate > 0 || x->concurrency == bench_concurrency(&b->params)))) &&
                m->nagents == b->nagents && strcmp(keys[x->fastest], keys[i]) == 0)
                break;
        }
        if (g == t->ngroups) {
            bench_group_t *x = &t->groups[t->ngroups++];
            memset(x, 0, sizeof *x);
            x->fastest = i;
            x->requests = b->params.requests;
            x->concurrency = bench_concurrency(&b->params);
            x->agents = agents;
            group_label(x, s, runset, b->nagents, any_command);
        }
        t->group[i] = g;
        t->groups[g].n++;
        if (t->stats[i].rank.mean < t->stats[t->groups[g].fastest].rank.mean)
            t->groups[g].fastest = i;
    }
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
    for (size_t i = 0; i < n; i++)
        if (t->group[i] == n) t->group[i] = t->ngroups;
    return rc;
}

int bench_table_is_ref(const bench_table_t *t, size_t i)
{
    return t->group[i] < t->ngroups && t->groups[t->group[i]].fastest == i;
}

int bench_table_init(bench_table_t *t, const bench_set_t *s)
{
    size_t n = s->nbench, m = n ? n : 1;
    double *mean = calloc(m, sizeof *mean);

    memset(t, 0, sizeof *t);
    t->nbench = n;
    t->stats = calloc(m, sizeof *t->stats);
    t->groups = calloc(m, sizeof *t->groups);
    t->group = calloc(m, sizeof *t->group);
    t->rel = calloc(m, sizeof *t->rel);
    t->welch = calloc(m, sizeof *t->welch);
    t->order = calloc(m, sizeof *t->order);
    if (mean == NULL || t->stats == NULL || t->groups == NULL || t->group == NULL ||
        t->rel == NULL || t->welch == NULL || t->order == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (bench_stats(s->benches[i], &t->stats[i]) != 0) goto fail;
        mean[i] = t->stats[i].rank.mean;
        t->by_p99 |= s->benches[i]->params.rate > 0;
    }
    stats_order(mean, n, t->order);
    if (group_all(t, s) != 0) goto fail;
    for (size_t i = 0; i < n; i++) {
        const stats_desc_t *d = &t->stats[i].rank, *f;
        t->rel[i] = (stats_ratio_t){NAN, NAN, 0};
        t->welch[i] = (stats_welch_t){NAN, NAN, NAN};
        if (t->group[i] == t->ngroups) continue;
        f = &t->stats[t->groups[t->group[i]].fastest].rank;
        t->rel[i] = stats_ratio(d->mean, d->stddev, f->mean, f->stddev, bench_table_is_ref(t, i));
        if (!bench_table_is_ref(t, i))
            t->welch[i] = stats_welch(d->mean, d->stddev, d->n, f->mean, f->stddev, f->n);
    }
    free(mean);
    return 0;
fail:
    free(mean);
    bench_table_close(t);
    return -1;
}

void bench_table_close(bench_table_t *t)
{
    free(t->stats);
    free(t->groups);
    free(t->group);
    free(t->rel);
    free(t->welch);
    free(t->order);
    memset(t, 0, sizeof *t);
}

void bench_set_init(bench_set_t *s)
{
    memset(s, 0, sizeof *s);
    s->handshake_s = NAN;
}

static int measured(const bench_t *b)
{
    for (size_t i = 0; i < b->nruns; i++)
        if (b->runs[i].measured) return 1;
    return 0;
}

int bench_set_view(const bench_set_t *s, bench_set_t *view)
{
    size_t m = s->nbench ? s->nbench : 1;

    *view = *s;
    view->view = 1;
    view->nbench = view->nleft_out = 0;
    view->benches = malloc(m * sizeof *view->benches);
    view->left_out = malloc(m * sizeof *view->left_out);
    if (view->benches == NULL || view->left_out == NULL) {
        bench_set_view_close(view);
        return -1;
    }
    view->cap = m;
    for (size_t i = 0; i < s->nbench; i++)
        if (measured(s->benches[i]))
            view->benches[view->nbench++] = s->benches[i];
        else
            view->left_out[view->nleft_out++] = s->benches[i];
    return 0;
}

void bench_set_view_close(bench_set_t *view)
{
    free(view->benches);
    free(view->left_out);
    memset(view, 0, sizeof *view);
}

void bench_set_close(bench_set_t *s)
{
    if (s->view) {
        bench_set_view_close(s);
        return;
    }
    for (size_t i = 0; i < s->nbench; i++)
        bench_free(&s->benches[i]);
    free(s->benches);
    free(s->agents);
    bench_set_init(s);
}

int bench_set_add(bench_set_t *s, bench_t *b)
{
    if (s->nbench == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        bench_t **v = realloc(s->benches, cap * sizeof *v);
        if (v == NULL) {
            bench_free(&b);
            return -1;
        }
        s->benches = v;
        s->cap = cap;
    }
    s->benches[s->nbench++] = b;
    return 0;
}

int bench_set_add_host(bench_set_t *s, const bench_host_t *h)
{
    bench_host_t *v = realloc(s->agents, (s->nagents + 1) * sizeof *v);

    if (v == NULL) return -1;
    s->agents = v;
    s->agents[s->nagents++] = *h;
    return 0;
}
