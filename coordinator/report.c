/* The page is written top to bottom with fprintf: head and styles, the
 * summary table and comparison, the three charts, the host facts. Charts
 * share one coordinate system (a viewBox CHART_W wide, scaled to the page)
 * and one colour per benchmark, so a benchmark is the same colour in the
 * table, the box plot and the latency curves. */
#include "report.h"

#include "export.h"
#include "summary.h"
#include "svg.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W 1000.0
#define CHAR_W 7.2       /* a 12 px monospace character, for label widths */
#define LABEL_COLS 44    /* longer labels are cut (the whole one is in a tooltip) */
#define CURVE_POINTS 240 /* samples of each latency curve */
#define MAX_NINES 6      /* the latency plot ends at 99.9999 % at most */

/* Tableau 10, the yellow darkened to stay readable as a line on white. */
static const char *const k_bench_colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                             "#c9a400", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f"};
/* Dashes tell apart curves whose colours repeat (more than 10 benchmarks). */
static const char *const k_dashes[] = {"none", "7 4", "2 3", "10 3 2 3"};
/* Okabe–Ito, for agents: not to be mistaken for benchmarks. */
static const char *const k_agent_colors[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                             "#56b4e9", "#d55e00", "#f0e442", "#000000"};

#define NCOLORS (sizeof k_bench_colors / sizeof *k_bench_colors)
#define NDASHES (sizeof k_dashes / sizeof *k_dashes)
#define NAGENT_COLORS (sizeof k_agent_colors / sizeof *k_agent_colors)

static const char *bench_color(size_t i)
{
    return k_bench_colors[i % NCOLORS];
}

static const char *bench_dash(size_t i)
{
    return k_dashes[i / NCOLORS % NDASHES];
}

static const char *agent_color(size_t i)
{
    return k_agent_colors[i % NAGENT_COLORS];
}

typedef struct {
    FILE *out;
    const bench_set_t *set;
    bench_table_t t;
} page_t;

/* ---- text ------------------------------------------------------------- */

/* s as HTML text or attribute value: markup characters as entities, control
 * characters (never meant, never shown) as U+FFFD. */
static void put_esc_n(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                fputs("&#xFFFD;", out);
            else
                fputc(c, out);
        }
    }
}

static void put_esc(FILE *out, const char *s)
{
    put_esc_n(out, s, SIZE_MAX);
}

/* s escaped and cut to max columns on a character boundary, "…" marking it. */
static void put_esc_cut(FILE *out, const char *s, size_t max)
{
    size_t n = text_cut(s, max);

    put_esc_n(out, s, n);
    if (s[n]) fputs("…", out);
}

/* A time in the unit that suits it ("693.6 ms"). */
static char *fmt_time(char *buf, size_t len, double seconds)
{
    return summary_time(buf, len, seconds, summary_unit_for(seconds));
}

static double unit_seconds(summary_unit_t u)
{
    return u == SUMMARY_UNIT_US ? 1e-6 : u == SUMMARY_UNIT_MS ? 1e-3 : 1.0;
}

/* ---- axes --------------------------------------------------------------- */

/* Ticks of a time axis (seconds): a log axis names each tick's unit, a
 * linear one gives numbers in unit *u (for the axis title). */
static size_t time_ticks(const svg_scale_t *s, svg_tick_t *t, summary_unit_t *u)
{
    double v[SVG_MAX_TICKS];
    size_t n = svg_scale_ticks(s, v);

    *u = summary_unit_for(s->hi);
    for (size_t i = 0; i < n; i++) {
        t[i].v = v[i];
        if (s->log)
            snprintf(t[i].label, sizeof t[i].label, "%.3g %s",
                     v[i] / unit_seconds(summary_unit_for(v[i])),
                     summary_unit_name(summary_unit_for(v[i])));
        else
            snprintf(t[i].label, sizeof t[i].label, "%.4g", v[i] / unit_seconds(*u));
    }
    return n;
}

/* Where the plot starts right of the row labels (commands, monospace). */
static double label_width(const bench_set_t *set)
{
    size_t cols = 10;

    for (size_t i = 0; i < set->nbench; i++) {
        size_t c = text_columns(set->benches[i]->command, strlen(set->benches[i]->command));
        if (c > cols) cols = c;
    }
    return 24 + CHAR_W * (double)(cols < LABEL_COLS ? cols : LABEL_COLS);
}

