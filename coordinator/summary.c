#include "summary.h"

#include "text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* SGR parameters, as hyperfine colours each part */
#define SGR_BOLD "1"
#define SGR_GREEN "32"
#define SGR_BOLD_GREEN "1;32"
#define SGR_BLUE "34"
#define SGR_CYAN "36"
#define SGR_PURPLE "35"
#define SGR_DIM "2"
#define SGR_YELLOW "33"
#define SGR_RED "31"
#define SGR_BOLD_RED "1;31"

/* Columns of hyperfine's grid: values are right-aligned in 8 characters. */
#define CELL 8

summary_unit_t summary_unit_for(double seconds)
{
    if (seconds < 0.001) return SUMMARY_UNIT_US;
    if (seconds < 1.0) return SUMMARY_UNIT_MS;
    return SUMMARY_UNIT_S;
}

const char *summary_unit_name(summary_unit_t u)
{
    return u == SUMMARY_UNIT_US ? "µs" : u == SUMMARY_UNIT_MS ? "ms" : "s";
}

char *summary_value(char *buf, size_t len, double seconds, summary_unit_t u)
{
    if (u == SUMMARY_UNIT_US)
        snprintf(buf, len, "%.1f", seconds * 1e6);
    else if (u == SUMMARY_UNIT_MS)
        snprintf(buf, len, "%.1f", seconds * 1e3);
    else
        snprintf(buf, len, "%.3f", seconds);
    return buf;
}

char *summary_time(char *buf, size_t len, double seconds, summary_unit_t u)
{
    size_t n = strlen(summary_value(buf, len, seconds, u));

    snprintf(buf + n, len - n, " %s", summary_unit_name(u));
    return buf;
}

/* s right-aligned in width columns; "µ" is two bytes but one column */
static char *ralign(char *dst, size_t len, const char *s, size_t width)
{
    size_t bytes = strlen(s), cols = text_columns(s, bytes), pad;

    pad = cols < width ? width - cols : 0;
    if (pad + bytes >= len) pad = bytes < len ? len - 1 - bytes : 0;
    if (bytes >= len) bytes = len - 1;
    memset(dst, ' ', pad);
    memcpy(dst + pad, s, bytes);
    dst[pad + bytes] = '\0';
    return dst;
}

/* A time in the unit that suits it alone, as hyperfine's format_auto. */
static char *auto_time(char *buf, size_t len, double seconds)
{
    return summary_time(buf, len, seconds, summary_unit_for(seconds));
}

/* A time in unit u, right-aligned in a cell. */
static char *cell(char *dst, size_t len, double seconds, summary_unit_t u)
{
    char t[64];

    return ralign(dst, len, summary_time(t, sizeof t, seconds, u), CELL);
}

static void paint(FILE *out, int color, const char *sgr, const char *s)
{
    if (color)
        fprintf(out, "\x1b[%sm%s\x1b[0m", sgr, s);
    else
        fputs(s, out);
}

static void print_time(FILE *out, const bench_stats_t *s, int color)
{
    summary_unit_t u = summary_unit_for(s->time.mean);
    char a[64], b[64];

    fputs("  Time (", out);
    if (s->time.n == 1) {
        paint(out, color, SGR_BOLD_GREEN, "abs");
        fputs(" ≡):        ", out);
        paint(out, color, SGR_BOLD_GREEN, cell(a, sizeof a, s->time.mean, u));
        fputs("               [User: ", out); /* an empty σ cell keeps the grid */
    } else {
        paint(out, color, SGR_BOLD_GREEN, "mean");
        fputs(" ± ", out);
        paint(out, color, SGR_GREEN, "σ");
        fputs("):     ", out);
        paint(out, color, SGR_BOLD_GREEN, cell(a, sizeof a, s->time.mean, u));
        fputs(" ± ", out);
        paint(out, color, SGR_GREEN, cell(b, sizeof b, s->time.stddev, u));
        fputs("    [User: ", out);
    }
    paint(out, color, SGR_BLUE, summary_time(a, sizeof a, s->user, u));
    fputs(", System: ", out);
    paint(out, color, SGR_BLUE, summary_time(b, sizeof b, s->system, u));
    fputs("]\n", out);
    if (s->time.n == 1) return;

    fputs("  Range (", out);
    paint(out, color, SGR_CYAN, "min");
    fputs(" … ", out);
    paint(out, color, SGR_PURPLE, "max");
    fputs("):   ", out);
    paint(out, color, SGR_CYAN, cell(a, sizeof a, s->time.min, u));
    fputs(" … ", out);
    paint(out, color, SGR_PURPLE, cell(b, sizeof b, s->time.max, u));
    fputs("    ", out);
    snprintf(a, sizeof a, "%zu runs", s->time.n);
    paint(out, color, SGR_DIM, a);
    fputc('\n', out);
}

