#include "hist.h"

#include <stdlib.h>
#include <string.h>

/* HdrHistogram numbering: for v in [2^e, 2^(e+1)), e >= SUB_BITS,
 * raw(v) = (e - SUB_BITS) * 2^SUB_BITS + (v >> (e - SUB_BITS)), which is
 * contiguous across powers of two. Our index is raw(v) - raw(LOWEST). */
#define SUB (1u << HIST_SUB_BITS)
#define LOWEST_EXP 9   /* 2^9 <= 1000 ns < 2^10 */
#define HIGHEST_EXP 35 /* 2^35 <= 60 s < 2^36 */
#define RAW(v, e) ((((uint64_t)(e)-HIST_SUB_BITS) << HIST_SUB_BITS) + ((v) >> ((e)-HIST_SUB_BITS)))
#define RAW_LOWEST RAW(HIST_LOWEST_NS, LOWEST_EXP)

_Static_assert(HIST_SUB_BITS == 7, "hist.h documents the layout for 7 sub-bucket bits");
_Static_assert(HIST_LOWEST_NS >> LOWEST_EXP == 1, "LOWEST_EXP is wrong");
_Static_assert(HIST_HIGHEST_NS >> HIGHEST_EXP == 1, "HIGHEST_EXP is wrong");
/* Bucket 0 then starts exactly at 1000 ns, as hist.h says. */
_Static_assert(HIST_LOWEST_NS % (1u << (LOWEST_EXP - HIST_SUB_BITS)) == 0, "1 us not on a bound");
_Static_assert(RAW_LOWEST == 506, "hist.h documents 506");
_Static_assert(RAW(HIST_HIGHEST_NS, HIGHEST_EXP) - RAW_LOWEST + 1 == HIST_BUCKETS, "HIST_BUCKETS");

struct hist_s {
    uint64_t count; /* always the sum of counts[] */
    uint64_t min;   /* UINT64_MAX when empty */
    uint64_t max;
    /* Cannot overflow: count < 2^64 values, each < 2^64. */
    unsigned __int128 sum;
    uint64_t counts[HIST_BUCKETS];
};

hist_t *hist_new(void)
{
    hist_t *h = malloc(sizeof(*h));

    if (h != NULL) hist_reset(h);
    return h;
}

void hist_free(hist_t **h)
{
    if (h == NULL) return;
    free(*h);
    *h = NULL;
}

