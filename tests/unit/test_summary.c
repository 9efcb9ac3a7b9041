/* summary: the whole rendered text of small fixed sets. The first set is made
 * to reproduce two benchmarks of SEED.md's hyperfine run, so its lines are
 * hyperfine's own output, byte for byte, plus fleetbench's Throughput line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "summary.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The benchmarks of SEED.md's Python 3.10 run: threads-reuse (mean 1.092 s,
 * σ 0.005 s, 1.082 … 1.098 s) and async-for (693.6 ms, σ 2.1 ms, 691.4 …
 * 698.7 ms), with their user and system times. */
static const double k_reuse[] = {1.082, 1.098, 1.087, 1.090, 1.091,
                                 1.093, 1.094, 1.095, 1.097, 1.093};
static const double k_async[] = {0.6914, 0.6987, 0.6916, 0.6920, 0.6925,
                                 0.6933, 0.6939, 0.6940, 0.6942, 0.6944};

/* One agent; every run with the same CPU times and request count. */
static bench_t *mkbench(const char *command, const double *t, size_t n, double user, double sys,
                        uint64_t ok)
{
    bench_params_t p = {.requests = ok, .chunk = 100, .uses_chunk = 1};
    bench_t *b;

    snprintf(p.strategy, sizeof p.strategy, "%.*s", (int)strcspn(command, " "), command);
    b = bench_new(command, &p, 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        bench_agent_run_t a = {.wall_s = t[i], .user_s = user, .sys_s = sys, .ok = ok};
        assert_int_equal(bench_add_run(b, &a), 0);
    }
    return b;
}

/* Latencies of 2 ms (half), 5 ms (40 %) and 9 ms (10 %). */
static void add_latency(bench_t *b)
{
    for (int i = 0; i < 100; i++)
        hist_record(b->latency, i < 50 ? 2000000 : i < 90 ? 5000000 : 9000000);
}

static void seed_set(bench_set_t *s)
{
    bench_set_init(s);
    strcpy(s->mode, "lockstep");
    s->warmup = 3;
    assert_int_equal(
        bench_set_add(s, mkbench("threads-reuse -r 1000", k_reuse, N(k_reuse), 1.036, 0.131, 1000)),
        0);
    assert_int_equal(
        bench_set_add(s, mkbench("async-for -r 1000", k_async, N(k_async), 0.5591, 0.0517, 1000)),
        0);
    add_latency(s->benches[0]);
    add_latency(s->benches[1]);
}

/* Renders with f and compares the whole text. */
static void expect(int (*f)(FILE *, const bench_set_t *, int), const bench_set_t *s, int color,
                   const char *want)
{
    char *got = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&got, &len);

    assert_non_null(out);
    assert_int_equal(f(out, s, color), 0);
    fclose(out);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want); /* whole: fail_msg cuts */
        fail();
    }
    free(got);
}

static void test_seed_layout(void **state)
{
    bench_set_t s;

    seed_set(&s);
    expect(summary_print, &s, 0,
           "Benchmark 1: threads-reuse -r 1000\n"
           "  Time (mean ± σ):      1.092 s ±  0.005 s    [User: 1.036 s, System: 0.131 s]\n"
           "  Range (min … max):    1.082 s …  1.098 s    10 runs\n"
           "  Throughput:                  915.8 req/s    [Latency p50: 2.0 ms, p90: 5.0 ms, "
           "p99: 9.0 ms]\n"
           " \n"
           "Benchmark 2: async-for -r 1000\n"
           "  Time (mean ± σ):     693.6 ms ±   2.1 ms    [User: 559.1 ms, System: 51.7 ms]\n"
           "  Range (min … max):   691.4 ms … 698.7 ms    10 runs\n"
           "  Throughput:                 1441.8 req/s    [Latency p50: 2.0 ms, p90: 5.0 ms, "
           "p99: 9.0 ms]\n"
           " \n"
           "Summary\n"
           "  async-for -r 1000 ran\n"
           "    1.57 ± 0.01 times faster than threads-reuse -r 1000\n");
    bench_set_close(&s);
}

