/* report and progress: the HTML page of small fixed sets, read back by a
 * small tag scanner (balanced elements, nothing that loads anything, every
 * coordinate a finite number, input strings escaped), and the live progress
 * line on a TTY and off one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "export.h"
#include "progress.h"
#include "report.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* hyperfine's markdown.rs data, as test_export: "sleep 0.1" is 105.7 ± 1.6
 * ms, "sleep 2" 18.97 ± 0.29 times slower. */
static const double k_sleep01[] = {.1023, .1080, .1064, .1054, .1064, .1054, .1059, .1058};
static const double k_sleep2[] = {2.002, 2.008, 2.0057, 2.0043, 2.0057, 2.0043};

/* ---- sets --------------------------------------------------------------- */

static bench_params_t params(const char *strategy, uint64_t requests)
{
    bench_params_t p = {.requests = requests, .chunk = 100, .connections = 100};

    snprintf(p.strategy, sizeof p.strategy, "%s", strategy);
    p.uses_connections = 1;
    return p;
}

/* A benchmark whose run i takes t[i] on every agent (agent k a little
 * longer, so their bars differ), with latencies around t[i] / 100. */
static bench_t *mkbench(const char *command, const double *t, size_t n, size_t nagents)
{
    bench_params_t p = params("async-for", 100);
    bench_t *b = bench_new(command, &p, nagents);
    bench_agent_run_t a[4];

    assert_non_null(b);
    assert_true(nagents <= N(a));
    for (size_t i = 0; i < n; i++) {
        memset(a, 0, sizeof a);
        for (size_t k = 0; k < nagents; k++)
            a[k] = (bench_agent_run_t){.wall_s = t[i] * (1 + 0.1 * (double)k),
                                       .user_s = 0.5,
                                       .sys_s = 0.25,
                                       .ok = 100,
                                       .bytes = 1000,
                                       .connections = 10};
        assert_int_equal(bench_add_run(b, a), 0);
        for (uint64_t r = 1; r <= 100; r++)
            hist_record(b->latency, (uint64_t)(t[i] / 100 * 1e9 * (1 + (double)(r * r) / 2e3)));
    }
    return b;
}

static void add(bench_set_t *s, const char *command, const double *t, size_t n, size_t nagents)
{
    assert_int_equal(bench_set_add(s, mkbench(command, t, n, nagents)), 0);
}

static void add_host(bench_set_t *s, const char *name, const char *host, const char *cpu)
{
    bench_host_t h;

    memset(&h, 0, sizeof h);
    snprintf(h.name, sizeof h.name, "%s", name);
    snprintf(h.host, sizeof h.host, "%s", host);
    snprintf(h.cpu_model, sizeof h.cpu_model, "%s", cpu);
    strcpy(h.kernel, "6.1.0-18-amd64");
    strcpy(h.libcurl, "7.88.1");
    strcpy(h.libuv, "1.44.2");
    strcpy(h.libzmq, "4.3.4");
    strcpy(h.version, "0.1.0");
    h.cores = 8;
    assert_int_equal(bench_set_add_host(s, &h), 0);
}

static void meta(bench_set_t *s)
{
    strcpy(s->target, "10.0.0.9:8080");
    strcpy(s->date, "2024-05-01T12:00:00Z");
    strcpy(s->mode, "lockstep");
    s->warmup = 3;
}

/* Two benchmarks on one agent; the first command needs escaping. */
static void small_set(bench_set_t *s)
{
    bench_set_init(s);
    meta(s);
    add_host(s, "127.0.0.1:5555", "box-1", "AMD EPYC 7B13");
    add(s, "sleep 0.1 <&> \"q\"", k_sleep01, N(k_sleep01), 1);
    add(s, "sleep 2", k_sleep2, N(k_sleep2), 1);
}

static char *render(const bench_set_t *s)
{
    char *got = NULL;
    fb_err_t err = {""};
    size_t len = 0;
    FILE *out = open_memstream(&got, &len);
    char *page;

    assert_non_null(out);
    if (report_html(out, s, &err) != 0) fail_msg("%s", err.msg);
    fclose(out);
    page = strdup(got); /* a fresh pointer: gcc takes got for a local's address */
    assert_non_null(page);
    free(got);
    return page;
}

static void has(const char *html, const char *want)
{
    if (strstr(html, want) == NULL) fail_msg("the text lacks \"%s\"", want);
}

static void lacks(const char *html, const char *bad)
{
    const char *at = strstr(html, bad);

    if (at != NULL) fail_msg("the text has \"%s\" at: %.120s", bad, at);
}

