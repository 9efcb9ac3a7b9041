#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double stats_mean(const double *x, size_t n)
{
    double sum = 0;

    if (n == 0) return NAN;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

double stats_stddev(const double *x, size_t n)
{
    double mean = stats_mean(x, n), ss = 0;

    if (n < 2) return NAN;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)(n - 1));
}

double stats_min(const double *x, size_t n)
{
    double m = n ? x[0] : NAN;

    for (size_t i = 1; i < n; i++)
        if (x[i] < m) m = x[i];
    return m;
}

double stats_max(const double *x, size_t n)
{
    double m = n ? x[0] : NAN;

    for (size_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void stats_sort(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
}

int stats_median(const double *x, size_t n, double *median)
{
    double *s;

    *median = NAN;
    if (n == 0) return 0;
    s = malloc(n * sizeof *s);
    if (s == NULL) return -1;
    memcpy(s, x, n * sizeof *s);
    stats_sort(s, n);
    *median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return 0;
}

int stats_describe(const double *x, size_t n, stats_desc_t *d)
{
    d->n = n;
    d->mean = stats_mean(x, n);
    d->stddev = stats_stddev(x, n);
    d->min = stats_min(x, n);
    d->max = stats_max(x, n);
    return stats_median(x, n, &d->median);
}

int stats_modified_zscores(const double *x, size_t n, double *z)
{
    double median, mad;

    if (n == 0) return 0;
    if (stats_median(x, n, &median) != 0) return -1;
    /* z doubles as the scratch array of absolute deviations */
    for (size_t i = 0; i < n; i++)
        z[i] = fabs(x[i] - median);
    if (stats_median(z, n, &mad) != 0) return -1;
    if (!(mad > 0)) mad = DBL_EPSILON;
    for (size_t i = 0; i < n; i++)
        z[i] = (x[i] - median) / mad;
    return 0;
}

int stats_outliers(const double *x, size_t n, stats_outliers_t *o)
{
    double *z;

    memset(o, 0, sizeof *o);
    if (n == 0) return 0;
    z = malloc(n * sizeof *z);
    if (z == NULL || stats_modified_zscores(x, n, z) != 0) {
        free(z);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (fabs(z[i]) > STATS_OUTLIER_THRESHOLD) o->count++;
    /* only a slow first run counts as "first": a fast one is a plain outlier */
    o->slow_first = z[0] > STATS_OUTLIER_THRESHOLD;
    free(z);
    return 0;
}

stats_ratio_t stats_ratio(double mean, double sd, double ref_mean, double ref_sd, int is_ref)
{
    stats_ratio_t r;

    r.order = (mean > ref_mean) - (mean < ref_mean);
    r.stddev = NAN;
    if (mean == 0 || ref_mean == 0) {
        r.ratio = is_ref ? 1.0 : INFINITY;
        return r;
    }
    r.ratio = r.order < 0 ? ref_mean / mean : r.order > 0 ? mean / ref_mean : 1.0;
    if (!isnan(sd) && !isnan(ref_sd))
        r.stddev =
            r.ratio * sqrt((sd / mean) * (sd / mean) + (ref_sd / ref_mean) * (ref_sd / ref_mean));
    return r;
}

size_t stats_fastest(const double *means, size_t n)
{
    size_t best = n;

    for (size_t i = 0; i < n; i++)
        if (!isnan(means[i]) && (best == n || means[i] < means[best])) best = i;
    return best;
}

/* a goes after b: NAN last, then by mean; equal means keep index order */
static int after(double a, double b)
{
    if (isnan(a)) return !isnan(b) ? 1 : 0;
    return !isnan(b) && a > b;
}

void stats_order(const double *means, size_t n, size_t *idx)
{
    /* insertion sort: stable, and a matrix has at most a few hundred rows */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && after(means[idx[j - 1]], means[i])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}