static void test_color(void **state)
{
    bench_set_t s;

    seed_set(&s);
    expect(summary_compare, &s, 1,
           "\x1b[1mSummary\x1b[0m\n"
           "  \x1b[36masync-for -r 1000\x1b[0m ran\n"
           "\x1b[1;32m    1.57\x1b[0m ± \x1b[32m0.01\x1b[0m times faster than "
           "\x1b[35mthreads-reuse -r 1000\x1b[0m\n");
    bench_set_close(&s);
}

/* Two agents in lockstep, a single run with failures: hyperfine's "abs"
 * layout, no Range, and the second fleetbench line. */
static void test_single_run_two_agents(void **state)
{
    bench_params_t p = {
        .strategy = "threads-recreate", .requests = 10, .chunk = 5, .uses_chunk = 1};
    bench_agent_run_t a[2] = {
        {.wall_s = 0.25, .user_s = 0.0125, .sys_s = 0.0025, .ok = 8, .failed = {1, 0, 0, 1, 0, 0}},
        {.wall_s = 0.2495, .user_s = 0.0075, .sys_s = 0.0015, .ok = 10, .start_offset_s = 0.0005},
    };
    bench_set_t s;
    bench_t *b = bench_new("threads-recreate -r 10 -c 5", &p, 2);

    assert_non_null(b);
    assert_int_equal(bench_add_run(b, a), 0);
    bench_set_init(&s);
    strcpy(s.mode, "lockstep");
    s.warmup = 3;
    assert_int_equal(bench_set_add(&s, b), 0);
    hist_record(b->latency, 350000); /* 350 µs */
    /* time 0.25 s (the later agent ends at 0.0005 + 0.2495), user 10 ms,
     * system 2 ms; 18 ok in 0.25 s */
    expect(
        summary_print, &s, 0,
        "Benchmark 1: threads-recreate -r 10 -c 5\n"
        "  Time (abs ≡):        250.0 ms               [User: 10.0 ms, System: 2.0 ms]\n"
        "  Throughput:                   72.0 req/s    [Latency p50: 350.0 µs, p90: 350.0 µs, "
        "p99: 350.0 µs]\n"
        "  Failed: 2 of 20 requests (connect: 1, http_status: 1)    Start skew (2 agents): median "
        "500.0 µs, max 500.0 µs\n"
        " \n"
        "  Warning: Requests failed in 1 of 1 runs (exit code 2); their times are included.\n"
        " \n");
    bench_set_close(&s);
}

/* A slow first run, a lost agent, a run with no agent left, and lockstep
 * skew beyond 5 % of the fastest run; no warmup. */
static void test_warnings(void **state)
{
    const double t[] = {0.5, 0.1, 0.1, 0.1, 0.1};
    bench_params_t p = {
        .strategy = "async-map", .requests = 100, .connections = 100, .uses_connections = 1};
    bench_agent_run_t a[2];
    bench_set_t s;
    bench_t *b = bench_new("async-map -r 100", &p, 2);

    assert_non_null(b);
    for (size_t i = 0; i < N(t); i++) {
        memset(a, 0, sizeof a);
        a[0] = (bench_agent_run_t){.wall_s = t[i], .ok = 50};
        a[1] = (bench_agent_run_t){.wall_s = t[i] - 0.01, .ok = 50, .start_offset_s = 0.01};
        a[1].lost = i == 3;
        assert_int_equal(bench_add_run(b, a), 0);
    }
    a[0].lost = a[1].lost = 1;
    assert_int_equal(bench_add_run(b, a), 0);
    bench_set_init(&s);
    strcpy(s.mode, "lockstep");
    assert_int_equal(bench_set_add(&s, b), 0);
    /* times .5 .1 .1 .1 .1: mean .18, σ sqrt(.128 / 4) = 178.9 ms; 450 ok
     * in 0.9 s; skews 10, 10, 10, 0, 10 ms; the lost agent's run has 50 ok */
    expect(summary_print, &s, 0,
           "Benchmark 1: async-map -r 100\n"
           "  Time (mean ± σ):     180.0 ms ± 178.9 ms    [User: 0.0 ms, System: 0.0 ms]\n"
           "  Range (min … max):   100.0 ms … 500.0 ms    5 runs\n"
           "  Throughput:                  500.0 req/s    [Latency: none recorded]\n"
           "  Start skew (2 agents): median 10.0 ms, max 10.0 ms\n"
           " \n"
           "  Warning: An agent was lost during 1 of 6 runs (exit code 3); those runs were timed "
           "with the agents that remained.\n"
           "  Warning: 1 of 6 runs have no measurement: every agent was lost.\n"
           "  Warning: The first benchmarking run for this command was significantly slower than "
           "the rest (500.0 ms). This could be caused by caches that were not filled until after "
           "the first run. You should consider using the '--warmup' option to fill those caches "
           "before the actual benchmark.\n"
           "  Warning: The agents started up to 10.0 ms apart, more than 5 % of the fastest run "
           "(100.0 ms): their load did not fully overlap at the target.\n"
           " \n");
    bench_set_close(&s);
}