/* A latency percentile from the histogram (ns). */
static char *latency(char *buf, size_t len, const hist_t *h, double p)
{
    return auto_time(buf, len, (double)hist_percentile(h, p) / 1e9);
}

static void print_load(FILE *out, const bench_t *b, const bench_stats_t *s)
{
    char v[64], w[64], p50[32], p90[32], p99[32];

    /* the number ends where the σ cell ends, the bracket where [User starts */
    snprintf(v, sizeof v, "%.1f req/s", s->throughput);
    fprintf(out, "  Throughput:%s    ", ralign(w, sizeof w, v, 29));
    if (hist_count(b->latency) == 0) {
        fputs("[Latency: none recorded]\n", out);
        return;
    }
    fprintf(out, "[Latency p50: %s, p90: %s, p99: %s]\n", latency(p50, sizeof p50, b->latency, 50),
            latency(p90, sizeof p90, b->latency, 90), latency(p99, sizeof p99, b->latency, 99));
}

/* Open loop: the rate asked and held, and the service time (send to
 * completion) beside the latency above, which counts from the due times. */
static void print_rate(FILE *out, const bench_t *b, const bench_stats_t *s)
{
    char v[64], w[64], p50[32], p90[32], p99[32];

    if (b->params.rate <= 0 || b->service == NULL) return;
    snprintf(v, sizeof v, "%.1f of %g req/s", s->rate_achieved, b->params.rate);
    fprintf(out, "  Rate:%s    ", ralign(w, sizeof w, v, 35));
    if (hist_count(b->service) == 0) {
        fputs("[Service: none sent]\n", out);
        return;
    }
    fprintf(out, "[Service p50: %s, p90: %s, p99: %s]\n", latency(p50, sizeof p50, b->service, 50),
            latency(p90, sizeof p90, b->service, 90), latency(p99, sizeof p99, b->service, 99));
}

/* The client, not the target, fell behind the schedule: requests sent late
 * (their corrected latency includes it), never sent, or a rate not held. */
static int fell_behind(const bench_t *b, const bench_stats_t *s)
{
    /* late by more than the gap between an agent's requests: behind the schedule */
    double gap = (double)b->nagents / b->params.rate;

    return b->params.rate > 0 &&
           (s->late_p99_s > fmax(SUMMARY_LATE_WARN_S, gap) || s->never_sent > 0 ||
            s->rate_achieved < (1 - SUMMARY_RATE_WARN) * b->params.rate);
}

static int shows_skew(const bench_set_t *set, const bench_t *b, const bench_stats_t *s)
{
    return b->nagents > 1 && strcmp(set->mode, "serial") != 0 && s->time.n > 0;
}

/* The second fleetbench line: failures by cause and lockstep skew, each
 * only when there is something to say. */
