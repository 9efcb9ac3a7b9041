/* stats: hyperfine's statistics on hand-computed samples; bench: how one
 * run's numbers are derived from its agents'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define EPS 1e-12

static void assert_close(double got, double want)
{
    if (!(fabs(got - want) <= EPS * fmax(1.0, fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_describe(void **state)
{
    /* mean 110/5 = 22; squares of 22 - x: 441 + 400 + 361 + 324 + 6084 =
     * 7610, / (5 - 1) = 1902.5 */
    const double x[] = {1, 2, 3, 4, 100};
    stats_desc_t d;

    assert_int_equal(stats_describe(x, N(x), &d), 0);
    assert_int_equal(d.n, 5);
    assert_true(d.mean == 22);
    assert_close(d.stddev, sqrt(1902.5));
    assert_true(d.median == 3);
    assert_true(d.min == 1);
    assert_true(d.max == 100);
}

static void test_small_samples(void **state)
{
    const double even[] = {4, 1, 3, 2}, one[] = {0.5};
    stats_desc_t d;
    double m;

    assert_int_equal(stats_median(even, N(even), &m), 0);
    assert_true(m == 2.5);
    assert_close(stats_stddev(even, N(even)), sqrt(5.0 / 3)); /* 2.25+.25+.25+2.25 = 5 */

    assert_int_equal(stats_describe(one, 1, &d), 0);
    assert_true(d.mean == 0.5 && d.median == 0.5 && d.min == 0.5 && d.max == 0.5);
    assert_true(isnan(d.stddev)); /* hyperfine's null */

    assert_int_equal(stats_describe(one, 0, &d), 0);
    assert_int_equal(d.n, 0);
    assert_true(isnan(d.mean) && isnan(d.median) && isnan(d.min) && isnan(d.stddev));
}

static void test_zscores(void **state)
{
    /* median 3; |x - 3| = 2 1 0 1 97, whose median (the MAD) is 1 */
    const double x[] = {1, 2, 3, 4, 100};
    const double want[] = {-2, -1, 0, 1, 97};
    double z[5];

    assert_int_equal(stats_modified_zscores(x, N(x), z), 0);
    for (size_t i = 0; i < N(x); i++)
        assert_true(z[i] == want[i]);
}

static size_t outliers(const double *x, size_t n)
{
    stats_outliers_t o;

    assert_int_equal(stats_outliers(x, n, &o), 0);
    return o.count;
}

/* hyperfine's own cases (outlier_detection.rs) */
static void test_outlier_counts(void **state)
{
    const double a[] = {50}, b[] = {1000, 0}, c[] = {-0.2, 0.0, 0.2}, d[] = {-0.2, 0.0, 0.2, 4.0};
    const double e[] = {0.5, 0.30, 0.29, 0.31, 0.30};
    const double f[] = {2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158,
                        0.75813273, -1.0712388, -0.96394741, -1.15897446, 1.10976285};
    const double g[] = {2.33269488, 1.42195907,  -0.57527698, -0.31293437, 2.2948158, 0.75813273,
                        -1.0712388, -0.96394741, -1.15897446, 1.10976285,  20.0,      -500.0};
    const double h[] = {10, 10, 10, 10, 10, 10, 10, 100}; /* MAD 0 */
    const double k[] = {10, 10, 10, 10, 10, 10, 10, 100, 100};

    assert_int_equal(outliers(a, 0), 0);
    assert_int_equal(outliers(a, N(a)), 0);
    assert_int_equal(outliers(b, N(b)), 0);
    assert_int_equal(outliers(c, N(c)), 0);
    assert_int_equal(outliers(d, N(d)), 1);
    assert_int_equal(outliers(e, N(e)), 1);
    assert_int_equal(outliers(f, N(f)), 0);
    assert_int_equal(outliers(g, N(g)), 2);
    assert_int_equal(outliers(h, N(h)), 1);
    assert_int_equal(outliers(k, N(k)), 2);
}

static void test_slow_first(void **state)
{
    const double late[] = {1, 2, 3, 4, 100}, first[] = {100, 1, 2, 3, 4};
    const double fast_first[] = {-100, 1, 2, 3, 4};
    stats_outliers_t o;

    assert_close(STATS_OUTLIER_THRESHOLD, 14.826);
    assert_int_equal(stats_outliers(late, 5, &o), 0);
    assert_int_equal(o.slow_first, 0);
    assert_int_equal(o.count, 1);
    assert_int_equal(stats_outliers(first, 5, &o), 0); /* z = 97, 2, 1, 0, 1 */
    assert_int_equal(o.slow_first, 1);
    assert_int_equal(stats_outliers(fast_first, 5, &o), 0); /* an outlier, not "slow" */
    assert_int_equal(o.slow_first, 0);
    assert_int_equal(o.count, 1);
}

static void test_ratio(void **state)
{
    stats_ratio_t r;

    /* hyperfine's relative_speed.rs: 3, 2, 5 against the fastest, 2 */
    assert_true(stats_ratio(3, NAN, 2, NAN, 0).ratio == 1.5);
    assert_true(stats_ratio(2, NAN, 2, NAN, 1).ratio == 1.0);
    assert_true(stats_ratio(5, NAN, 2, NAN, 0).ratio == 2.5);

    /* 1.5 * sqrt((0.3/3)^2 + (0.2/2)^2) = 1.5 * sqrt(0.02) */
    r = stats_ratio(3, 0.3, 2, 0.2, 0);
    assert_true(r.ratio == 1.5);
    assert_close(r.stddev, 1.5 * sqrt(0.02));
    assert_true(r.order > 0);
    assert_true(isnan(stats_ratio(3, NAN, 2, 0.2, 0).stddev)); /* one run: no σ */

    r = stats_ratio(2, 0.2, 4, 0.4, 0); /* faster than the reference: 4 / 2 */
    assert_true(r.ratio == 2.0 && r.order < 0);
    r = stats_ratio(2, 0.2, 2, 0.1, 0);
    assert_true(r.ratio == 1.0 && r.order == 0);

    /* zero means: no ratio to speak of */
    r = stats_ratio(0, 0.1, 2, 0.1, 0);
    assert_true(isinf(r.ratio) && isnan(r.stddev));
    r = stats_ratio(0, 0.1, 0, 0.1, 1);
    assert_true(r.ratio == 1.0 && isnan(r.stddev));
}