/* A benchmark's name at the left of its row, whole in the tooltip. */
static void row_label(FILE *out, const char *command, double x, double y)
{
    fprintf(out, "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"><title>", x, y + 4);
    put_esc(out, command);
    fputs("</title>", out);
    put_esc_cut(out, command, LABEL_COLS);
    fputs("</text>\n", out);
}

/* Every other row shaded, so that a label and its row stay together. */
static void put_bands(FILE *out, size_t rows, double top, double height)
{
    for (size_t i = 0; i < rows; i += 2)
        fprintf(out, "<rect class=\"band\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/>",
                top + height * (double)i, CHART_W, height);
}

/* A colour key, as the curves and bars draw it. */
static void key(FILE *out, const char *color, const char *dash)
{
    fprintf(out,
            "<svg class=\"key\" viewBox=\"0 0 28 10\" width=\"28\" height=\"10\"><line x1=\"1\" "
            "y1=\"5\" x2=\"27\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\" "
            "stroke-dasharray=\"%s\"/></svg>",
            color, dash);
}

/* ---- head --------------------------------------------------------------- */

/* coordinator/report.css, embedded at build time (cmake/bin2c.cmake). */
extern const char report_css[];

/* set->date, "2024-05-01T12:00:00Z", as "2024-05-01 12:00:00 UTC". */
static void put_date(FILE *out, const char *date)
{
    char d[64];

    snprintf(d, sizeof d, "%s", date);
    if (strlen(d) == 20 && d[10] == 'T' && d[19] == 'Z') {
        d[10] = ' ';
        strcpy(d + 19, " UTC");
    }
    put_esc(out, d[0] ? d : "?");
}

static void put_head(const page_t *pg)
{
    FILE *out = pg->out;
    const bench_set_t *set = pg->set;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>fleetbench report: ",
          out);
    put_esc(out, set->target);
    fputs(", ", out);
    put_date(out, set->date);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", report_css);
    fputs("<header>\n<h1>fleetbench report</h1>\n<p class=\"meta\">", out);
    put_date(out, set->date);
    fputs(" · target <b>", out);
    put_esc(out, set->target[0] ? set->target : "?");
    fputs("</b> · <b>", out);
    put_esc(out, set->mode[0] ? set->mode : "?");
    fprintf(out, "</b> mode · <b>%zu</b> agent%s · %u warmup run%s per benchmark", set->nagents,
            set->nagents == 1 ? "" : "s", set->warmup, set->warmup == 1 ? "" : "s");
    if (set->order[0]) {
        fputs(" · runs <b>", out);
        put_esc(out, set->order);
        fputs("</b>", out);
        if (set->seeded) fprintf(out, " (seed %" PRIu64 ")", set->seed);
    }
    fputs("</p>\n</header>\n", out);
}

/* ---- summary table ------------------------------------------------------ */

static void put_command_cell(FILE *out, size_t i, const char *command)
{
    fprintf(out, "<td class=\"l\"><span class=\"sw\" style=\"background:%s\"></span><code>",
            bench_color(i));
    put_esc(out, command);
    fputs("</code></td>", out);
}

/* "0" when every run succeeded, else how often each code came. */
static void put_exit_codes(FILE *out, const bench_t *b)
{
    static const int codes[] = {FB_EXIT_OK, FB_EXIT_FAILED, FB_EXIT_LOST};
    const char *sep = "";

    fprintf(out, "<td title=\"%d: some requests failed; %d: an agent was lost\">", FB_EXIT_FAILED,
            FB_EXIT_LOST);
    for (size_t c = 0; c < sizeof codes / sizeof *codes; c++) {
        size_t n = 0;
        for (size_t k = 0; k < b->nruns; k++)
            n += b->runs[k].exit_code == codes[c];
        if (n == 0) continue;
        if (n == b->nruns) {
            fprintf(out, "<span class=\"%s\">%d</span>", codes[c] ? "bad" : "ok", codes[c]);
            break;
        }
        fprintf(out, "%s<span class=\"%s\">%d</span> ×%zu", sep, codes[c] ? "bad" : "ok", codes[c],
                n);
        sep = ", ";
    }
    fputs("</td>", out);
}

static void put_relative(FILE *out, const page_t *pg, size_t i, double max_mean)
{
    const stats_ratio_t *r = &pg->t.rel[i];
    double mean = pg->t.stats[i].time.mean;

    fprintf(out,
            "<td><span class=\"rb\"><i style=\"width:%.1f%%;background:%s\"></i></span>"
            "<span class=\"rv\">",
            max_mean > 0 ? 100 * mean / max_mean : 0, bench_color(i));
    if (bench_table_is_ref(&pg->t, i))
        fprintf(out, "<b>%.2f</b>", r->ratio);
    else if (isnan(r->stddev))
        fprintf(out, "%.2f", r->ratio);
    else
        fprintf(out, "%.2f ± %.2f", r->ratio, r->stddev);
    fputs("</span></td>", out);
}

