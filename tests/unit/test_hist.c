/* hist: layout, error bound against sorted data, merge, wire round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

#define LAST (HIST_BUCKETS - 1)
#define N 200000

/* Percentiles checked, in tenths of a percent so the test computes ranks in
 * integers, independently of the float arithmetic in hist.c. */
static const unsigned permille[] = {0, 10, 500, 900, 990, 999, 1000};

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64: same sequence everywhere */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) * 0x1p-53;
}

static uint64_t gen_uniform(void)
{
    return HIST_LOWEST_NS + rng_next() % (HIST_HIGHEST_NS - HIST_LOWEST_NS + 1);
}

static uint64_t gen_narrow(void) /* 50..150 us: a typical healthy service */
{
    return 50000 + rng_next() % 100001;
}

static uint64_t gen_loguniform(void)
{
    double lo = log((double)HIST_LOWEST_NS), hi = log((double)HIST_HIGHEST_NS);
    uint64_t v = (uint64_t)exp(lo + (hi - lo) * rng_unit());

    return v < HIST_LOWEST_NS ? HIST_LOWEST_NS : v > HIST_HIGHEST_NS ? HIST_HIGHEST_NS : v;
}

static uint64_t gen_exponential(void) /* mean 1 ms, shifted into range */
{
    return HIST_LOWEST_NS + (uint64_t)(-log(1.0 - rng_unit()) * 1e6);
}

static uint64_t gen_bimodal(void) /* 98 % fast, 2 % stuck near a timeout */
{
    return rng_next() % 100 < 98 ? 80000 + rng_next() % 40000 : 2000000000 + rng_next() % 1000000;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* Fills v with n values from gen and records them in a new histogram. */
static hist_t *fill(uint64_t *v, size_t n, uint64_t (*gen)(void), uint64_t seed)
{
    hist_t *h = hist_new();
    size_t i;

    assert_non_null(h);
    rng_state = seed;
    for (i = 0; i < n; i++) {
        v[i] = gen();
        hist_record(h, v[i]);
    }
    return h;
}

/* count, min, max, sum and mean exactly; percentiles within the bound. */
static void check_against_sorted(const hist_t *h, uint64_t *v, size_t n)
{
    uint64_t sum = 0, got_sum;
    size_t i, k;

    qsort(v, n, sizeof(*v), cmp_u64);
    for (i = 0; i < n; i++)
        sum += v[i];
    assert_int_equal(hist_count(h), n);
    assert_int_equal(hist_min(h), v[0]);
    assert_int_equal(hist_max(h), v[n - 1]);
    assert_int_equal(hist_sum(h, &got_sum), 0);
    assert_int_equal(got_sum, sum);
    assert_true(hist_mean(h) == (double)sum / (double)n);

    for (k = 0; k < sizeof(permille) / sizeof(permille[0]); k++) {
        uint64_t rank = ((uint64_t)permille[k] * n + 999) / 1000;
        uint64_t exact = v[(rank ? rank : 1) - 1];
        uint64_t got = hist_percentile(h, permille[k] / 10.0);
        double err = fabs((double)got - (double)exact) / (double)exact;

        if (err > HIST_MAX_REL_ERROR)
            fail_msg("p%g: got %llu, exact %llu, error %.4f %%", permille[k] / 10.0,
                     (unsigned long long)got, (unsigned long long)exact, err * 100);
    }
    /* The ends are exact by definition. */
    assert_int_equal(hist_percentile(h, 0), v[0]);
    assert_int_equal(hist_percentile(h, 100), v[n - 1]);
}

static void check_distribution(uint64_t (*gen)(void), uint64_t seed)
{
    uint64_t *v = malloc(N * sizeof(*v));
    hist_t *h;

    assert_non_null(v);
    h = fill(v, N, gen, seed);
    check_against_sorted(h, v, N);
    hist_free(&h);
    free(v);
}

static void test_uniform(void **s)
{
    check_distribution(gen_uniform, 1);
}

static void test_narrow(void **s)
{
    check_distribution(gen_narrow, 2);
}

static void test_loguniform(void **s)
{
    check_distribution(gen_loguniform, 3);
}

static void test_exponential(void **s)
{
    check_distribution(gen_exponential, 4);
}

static void test_bimodal(void **s)
{
    check_distribution(gen_bimodal, 5);
}

/* A constant is returned exactly: clamping to [min, max] removes the error. */
static void test_constants(void **s)
{
    static const uint64_t values[] = {HIST_LOWEST_NS, 777777, 123456789, HIST_HIGHEST_NS, 5};
    size_t i, k;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        hist_t *h = hist_new();

        for (k = 0; k < 1000; k++)
            hist_record(h, values[i]);
        for (k = 0; k < sizeof(permille) / sizeof(permille[0]); k++)
            assert_int_equal(hist_percentile(h, permille[k] / 10.0), values[i]);
        assert_true(hist_mean(h) == (double)values[i]);
        hist_free(&h);
    }
}