static size_t count(const char *html, const char *what)
{
    size_t n = 0;

    for (const char *p = html; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* ---- a tag scanner ------------------------------------------------------ */

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0) return 1;
    return 0;
}

/* Elements that load something or run something: never in the page. */
static const char *const k_banned_tags[] = {
    "script", "link",   "img",           "iframe", "object",       "embed",
    "image",  "use",    "foreignobject", "base",   "form",         "audio",
    "video",  "source", "picture",       "frame",  "meta-refresh", NULL};
static const char *const k_banned_attrs[] = {"src",        "href",       "xlink:href", "srcset",
                                             "action",     "formaction", "data",       "poster",
                                             "background", NULL};
static const char *const k_void_tags[] = {"meta", "br", "hr", "wbr", NULL};
static const char *const k_numeric_attrs[] = {"x",  "y", "x1",    "x2",     "y1", "y2", "cx",
                                              "cy", "r", "width", "height", "rx", NULL};

static void check_number_list(const char *tag, const char *attr, const char *v, size_t len)
{
    char buf[65536], *p, *end;

    assert_true(len < sizeof buf);
    memcpy(buf, v, len);
    buf[len] = '\0';
    for (p = buf; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d))
            fail_msg("<%s %s=\"%s\">: not a finite number", tag, attr, buf);
        p = end;
    }
}

static void check_attr(const char *tag, const char *name, const char *v, size_t len)
{
    if (in_list(name, k_banned_attrs) || strncmp(name, "on", 2) == 0)
        fail_msg("<%s %s=…>: loads or runs something", tag, name);
    for (size_t i = 0; i + 4 <= len; i++)
        if (strncasecmp(v + i, "http", 4) == 0 || strncasecmp(v + i, "url(", 4) == 0)
            fail_msg("<%s %s=\"%.*s\">: a reference in markup", tag, name, (int)len, v);
    if (in_list(name, k_numeric_attrs) || strcmp(name, "points") == 0)
        check_number_list(tag, name, v, len);
}

/* The attributes between the tag's name and its '>': name="value" only. */
static void check_attrs(const char *tag, const char *p, const char *end)
{
    while (p < end) {
        char name[64];
        size_t n = 0;
        const char *q;
        while (p < end && (*p == ' ' || *p == '\n' || *p == '/'))
            p++;
        if (p == end) break;
        while (p < end && *p != '=' && *p != ' ' && *p != '>' && n + 1 < sizeof name)
            name[n++] = (char)tolower((unsigned char)*p++);
        name[n] = '\0';
        if (*p != '=' || p[1] != '"')
            fail_msg("<%s %s…>: attribute without a quoted value", tag, name);
        p += 2;
        q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL) fail_msg("<%s %s=\"…>: unterminated value", tag, name);
        check_attr(tag, name, p, (size_t)(q - p));
        p = q + 1;
    }
}

/* Every '<' in the page opens a tag (text has them escaped), elements nest
 * and close, nothing loads or runs anything. Returns how many tags. */
static size_t check_markup(const char *html)
{
    char stack[64][32];
    size_t depth = 0, tags = 0;
    const char *p = html;

    while ((p = strchr(p, '<')) != NULL) {
        char name[32];
        int closing = p[1] == '/', self;
        const char *n = p + 1 + closing, *end;
        size_t len = 0;
        if (strncmp(p, "<!DOCTYPE html>", 15) == 0) {
            p += 15;
            continue;
        }
        while (isalnum((unsigned char)n[len]) && len + 1 < sizeof name) {
            name[len] = (char)tolower((unsigned char)n[len]);
            len++;
        }
        name[len] = '\0';
        if (len == 0) fail_msg("a '<' that opens no tag: %.80s", p);
        if (in_list(name, k_banned_tags)) fail_msg("a <%s> element: %.120s", name, p);
        end = strchr(n, '>');
        assert_non_null(end);
        if (!closing) check_attrs(name, n + len, end);
        self = end[-1] == '/';
        tags++;
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
                fail_msg("</%s> closes <%s>", name, depth ? stack[depth - 1] : "nothing");
            depth--;
        } else if (!self && !in_list(name, k_void_tags)) {
            assert_true(depth < N(stack));
            strcpy(stack[depth++], name);
        }
        p = end + 1;
        if (!closing && strcmp(name, "style") == 0) { /* raw text up to its end tag */
            p = strstr(p, "</style>");
            assert_non_null(p);
            lacks(p, "<style"); /* only one */
        }
    }
    if (depth != 0) fail_msg("<%s> is never closed", stack[depth - 1]);
    return tags;
}