static void put_summary_row(const page_t *pg, size_t i, double max_mean)
{
    FILE *out = pg->out;
    const bench_t *b = pg->set->benches[i];
    const bench_stats_t *s = &pg->t.stats[i];
    summary_unit_t u = summary_unit_for(s->time.mean);
    char a[64], c[64];

    fprintf(out, "<tr%s>", bench_table_is_ref(&pg->t, i) ? " class=\"best\"" : "");
    put_command_cell(out, i, b->command);
    if (s->time.n == 0) {
        fputs("<td class=\"dim\">N/A</td><td class=\"dim\">N/A</td><td class=\"dim\">N/A</td>"
              "<td class=\"dim\">N/A</td>",
              out);
    } else {
        fprintf(out, "<td><b>%s</b>", summary_value(a, sizeof a, s->time.mean, u));
        if (!isnan(s->time.stddev))
            fprintf(out, " ± %s", summary_value(a, sizeof a, s->time.stddev, u));
        fprintf(out, " %s</td><td>%s</td><td>%s</td>", summary_unit_name(u),
                summary_time(a, sizeof a, s->time.min, u),
                summary_time(c, sizeof c, s->time.max, u));
        put_relative(out, pg, i, max_mean);
    }
    if (pg->t.ngroups > 1) {
        fputs("<td class=\"l\">", out);
        if (pg->t.group[i] < pg->t.ngroups) put_esc(out, pg->t.groups[pg->t.group[i]].label);
        fputs("</td>", out);
    }
    fprintf(out, "<td>%zu</td>", s->time.n);
    if (isfinite(s->throughput))
        fprintf(out, "<td>%.*f</td>", s->throughput < 100 ? 1 : 0, s->throughput);
    else
        fputs("<td class=\"dim\">N/A</td>", out);
    if (pg->set->target_view && s->target_runs > 0)
        fprintf(out, "<td>%" PRIu64 "</td><td>%.0f %%</td>", s->target_requests, 100 * s->busy);
    else if (pg->set->target_view)
        fputs("<td class=\"dim\">N/A</td><td class=\"dim\">N/A</td>", out);
    put_exit_codes(out, b);
    fputs("</tr>\n", out);
}

/* What the terminal puts in warnings: failed requests and lost agents. */
static void put_notes(const page_t *pg)
{
    FILE *out = pg->out;
    int any = 0;

    for (size_t i = 0; i < pg->t.nbench; i++) {
        const bench_stats_t *s = &pg->t.stats[i];
        int mismatch = s->target_cmp_runs > 0 && s->target_cmp != s->agents_cmp;
        int bounded = s->busy >= SUMMARY_BUSY_WARN || s->busy_max >= SUMMARY_BUSY_WARN;
        if (s->failed_total == 0 && s->runs_lost == 0 && s->runs_unmeasured == 0 && !mismatch &&
            !bounded)
            continue;
        fputs(any ? "" : "<ul class=\"notes\">\n", out);
        any = 1;
        fputs("<li><code>", out);
        put_esc(out, pg->set->benches[i]->command);
        fputs("</code>:", out);
        if (s->failed_total > 0) {
            fprintf(out, " %" PRIu64 " of %" PRIu64 " requests failed (", s->failed_total,
                    s->ok + s->failed_total);
            cause_print(out, s->failed);
            fputs(").", out);
        }
        if (s->runs_lost > 0) fprintf(out, " An agent was lost in %zu runs.", s->runs_lost);
        if (s->runs_unmeasured > 0)
            fprintf(out, " %zu runs have no measurement: every agent was lost.",
                    s->runs_unmeasured);
        if (mismatch)
            fprintf(out,
                    " The target counted %" PRIu64 " requests, the agents made %" PRIu64
                    ": something else loaded the target, or requests were lost on the way.",
                    s->target_cmp, s->agents_cmp);
        if (bounded)
            fprintf(out,
                    " The target's event loops were busy %.0f %% of the time (the busiest "
                    "%.0f %%): the target, not the clients, bounded this benchmark.",
                    100 * s->busy, 100 * s->busy_max);
        fputs("</li>\n", out);
    }
    if (any) fputs("</ul>\n", out);
}

/* One group's "X ran / N ± σ times faster than Y", in summary_ratio's words
 * (as the terminal says it), with Welch's verdict. */
