/* stats: the statistics hyperfine reports, as pure functions over arrays of
 * run times, so the terminal summary and every exporter agree to the bit.
 *
 * "No value" is NAN throughout (hyperfine's None): the σ of a single run, a
 * ratio's σ when either side has no σ, anything of an empty sample. */
#ifndef FB_STATS_H
#define FB_STATS_H

#include <stddef.h>

/* A modified Z-score above this marks an outlier: 1.4826 turns the MAD into
 * an estimate of σ, and 10 is the number of σ (hyperfine's constant). */
#define STATS_OUTLIER_THRESHOLD (1.4826 * 10.0)

typedef struct {
    size_t n;
    double mean, stddev, median, min, max; /* stddev: sample (n - 1) */
} stats_desc_t;

typedef struct {
    int slow_first; /* the first run's score is above the threshold */
    size_t count;   /* runs whose |score| is above the threshold */
} stats_outliers_t;

/* One benchmark against a reference, as hyperfine's relative speed: the
 * slower mean over the faster one, so ratio >= 1 unless a mean is zero. */
typedef struct {
    double ratio;
    double stddev; /* by error propagation, the two taken as independent */
    int order;     /* <0: faster than the reference, 0: same mean, >0: slower */
} stats_ratio_t;

double stats_mean(const double *x, size_t n);
double stats_stddev(const double *x, size_t n); /* NAN for n < 2 */
double stats_min(const double *x, size_t n);
double stats_max(const double *x, size_t n);
/* Sorts x in place, ascending (x holds no NAN). */
void stats_sort(double *x, size_t n);
/* Mean of the two middle values when n is even; NAN for n == 0. -1 and NAN
 * only when out of memory (a sorted copy is needed). */
int stats_median(const double *x, size_t n, double *median);
/* All of the above at once; n == 0 gives n = 0 and NANs. -1: out of memory. */
int stats_describe(const double *x, size_t n, stats_desc_t *d);

/* z[i] = (x[i] - median) / MAD, with MAD 0 taken as DBL_EPSILON so that a
 * single deviating value among equal ones still stands out. -1: out of memory. */
int stats_modified_zscores(const double *x, size_t n, double *z);
/* hyperfine's check: a slow first run is reported instead of outliers. */
int stats_outliers(const double *x, size_t n, stats_outliers_t *o);

/* mean/sd of one benchmark against ref_mean/ref_sd. is_ref: this benchmark
 * is the reference itself (decides the ratio when a mean is zero). */
stats_ratio_t stats_ratio(double mean, double sd, double ref_mean, double ref_sd, int is_ref);
/* Index of the fastest mean, the first one on ties; NAN means are skipped.
 * n when there is none. */
size_t stats_fastest(const double *means, size_t n);
/* idx[0..n) = 0..n-1 ordered by mean, ties in index order; NAN means last. */
void stats_order(const double *means, size_t n, size_t *idx);

#endif