/* The layout is a wire contract: pin it with the formula hist.h documents
 * and a few literal bounds. Changing any of these needs a new HIST_VERSION. */
static void test_layout(void **s)
{
    size_t i;

    assert_int_equal(HIST_VERSION, 1);
    assert_int_equal(hist_bucket_count(), 3302);
    assert_int_equal(hist_bucket_low(0), 1000);
    assert_int_equal(hist_bucket_low(1), 1004);
    assert_int_equal(hist_bucket_low(6), 1024);
    assert_int_equal(hist_bucket_low(7), 1032);
    assert_int_equal(hist_bucket_low(LAST), 59861106688ULL);
    assert_int_equal(hist_bucket_low(HIST_BUCKETS), 60129542144ULL);
    assert_int_equal(hist_bucket_low(HIST_BUCKETS + 1), UINT64_MAX);
    assert_true(HIST_MAX_REL_ERROR <= 0.01);

    for (i = 0; i <= HIST_BUCKETS; i++) {
        uint64_t r = i + 506, e = (r >> 7) + 6;

        assert_int_equal(hist_bucket_low(i), ((r & 127) | 128) << (e - 7));
    }
    for (i = 0; i < HIST_BUCKETS; i++) {
        uint64_t lo = hist_bucket_low(i), width = hist_bucket_low(i + 1) - lo;

        assert_int_equal(hist_bucket_index(lo), i);
        assert_int_equal(hist_bucket_index(lo + width - 1), i);
        /* width <= lo / 128, so the midpoint is within lo / 256 of any
         * value in the bucket: the documented bound. */
        assert_true(width * 128 <= lo);
        assert_true((double)(width / 2) <= (double)lo * HIST_MAX_REL_ERROR);
    }
    /* Out of range is clamped into the end buckets. */
    assert_int_equal(hist_bucket_index(0), 0);
    assert_int_equal(hist_bucket_index(999), 0);
    assert_int_equal(hist_bucket_index(HIST_HIGHEST_NS), LAST);
    assert_int_equal(hist_bucket_index(UINT64_MAX), LAST);
}