static void test_outliers_with_warmup(void **state)
{
    const double t[] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5};
    bench_set_t s;

    bench_set_init(&s);
    strcpy(s.mode, "serial");
    s.warmup = 1;
    assert_int_equal(bench_set_add(&s, mkbench("async-for -r 10", t, N(t), 0.5, 0.25, 10)), 0);
    expect(summary_print, &s, 0,
           "Benchmark 1: async-for -r 10\n"
           "  Time (mean ± σ):      1.062 s ±  0.177 s    [User: 0.500 s, System: 0.250 s]\n"
           "  Range (min … max):    1.000 s …  1.500 s    8 runs\n"
           "  Throughput:                    9.4 req/s    [Latency: none recorded]\n"
           " \n"
           "  Warning: Statistical outliers were detected. Consider re-running this benchmark on a "
           "quiet system without any interferences from other programs.\n"
           " \n");
    bench_set_close(&s);
}

/* Equal means read "As fast"; a set with one measured benchmark has no
 * Summary; a zero mean has no comparison; a side with one run has no t-test;
 * equal samples are not significantly different. */
static void test_compare_edges(void **state)
{
    const double t[] = {0.25, 0.75}, zero[] = {0, 0};
    bench_set_t s;

    bench_set_init(&s);
    assert_int_equal(bench_set_add(&s, mkbench("a", t, 2, 0, 0, 1)), 0);
    expect(summary_compare, &s, 0, "");
    assert_int_equal(bench_set_add(&s, mkbench("b", t, 1, 0, 0, 1)), 0); /* mean .25, no σ */
    assert_int_equal(bench_set_add(&s, mkbench("c", t + 1, 1, 0, 0, 1)), 0);
    assert_int_equal(bench_set_add(&s, mkbench("d", t, 2, 0, 0, 1)), 0);
    /* fastest: b (0.25, first of the minima); a and d tie at 0.5 */
    expect(summary_compare, &s, 0,
           "Summary\n"
           "  b ran\n"
           "    2.00 times faster than a (one run: significance not tested)\n"
           "    2.00 times faster than d (one run: significance not tested)\n"
           "    3.00 times faster than c (one run: significance not tested)\n");
    bench_set_close(&s);

    bench_set_init(&s);
    assert_int_equal(bench_set_add(&s, mkbench("a", t, 2, 0, 0, 1)), 0);
    assert_int_equal(bench_set_add(&s, mkbench("b", t, 2, 0, 0, 1)), 0);
    /* σ = sqrt(.125), the ratio's σ = sqrt(2) * σ / .5 = 1.00 */
    expect(summary_compare, &s, 0,
           "Summary\n"
           "  a ran\n"
           "    As fast (1.00 ± 1.00) as b (not statistically significant, p = 1.00)\n");
    assert_int_equal(bench_set_add(&s, mkbench("z", zero, 2, 0, 0, 1)), 0);
    expect(summary_compare, &s, 0,
           "Note: The benchmark comparison could not be computed as some benchmark times are "
           "zero.\n");
    bench_set_close(&s);
}

