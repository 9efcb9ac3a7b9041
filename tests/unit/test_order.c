/* order: every kind gives each benchmark its warmups, then its timed runs
 * in their own order; interleave cancels a linear drift exactly; shuffle is
 * a function of its seed; sequential is hyperfine's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "order.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXB 16

static const order_kind_t k_kinds[] = {ORDER_INTERLEAVE, ORDER_SHUFFLE, ORDER_SEQUENTIAL};

/* Reads every step of one schedule into s (room for cap). */
static size_t steps(order_t *o, order_step_t *s, size_t cap)
{
    size_t n = 0;

    while (order_next(o, &s[n])) {
        assert_true(n < cap);
        n++;
    }
    assert_int_equal(n, order_total(o));
    assert_int_equal(order_next(o, &s[0]), 0); /* and stays done */
    return n;
}

static void test_names(void **state)
{
    order_kind_t k;

    for (size_t i = 0; i < N(k_kinds); i++) {
        assert_int_equal(order_parse(order_name(k_kinds[i]), &k), 0);
        assert_int_equal(k, k_kinds[i]);
    }
    assert_int_equal(order_parse("random", &k), -1);
    assert_int_equal(order_parse("", &k), -1);
    assert_string_equal(order_name(ORDER_INTERLEAVE), "interleave");
    assert_int_equal(order_init(&(order_t){0}, 0, 1, 1, ORDER_SHUFFLE, 1), -1);
}

/* Each benchmark: warmups 0..W-1, all before its timed runs 0..R-1, which
 * come in order; every round ends where it should. */
static void check_complete(const order_step_t *s, size_t n, size_t nbench, unsigned w, unsigned r)
{
    unsigned warm[MAXB] = {0}, timed[MAXB] = {0};

    for (size_t i = 0; i < n; i++) {
        const order_step_t *x = &s[i];
        assert_true(x->bench < nbench);
        if (x->warm) {
            assert_int_equal(x->run, warm[x->bench]);
            assert_int_equal(timed[x->bench], 0); /* warmups before the first timed run */
            warm[x->bench]++;
            assert_false(x->round_end);
        } else {
            assert_int_equal(x->run, timed[x->bench]);
            timed[x->bench]++;
        }
    }
    for (size_t b = 0; b < nbench; b++) {
        assert_int_equal(warm[b], w);
        assert_int_equal(timed[b], r);
    }
}

static void test_complete(void **state)
{
    static order_step_t s[MAXB * 20];

    for (size_t k = 0; k < N(k_kinds); k++)
        for (size_t nb = 1; nb <= 7; nb++)
            for (unsigned w = 0; w <= 3; w++)
                for (unsigned r = 1; r <= 9; r += 2) {
                    order_t o;
                    size_t n, ends = 0;
                    assert_int_equal(order_init(&o, nb, w, r, k_kinds[k], 42 + nb), 0);
                    n = steps(&o, s, N(s));
                    check_complete(s, n, nb, w, r);
                    for (size_t i = 0; i < n; i++)
                        ends += s[i].round_end != 0;
                    /* a round per timed run number; sequential: per benchmark */
                    assert_int_equal(ends, k_kinds[k] == ORDER_SEQUENTIAL ? nb : r);
                    assert_true(s[n - 1].round_end);
                    order_close(&o);
                }
}

/* hyperfine's order: each benchmark's warmups and runs in one block. */
static void test_sequential(void **state)
{
    const order_step_t want[] = {{0, 0, 1, 0}, {0, 0, 0, 0}, {0, 1, 0, 1},
                                 {1, 0, 1, 0}, {1, 0, 0, 0}, {1, 1, 0, 1}};
    order_step_t s[N(want)];
    order_t o;

    assert_int_equal(order_init(&o, 2, 1, 2, ORDER_SEQUENTIAL, 0), 0);
    assert_int_equal(steps(&o, s, N(s)), N(want));
    assert_memory_equal(s, want, sizeof want);
    order_close(&o);
}

/* Warmups first, then A B C, C B A, A B C. */
static void test_interleave_layout(void **state)
{
    const uint32_t bench[] = {0, 1, 2, 2, 1, 0, 0, 1, 2};
    order_step_t s[3 * 2 + N(bench)];
    order_t o;

    assert_int_equal(order_init(&o, 3, 2, 3, ORDER_INTERLEAVE, 0), 0);
    assert_int_equal(steps(&o, s, N(s)), N(s));
    for (size_t i = 0; i < 6; i++) {
        assert_true(s[i].warm);
        assert_int_equal(s[i].bench, i / 2);
    }
    for (size_t i = 0; i < N(bench); i++) {
        assert_false(s[6 + i].warm);
        assert_int_equal(s[6 + i].bench, bench[i]);
        assert_int_equal(s[6 + i].run, i / 3);
    }
    order_close(&o);
}