/* The definition in hist.h, on values whose answers are worked by hand. */
static void test_percentile_definition(void **s)
{
    hist_t *h = hist_new();
    uint64_t i;

    for (i = 100; i >= 1; i--)
        hist_record(h, i * 1000);                       /* order must not matter */
    assert_int_equal(hist_percentile(h, 0), 1000);      /* rank 1: min */
    assert_int_equal(hist_percentile(h, 1), 1000);      /* rank 1 */
    assert_int_equal(hist_percentile(h, 1.5), 2004);    /* rank 2: [2000, 2008) */
    assert_int_equal(hist_percentile(h, 50), 50048);    /* rank 50: [49920, 50176) */
    assert_int_equal(hist_percentile(h, 90), 89856);    /* rank 90: [89600, 90112) */
    assert_int_equal(hist_percentile(h, 99), 99072);    /* rank 99: [98816, 99328) */
    assert_int_equal(hist_percentile(h, 99.9), 100000); /* rank 100: max */
    assert_int_equal(hist_percentile(h, 100), 100000);
    assert_int_equal(hist_percentile(h, -5), 1000); /* clamped p */
    assert_int_equal(hist_percentile(h, 150), 100000);
    assert_int_equal(hist_percentile(h, NAN), 1000);
    assert_true(hist_mean(h) == 50500.0);

    /* 99.9 / 100 * 1000 is 999.0000000000001 in doubles: still rank 999. */
    hist_reset(h);
    for (i = 1; i <= 1000; i++)
        hist_record(h, i * 1000);
    assert_int_equal(hist_percentile(h, 99.9), 997376); /* [995328, 999424) */
    assert_int_equal(hist_percentile(h, 0.1), 1000);
    assert_int_equal(hist_percentile(h, 0.2), 2004);

    hist_reset(h);
    hist_record(h, 12345);
    assert_int_equal(hist_percentile(h, 0), 12345);
    assert_int_equal(hist_percentile(h, 50), 12345);
    assert_int_equal(hist_percentile(h, 100), 12345);
    hist_free(&h);
}

static void test_clamped(void **s)
{
    static const uint64_t values[] = {
        0, 1, 999, HIST_LOWEST_NS, HIST_HIGHEST_NS, HIST_HIGHEST_NS + 1, UINT64_MAX};
    hist_t *h = hist_new();
    uint32_t idx[4];
    uint64_t cnt[4], sum;
    size_t i;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        hist_record(h, values[i]);
    assert_int_equal(hist_count(h), 7);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), UINT64_MAX);
    /* 120000002001 + 2^64 - 1 needs a 65th bit: too big for the wire, but
     * the mean is still exact. */
    assert_int_equal(hist_sum(h, &sum), -1);
    assert_int_equal(sum, UINT64_MAX);
    assert_true(hist_mean(h) == (120000002000.0 + 0x1p64) / 7);

    assert_int_equal(hist_nonzero(h), 2);
    assert_int_equal(hist_export(h, idx, cnt, 4), 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(cnt[0], 4);
    assert_int_equal(idx[1], LAST);
    assert_int_equal(cnt[1], 3);

    assert_int_equal(hist_percentile(h, 0), 0);
    assert_int_equal(hist_percentile(h, 50), 1002); /* rank 4 (1000): bucket 0's midpoint */
    assert_int_equal(hist_percentile(h, 100), UINT64_MAX);
    hist_free(&h);
}