/* Two agents, agent 1 lost in every run when lost1; 100 ok per agent. */
static bench_t *mk2(const char *command, const char *strategy, uint64_t requests, uint64_t conc,
                    const double *t, size_t n, int lost1)
{
    bench_params_t p = {.requests = requests, .chunk = conc, .connections = conc};
    bench_t *b;

    snprintf(p.strategy, sizeof p.strategy, "%s", strategy);
    p.uses_chunk = strcmp(strategy, "threads-reuse") == 0;
    p.uses_connections = strncmp(strategy, "async", 5) == 0;
    b = bench_new(command, &p, 2);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        bench_agent_run_t a[2] = {{.wall_s = t[i], .ok = 100}, {.wall_s = t[i], .ok = 100}};
        a[1].lost = lost1;
        assert_int_equal(bench_add_run(b, a), 0);
    }
    return b;
}

/* Only like with like: a group per request count, concurrency (threads-map's
 * is its request count) and agent set, each with its own Summary, then a
 * throughput table that ranks nothing across groups. The pair in the first
 * group is scipy's ttest_ind example with p = 0.448: not significant. */
static void test_groups(void **state)
{
    static const double x1[] = {1.0, 1.1, 0.9, 1.05, 0.95};
    static const double y1[] = {1.02, 1.12, 0.97, 1.0, 1.08, 0.99, 1.05};
    static const double fast[] = {0.5, 0.5, 0.5}, slow[] = {2.0, 2.0, 2.0};
    bench_set_t s;

    bench_set_init(&s);
    strcpy(s.mode, "serial");
    assert_int_equal(
        bench_set_add(&s, mk2("async-for -r 100 -c 10", "async-for", 100, 10, x1, N(x1), 0)), 0);
    assert_int_equal(
        bench_set_add(&s, mk2("async-for -r 100 -c 100", "async-for", 100, 100, fast, N(fast), 0)),
        0);
    assert_int_equal(bench_set_add(&s, mk2("threads-reuse -r 100 -c 10", "threads-reuse", 100, 10,
                                           y1, N(y1), 0)),
                     0);
    assert_int_equal(
        bench_set_add(&s, mk2("threads-map -r 100", "threads-map", 100, 7, slow, N(slow), 0)), 0);
    assert_int_equal(
        bench_set_add(&s, mk2("async-for -r 400 -c 10", "async-for", 400, 10, fast, N(fast), 0)),
        0);
    assert_int_equal(
        bench_set_add(&s, mk2("async-map -r 100 -c 10", "async-map", 100, 10, fast, N(fast), 1)),
        0);
    /* x1: mean 1.0, σ .0791; y1: mean 1.032857, σ .0510; .5 and 2.0 exact */
    expect(summary_compare, &s, 0,
           "Summary (-r 100, concurrency 10, 2 agents)\n"
           "  async-for -r 100 -c 10 ran\n"
           "    1.03 ± 0.10 times faster than threads-reuse -r 100 -c 10 (not statistically "
           "significant, p = 0.45)\n"
           "\n"
           "Summary (-r 100, concurrency 100, 2 agents)\n"
           "  async-for -r 100 -c 100 ran\n"
           "    4.00 ± 0.00 times faster than threads-map -r 100\n"
           "\n"
           "Throughput (not compared: the groups differ in requests, concurrency or agents)\n"
           "  -r 100, concurrency 10, 2 agents\n"
           "         200.0 req/s  async-for -r 100 -c 10\n"
           "         193.6 req/s  threads-reuse -r 100 -c 10\n"
           "  -r 100, concurrency 100, 2 agents\n"
           "         400.0 req/s  async-for -r 100 -c 100\n"
           "         100.0 req/s  threads-map -r 100\n"
           "  -r 400, concurrency 10, 2 agents\n"
           "         400.0 req/s  async-for -r 400 -c 10\n"
           "  -r 100, concurrency 10, 1 of 2 agents\n"
           "         200.0 req/s  async-map -r 100 -c 10\n");
    bench_set_close(&s);
}

/* The target's own view: its count and how busy it was, under the block;
 * a count that is not the agents' and a saturated target are warnings. */