static void put_group_ratios(const page_t *pg, size_t g)
{
    FILE *out = pg->out;
    const bench_table_t *t = &pg->t;
    size_t ref = t->groups[g].fastest;

    if (t->ngroups > 1) {
        fputs("<h3>", out);
        put_esc(out, t->groups[g].label);
        fputs("</h3>\n", out);
    }
    if (t->stats[ref].time.mean == 0) {
        fputs("<p>The comparison could not be computed as some benchmark times are zero.</p>\n",
              out);
        return;
    }
    fputs("<p><code>", out);
    put_esc(out, pg->set->benches[ref]->command);
    fputs("</code> ran</p>\n<ul>\n", out);
    for (size_t k = 0; k < t->nbench; k++) {
        size_t i = t->order[k];
        summary_ratio_t w;
        if (i == ref || t->group[i] != g) continue;
        summary_ratio(t, i, ref, &w);
        fprintf(out, "<li>%s<b>%s</b>", w.lead, w.ratio);
        if (w.sd[0]) fprintf(out, " ± %s", w.sd);
        fprintf(out, "%s<code>", w.relation);
        put_esc(out, pg->set->benches[i]->command);
        fputs("</code>", out);
        if (w.verdict && w.p[0])
            fprintf(out, " <span class=\"notes\">(%s, %s)</span>", w.verdict, w.p);
        else if (w.verdict)
            fprintf(out, " <span class=\"dim\">(%s)</span>", w.verdict);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

/* Each group of comparable benchmarks gets its ratios; nothing is ranked
 * across groups (the table's throughput is what compares them). */
static void put_ratios(const page_t *pg)
{
    FILE *out = pg->out;
    const bench_table_t *t = &pg->t;
    int any = 0;

    for (size_t g = 0; g < t->ngroups; g++) {
        if (t->groups[g].n < 2) continue;
        if (!any) fputs("<div class=\"ratios\">\n", out);
        any = 1;
        put_group_ratios(pg, g);
    }
    if (t->ngroups > 1)
        fputs(any ? "<p class=\"dim\">Benchmarks in different groups (requests, concurrency or "
                    "agents differ) are not ranked: compare their requests/s.</p>\n"
                  : "",
              out);
    if (any) fputs("</div>\n", out);
}

static void put_summary(const page_t *pg)
{
    FILE *out = pg->out;
    double max_mean = 0;

    for (size_t i = 0; i < pg->t.nbench; i++)
        if (pg->t.stats[i].time.n > 0 && pg->t.stats[i].time.mean > max_mean)
            max_mean = pg->t.stats[i].time.mean;
    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", out);
    if (pg->set->nbench == 0) {
        fputs("<p class=\"lead\">No benchmark has finished yet.</p>\n</section>\n", out);
        return;
    }
    fputs("<p class=\"lead\">Time of a run: first agent's start to last agent's end. "
          "Relative: mean over the fastest mean of the same group (the same requests, "
          "concurrency and agents; others are not compared), σ by error propagation. A "
          "difference Welch's t-test does not find significant (p ≥ 0.05) says so. ",
          out);
    if (strcmp(pg->set->order, "sequential") == 0)
        fputs("Each benchmark's runs were made in one block: a drift in time (a target "
              "warming up, a neighbour's load) favours whichever ran first. ",
              out);
    else if (pg->set->order[0])
        fputs("The benchmarks' runs were spread over the whole matrix, so a drift in time "
              "(a target warming up, a neighbour's load) does not favour any of them. ",
              out);
    if (pg->set->target_view)
        fputs("Target: the requests the target itself counted during the timed runs, and "
              "how busy its event loops were while the agents loaded it.",
              out);
    fputs("</p>\n", out);
    fputs("<div class=\"scroll\"><table>\n<thead><tr><th class=\"l\">Command</th><th>Mean ± "
          "σ</th><th>Min</th>"
          "<th>Max</th><th>Relative</th>",
          out);
    if (pg->t.ngroups > 1) fputs("<th class=\"l\">Group</th>", out);
    fputs("<th>Runs</th><th>Requests/s</th>", out);
    if (pg->set->target_view) fputs("<th>Target requests</th><th>Target busy</th>", out);
    fputs("<th>Exit codes</th></tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < pg->set->nbench; i++)
        put_summary_row(pg, i, max_mean);
    fputs("</tbody>\n</table></div>\n", out);
    put_notes(pg);
    put_ratios(pg);
    fputs("</section>\n", out);
}

/* ---- time per benchmark: box and whiskers ------------------------------- */

typedef struct {
    double q1, median, q3, lo, hi; /* lo, hi: the whiskers' ends */
} box_t;

/* Linear interpolation between order statistics, as numpy and matplotlib. */
static double quantile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q, f = floor(h);
    size_t k = (size_t)f;

    return k + 1 < n ? sorted[k] + (h - f) * (sorted[k + 1] - sorted[k]) : sorted[n - 1];
}

/* Tukey's box: whiskers reach the furthest run within 1.5 IQR of the box. */
static box_t box_of(const double *sorted, size_t n)
{
    box_t b = {quantile(sorted, n, .25), quantile(sorted, n, .5), quantile(sorted, n, .75), 0, 0};
    double reach = 1.5 * (b.q3 - b.q1);

    b.lo = b.q1;
    b.hi = b.q3;
    for (size_t i = 0; i < n; i++) {
        if (sorted[i] >= b.q1 - reach && sorted[i] < b.lo) b.lo = sorted[i];
        if (sorted[i] <= b.q3 + reach && sorted[i] > b.hi) b.hi = sorted[i];
    }
    return b;
}

/* b's measured run times, sorted; *n of them. NULL when out of memory. */
static double *sorted_times(const bench_t *b, size_t *n)
{
    double *x = malloc((b->nruns ? b->nruns : 1) * sizeof *x);

    *n = 0;
    if (x == NULL) return NULL;
    for (size_t k = 0; k < b->nruns; k++)
        if (b->runs[k].measured) x[(*n)++] = b->runs[k].time_s;
    stats_sort(x, *n);
    return x;
}

static void draw_box(FILE *out, const svg_scale_t *s, const double *x, size_t n, double mean,
                     double y, const char *color)
{
    box_t b = box_of(x, n);
    double x1 = svg_scale_at(s, b.q1), x3 = svg_scale_at(s, b.q3), m = svg_scale_at(s, mean);

    fprintf(out, "<g stroke=\"%s\" stroke-width=\"1.5\">", color);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", svg_scale_at(s, b.lo),
            y, x1, y);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x3, y,
            svg_scale_at(s, b.hi), y);
    for (int e = 0; e < 2; e++) {
        double xe = svg_scale_at(s, e ? b.hi : b.lo);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", xe, y - 6, xe,
                y + 6);
    }
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" rx=\"2\" fill=\"%s\" "
            "fill-opacity=\".28\"/>",
            x1, y - 9, fmax(x3 - x1, 1), color);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"3\"/>",
            svg_scale_at(s, b.median), y - 9, svg_scale_at(s, b.median), y + 9);
    for (size_t i = 0; i < n; i++)
        if (x[i] < b.lo || x[i] > b.hi)
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#fff\"/>",
                    svg_scale_at(s, x[i]), y);
    fprintf(out,
            "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"#fff\" stroke=\"#1f2328\" "
            "stroke-width=\"1.3\"/>",
            m, y - 5);
    fputs("</g>\n", out);
}

