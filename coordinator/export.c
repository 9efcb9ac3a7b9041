#include "export.h"

#include "outfile.h"
#include "report.h"

#include <inttypes.h>
#include <string.h>

/* A matrix dimension's value for one benchmark; 0 when it does not apply. */
typedef int (*dim_get_t)(const bench_t *b, char *buf, size_t len);

static int get_chunk(const bench_t *b, char *buf, size_t len)
{
    if (!b->params.uses_chunk) return 0;
    snprintf(buf, len, "%" PRIu64, b->params.chunk);
    return 1;
}

static int get_connections(const bench_t *b, char *buf, size_t len)
{
    if (!b->params.uses_connections) return 0;
    snprintf(buf, len, "%" PRIu64, b->params.connections);
    return 1;
}

static int get_requests(const bench_t *b, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, b->params.requests);
    return 1;
}

static int get_strategy(const bench_t *b, char *buf, size_t len)
{
    snprintf(buf, len, "%s", b->params.strategy);
    return 1;
}

/* In name order, as hyperfine's BTreeMap writes them. */
static const struct {
    const char *name;
    dim_get_t get;
} k_dims[EXPORT_MAX_PARAMS] = {
    {"chunk", get_chunk},
    {"connections", get_connections},
    {"requests", get_requests},
    {"strategy", get_strategy},
};

/* Scanned: two benchmarks it applies to disagree on its value. */
static int dim_scanned(const bench_set_t *set, int d)
{
    char first[BENCH_STR], v[BENCH_STR];
    int seen = 0;

    for (size_t i = 0; i < set->nbench; i++) {
        if (!k_dims[d].get(set->benches[i], v, sizeof v)) continue;
        if (!seen) {
            memcpy(first, v, sizeof v);
            seen = 1;
        } else if (strcmp(first, v) != 0) {
            return 1;
        }
    }
    return 0;
}

size_t export_param_names(const bench_set_t *set, const char **names)
{
    size_t n = 0;

    for (int d = 0; d < EXPORT_MAX_PARAMS; d++)
        if (dim_scanned(set, d)) names[n++] = k_dims[d].name;
    return n;
}

size_t export_params(const bench_set_t *set, size_t i, export_param_t *p)
{
    size_t n = 0;

    for (int d = 0; d < EXPORT_MAX_PARAMS; d++) {
        if (!dim_scanned(set, d)) continue;
        if (!k_dims[d].get(set->benches[i], p[n].value, sizeof p[n].value)) continue;
        p[n++].name = k_dims[d].name;
    }
    return n;
}

typedef int (*writer_t)(FILE *out, const bench_set_t *set, fb_err_t *err);

static const writer_t k_writers[EXPORT__COUNT] = {export_json, export_markdown, export_csv,
                                                  report_html};

int export_write(const char *path, export_format_t fmt, const bench_set_t *set, fb_err_t *err)
{
    fb_err_t inner = {""};
    outfile_t o;

    if ((unsigned)fmt >= EXPORT__COUNT) {
        fb_err_set(err, "%s: unknown export format %d", path, (int)fmt);
        return -1;
    }
    if (outfile_open(&o, path, err) != 0) return -1;
    if (k_writers[fmt](o.f, set, &inner) != 0) {
        outfile_abort(&o);
        fb_err_set(err, "%.200s: %.300s", path, inner.msg);
        return -1;
    }
    return outfile_commit(&o, err);
}