static void print_extra(FILE *out, const bench_set_t *set, const bench_t *b, const bench_stats_t *s,
                        int color)
{
    const char *sep = "";
    char m[32], x[32];

    if (s->failed_total == 0 && !shows_skew(set, b, s)) return;
    fputs("  ", out);
    if (s->failed_total > 0) {
        paint(out, color, SGR_RED, "Failed:");
        fprintf(out, " %" PRIu64 " of %" PRIu64 " requests (", s->failed_total,
                s->ok + s->failed_total);
        cause_print(out, s->failed);
        fputc(')', out);
        sep = "    ";
    }
    if (shows_skew(set, b, s))
        fprintf(out, "%sStart skew (%zu agents): median %s, max %s", sep, b->nagents,
                auto_time(m, sizeof m, s->skew_median), auto_time(x, sizeof x, s->skew_max));
    fputc('\n', out);
}

/* The target's own view: what it counted, how busy it was. */
static void print_target(FILE *out, const bench_stats_t *s)
{
    if (s->target_runs == 0) return;
    fprintf(out,
            "  Target: %" PRIu64 " requests in %zu run%s, event loops busy %.1f %% (busiest %.1f "
            "%%), CPU %.1f %% of %u cores\n",
            s->target_requests, s->target_runs, s->target_runs == 1 ? "" : "s", 100 * s->busy,
            100 * s->busy_max, 100 * s->cpu, s->target_cores);
}