void hist_reset(hist_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

size_t hist_bucket_index(uint64_t ns)
{
    uint64_t v = ns < HIST_LOWEST_NS ? HIST_LOWEST_NS : ns > HIST_HIGHEST_NS ? HIST_HIGHEST_NS : ns;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v >= 1000, so clz is defined */

    return (size_t)(RAW(v, e) - RAW_LOWEST);
}

void hist_record(hist_t *h, uint64_t ns)
{
    h->counts[hist_bucket_index(ns)]++;
    h->count++;
    h->sum += ns;
    /* Written as selects so the compiler emits cmov, not branches. */
    h->min = ns < h->min ? ns : h->min;
    h->max = ns > h->max ? ns : h->max;
}

int hist_merge(hist_t *dst, const hist_t *src)
{
    size_t i;

    if (src->count > UINT64_MAX - dst->count) return -1;
    /* No bucket can overflow: each is at most its histogram's count. */
    for (i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return 0;
}

uint64_t hist_count(const hist_t *h)
{
    return h->count;
}

uint64_t hist_min(const hist_t *h)
{
    return h->count ? h->min : 0;
}

uint64_t hist_max(const hist_t *h)
{
    return h->max;
}

int hist_sum(const hist_t *h, uint64_t *sum_ns)
{
    if (h->sum > UINT64_MAX) {
        *sum_ns = UINT64_MAX;
        return -1;
    }
    *sum_ns = (uint64_t)h->sum;
    return 0;
}

double hist_mean(const hist_t *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

size_t hist_bucket_count(void)
{
    return HIST_BUCKETS;
}

uint64_t hist_bucket_low(size_t idx)
{
    uint64_t r;
    unsigned e;

    if (idx > HIST_BUCKETS) return UINT64_MAX;
    r = (uint64_t)idx + RAW_LOWEST;
    e = (unsigned)(r >> HIST_SUB_BITS) + HIST_SUB_BITS - 1;
    return ((r & (SUB - 1)) | SUB) << (e - HIST_SUB_BITS);
}

/* The 1-based rank of hist.h's definition. The relative tolerance keeps
 * decimal p exact: 99.9 / 100 * 1000 may come out as 999.0000000000001. */
static uint64_t rank_of(double p, uint64_t n)
{
    double x;
    uint64_t r;

    if (!(p > 0)) return 1; /* also NaN */
    if (p > 100) p = 100;
    x = p / 100 * (double)n;
    x -= x * 1e-12;
    if (x >= (double)n) return n;
    r = (uint64_t)x;
    if ((double)r < x) r++; /* ceil without libm */
    return r < 1 ? 1 : r;
}

uint64_t hist_percentile(const hist_t *h, double p)
{
    uint64_t rank, seen = 0, lo, mid;
    size_t i = 0;

    if (h->count == 0) return 0;
    rank = rank_of(p, h->count);
    if (rank == 1) return h->min;
    if (rank >= h->count) return h->max;
    while (i < HIST_BUCKETS - 1 && seen + h->counts[i] < rank)
        seen += h->counts[i++];
    lo = hist_bucket_low(i);
    mid = lo + (hist_bucket_low(i + 1) - lo) / 2;
    /* The order statistic lies in [min, max], so clamping only helps; it
     * also gives back clamped-out values (< 1 us, > 60 s) when they are
     * the extremes. */
    return mid < h->min ? h->min : mid > h->max ? h->max : mid;
}

size_t hist_nonzero(const hist_t *h)
{
    size_t i, n = 0;

    for (i = 0; i < HIST_BUCKETS; i++)
        n += h->counts[i] != 0;
    return n;
}

size_t hist_export(const hist_t *h, uint32_t *idx, uint64_t *cnt, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < HIST_BUCKETS && n < cap; i++) {
        if (h->counts[i] == 0) continue;
        idx[n] = (uint32_t)i;
        cnt[n] = h->counts[i];
        n++;
    }
    return n;
}

int hist_add_bucket(hist_t *h, uint32_t idx, uint64_t count)
{
    uint64_t lo, hi;

    if (idx >= HIST_BUCKETS || count > UINT64_MAX - h->count) return -1;
    if (count == 0) return 0;
    h->counts[idx] += count;
    h->count += count;
    lo = hist_bucket_low(idx);
    hi = hist_bucket_low(idx + 1) - 1;
    if (lo < h->min) h->min = lo;
    if (hi > h->max) h->max = hi;
    return 0;
}

static int nonempty_range(const hist_t *h, size_t *first, size_t *last)
{
    size_t i;

    for (i = 0; i < HIST_BUCKETS && h->counts[i] == 0; i++)
        ;
    if (i == HIST_BUCKETS) return -1;
    *first = i;
    for (i = HIST_BUCKETS - 1; h->counts[i] == 0; i--)
        ;
    *last = i;
    return 0;
}

int hist_set_extremes(hist_t *h, uint64_t min, uint64_t max, uint64_t sum_ns)
{
    unsigned __int128 rest;
    size_t first, last;

    if (h->count == 0) return (min | max | sum_ns) ? -1 : 0;
    if (nonempty_range(h, &first, &last) != 0) return -1;
    if (min > max || hist_bucket_index(min) != first || hist_bucket_index(max) != last) return -1;
    /* One value is min, one is max (the same one when count is 1), and the
     * other count - 1 lie between; this cannot overflow 128 bits. */
    rest = (unsigned __int128)(h->count - 1);
    if (sum_ns < max + rest * min || sum_ns > min + rest * max) return -1;
    h->min = min;
    h->max = max;
    h->sum = sum_ns;
    return 0;
}

const hist_pct_t hist_pcts[HIST_NPCTS] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}};
