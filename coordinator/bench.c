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
    if (b->command == NULL || b->latency == NULL) {
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
    }
    r->measured = live > 0;
    r->exit_code = lost ? BENCH_EXIT_LOST : failed ? BENCH_EXIT_FAILED : BENCH_EXIT_OK;
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
    r->agents = malloc(b->nagents * sizeof *r->agents);
    if (r->agents == NULL) return -1;
    memcpy(r->agents, agents, b->nagents * sizeof *r->agents);
    run_derive(r, b->nagents);
    r->go_fanout_s = NAN; /* the runner sets it */
    b->nruns++;
    return 0;
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

int bench_stats(const bench_t *b, bench_stats_t *s)
{
    /* one block, four series of measured runs: time, user, system, skew */
    double *buf = calloc((b->nruns ? b->nruns : 1) * 4, sizeof *buf), *t, *u, *y, *k, busy = 0;
    size_t n = 0;
    int rc = 0;

    memset(s, 0, sizeof *s);
    if (buf == NULL) return -1;
    t = buf;
    u = t + b->nruns;
    y = u + b->nruns;
    k = y + b->nruns;
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
        n++;
        busy += r->time_s;
        s->runs_failed += r->exit_code == BENCH_EXIT_FAILED;
        s->runs_lost += r->exit_code == BENCH_EXIT_LOST;
        add_counts(s, r, b->nagents);
    }
    s->user = stats_mean(u, n);
    s->system = stats_mean(y, n);
    s->skew_max = stats_max(k, n);
    s->throughput = busy > 0 ? (double)s->ok / busy : NAN;
    if (stats_describe(t, n, &s->time) != 0 || stats_outliers(t, n, &s->outliers) != 0 ||
        stats_median(k, n, &s->skew_median) != 0)
        rc = -1;
    free(buf);
    return rc;
}

int bench_table_init(bench_table_t *t, const bench_set_t *s)
{
    size_t n = s->nbench, m = n ? n : 1;
    double *mean = calloc(m, sizeof *mean);

    memset(t, 0, sizeof *t);
    t->nbench = n;
    t->stats = calloc(m, sizeof *t->stats);
    t->rel = calloc(m, sizeof *t->rel);
    t->order = calloc(m, sizeof *t->order);
    if (mean == NULL || t->stats == NULL || t->rel == NULL || t->order == NULL) goto fail;
    for (size_t i = 0; i < n; i++) {
        if (bench_stats(s->benches[i], &t->stats[i]) != 0) goto fail;
        mean[i] = t->stats[i].time.mean;
    }
    t->fastest = stats_fastest(mean, n);
    stats_order(mean, n, t->order);
    for (size_t i = 0; i < n; i++) {
        const stats_desc_t *d = &t->stats[i].time, *f;
        if (t->fastest == n || d->n == 0) {
            t->rel[i] = (stats_ratio_t){NAN, NAN, 0};
            continue;
        }
        f = &t->stats[t->fastest].time;
        t->rel[i] = stats_ratio(d->mean, d->stddev, f->mean, f->stddev, i == t->fastest);
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
    free(t->rel);
    free(t->order);
    memset(t, 0, sizeof *t);
}

void bench_set_init(bench_set_t *s)
{
    memset(s, 0, sizeof *s);
    s->handshake_s = NAN;
}

void bench_set_close(bench_set_t *s)
{
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
