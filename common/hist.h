/* hist: a log-linear latency histogram in nanoseconds, mergeable by adding
 * counts. One histogram per thread (no locking); merge after join.
 *
 * Layout (version HIST_VERSION; a peer with another version must refuse the
 * data, since bucket indices would mean other values):
 *   Each power of two [2^e, 2^(e+1)) is cut into 2^HIST_SUB_BITS = 128 equal
 *   buckets of width 2^(e-7) ns, as in HdrHistogram. Indices start at the
 *   bucket whose lower bound is HIST_LOWEST_NS (1000 ns) and end at the
 *   bucket holding HIST_HIGHEST_NS (60 s). For idx in [0, HIST_BUCKETS]:
 *     r = idx + 506                      (506: HdrHistogram index of 1000 ns)
 *     e = (r >> 7) + 6                   (the power of two)
 *     hist_bucket_low(idx) = ((r & 127) | 128) << (e - 7)
 *   and bucket idx holds [hist_bucket_low(idx), hist_bucket_low(idx + 1)).
 *   Bucket 0 also holds every value below 1000 ns and the last bucket every
 *   value above its upper end: such values are counted, never dropped, and
 *   min/max/sum still see them exactly.
 *
 * Error bound: a bucket's width is at most 1/128 of its lower bound, and a
 * percentile is reported as its bucket's midpoint, so it is within 1/256
 * (0.39 %) of the exact order statistic whenever that lies in 1 us .. 60 s.
 * Memory: HIST_BUCKETS 64-bit counters, about 26 KiB. */
#ifndef FB_HIST_H
#define FB_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_VERSION 1
#define HIST_SUB_BITS 7
#define HIST_LOWEST_NS 1000ULL
#define HIST_HIGHEST_NS 60000000000ULL
#define HIST_BUCKETS 3302u
/* Worst-case relative error of hist_percentile inside [LOWEST, HIGHEST]. */
#define HIST_MAX_REL_ERROR (1.0 / 256)

typedef struct hist_s hist_t;

/* NULL when out of memory. */
hist_t *hist_new(void);
/* Frees *h (NULL is fine) and nulls the caller's pointer. */
void hist_free(hist_t **h);
void hist_reset(hist_t *h);

/* O(1), no allocation: the hot path of every request. */
void hist_record(hist_t *h, uint64_t ns);
/* Adds src into dst. -1 (dst unchanged) if the total count would overflow. */
int hist_merge(hist_t *dst, const hist_t *src);

uint64_t hist_count(const hist_t *h);
/* Exact; 0 when empty. */
uint64_t hist_min(const hist_t *h);
uint64_t hist_max(const hist_t *h);
/* The sum of recorded values in ns, for the wire: 0, or -1 with *sum_ns =
 * UINT64_MAX if it needs more than 64 bits (584 years of latency: 51 h of
 * 100k connections). Kept in 128 bits inside, so merging a fleet's results
 * never overflows and hist_mean stays exact. */
int hist_sum(const hist_t *h, uint64_t *sum_ns);
/* sum / count; 0 when empty. */
double hist_mean(const hist_t *h);

/* p in [0, 100] (clamped; NaN counts as 0). With n values, rank
 * r = max(1, ceil(p / 100 * n)): the smallest recorded value v such that at
 * least p % of values are <= v is the r-th smallest. Returns the midpoint of
 * the bucket holding it, clamped to [min, max]; rank 1 and rank n return min
 * and max exactly. 0 when empty. */
uint64_t hist_percentile(const hist_t *h, double p);

/* The percentiles the outputs report, and their one name everywhere (the
 * JSON keys of agent run and of the coordinator, the report's table):
 * p50, p90, p99, p99.9. */
typedef struct {
    const char *name;
    double p;
} hist_pct_t;
#define HIST_NPCTS 4
extern const hist_pct_t hist_pcts[HIST_NPCTS];

/* Layout, for tests, exporters and decoders. */
size_t hist_bucket_count(void);
/* Lower bound (ns) of bucket idx; hist_bucket_low(HIST_BUCKETS) is the upper
 * end of the last bucket; UINT64_MAX beyond that. */
uint64_t hist_bucket_low(size_t idx);
/* The bucket hist_record would count ns in (clamped). */
size_t hist_bucket_index(uint64_t ns);

/* Sparse form for the wire: (index, count) pairs of the non-empty buckets in
 * increasing index order, then min, max and sum via hist_set_extremes. */
size_t hist_nonzero(const hist_t *h);
/* Writes at most cap pairs; returns the number written (less than
 * hist_nonzero when cap is too small). */
size_t hist_export(const hist_t *h, uint32_t *idx, uint64_t *cnt, size_t cap);
/* -1 (h unchanged) if idx >= HIST_BUCKETS or the total count would overflow.
 * Widens min/max to the bucket's bounds until hist_set_extremes gives the
 * exact ones, so a partly decoded histogram stays self-consistent. */
int hist_add_bucket(hist_t *h, uint32_t idx, uint64_t count);
/* Call after the last hist_add_bucket. -1 (h unchanged) unless the values
 * are consistent with the counts: min in the first and max in the last
 * non-empty bucket, and max + (n-1)*min <= sum <= min + (n-1)*max; an empty
 * histogram accepts only zeros. */
int hist_set_extremes(hist_t *h, uint64_t min, uint64_t max, uint64_t sum_ns);

#endif