static void test_target_view(void **state)
{
    const double t[] = {0.5, 0.5};
    bench_set_t s;
    bench_t *b = mkbench("async-for -r 100", t, 2, 0.1, 0.1, 100);

    for (size_t i = 0; i < 2; i++) {
        bench_target_t v = {.seen = 1,
                            .requests = 100 + i, /* one more than the agent made */
                            .codes = {0, 100 + i, 0, 0, 0},
                            .connections = 10,
                            .cpu_ns = 500000000,      /* half of 2 cores for .5 s */
                            .busy_ns = 950000000,     /* 95 % of 2 loops for .5 s */
                            .busy_max_ns = 480000000, /* the busiest: 96 % */
                            .load_ns = 500000000,
                            .loops = 2,
                            .cores = 2};
        b->runs[i].target = v;
    }
    bench_set_init(&s);
    strcpy(s.mode, "lockstep");
    s.warmup = 1;
    assert_int_equal(bench_set_add(&s, b), 0);
    expect(summary_print, &s, 0,
           "Benchmark 1: async-for -r 100\n"
           "  Time (mean ± σ):     500.0 ms ±   0.0 ms    [User: 100.0 ms, System: 100.0 ms]\n"
           "  Range (min … max):   500.0 ms … 500.0 ms    2 runs\n"
           "  Throughput:                  200.0 req/s    [Latency: none recorded]\n"
           "  Target: 201 requests in 2 runs, event loops busy 95.0 % (busiest 96.0 %), CPU "
           "50.0 % of 2 cores\n"
           " \n"
           "  Warning: The target counted 201 requests, the agents made 200 (ok + failed): "
           "something else loaded the target, or requests were lost on the way.\n"
           "  Warning: The target's event loops were busy 95 % of the time: the target, not the "
           "clients, bounded this benchmark.\n"
           " \n");
    /* one loop saturated, the other idle: said too */
    for (size_t i = 0; i < 2; i++) {
        b->runs[i].target.busy_ns = 500000000;
        b->runs[i].target.requests = 100;
    }
    expect(summary_print, &s, 0,
           "Benchmark 1: async-for -r 100\n"
           "  Time (mean ± σ):     500.0 ms ±   0.0 ms    [User: 100.0 ms, System: 100.0 ms]\n"
           "  Range (min … max):   500.0 ms … 500.0 ms    2 runs\n"
           "  Throughput:                  200.0 req/s    [Latency: none recorded]\n"
           "  Target: 200 requests in 2 runs, event loops busy 50.0 % (busiest 96.0 %), CPU "
           "50.0 % of 2 cores\n"
           " \n"
           "  Warning: One of the target's 2 event loops was busy 96 % of the time: the target, "
           "not the clients, may have bounded this benchmark.\n"
           " \n");
    bench_set_close(&s);
}

static void test_units(void **state)
{
    char buf[64];

    /* hyperfine's format.rs cases */
    assert_string_equal(summary_time(buf, sizeof buf, 1.3, summary_unit_for(1.3)), "1.300 s");
    assert_string_equal(summary_time(buf, sizeof buf, 1.0, summary_unit_for(1.0)), "1.000 s");
    assert_string_equal(summary_time(buf, sizeof buf, 0.999, summary_unit_for(0.999)), "999.0 ms");
    assert_string_equal(summary_time(buf, sizeof buf, 0.0005, summary_unit_for(0.0005)),
                        "500.0 µs");
    assert_string_equal(summary_time(buf, sizeof buf, 0, summary_unit_for(0)), "0.0 µs");
    assert_string_equal(summary_time(buf, sizeof buf, 1000, summary_unit_for(1000)), "1000.000 s");
    assert_string_equal(summary_time(buf, sizeof buf, 1.3, SUMMARY_UNIT_MS), "1300.0 ms");
    assert_string_equal(summary_time(buf, sizeof buf, 1.3, SUMMARY_UNIT_US), "1300000.0 µs");
    assert_string_equal(summary_value(buf, sizeof buf, 123.456789, SUMMARY_UNIT_S), "123.457");
    assert_string_equal(summary_value(buf, sizeof buf, 0.00123456, SUMMARY_UNIT_US), "1234.6");
    /* a short buffer is cut, never overrun */
    assert_string_equal(summary_time(buf, 6, 1.3, SUMMARY_UNIT_S), "1.300");
}