static void test_order(void **state)
{
    const double m[] = {3, NAN, 2, 3, 1}, ties[] = {2, 1, 1};
    size_t idx[5];

    assert_int_equal(stats_fastest(m, N(m)), 4);
    assert_int_equal(stats_fastest(ties, N(ties)), 1); /* the first of equals */
    assert_int_equal(stats_fastest(m + 1, 1), 1);      /* none: n */
    stats_order(m, N(m), idx);
    assert_int_equal(idx[0], 4);
    assert_int_equal(idx[1], 2);
    assert_int_equal(idx[2], 0); /* ties keep matrix order */
    assert_int_equal(idx[3], 3);
    assert_int_equal(idx[4], 1); /* unmeasured last */
}

static bench_t *two_agent_bench(void)
{
    bench_params_t p = {
        .strategy = "async-for", .requests = 20, .connections = 100, .uses_connections = 1};
    return bench_new("async-for -r 20", &p, 2);
}

static void test_run_derivation(void **state)
{
    bench_t *b = two_agent_bench();
    bench_agent_run_t a[2];

    assert_non_null(b);
    memset(a, 0, sizeof a);
    a[0] = (bench_agent_run_t){.wall_s = 1.0, .user_s = 0.5, .sys_s = 0.125, .ok = 10};
    a[1] = (bench_agent_run_t){
        .wall_s = 1.0, .user_s = 0.75, .sys_s = 0.25, .ok = 9, .start_offset_s = 0.25};
    a[1].failed[CAUSE_TIMEOUT] = 1;
    assert_int_equal(bench_add_run(b, a), 0);
    assert_true(b->runs[0].measured);
    assert_true(b->runs[0].time_s == 1.25); /* first start to last end */
    assert_true(b->runs[0].user_s == 0.625);
    assert_true(b->runs[0].sys_s == 0.1875);
    assert_true(b->runs[0].skew_s == 0.25);
    assert_int_equal(b->runs[0].exit_code, BENCH_EXIT_FAILED);

    a[1].lost = 1; /* the failure went with it */
    assert_int_equal(bench_add_run(b, a), 0);
    assert_true(b->runs[1].time_s == 1.0 && b->runs[1].user_s == 0.5);
    assert_true(b->runs[1].skew_s == 0);
    assert_int_equal(b->runs[1].exit_code, BENCH_EXIT_LOST);

    a[1].lost = 0;
    a[1].failed[CAUSE_TIMEOUT] = 0;
    assert_int_equal(bench_add_run(b, a), 0);
    assert_int_equal(b->runs[2].exit_code, BENCH_EXIT_OK);

    a[0].lost = a[1].lost = 1;
    assert_int_equal(bench_add_run(b, a), 0);
    assert_false(b->runs[3].measured);
    assert_true(isnan(b->runs[3].time_s));
    assert_int_equal(b->runs[3].exit_code, BENCH_EXIT_LOST);
    bench_free(&b);
    assert_null(b);
}

static void test_bench_stats(void **state)
{
    bench_t *b = two_agent_bench();
    bench_agent_run_t a[2];
    bench_stats_t s;

    memset(a, 0, sizeof a);
    for (int i = 0; i < 4; i++) { /* runs of 1, 2, 3, 4 s; skew 0, .5, 1, 1.5 */
        a[0] = (bench_agent_run_t){.wall_s = 1 + i, .ok = 10, .bytes = 100, .connections = 2};
        a[1] = a[0];
        a[1].wall_s = 0.5;
        a[1].start_offset_s = 0.5 * i;
        a[1].failed[CAUSE_HTTP_STATUS] = i == 3;
        assert_int_equal(bench_add_run(b, a), 0);
    }
    a[0].lost = a[1].lost = 1;
    assert_int_equal(bench_add_run(b, a), 0);

    assert_int_equal(bench_stats(b, &s), 0);
    assert_int_equal(s.time.n, 4);
    assert_true(s.time.mean == 2.5 && s.time.median == 2.5);
    assert_int_equal(s.runs_failed, 1);
    assert_int_equal(s.runs_unmeasured, 1);
    assert_int_equal(s.ok, 80);
    assert_int_equal(s.failed[CAUSE_HTTP_STATUS], 1);
    assert_int_equal(s.failed_total, 1);
    assert_int_equal(s.bytes, 800);
    assert_int_equal(s.connections, 16);
    assert_true(s.throughput == 8.0); /* 80 ok in 10 s */
    assert_true(s.skew_median == 0.75 && s.skew_max == 1.5);
    bench_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),    cmocka_unit_test(test_small_samples),
        cmocka_unit_test(test_zscores),     cmocka_unit_test(test_outlier_counts),
        cmocka_unit_test(test_slow_first),  cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_order),       cmocka_unit_test(test_run_derivation),
        cmocka_unit_test(test_bench_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