static void test_empty(void **s)
{
    hist_t *h = hist_new();
    uint32_t idx[1];
    uint64_t cnt[1], sum = 7;

    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_true(hist_mean(h) == 0.0);
    assert_int_equal(hist_sum(h, &sum), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(hist_percentile(h, 0), 0);
    assert_int_equal(hist_percentile(h, 50), 0);
    assert_int_equal(hist_percentile(h, 100), 0);
    assert_int_equal(hist_nonzero(h), 0);
    assert_int_equal(hist_export(h, idx, cnt, 1), 0);
    assert_int_equal(hist_set_extremes(h, 0, 0, 0), 0);
    assert_int_equal(hist_set_extremes(h, 1, 0, 0), -1);
    assert_int_equal(hist_set_extremes(h, 0, 1, 0), -1);
    assert_int_equal(hist_set_extremes(h, 0, 0, 1), -1);

    /* reset returns a used histogram to this state */
    hist_record(h, 5000);
    hist_reset(h);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_int_equal(hist_nonzero(h), 0);
    assert_int_equal(hist_percentile(h, 50), 0);

    hist_free(&h);
    assert_null(h);
    hist_free(&h); /* already NULL: harmless */
    hist_free(NULL);
}

/* Same counts, extremes and sum: equal for every purpose. */
static void assert_hist_equal(const hist_t *a, const hist_t *b)
{
    size_t n = hist_nonzero(a), i;
    uint32_t *ia = malloc(n * sizeof(*ia) + 1), *ib = malloc(n * sizeof(*ib) + 1);
    uint64_t *ca = malloc(n * sizeof(*ca) + 1), *cb = malloc(n * sizeof(*cb) + 1);
    uint64_t asum, bsum;

    assert_int_equal(hist_nonzero(b), n);
    assert_int_equal(hist_export(a, ia, ca, n), n);
    assert_int_equal(hist_export(b, ib, cb, n), n);
    assert_memory_equal(ia, ib, n * sizeof(*ia));
    assert_memory_equal(ca, cb, n * sizeof(*ca));
    assert_int_equal(hist_count(a), hist_count(b));
    assert_int_equal(hist_min(a), hist_min(b));
    assert_int_equal(hist_max(a), hist_max(b));
    assert_int_equal(hist_sum(a, &asum), hist_sum(b, &bsum));
    assert_int_equal(asum, bsum);
    assert_true(hist_mean(a) == hist_mean(b));
    for (i = 0; i <= 1000; i++)
        assert_int_equal(hist_percentile(a, i / 10.0), hist_percentile(b, i / 10.0));
    free(ia);
    free(ib);
    free(ca);
    free(cb);
}

static void test_merge(void **s)
{
    uint64_t *v = malloc((2 * N + 2) * sizeof(*v));
    hist_t *a, *b, *u = hist_new(), *e = hist_new();
    size_t i;

    assert_non_null(v);
    a = fill(v, N, gen_loguniform, 6);
    b = fill(v + N, N, gen_exponential, 7);
    v[2 * N] = 3;              /* below range: the union's min */
    v[2 * N + 1] = UINT64_MAX; /* above range: the union's max */
    hist_record(b, v[2 * N]);
    hist_record(b, v[2 * N + 1]);
    for (i = 0; i < 2 * N + 2; i++)
        hist_record(u, v[i]);

    assert_int_equal(hist_merge(a, b), 0);
    assert_hist_equal(a, u);
    assert_int_equal(hist_count(a), 2 * N + 2);
    assert_int_equal(hist_min(a), 3);
    assert_int_equal(hist_max(a), UINT64_MAX);

    /* Empty is the identity on either side. */
    assert_int_equal(hist_merge(a, e), 0);
    assert_hist_equal(a, u);
    assert_int_equal(hist_merge(e, u), 0);
    assert_hist_equal(e, u);
    hist_free(&a);
    hist_free(&b);

    /* Merged percentiles keep the bound against the sorted union (without
     * the two out-of-range values, which have none). */
    a = fill(v, N, gen_loguniform, 6);
    b = fill(v + N, N, gen_exponential, 7);
    assert_int_equal(hist_merge(a, b), 0);
    check_against_sorted(a, v, 2 * N);

    hist_free(&a);
    hist_free(&b);
    hist_free(&u);
    hist_free(&e);
    free(v);
}

static void test_merge_overflow(void **s)
{
    hist_t *a = hist_new(), *b = hist_new();

    assert_int_equal(hist_add_bucket(a, 10, UINT64_MAX - 1), 0);
    hist_record(b, 5000);
    hist_record(b, 6000);
    assert_int_equal(hist_merge(a, b), -1);
    assert_int_equal(hist_count(a), UINT64_MAX - 1);
    assert_int_equal(hist_nonzero(a), 1);
    hist_reset(b);
    hist_record(b, 5000);
    assert_int_equal(hist_merge(a, b), 0);
    assert_int_equal(hist_count(a), UINT64_MAX);
    hist_free(&a);
    hist_free(&b);
}

static void test_roundtrip(void **s)
{
    uint64_t *v = malloc(N * sizeof(*v)), *cnt, sum;
    hist_t *h, *g = hist_new();
    uint32_t *idx;
    size_t n, i;

    assert_non_null(v);
    h = fill(v, N, gen_loguniform, 8);
    hist_record(h, 1);               /* below range */
    hist_record(h, 100000000000ULL); /* 100 s: above range */
    n = hist_nonzero(h);
    assert_true(n > 1000);
    idx = malloc(n * sizeof(*idx));
    cnt = malloc(n * sizeof(*cnt));
    assert_int_equal(hist_export(h, idx, cnt, n), n);
    for (i = 1; i < n; i++)
        assert_true(idx[i - 1] < idx[i]);

    for (i = 0; i < n; i++)
        assert_int_equal(hist_add_bucket(g, idx[i], cnt[i]), 0);
    /* Before the extremes arrive, min/max are the end buckets' bounds. */
    assert_int_equal(hist_min(g), hist_bucket_low(0));
    assert_int_equal(hist_max(g), hist_bucket_low(HIST_BUCKETS) - 1);
    assert_int_equal(hist_sum(h, &sum), 0);
    assert_int_equal(hist_set_extremes(g, hist_min(h), hist_max(h), sum), 0);
    assert_hist_equal(g, h);

    /* A short buffer gets the first pairs. */
    assert_int_equal(hist_export(h, idx, cnt, 3), 3);
    assert_int_equal(idx[0], 0);
    assert_int_equal(hist_export(h, idx, cnt, 0), 0);

    hist_free(&h);
    hist_free(&g);
    free(idx);
    free(cnt);
    free(v);
}

static void test_add_bucket_rejects(void **s)
{
    hist_t *h = hist_new();

    assert_int_equal(hist_add_bucket(h, HIST_BUCKETS, 1), -1);
    assert_int_equal(hist_add_bucket(h, UINT32_MAX, 1), -1);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_add_bucket(h, LAST, 1), 0);
    assert_int_equal(hist_add_bucket(h, 7, 0), 0); /* empty pair: no-op */
    assert_int_equal(hist_nonzero(h), 1);
    assert_int_equal(hist_min(h), hist_bucket_low(LAST));
    assert_int_equal(hist_add_bucket(h, 5, UINT64_MAX), -1); /* total would overflow */
    assert_int_equal(hist_add_bucket(h, LAST, UINT64_MAX), -1);
    assert_int_equal(hist_add_bucket(h, 5, UINT64_MAX - 1), 0);
    assert_int_equal(hist_add_bucket(h, 6, 1), -1);
    assert_int_equal(hist_count(h), UINT64_MAX);
    assert_int_equal(hist_nonzero(h), 2);
    hist_free(&h);
}