/* The time axis: the runs' range, linear unless it spans more than 10x. */
static svg_scale_t time_scale(const bench_table_t *t, double a, double b)
{
    svg_scale_t s = {INFINITY, -INFINITY, a, b, 0};
    double pad;

    for (size_t i = 0; i < t->nbench; i++) {
        if (t->stats[i].time.n == 0) continue;
        s.lo = fmin(s.lo, t->stats[i].time.min);
        s.hi = fmax(s.hi, t->stats[i].time.max);
    }
    s.log = s.lo > 0 && s.hi / s.lo > 10;
    if (!s.log) {
        pad = s.hi > s.lo ? (s.hi - s.lo) * 0.06 : fmax(s.hi * 0.05, 1e-6);
        s.lo = fmax(0, s.lo - pad);
        s.hi += pad;
    }
    svg_scale_nice(&s);
    return s;
}

static int put_time_rows(const page_t *pg, const svg_scale_t *s, double top, double row)
{
    FILE *out = pg->out;
    char m[64], sd[64];

    for (size_t i = 0; i < pg->set->nbench; i++) {
        const bench_t *b = pg->set->benches[i];
        const stats_desc_t *d = &pg->t.stats[i].time;
        double y = top + row * ((double)i + 0.5);
        size_t n;
        double *x;
        row_label(out, b->command, s->a - 12, y);
        if (d->n == 0) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">no measured run</text>\n", s->a + 8, y + 4);
            continue;
        }
        if ((x = sorted_times(b, &n)) == NULL) return -1;
        draw_box(out, s, x, n, d->mean, y, bench_color(i));
        free(x);
        summary_value(m, sizeof m, d->mean, summary_unit_for(d->mean));
        sd[0] = '\0';
        if (!isnan(d->stddev)) summary_value(sd, sizeof sd, d->stddev, summary_unit_for(d->mean));
        fprintf(out, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">%s%s%s %s</text>\n", s->b + 14,
                y + 4, m, sd[0] ? " ± " : "", sd, summary_unit_name(summary_unit_for(d->mean)));
    }
    return 0;
}

static int put_time_chart(const page_t *pg)
{
    FILE *out = pg->out;
    const double row = 36, top = 8, left = label_width(pg->set);
    double bottom = top + row * (double)pg->set->nbench;
    svg_scale_t s = time_scale(&pg->t, left, CHART_W - 150);
    svg_tick_t t[SVG_MAX_TICKS];
    summary_unit_t u;
    size_t nt;
    char title[64];

    fputs("<section id=\"time\">\n<h2>Time per benchmark</h2>\n", out);
    if (!(s.lo < s.hi)) {
        fputs("<p class=\"lead\">No measured run.</p>\n</section>\n", out);
        return 0;
    }
    fputs("<p class=\"lead\">Each run's time. Box: first to third quartile, thick line: median, "
          "◇: mean, whiskers: the furthest runs within 1.5 × IQR of the box, ○: runs beyond "
          "them.</p>\n",
          out);
    nt = time_ticks(&s, t, &u);
    if (s.log)
        snprintf(title, sizeof title, "Time per run (log scale)");
    else
        snprintf(title, sizeof title, "Time per run [%s]", summary_unit_name(u));
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"Time per benchmark\">\n",
            CHART_W, bottom + 50);
    put_bands(out, pg->set->nbench, top, row);
    svg_axis_x(out, &s, t, nt, top, bottom, title);
    if (put_time_rows(pg, &s, top, row) != 0) return -1;
    fputs("</svg>\n</section>\n", out);
    return 0;
}

/* ---- latency percentiles ------------------------------------------------ */

/* The x of percentile p: HdrHistogram's log10(1 / (1 - p)) — 90 % is 1,
 * 99 % is 2, 99.9 % is 3. */
static double nines(double p)
{
    return p >= 100 ? INFINITY : -log10(1 - p / 100);
}

static double percentile_at(double x)
{
    return 100 * (1 - pow(10, -x));
}

static const struct {
    double p;
    const char *label;
} k_pticks[] = {{0, "0"},       {50, "50"},       {90, "90"},         {99, "99"},
                {99.9, "99.9"}, {99.99, "99.99"}, {99.999, "99.999"}, {99.9999, "99.9999"}};

#define NPTICKS (sizeof k_pticks / sizeof *k_pticks)