static void warn(FILE *out, int color, int *any, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void warn(FILE *out, int color, int *any, const char *fmt, ...)
{
    va_list ap;

    if (!*any) fputs(" \n", out); /* hyperfine sets warnings off by a " " line */
    *any = 1;
    fputs("  ", out);
    paint(out, color, SGR_YELLOW, "Warning");
    fputs(": ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

/* The first measured run's time, as hyperfine names it in its warning. */
static char *first_time(char *buf, size_t len, const bench_t *b)
{
    for (size_t i = 0; i < b->nruns; i++)
        if (b->runs[i].measured) return auto_time(buf, len, b->runs[i].time_s);
    return strcpy(buf, "?");
}

/* hyperfine's hints, less those about --prepare, which fleetbench has not */
static const char k_slow_first[] =
    "The first benchmarking run for this command was significantly slower than the rest (%s). "
    "This could be caused by caches that were not filled until after the first run. %s";
static const char *const k_slow_first_hint[2] = {
    "You should consider using the '--warmup' option to fill those caches before the actual "
    "benchmark.",
    "You are already using the '--warmup' option which helps to fill these caches before the "
    "actual benchmark. You can either try to increase the warmup count further or re-run this "
    "benchmark on a quiet system in case it was a random outlier.",
};
static const char k_outliers[] =
    "Statistical outliers were detected. Consider re-running this benchmark on a quiet system "
    "without any interferences from other programs.%s";

static void print_warnings(FILE *out, const bench_set_t *set, const bench_t *b,
                           const bench_stats_t *s, int color)
{
    int any = 0;
    char t[64], u[64];

    size_t nonzero = 0;

    for (size_t k = 0; k < b->nruns; k++)
        nonzero += b->runs[k].measured && b->runs[k].proc_exit != 0;
    if (nonzero) /* -i */
        warn(out, color, &any, "Ignoring non-zero exit code (in %zu of %zu runs).", nonzero,
             b->nruns);
    if (s->runs_failed)
        warn(out, color, &any,
             "Requests failed in %zu of %zu runs (exit code %d); their times are included.",
             s->runs_failed, b->nruns, FB_EXIT_FAILED);
    if (s->runs_lost)
        warn(out, color, &any,
             "An agent was lost during %zu of %zu runs (exit code %d); those runs were timed "
             "with the agents that remained.",
             s->runs_lost, b->nruns, FB_EXIT_LOST);
    if (s->runs_unmeasured)
        warn(out, color, &any, "%zu of %zu runs have no measurement: every agent was lost.",
             s->runs_unmeasured, b->nruns);
    if (s->outliers.slow_first)
        warn(out, color, &any, k_slow_first, first_time(t, sizeof t, b),
             k_slow_first_hint[set->warmup > 0]);
    else if (s->outliers.count)
        warn(out, color, &any, k_outliers,
             set->warmup ? "" : " It might help to use the '--warmup' option.");
    if (s->target_cmp_runs > 0 && s->target_cmp != s->agents_cmp)
        warn(out, color, &any,
             "The target counted %" PRIu64 " requests, the agents made %" PRIu64
             " (ok + failed): something else loaded the target, or requests were lost on "
             "the way.",
             s->target_cmp, s->agents_cmp);
    if (s->busy >= SUMMARY_BUSY_WARN)
        warn(out, color, &any,
             "The target's event loops were busy %.0f %% of the time: the target, not the "
             "clients, bounded this benchmark.",
             100 * s->busy);
    else if (s->busy_max >= SUMMARY_BUSY_WARN && s->target_loops > 1)
        warn(out, color, &any,
             "One of the target's %u event loops was busy %.0f %% of the time: the target, "
             "not the clients, may have bounded this benchmark.",
             s->target_loops, 100 * s->busy_max);
    if (fell_behind(b, s))
        warn(out, color, &any,
             "The agents fell behind the schedule: requests sent late by up to %s (p99 of the "
             "worst run %s), %" PRIu64 " never sent, %.1f of %g req/s held. The client, not "
             "the target, added that to the latency.",
             auto_time(t, sizeof t, s->late_max_s), auto_time(u, sizeof u, s->late_p99_s),
             s->never_sent, s->rate_achieved, b->params.rate);
    if (shows_skew(set, b, s) && s->skew_max > SUMMARY_SKEW_WARN * s->time.min)
        warn(out, color, &any,
             "The agents started up to %s apart, more than %.0f %% of the fastest run (%s): "
             "their load did not fully overlap at the target.",
             auto_time(t, sizeof t, s->skew_max), SUMMARY_SKEW_WARN * 100,
             auto_time(u, sizeof u, s->time.min));
}

int summary_bench(FILE *out, const bench_set_t *set, size_t i, int color)
{
    const bench_t *b = set->benches[i];
    bench_stats_t s;
    char num[32];

    if (bench_stats(b, &s) != 0) return -1;
    paint(out, color, SGR_BOLD, "Benchmark ");
    snprintf(num, sizeof num, "%zu", i + 1);
    paint(out, color, SGR_BOLD, num);
    fprintf(out, ": %s\n", b->command);
    if (s.time.n == 0) {
        fprintf(out, "  No measured run: every agent was lost in all %zu runs.\n", b->nruns);
    } else {
        print_time(out, &s, color);
        if (!b->params.is_command) print_load(out, b, &s); /* a command's requests are its own */
        print_rate(out, b, &s);
        print_extra(out, set, b, &s, color);
        print_target(out, &s);
        print_warnings(out, set, b, &s, color);
    }
    fputs(" \n", out);
    return ferror(out) ? -1 : 0;
}

void summary_ratio(const bench_table_t *t, size_t i, size_t ref, summary_ratio_t *out)
{
    const stats_ratio_t *r = &t->rel[i];

    memset(out, 0, sizeof *out);
    /* rate mode ranks by p99 of corrected latency: the same sentence, its words */
    out->lead = r->order != 0 ? "" : t->by_p99 ? "As low a p99 (" : "As fast (";
    snprintf(out->ratio, sizeof out->ratio, "%.2f", r->ratio);
    if (!isnan(r->stddev)) snprintf(out->sd, sizeof out->sd, "%.2f", r->stddev);
    out->relation = r->order == 0 ? ") as "
                    : t->by_p99
                        ? (r->order > 0 ? " times lower p99 than " : " times higher p99 than ")
                    : r->order > 0 ? " times faster than "
                                   : " times slower than ";
    if (t->stats[i].time.n < 2 || t->stats[ref].time.n < 2) {
        out->verdict = "one run: significance not tested";
    } else if (!(t->welch[i].p < STATS_ALPHA)) {
        out->verdict = "not statistically significant";
        snprintf(out->p, sizeof out->p, "p = %.2f", t->welch[i].p);
    }
}

/* "    1.57 ± 0.01 times faster than CMD", or "As fast" for an equal mean,
 * and Welch's verdict when the difference is not significant. */
static void print_ratio(FILE *out, const bench_table_t *t, size_t i, size_t ref,
                        const char *command, int color)
{
    summary_ratio_t w;
    char v[64];

    summary_ratio(t, i, ref, &w);
    if (w.lead[0]) fprintf(out, "    %s", w.lead);
    snprintf(v, sizeof v, w.lead[0] ? "%s" : "%8s", w.ratio); /* hyperfine's %8.2f */
    paint(out, color, SGR_BOLD_GREEN, v);
    if (w.sd[0]) {
        fputs(" ± ", out);
        paint(out, color, SGR_GREEN, w.sd);
    }
    fputs(w.relation, out);
    paint(out, color, SGR_PURPLE, command);
    if (w.verdict && w.p[0]) {
        fputs(" (", out);
        paint(out, color, SGR_YELLOW, w.verdict);
        fprintf(out, ", %s)", w.p);
    } else if (w.verdict) {
        snprintf(v, sizeof v, "(%s)", w.verdict);
        fputc(' ', out);
        paint(out, color, SGR_DIM, v);
    }
}

/* One group's "Summary": its fastest, and how much faster it ran than each
 * other member, by mean. labelled: there are other groups, so it says which
 * requests, concurrency and agents it is about. */
static void print_group(FILE *out, const bench_set_t *set, const bench_table_t *t, size_t g,
                        int labelled, int color)
{
    const bench_group_t *x = &t->groups[g];

    if (t->stats[x->fastest].rank.mean == 0) {
        paint(out, color, SGR_BOLD_RED, "Note");
        fputs(": The benchmark comparison could not be computed as some benchmark times are "
              "zero.\n",
              out);
        return;
    }
    paint(out, color, SGR_BOLD, "Summary");
    if (labelled) fprintf(out, " (%s)", x->label);
    fputs("\n  ", out);
    paint(out, color, SGR_CYAN, set->benches[x->fastest]->command);
    fputs(t->by_p99 ? " had\n" : " ran\n", out);
    for (size_t k = 0; k < t->nbench; k++) {
        size_t i = t->order[k];
        if (t->group[i] != g || i == x->fastest) continue;
        print_ratio(out, t, i, x->fastest, set->benches[i]->command, color);
        fputc('\n', out);
    }
}

/* Benchmarks that may not be compared side by side: their throughput,
 * group by group, and no ranking. */
static void print_throughputs(FILE *out, const bench_set_t *set, const bench_table_t *t, int color)
{
    char v[64], w[64];

    paint(out, color, SGR_BOLD, "Throughput");
    fputs(" (not compared: the groups differ in requests, concurrency or agents)\n", out);
    for (size_t g = 0; g < t->ngroups; g++) {
        fprintf(out, "  %s\n", t->groups[g].label);
        for (size_t i = 0; i < t->nbench; i++) {
            if (t->group[i] != g) continue;
            snprintf(v, sizeof v, "%.1f req/s", t->stats[i].throughput);
            fprintf(out, "    %s  %s\n", ralign(w, sizeof w, v, 16), set->benches[i]->command);
        }
    }
}

int summary_compare(FILE *out, const bench_set_t *set, int color)
{
    bench_table_t t;
    int first = 1;

    if (bench_table_init(&t, set) != 0) return -1;
    for (size_t g = 0; g < t.ngroups; g++) {
        if (t.groups[g].n < 2) continue;
        if (!first) fputc('\n', out);
        print_group(out, set, &t, g, t.ngroups > 1, color);
        first = 0;
    }
    if (t.ngroups > 1) {
        if (!first) fputc('\n', out);
        print_throughputs(out, set, &t, color);
    }
    bench_table_close(&t);
    return ferror(out) ? -1 : 0;
}

int summary_print(FILE *out, const bench_set_t *set, int color)
{
    for (size_t i = 0; i < set->nbench; i++)
        if (summary_bench(out, set, i, color) != 0) return -1;
    return summary_compare(out, set, color);
}