/* ---- report tests ------------------------------------------------------- */

static void test_structure(void **state)
{
    bench_set_t s;
    char *html;

    small_set(&s);
    html = render(&s);
    assert_true(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    assert_true(strlen(html) > 16 && strcmp(html + strlen(html) - 8, "</html>\n") == 0);
    assert_true(check_markup(html) > 100);
    has(html, "<meta charset=\"utf-8\">");
    has(html, "<title>fleetbench report: 10.0.0.9:8080, 2024-05-01 12:00:00 UTC</title>");
    has(html, "<b>lockstep</b> mode");
    for (const char *id = "summary\0time\0latency\0hosts\0"; *id; id += strlen(id) + 1) {
        char want[64];
        snprintf(want, sizeof want, "<section id=\"%s\">", id);
        has(html, want);
    }
    lacks(html, "<section id=\"agents\">"); /* one agent: nothing to compare */
    /* both commands, escaped wherever they appear (table, ratios, labels) */
    lacks(html, "<&>");
    assert_true(count(html, "sleep 0.1 &lt;&amp;&gt; &quot;q&quot;") >= 4);
    assert_true(count(html, "sleep 2") >= 4);
    /* hyperfine's numbers, as the markdown export has them */
    has(html, "<b>105.7</b> ± 1.6 ms");
    has(html, "<b>2.005</b> ± 0.002 s"); /* each row in its own unit, as the terminal */
    has(html, "times faster than <code>sleep 2</code>");
    has(html, "<b>18.97</b> ± 0.29");
    /* three charts' worth of SVG: box plot, latency curves (one per benchmark) */
    assert_int_equal(count(html, "<svg class=\"chart\""), 2);
    assert_int_equal(count(html, "<polyline"), 2);
    has(html, "Time per run (log scale)"); /* 0.1 s against 2 s: log axis */
    has(html, "Percentile [%]");
    has(html, "Latency (log scale)");
    has(html, "AMD EPYC 7B13");
    lacks(html, "http://");
    lacks(html, "https://");
    free(html);
    bench_set_close(&s);
}

/* A hostile agent's facts are text, whatever they contain. */
static void test_hostile_host(void **state)
{
    bench_set_t s;
    char *html;

    small_set(&s);
    add_host(&s, "10.0.0.6:5555", "<script>alert(1)</script>",
             "\"><img src=https://evil.example/x.png onerror=alert(1)>");
    strcpy(s.agents[1].kernel, "6.1\x01<b>");
    strcpy(s.agents[1].libzmq, "4.3.4' onmouseover='x");
    html = render(&s);
    check_markup(html);
    lacks(html, "<script");
    lacks(html, "<img");
    lacks(html, "\x01");
    has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    has(html, "&quot;&gt;&lt;img src=https://evil.example/x.png onerror=alert(1)&gt;");
    has(html, "6.1&#xFFFD;&lt;b&gt;");
    has(html, "4.3.4&#39; onmouseover=&#39;x");
    assert_int_equal(count(html, "https://"), 1); /* in that text, and only there */
    free(html);
    bench_set_close(&s);
}

/* Linear axis within 10x; several agents get the comparison chart. */
static void test_agents(void **state)
{
    const double t[] = {0.010, 0.012, 0.011, 0.013, 0.030};
    bench_agent_run_t lost[2] = {{.wall_s = 0.01, .ok = 1}, {.lost = 1}};
    bench_set_t s;
    char *html;

    bench_set_init(&s);
    meta(&s);
    add_host(&s, "127.0.0.2:5555", "alpha", "cpu");
    add_host(&s, "127.0.0.3:5555", "beta", "cpu");
    add(&s, "async-for -r 100", t, N(t), 2);
    add(&s, "async-map -r 100", t + 1, 3, 2);
    assert_int_equal(bench_add_run(s.benches[1], lost), 0);
    html = render(&s);
    check_markup(html);
    has(html, "<section id=\"agents\">");
    has(html, "alpha (127.0.0.2:5555)");
    has(html, "beta (127.0.0.3:5555)");
    has(html, "Time per run [ms]");
    has(html, "Mean time of each agent");
    has(html, "<span class=\"ok\">0</span> ×3, <span class=\"bad\">3</span> ×1");
    has(html, "An agent was lost in 1 runs.");
    has(html, "r=\"3.5\""); /* 30 ms among 10-13 ms: an outlier's dot */
    free(html);
    bench_set_close(&s);
}

/* Nothing measured, one run, an empty histogram: no NaN reaches the page. */
static void test_edges(void **state)
{
    const double one[] = {0.5};
    bench_agent_run_t lost = {.lost = 1};
    bench_params_t p = params("async-for", 1);
    bench_set_t s;
    char *html;

    bench_set_init(&s); /* interrupted before the first benchmark ended */
    html = render(&s);
    check_markup(html);
    has(html, "No benchmark has finished yet.");
    has(html, "No measured run.");
    has(html, "No latency recorded.");
    has(html, "No agent answered.");
    free(html);

    meta(&s);
    add(&s, "one run", one, 1, 1);
    assert_int_equal(bench_set_add(&s, bench_new("gone", &p, 1)), 0);
    assert_int_equal(bench_add_run(s.benches[1], &lost), 0);
    hist_reset(s.benches[0]->latency);
    html = render(&s);
    check_markup(html);
    has(html, "no measured run");
    has(html, "No latency recorded.");
    lacks(html, "nan");
    lacks(html, "inf");
    lacks(html, "class=\"ratios\""); /* one measured benchmark: no comparison */
    free(html);
    bench_set_close(&s);
}

/* Many benchmarks: colours repeat with dashes, long commands are cut. */
static void test_many(void **state)
{
    char cmd[300];
    bench_set_t s;
    char *html;

    bench_set_init(&s);
    meta(&s);
    for (int i = 0; i < 12; i++) {
        const double t[] = {0.001 * (i + 1), 0.0011 * (i + 1), 0.0012 * (i + 1)};
        snprintf(cmd, sizeof cmd, "threads-reuse -r %d -c 100 %s", i,
                 i == 0 ? "ééééééééééééééééééééééééééééééééééééééééééééééééé" : "");
        add(&s, cmd, t, N(t), 1);
    }
    html = render(&s);
    check_markup(html);
    assert_int_equal(count(html, "<polyline"), 12);
    has(html, "stroke-dasharray=\"7 4\"");
    has(html, "ééé…</text>");
    free(html);
    bench_set_close(&s);
}

/* Through export_write: one file, no temporary left behind. */
static void test_write(void **state)
{
    char dir[] = "/tmp/fbreport-XXXXXX", path[64], tmp[80], head[32] = "";
    fb_err_t err = {""};
    bench_set_t s;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.html", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    small_set(&s);
    if (export_write(path, EXPORT_HTML, &s, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(access(tmp, F_OK), -1);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    assert_string_equal(head, "<!DOCTYPE html>\n");
    unlink(path);
    rmdir(dir);
    bench_set_close(&s);
}

/* What the page says about comparisons: the run order, one list of ratios
 * per group of comparable benchmarks with Welch's verdict, nothing ranked
 * across groups, and the target's own view with its warnings. */
static void test_comparisons(void **state)
{
    static const double a[] = {1.0, 1.1, 0.9, 1.05, 0.95};
    static const double b[] = {1.02, 1.12, 0.97, 1.0, 1.08, 0.99, 1.05};
    bench_set_t s;
    bench_target_t v = {.seen = 1,
                        .requests = 101,
                        .codes = {0, 101, 0, 0, 0},
                        .busy_ns = 1900000000,
                        .busy_max_ns = 960000000,
                        .cpu_ns = 1,
                        .load_ns = 1000000000,
                        .loops = 2,
                        .cores = 2};
    char *html;

    bench_set_init(&s);
    meta(&s);
    strcpy(s.order, "interleave");
    s.target_view = 1;
    add_host(&s, "127.0.0.1:5555", "box-1", "cpu");
    add(&s, "a -c 100", a, N(a), 1);
    add(&s, "b -c 100", b, N(b), 1);
    add(&s, "c -c 10", k_sleep01, N(k_sleep01), 1);
    add(&s, "d -c 10", k_sleep2, N(k_sleep2), 1);
    s.benches[2]->params.connections = s.benches[3]->params.connections = 10;
    for (size_t i = 0; i < s.benches[0]->nruns; i++)
        s.benches[0]->runs[i].target = v; /* one request more than the agent made */
    html = render(&s);
    has(html, "runs <b>interleave</b>");
    has(html, "spread over the whole matrix");
    has(html, "<h3>-r 100, concurrency 100, 1 agent</h3>");
    has(html, "<h3>-r 100, concurrency 10, 1 agent</h3>");
    has(html, "<th class=\"l\">Group</th>");
    has(html, "times faster than <code>b -c 100</code> <span class=\"notes\">(not "
              "statistically significant, p = 0.45)</span>");
    has(html, "times faster than <code>d -c 10</code></li>"); /* significant: no note */
    has(html, "<code>c -c 10</code> ran");
    has(html, "<code>a -c 100</code> ran");
    assert_null(strstr(html, "than <code>c -c 10")); /* the references */
    assert_null(strstr(html, "than <code>a -c 100"));
    has(html, "<th>Target requests</th><th>Target busy</th>");
    has(html, "<td>505</td><td>95 %</td>");
    has(html, "The target counted 505 requests, the agents made 500");
    has(html, "bounded this benchmark");
    free(html);
    bench_set_close(&s);
}

/* ---- progress ----------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} mem_t;

static void mem_open(mem_t *m)
{
    m->buf = NULL;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
}

static char *mem_close(mem_t *m)
{
    fclose(m->f);
    return m->buf;
}

/* Two warmup runs, then four timed ones. */
static void run_progress(progress_t *p)
{
    progress_start(p, 1, "async-for -r 100", 2, 4);
    progress_warmup(p, 1);
    progress_warmup(p, 2);
    progress_run(p, 1, 2.5);
    progress_run(p, 4, 2.25);
    progress_end(p);
    progress_end(p); /* twice: the second does nothing */
}

static void test_progress_tty(void **state)
{
    mem_t m;
    progress_t p;
    char *got;

    mem_open(&m);
    progress_init(&p, m.f, 1, 0);
    run_progress(&p);
    got = mem_close(&m);
    assert_string_equal(
        got, "Benchmark 2: async-for -r 100\n"
             "\r  Performing warmup runs  ░░░░░░░░░░░░░░░░░░░░░░░░  0/2\x1b[K"
             "\r  Performing warmup runs  ████████████░░░░░░░░░░░░  1/2\x1b[K"
             "\r  Current estimate: …          ░░░░░░░░░░░░░░░░░░░░░░░░  0/4  ETA --:--:--\x1b[K"
             "\r  Current estimate: 2.500 s    ██████░░░░░░░░░░░░░░░░░░  1/4  ETA 00:00:08\x1b[K"
             "\r  Current estimate: 2.250 s    ████████████████████████  4/4  ETA 00:00:00\x1b[K"
             "\r\x1b[2K\x1b[1A\x1b[2K");
    free(got);

    mem_open(&m); /* with colour: the same text in SGR */
    progress_init(&p, m.f, 1, 1);
    run_progress(&p);
    got = mem_close(&m);
    has(got, "\x1b[1mBenchmark 2\x1b[0m: async-for -r 100\n");
    has(got, "\x1b[1;32m2.500 s\x1b[0m");
    has(got, "\x1b[36m██████\x1b[0m\x1b[2m░░░");
    free(got);
}

/* Interleaved runs change benchmark at every run: the header is replaced in
 * place (back over the two lines), the same benchmark again draws nothing,
 * and after progress_end the lines come back without erasing anything. The
 * bar counts the runs of the whole matrix; the ETA uses the pace given. */
static void test_progress_switch(void **state)
{
    mem_t m;
    progress_t p;
    char *got;

    mem_open(&m);
    progress_init(&p, m.f, 1, 0);
    progress_start(&p, 0, "a", 0, 4);
    progress_bench(&p, 1, "b", 0, 1, 2.5);
    progress_bench(&p, 1, "b", 0, 1, 2.5); /* already shown */
    p.pace_s = 10;
    progress_run(&p, 2, 2.5);
    progress_end(&p);
    progress_bench(&p, 0, "a", 0, 3, 1.0);
    p.warmup = 2;
    progress_bench(&p, 1, "b", 1, 1, NAN); /* b's second warmup */
    progress_end(&p);
    got = mem_close(&m);
    assert_string_equal(
        got, "Benchmark 1: a\n"
             "\r  Current estimate: …          ░░░░░░░░░░░░░░░░░░░░░░░░  0/4  ETA --:--:--\x1b[K"
             "\r\x1b[2K\x1b[1A\x1b[2K"
             "Benchmark 2: b\n"
             "\r  Current estimate: 2.500 s    ██████░░░░░░░░░░░░░░░░░░  1/4  ETA 00:00:08\x1b[K"
             "\r  Current estimate: 2.500 s    ████████████░░░░░░░░░░░░  2/4  ETA 00:00:20\x1b[K"
             "\r\x1b[2K\x1b[1A\x1b[2K"
             "Benchmark 1: a\n"
             "\r  Current estimate: 1.000 s    ██████████████████░░░░░░  3/4  ETA 00:00:10\x1b[K"
             "\r\x1b[2K\x1b[1A\x1b[2K"
             "Benchmark 2: b\n"
             "\r  Performing warmup runs  ████████████░░░░░░░░░░░░  1/2\x1b[K"
             "\r\x1b[2K\x1b[1A\x1b[2K");
    free(got);
}

/* NO_COLOR: no SGR at all, only the line's own control (\r, erase, up). */
static void test_progress_no_color(void **state)
{
    mem_t m;
    progress_t p;
    char *got;

    mem_open(&m);
    progress_init(&p, m.f, 1, 0);
    run_progress(&p);
    got = mem_close(&m);
    for (const char *e = got; (e = strchr(e, '\x1b')) != NULL; e++) {
        size_t n = strspn(e + 2, "0123456789;");
        assert_true(e[1] == '[');
        assert_true(e[2 + n] == 'K' || e[2 + n] == 'A');
    }
    free(got);
}

/* Not a TTY: nothing at all (summary_bench's block is the plain line). */
static void test_progress_plain(void **state)
{
    mem_t m;
    progress_t p;
    char *got;

    mem_open(&m);
    progress_init(&p, m.f, 0, 1);
    run_progress(&p);
    got = mem_close(&m);
    assert_string_equal(got, "");
    free(got);
}

/* A header longer than a terminal line would break the erase: it is cut. */
static void test_progress_cut(void **state)
{
    char cmd[200];
    mem_t m;
    progress_t p;
    char *got, *nl;

    memset(cmd, 'x', sizeof cmd - 1);
    cmd[sizeof cmd - 1] = '\0';
    memcpy(cmd + 60, "µµµµ", 8);
    mem_open(&m);
    progress_init(&p, m.f, 1, 0);
    progress_start(&p, 0, cmd, 0, 10);
    progress_end(&p);
    got = mem_close(&m);
    nl = strchr(got, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_string_equal(got + strlen("Benchmark 1: ") + 60, "µµµµx…"); /* 79 columns */
    free(got);
}

/* A narrow terminal: the bar shrinks, then goes (the estimate's first, its
 * text being longer); no line reaches the edge. */
static void test_progress_narrow(void **state)
{
    const size_t widths[] = {60, 40, 24};
    mem_t m;
    progress_t p;
    char *got, *line, *save = NULL;

    for (size_t w = 0; w < N(widths); w++) {
        mem_open(&m);
        progress_init(&p, m.f, 1, 0);
        p.cols = widths[w];
        run_progress(&p);
        got = mem_close(&m);
        has(got, widths[w] == 24 ? "  Warmup  " : "  Performing warmup runs  ");
        for (line = strtok_r(got, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
            size_t cols = 0;
            if (strstr(line, "/4") != NULL) { /* a timed run's line: a bar or none */
                int bar = strstr(line, "░") != NULL || strstr(line, "█") != NULL;
                if (bar != (widths[w] != 24)) fail_msg("%zu columns: %s", widths[w], line);
            }
            for (const char *c = line; *c; c++) {
                if (*c == '\x1b') { /* a control sequence takes no column */
                    c += 2 + strspn(c + 2, "0123456789;");
                    continue;
                }
                cols += ((unsigned char)*c & 0xC0) != 0x80;
            }
            if (cols >= widths[w])
                fail_msg("%zu columns on a %zu-column terminal: %s", cols, widths[w], line);
        }
        free(got);
    }
}

static void test_progress_estimate(void **state)
{
    const double t[] = {0.1, 0.3};
    bench_agent_run_t lost = {.lost = 1};
    bench_t *b = mkbench("x", t, 0, 1);

    assert_true(isnan(progress_estimate(b)));
    bench_free(&b);
    b = mkbench("x", t, N(t), 1);
    assert_int_equal(bench_add_run(b, &lost), 0);
    assert_float_equal(progress_estimate(b), 0.2, 1e-12);
    bench_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_hostile_host),
        cmocka_unit_test(test_agents),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_progress_tty),
        cmocka_unit_test(test_progress_switch),
        cmocka_unit_test(test_progress_no_color),
        cmocka_unit_test(test_progress_plain),
        cmocka_unit_test(test_progress_cut),
        cmocka_unit_test(test_progress_narrow),
        cmocka_unit_test(test_progress_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