static size_t percentile_ticks(double max_nines, svg_tick_t *t)
{
    size_t n = 0;

    for (size_t i = 0; i < NPTICKS; i++) {
        if (nines(k_pticks[i].p) > max_nines + 1e-9) break;
        t[n].v = nines(k_pticks[i].p);
        snprintf(t[n].label, sizeof t[n].label, "%s", k_pticks[i].label);
        n++;
    }
    return n;
}

static double hist_seconds(const hist_t *h, double p)
{
    return (double)hist_percentile(h, p) / 1e9;
}

/* Benchmark i's curve of h: its latency, or (service, rate mode) its
 * service time, thinner and dotted in the same colour. */
static void put_curve(FILE *out, const bench_t *b, const hist_t *h, int service, size_t i,
                      const svg_scale_t *sx, const svg_scale_t *sy)
{
    char v[64];

    fprintf(out, "<g><title>%zu. ", i + 1);
    put_esc(out, b->command);
    fprintf(out,
            "%s</title><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
            "stroke-linejoin=\"round\" stroke-dasharray=\"%s\" points=\"",
            service      ? " (service time)"
            : b->service ? " (corrected)"
                         : "",
            bench_color(i), service ? "1.4" : "2.2", service ? "2 3" : bench_dash(i));
    for (int k = 0; k <= CURVE_POINTS; k++) {
        double x = sx->hi * k / CURVE_POINTS, y = hist_seconds(h, percentile_at(x));
        fprintf(out, "%s%.1f,%.1f", k ? " " : "", svg_scale_at(sx, x),
                svg_scale_at(sy, fmax(y, sy->lo)));
    }
    fputs("\"/>", out);
    for (size_t k = 1; k < NPTICKS; k++) { /* dots where the grid meets the curve */
        double x = nines(k_pticks[k].p), y = hist_seconds(h, k_pticks[k].p);
        if (x > sx->hi + 1e-9) break;
        fprintf(out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\"><title>p%s: %s</title>"
                "</circle>",
                svg_scale_at(sx, x), svg_scale_at(sy, fmax(y, sy->lo)), bench_color(i),
                k_pticks[k].label, fmt_time(v, sizeof v, y));
    }
    fputs("</g>\n", out);
}

static void put_latency_table(const page_t *pg)
{
    FILE *out = pg->out;
    char v[64];

    int rate = 0;

    for (size_t i = 0; i < pg->set->nbench; i++)
        rate |= pg->set->benches[i]->service != NULL;
    fputs("<div class=\"scroll\"><table>\n<thead><tr><th class=\"l\">Command</th>", out);
    if (rate) fputs("<th>From</th>", out);
    fputs("<th>Requests</th><th>Min</th>", out);
    for (size_t k = 0; k < HIST_NPCTS; k++)
        fprintf(out, "<th>%s</th>", hist_pcts[k].name);
    fputs("<th>Max</th></tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < pg->set->nbench; i++) {
        const bench_t *b = pg->set->benches[i];
        if (hist_count(b->latency) == 0) continue;
        /* rate mode: the corrected row, then the service-time one */
        for (int svc = 0; svc < (b->service ? 2 : 1); svc++) {
            const hist_t *h = svc ? b->service : b->latency;
            fputs("<tr>", out);
            put_command_cell(out, i, b->command);
            if (b->service) fputs(svc ? "<td>service</td>" : "<td>corrected</td>", out);
            fprintf(out, "<td>%" PRIu64 "</td><td>%s</td>", hist_count(h),
                    fmt_time(v, sizeof v, (double)hist_min(h) / 1e9));
            for (size_t k = 0; k < HIST_NPCTS; k++)
                fprintf(out, "<td>%s</td>", fmt_time(v, sizeof v, hist_seconds(h, hist_pcts[k].p)));
            fprintf(out, "<td>%s</td></tr>\n", fmt_time(v, sizeof v, (double)hist_max(h) / 1e9));
        }
    }
    fputs("</tbody>\n</table></div>\n", out);
}

static void put_latency_legend(const page_t *pg)
{
    FILE *out = pg->out;

    fputs("<ul class=\"legend\">\n", out);
    for (size_t i = 0; i < pg->set->nbench; i++) {
        if (hist_count(pg->set->benches[i]->latency) == 0) continue;
        fputs("<li>", out);
        key(out, bench_color(i), bench_dash(i));
        fputs("<code>", out);
        put_esc(out, pg->set->benches[i]->command);
        fputs("</code></li>\n", out);
    }
    fputs("</ul>\n", out);
}