static void test_set_extremes_rejects(void **s)
{
    hist_t *h = hist_new();
    uint64_t sum;

    /* Two values in 2000's bucket, one in 5000's: 2000 + 2000 + 5000. */
    assert_int_equal(hist_add_bucket(h, (uint32_t)hist_bucket_index(2000), 2), 0);
    assert_int_equal(hist_add_bucket(h, (uint32_t)hist_bucket_index(5000), 1), 0);
    assert_int_equal(hist_set_extremes(h, 5000, 2000, 9000), -1);  /* min > max */
    assert_int_equal(hist_set_extremes(h, 1000, 5000, 9000), -1);  /* min elsewhere */
    assert_int_equal(hist_set_extremes(h, 2000, 6000, 10000), -1); /* max elsewhere */
    assert_int_equal(hist_set_extremes(h, 2000, 5000, 8999), -1);  /* < max + 2 min */
    assert_int_equal(hist_set_extremes(h, 2000, 5000, 12001), -1); /* > min + 2 max */
    /* Rejections left the widened bounds alone. */
    assert_int_equal(hist_min(h), 2000);
    assert_int_equal(hist_max(h), 5023); /* [4992, 5024) */
    assert_int_equal(hist_set_extremes(h, 2000, 5000, 9000), 0);
    assert_int_equal(hist_set_extremes(h, 2001, 5001, 12000), 0);
    assert_int_equal(hist_min(h), 2001);
    assert_int_equal(hist_max(h), 5001);
    assert_int_equal(hist_sum(h, &sum), 0);
    assert_int_equal(sum, 12000);
    assert_true(hist_mean(h) == 4000.0);

    /* One value: min, max and sum must agree. */
    hist_reset(h);
    assert_int_equal(hist_add_bucket(h, 0, 1), 0);
    assert_int_equal(hist_set_extremes(h, 5, 1001, 5), -1);
    assert_int_equal(hist_set_extremes(h, 5, 5, 6), -1);
    assert_int_equal(hist_set_extremes(h, 5, 5, 5), 0);
    assert_int_equal(hist_percentile(h, 50), 5);
    hist_free(&h);
}