/* A drift linear in time adds slope * (the run's midpoint) to a run: over a
 * benchmark's runs, slope * (sum of its midpoints). With an even run count,
 * interleave gives every benchmark the same sum, whatever each run lasts;
 * sequential gives the later benchmarks more, which is the bias it has. */
static void midpoint_sums(order_kind_t kind, size_t nb, unsigned runs, const double *dur,
                          double *sum)
{
    static order_step_t s[MAXB * 40];
    double now = 0;
    order_t o;
    size_t n;

    assert_int_equal(order_init(&o, nb, 2, runs, kind, 7), 0);
    n = steps(&o, s, N(s));
    memset(sum, 0, nb * sizeof *sum);
    for (size_t i = 0; i < n; i++) {
        double d = dur[s[i].bench];
        if (!s[i].warm) sum[s[i].bench] += now + d / 2;
        now += d;
    }
    order_close(&o);
}

static void test_interleave_cancels_linear_drift(void **state)
{
    const double unit[MAXB] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const double uneven[MAXB] = {1, 3, 7, 2, 0.5, 11, 4, 4, 9, 1, 2, 6, 5, 3, 8, 1};
    double sum[MAXB];

    for (size_t nb = 1; nb <= MAXB; nb++)
        for (unsigned runs = 2; runs <= 20; runs += 2) {
            const double *durs[] = {unit, uneven};
            for (size_t d = 0; d < 2; d++) {
                midpoint_sums(ORDER_INTERLEAVE, nb, runs, durs[d], sum);
                for (size_t b = 1; b < nb; b++)
                    if (sum[b] != sum[0]) /* exact: halves of small integers */
                        fail_msg("%zu benchmarks, %u runs, durations %zu: benchmark %zu sums "
                                 "%g, benchmark 0 %g",
                                 nb, runs, d, b, sum[b], sum[0]);
            }
        }
    /* the same for sequential is far apart: this is what the test measures */
    midpoint_sums(ORDER_SEQUENTIAL, 2, 10, unit, sum);
    assert_true(sum[1] - sum[0] == 10 * 12); /* each run 12 steps later */
    /* odd run counts: the last round's spread is what is left */
    midpoint_sums(ORDER_INTERLEAVE, 3, 3, unit, sum);
    assert_true(sum[1] - sum[0] == 1 && sum[2] - sum[0] == 2);
}

/* The number of positions among timed steps, for equal runs: the plain
 * statement of the same property. */
static void test_interleave_equal_positions(void **state)
{
    static order_step_t s[MAXB * 30];
    for (size_t nb = 2; nb <= 9; nb++) {
        uint64_t pos[MAXB] = {0}, t = 0;
        order_t o;
        size_t n;
        assert_int_equal(order_init(&o, nb, 3, 10, ORDER_INTERLEAVE, 0), 0);
        n = steps(&o, s, N(s));
        for (size_t i = 0; i < n; i++)
            if (!s[i].warm) pos[s[i].bench] += t++;
        for (size_t b = 1; b < nb; b++)
            assert_int_equal(pos[b], pos[0]);
        order_close(&o);
    }
}

static void shuffled(uint64_t seed, size_t nb, unsigned runs, uint32_t *bench)
{
    order_step_t s;
    order_t o;
    size_t i = 0;

    assert_int_equal(order_init(&o, nb, 1, runs, ORDER_SHUFFLE, seed), 0);
    while (order_next(&o, &s))
        if (!s.warm) bench[i++] = s.bench;
    order_close(&o);
}

/* The same seed, the same order; another seed, another one; every round a
 * permutation; not every round the same. */
static void test_shuffle(void **state)
{
    uint32_t a[8 * 6], b[8 * 6], c[8 * 6];
    int rounds_differ = 0;

    shuffled(12345, 8, 6, a);
    shuffled(12345, 8, 6, b);
    shuffled(54321, 8, 6, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    for (size_t r = 0; r < 6; r++) {
        unsigned seen = 0;
        for (size_t p = 0; p < 8; p++)
            seen |= 1u << a[r * 8 + p];
        assert_int_equal(seen, 0xff);
        if (r > 0) rounds_differ |= memcmp(&a[r * 8], &a[(r - 1) * 8], 8 * sizeof *a) != 0;
    }
    assert_true(rounds_differ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_interleave_layout),
        cmocka_unit_test(test_interleave_cancels_linear_drift),
        cmocka_unit_test(test_interleave_equal_positions),
        cmocka_unit_test(test_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