static void put_latency_chart(const page_t *pg)
{
    FILE *out = pg->out;
    const double top = 10, height = 380, left = 86;
    svg_scale_t sx = {0, 2, left, CHART_W - 24, 0},
                sy = {INFINITY, -INFINITY, top + height, top, 1};
    uint64_t most = 0;
    int rate = 0; /* open-loop benchmarks: their service time too */
    svg_tick_t tx[SVG_MAX_TICKS], ty[SVG_MAX_TICKS];
    size_t nx, ny;
    summary_unit_t u;

    for (size_t i = 0; i < pg->set->nbench; i++) {
        const hist_t *h = pg->set->benches[i]->latency;
        if (hist_count(h) == 0) continue;
        most = hist_count(h) > most ? hist_count(h) : most;
        sy.lo = fmin(sy.lo, fmax((double)hist_min(h) / 1e9, 1e-7));
        sy.hi = fmax(sy.hi, (double)hist_max(h) / 1e9);
        if (pg->set->benches[i]->service && hist_count(pg->set->benches[i]->service) > 0) {
            rate = 1;
            sy.lo = fmin(sy.lo, fmax((double)hist_min(pg->set->benches[i]->service) / 1e9, 1e-7));
        }
    }
    fputs("<section id=\"latency\">\n<h2>Latency percentiles</h2>\n", out);
    if (most == 0) {
        fputs("<p class=\"lead\">No latency recorded.</p>\n</section>\n", out);
        return;
    }
    fputs("<p class=\"lead\">Every request of every run and agent, merged. The x axis spreads "
          "the tail: each step right is one more nine.</p>\n",
          out);
    if (rate)
        fputs("<p class=\"lead\">Open loop (--rate): the full lines count each request's "
              "latency from its due time (corrected for coordinated omission), the dotted ones "
              "from its actual send (service time); the gap between them is time spent waiting "
              "in the client.</p>\n",
              out);
    sx.hi = fmin(fmax(ceil(log10((double)most)), 2), MAX_NINES);
    svg_scale_nice(&sy);
    nx = percentile_ticks(sx.hi, tx);
    ny = time_ticks(&sy, ty, &u);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"Latency by percentile\">\n",
            CHART_W, top + height + 50);
    svg_axis_y(out, &sy, ty, ny, left, sx.b, "Latency (log scale)");
    svg_axis_x(out, &sx, tx, nx, top, top + height, "Percentile [%]");
    for (size_t i = 0; i < pg->set->nbench; i++)
        if (hist_count(pg->set->benches[i]->latency) > 0) {
            const bench_t *b = pg->set->benches[i];
            put_curve(out, b, b->latency, 0, i, &sx, &sy);
            if (b->service && hist_count(b->service) > 0)
                put_curve(out, b, b->service, 1, i, &sx, &sy);
        }
    fputs("</svg>\n", out);
    put_latency_legend(pg);
    put_latency_table(pg);
    fputs("</section>\n", out);
}

/* ---- per-agent comparison ----------------------------------------------- */

/* Mean and σ of agent a's own time over the runs it was not lost in; -1
 * when out of memory. */
static int agent_mean(const bench_t *b, size_t a, double *mean, double *sd)
{
    double *x = malloc((b->nruns ? b->nruns : 1) * sizeof *x);
    size_t n = 0;

    if (x == NULL) return -1;
    for (size_t k = 0; k < b->nruns; k++)
        if (!b->runs[k].agents[a].lost) x[n++] = b->runs[k].agents[a].wall_s;
    *mean = stats_mean(x, n); /* NAN when n is 0 */
    *sd = stats_stddev(x, n);
    free(x);
    return 0;
}

static void agent_name(char *buf, size_t len, const bench_set_t *set, size_t a)
{
    if (a < set->nagents && set->agents[a].host[0])
        snprintf(buf, len, "%s (%s)", set->agents[a].host, set->agents[a].name);
    else if (a < set->nagents)
        snprintf(buf, len, "%s", set->agents[a].name);
    else
        snprintf(buf, len, "agent %zu", a + 1);
}

static void draw_agent_bar(FILE *out, const svg_scale_t *s, double mean, double sd, double y,
                           double h, const char *color)
{
    char v[64];
    double x = svg_scale_at(s, mean);

    if (isnan(mean)) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">lost</text>", s->a + 6, y + h / 2 + 4);
        return;
    }
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"%s\"/>",
            s->a, y, fmax(x - s->a, 1), h, color);
    if (!isnan(sd))
        fprintf(out,
                "<path d=\"M%.1f %.1fv6m0 -3H%.1fm0 -3v6\" fill=\"none\" stroke=\"#1f2328\" "
                "stroke-width=\"1.2\"/>",
                svg_scale_at(s, fmax(mean - sd, s->lo)), y + h / 2 - 3, svg_scale_at(s, mean + sd));
    fprintf(out, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
            svg_scale_at(s, mean + (isnan(sd) ? 0 : sd)) + 6, y + h / 2 + 4,
            fmt_time(v, sizeof v, mean));
}

static int put_agent_bars(const page_t *pg, const svg_scale_t *s, double top, double bar,
                          double group)
{
    FILE *out = pg->out;
    double mean, sd;

    for (size_t i = 0; i < pg->set->nbench; i++) {
        const bench_t *b = pg->set->benches[i];
        double y = top + group * (double)i;
        row_label(out, b->command, s->a - 12, y + group / 2);
        for (size_t a = 0; a < b->nagents; a++) {
            if (agent_mean(b, a, &mean, &sd) != 0) return -1;
            draw_agent_bar(out, s, mean, sd, y + 8 + bar * (double)a, bar - 3, agent_color(a));
        }
    }
    return 0;
}

