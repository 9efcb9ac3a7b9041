/* svg: scales map a domain to pixels, nice domains end on round values, the
 * ticks are 1-2-5 steps inside the domain, and the axes draw one grid line
 * and one label per tick (never a "nan"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svg.h"

#define EPS 1e-9

static void assert_near(double got, double want)
{
    if (fabs(got - want) > EPS * fmax(1, fabs(want))) fail_msg("got %.17g, want %.17g", got, want);
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void test_scale_at(void **state)
{
    svg_scale_t lin = {0, 10, 100, 200, 0}, log = {1, 100, 0, 400, 1}, y = {0, 1, 380, 10, 0};
    svg_scale_t empty = {3, 3, 50, 90, 0};

    assert_near(svg_scale_at(&lin, 0), 100);
    assert_near(svg_scale_at(&lin, 5), 150);
    assert_near(svg_scale_at(&lin, 10), 200);
    assert_near(svg_scale_at(&log, 10), 200); /* a decade is half of two */
    assert_near(svg_scale_at(&log, 100), 400);
    assert_near(svg_scale_at(&y, 0.5), 195);  /* b < a: a y axis grows upward */
    assert_near(svg_scale_at(&log, 0), 0);    /* log of 0: a, not -inf */
    assert_near(svg_scale_at(&empty, 3), 50); /* 0/0: a, not nan */
}

static void test_nice_linear(void **state)
{
    svg_scale_t s = {0.13, 0.97, 0, 1, 0};
    double v[SVG_MAX_TICKS];
    size_t n;

    svg_scale_nice(&s);
    assert_near(s.lo, 0);
    assert_near(s.hi, 1);
    n = svg_scale_ticks(&s, v);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_near(v[i], 0.2 * (double)i);

    s = (svg_scale_t){-0.3, 0.3, 0, 1, 0}; /* zero is exactly 0, not -1e-17 */
    svg_scale_nice(&s);
    n = svg_scale_ticks(&s, v);
    assert_true(n >= 3);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++)
        zeros += v[i] == 0.0 && !signbit(v[i]);
    assert_int_equal(zeros, 1);
}

static void test_nice_log(void **state)
{
    svg_scale_t s = {1.5, 40, 0, 1, 1};
    double v[SVG_MAX_TICKS];
    static const double want[] = {1, 2, 5, 10, 20, 50};
    size_t n;

    svg_scale_nice(&s);
    assert_near(s.lo, 1);
    assert_near(s.hi, 50);
    n = svg_scale_ticks(&s, v);
    assert_int_equal(n, sizeof want / sizeof *want);
    for (size_t i = 0; i < n; i++)
        assert_near(v[i], want[i]);

    /* beyond three decades: the domain ends on decades, ticks on decades only */
    s = (svg_scale_t){3e-4, 0.7, 0, 1, 1};
    svg_scale_nice(&s);
    assert_near(s.lo, 1e-4);
    assert_near(s.hi, 1);
    n = svg_scale_ticks(&s, v);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_near(v[i], pow(10, (double)i - 4));
}

static void test_degenerate_domains(void **state)
{
    svg_scale_t same = {5, 5, 0, 1, 0}, zero = {0, 0, 0, 1, 0}, inverted = {2, 1, 0, 1, 1};
    double v[SVG_MAX_TICKS];

    svg_scale_nice(&same);
    assert_true(same.hi > same.lo && same.lo <= 5 && same.hi >= 5);
    svg_scale_nice(&zero);
    assert_near(zero.lo, 0);
    assert_true(zero.hi > 0);
    svg_scale_nice(&inverted);
    assert_true(inverted.hi > inverted.lo && inverted.lo > 0);
    assert_true(svg_scale_ticks(&same, v) >= 2);
    assert_true(svg_scale_ticks(&zero, v) >= 2);
}

/* Whatever the domain, ticks stay inside it, ascending, SVG_MAX_TICKS at most. */
static void test_ticks_bounded(void **state)
{
    static const svg_scale_t cases[] = {
        {1e-9, 1e9, 0, 1, 1},    {1e-7, 3e-7, 0, 1, 1}, {0, 1e12, 0, 1, 0},
        {123.4, 123.5, 0, 1, 0}, {7e-6, 9e-3, 0, 1, 1}, {0, 3e-6, 0, 1, 0},
    };
    double v[SVG_MAX_TICKS];

    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        svg_scale_t s = cases[c];
        svg_scale_nice(&s);
        size_t n = svg_scale_ticks(&s, v);
        assert_true(n >= 2 && n <= SVG_MAX_TICKS);
        for (size_t i = 0; i < n; i++) {
            assert_true(v[i] >= s.lo * (1 - 1e-6) - 1e-12 && v[i] <= s.hi * (1 + 1e-6) + 1e-12);
            if (i) assert_true(v[i] > v[i - 1]);
        }
    }
}

static char *draw(int vertical, const svg_scale_t *s, const svg_tick_t *t, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    if (vertical)
        svg_axis_y(out, s, t, n, 86, 976, "Latency (log scale)");
    else
        svg_axis_x(out, s, t, n, 8, 300, "Time per run [ms]");
    assert_int_equal(fclose(out), 0);
    return buf;
}

static void test_axes(void **state)
{
    svg_scale_t s = {0, 1, 100, 900, 0}, y = {1e-4, 1, 390, 10, 1};
    svg_tick_t t[3] = {{0, "0"}, {0.5, "500"}, {1, "1000"}};
    char *x, *v;

    x = draw(0, &s, t, 3);
    assert_int_equal(count(x, "<line class=\"grid\""), 3);
    assert_int_equal(count(x, "<line class=\"base\""), 1);
    assert_non_null(strstr(x, "x1=\"500.0\" y1=\"8.0\" x2=\"500.0\" y2=\"300.0\""));
    assert_non_null(strstr(x, ">500</text>"));
    assert_non_null(strstr(x, ">Time per run [ms]</text>"));
    assert_null(strstr(x, "nan"));
    free(x);

    t[0] = (svg_tick_t){1e-4, "100 µs"};
    t[1] = (svg_tick_t){1e-2, "10 ms"};
    t[2] = (svg_tick_t){1, "1 s"};
    v = draw(1, &y, t, 3);
    assert_int_equal(count(v, "<line class=\"grid\""), 3);
    assert_non_null(strstr(v, "y1=\"200.0\" x2=\"976.0\" y2=\"200.0\"")); /* 10 ms: half way */
    assert_non_null(strstr(v, "rotate(-90)"));
    assert_null(strstr(v, "nan"));
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_at),      cmocka_unit_test(test_nice_linear),
        cmocka_unit_test(test_nice_log),      cmocka_unit_test(test_degenerate_domains),
        cmocka_unit_test(test_ticks_bounded), cmocka_unit_test(test_axes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