/* ---- HdrHistogram's percentile text, against HdrHistogram_c's own output
 * (tests/unit/hdr/README.md says how the files were made). */

static hist_t *hdr_spread(void)
{
    hist_t *h = hist_new();

    assert_non_null(h);
    rng_state = 42;
    for (int i = 0; i < 20000; i++) {
        uint64_t r = rng_next();
        hist_record(h, 1000 + ((r % 4096) << ((r >> 59) % 21)));
    }
    return h;
}

static char *slurp(const char *name)
{
    char path[512];
    FILE *f;
    char *buf = malloc(65536);
    size_t n;

    snprintf(path, sizeof path, "%s/%s", HDR_REF_DIR, name);
    f = fopen(path, "r");
    if (f == NULL) fail_msg("cannot open %s", path);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void check_hdr_text(const hist_t *h, double unit, int decimals, const char *ref)
{
    char *got = NULL, *want = slurp(ref);
    size_t len = 0;
    FILE *mem = open_memstream(&got, &len);

    assert_non_null(mem);
    assert_int_equal(hist_write_hdr_percentiles(mem, h, unit, decimals), 0);
    fclose(mem);
    if (strcmp(got, want) != 0) fail_msg("%s differs; got:\n%s", ref, got);
    free(got);
    free(want);
}

static void test_hdr_spread(void **s)
{
    hist_t *h = hdr_spread();

    (void)s;
    check_hdr_text(h, 1e6, 2, "spread_ms_2.txt");
    check_hdr_text(h, 1e3, 3, "spread_us_3.txt");
    hist_free(&h);
}

static void test_hdr_few(void **s)
{
    hist_t *h = hist_new();

    (void)s;
    assert_non_null(h);
    hist_record(h, 123456);
    check_hdr_text(h, 1e6, 2, "one_ms_2.txt");
    hist_reset(h);
    hist_record(h, 1000);
    hist_record(h, 5000000);
    hist_record(h, 60000000000ULL);
    check_hdr_text(h, 1e6, 3, "three_ms_3.txt");
    hist_free(&h);
}

/* No values: the header, one 100 % line of zeros and a footer of zeros
 * (HdrHistogram_c would print a NaN mean). A failed write is -1. */
static void test_hdr_empty_and_errors(void **s)
{
    static const char want[] = "       Value   Percentile   TotalCount 1/(1-Percentile)\n\n"
                               "       0.000     1.000000            0          inf\n"
                               "#[Mean    =        0.000, StdDeviation   =        0.000]\n"
                               "#[Max     =        0.000, Total count    =            0]\n"
                               "#[Buckets =           29, SubBuckets     =          256]\n";
    hist_t *h = hist_new();
    char *got = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&got, &len), *full;

    (void)s;
    assert_non_null(h);
    assert_non_null(mem);
    assert_int_equal(hist_write_hdr_percentiles(mem, h, 1e6, 3), 0);
    fclose(mem);
    assert_string_equal(got, want);
    free(got);
    full = fopen("/dev/full", "w");
    assert_non_null(full);
    setvbuf(full, NULL, _IONBF, 0); /* the first fprintf fails, not fclose */
    hist_record(h, 5000);
    assert_int_equal(hist_write_hdr_percentiles(full, h, 1e6, 3), -1);
    fclose(full);
    hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_percentile_definition),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_narrow),
        cmocka_unit_test(test_loguniform),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_bimodal),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_clamped),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_overflow),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_add_bucket_rejects),
        cmocka_unit_test(test_set_extremes_rejects),
        cmocka_unit_test(test_hdr_spread),
        cmocka_unit_test(test_hdr_few),
        cmocka_unit_test(test_hdr_empty_and_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