static void put_agent_legend(const page_t *pg, size_t nagents)
{
    FILE *out = pg->out;
    char name[BENCH_STR + 300];

    fputs("<ul class=\"legend\">\n", out);
    for (size_t a = 0; a < nagents; a++) {
        fprintf(out, "<li><span class=\"sw\" style=\"background:%s\"></span>", agent_color(a));
        agent_name(name, sizeof name, pg->set, a);
        put_esc(out, name);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

static int put_agent_chart(const page_t *pg)
{
    FILE *out = pg->out;
    const double bar = 18, top = 8;
    size_t nagents = 0;
    double hi = 0, mean, sd, group, bottom;
    svg_scale_t s;
    svg_tick_t t[SVG_MAX_TICKS];
    summary_unit_t u;
    size_t nt;
    char title[64];

    for (size_t i = 0; i < pg->set->nbench; i++) {
        const bench_t *b = pg->set->benches[i];
        nagents = b->nagents > nagents ? b->nagents : nagents;
        for (size_t a = 0; a < b->nagents; a++) {
            if (agent_mean(b, a, &mean, &sd) != 0) return -1;
            if (!isnan(mean)) hi = fmax(hi, mean + (isnan(sd) ? 0 : sd));
        }
    }
    if (nagents < 2 || !(hi > 0)) return 0;
    group = bar * (double)nagents + 16;
    bottom = top + group * (double)pg->set->nbench;
    s = (svg_scale_t){0, hi * 1.04, label_width(pg->set), CHART_W - 110, 0};
    svg_scale_nice(&s);
    nt = time_ticks(&s, t, &u);
    snprintf(title, sizeof title, "Mean time of each agent's part of a run [%s]",
             summary_unit_name(u));
    fputs("<section id=\"agents\">\n<h2>Per-agent comparison</h2>\n"
          "<p class=\"lead\">Each agent's own wall time in a run (its strategy's start to its "
          "end), mean ± σ over the runs it took part in.</p>\n",
          out);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"Mean time per agent\">\n",
            CHART_W, bottom + 50);
    put_bands(out, pg->set->nbench, top, group);
    svg_axis_x(out, &s, t, nt, top, bottom, title);
    if (put_agent_bars(pg, &s, top, bar, group) != 0) return -1;
    fputs("</svg>\n", out);
    put_agent_legend(pg, nagents);
    fputs("</section>\n", out);
    return 0;
}

/* ---- hosts -------------------------------------------------------------- */

static void put_fact(FILE *out, const char *s, const char *cls)
{
    fprintf(out, "<td class=\"%s\">", cls);
    put_esc(out, s[0] ? s : "?");
    fputs("</td>", out);
}

static void put_hosts(const page_t *pg)
{
    FILE *out = pg->out;

    fputs("<section id=\"hosts\">\n<h2>Agents</h2>\n", out);
    if (pg->set->nagents == 0) {
        fputs("<p class=\"lead\">No agent answered.</p>\n</section>\n", out);
        return;
    }
    fputs("<div class=\"scroll\"><table>\n<thead><tr><th class=\"l\">Agent</th><th "
          "class=\"l\">Address</th>"
          "<th class=\"l\">Host</th><th>Cores</th><th class=\"l\">CPU model</th>"
          "<th class=\"l\">Kernel</th><th class=\"l\">fleetbench</th><th class=\"l\">libcurl</th>"
          "<th class=\"l\">libuv</th><th class=\"l\">libzmq</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t a = 0; a < pg->set->nagents; a++) {
        const bench_host_t *h = &pg->set->agents[a];
        fprintf(out,
                "<tr><td class=\"l\"><span class=\"sw\" style=\"background:%s\"></span>%zu</td>",
                agent_color(a), a + 1);
        put_fact(out, h->name, "l");
        put_fact(out, h->host, "l");
        fprintf(out, "<td>%u</td>", h->cores);
        put_fact(out, h->cpu_model, "l wrap");
        put_fact(out, h->kernel, "l wrap");
        put_fact(out, h->version, "l");
        put_fact(out, h->libcurl, "l");
        put_fact(out, h->libuv, "l");
        put_fact(out, h->libzmq, "l");
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table></div>\n</section>\n", out);
}

/* ---- the page ----------------------------------------------------------- */

int report_html(FILE *out, const bench_set_t *set, fb_err_t *err)
{
    page_t pg = {out, set, {0}};
    int rc;

    if (bench_table_init(&pg.t, set) != 0) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    put_head(&pg);
    put_summary(&pg);
    rc = put_time_chart(&pg);
    if (rc == 0) {
        put_latency_chart(&pg);
        rc = put_agent_chart(&pg);
    }
    if (rc == 0) {
        put_hosts(&pg);
        fputs("<footer>fleetbench " FB_VERSION " coordinator. Times as hyperfine reports them; "
              "the same numbers are in the JSON export.</footer>\n</main>\n</body>\n</html>\n",
              out);
    }
    bench_table_close(&pg.t);
    if (rc != 0) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    if (ferror(out)) {
        fb_err_set(err, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}