/* Rate mode: 100/s for 1 s on one agent; each run's latency all at lat_ms
 * (service at a fifth of it), the agent late by late_s at p99. */
static bench_t *mkpaced(const char *command, const double *lat_ms, size_t n, double late_s,
                        double achieved)
{
    bench_params_t p = {
        .requests = 100, .chunk = 10, .uses_chunk = 1, .rate = 100, .duration_s = 1};
    hist_t *lat = hist_new(), *svc = hist_new();
    bench_t *b;

    snprintf(p.strategy, sizeof p.strategy, "%.*s", (int)strcspn(command, " "), command);
    b = bench_new(command, &p, 1);
    assert_non_null(b);
    assert_non_null(b->service);
    for (size_t i = 0; i < n; i++) {
        bench_agent_run_t a = {.wall_s = 1.0,
                               .ok = 100,
                               .paced = 1,
                               .achieved = achieved,
                               .late_p99_s = late_s,
                               .late_max_s = 2 * late_s};
        hist_reset(lat);
        hist_reset(svc);
        for (int k = 0; k < 100; k++) {
            hist_record(lat, (uint64_t)(lat_ms[i] * 1e6));
            hist_record(svc, (uint64_t)(lat_ms[i] * 2e5));
        }
        assert_int_equal(bench_add_run(b, &a), 0);
        assert_int_equal(bench_set_run_hists(b, lat, svc), 0);
        hist_merge(b->latency, lat);
    }
    hist_free(&lat);
    hist_free(&svc);
    return b;
}

static void test_rate_mode(void **state)
{
    static const double fast[] = {2.0, 2.1, 1.9}, slow[] = {6.0, 6.3, 5.7};
    bench_set_t s;
    char *got = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&got, &len);

    (void)state;
    bench_set_init(&s);
    strcpy(s.mode, "lockstep");
    assert_int_equal(
        bench_set_add(&s, mkpaced("slow --rate 100 --duration 1 -c 10", slow, 3, 0.02, 95)), 0);
    assert_int_equal(
        bench_set_add(&s, mkpaced("fast --rate 100 --duration 1 -c 10", fast, 3, 0.0005, 100)), 0);
    assert_int_equal(summary_print(out, &s, 0), 0);
    fclose(out);
    /* the rate held and the service time, under the corrected latency */
    assert_non_null(
        strstr(got, "Rate:                  95.0 of 100 req/s    [Service p50: 1.2 ms"));
    assert_non_null(
        strstr(got, "Rate:                 100.0 of 100 req/s    [Service p50: 400.4 µs"));
    /* the client fell behind in slow only: late p99 20 ms > 10 ms between requests */
    assert_non_null(strstr(got, "The agents fell behind the schedule: requests sent late by up "
                                "to 40.0 ms (p99 of the worst run 20.0 ms), 0 never sent, 95.0 "
                                "of 100 req/s held."));
    assert_null(strstr(strstr(got, "Benchmark 2"), "fell behind"));
    /* ranked by each run's p99, the same sentence builder as for times */
    assert_non_null(strstr(got, "Summary\n  fast --rate 100 --duration 1 -c 10 had\n"));
    assert_non_null(
        strstr(got, "    3.00 ± 0.21 times lower p99 than slow --rate 100 --duration 1 -c 10\n"));
    assert_null(strstr(got, "faster"));
    free(got);
    bench_set_close(&s);
}

static void test_write_error(void **state)
{
    bench_set_t s;
    FILE *full = fopen("/dev/full", "w");

    if (full == NULL) skip();
    seed_set(&s);
    setvbuf(full, NULL, _IONBF, 0);
    assert_int_equal(summary_print(full, &s, 0), -1);
    fclose(full);
    bench_set_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_layout),
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_single_run_two_agents),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_outliers_with_warmup),
        cmocka_unit_test(test_compare_edges),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_target_view),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_rate_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
