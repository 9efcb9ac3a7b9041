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
    if (b->params.is_command) return 0;
    snprintf(buf, len, "%" PRIu64, b->params.requests);
    return 1;
}

static int get_strategy(const bench_t *b, char *buf, size_t len)
{
    if (b->params.is_command) return 0;
    snprintf(buf, len, "%s", b->params.strategy);
    return 1;
}

/* In name order, as hyperfine's BTreeMap writes them. */
#define K_NDIMS 4
static const struct {
    const char *name;
    dim_get_t get;
} k_dims[K_NDIMS] = {
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

/* Adds name to the sorted names[] (n so far) unless it is there. */
static void name_add(const char **names, size_t *n, const char *name)
{
    size_t at = *n;

    for (size_t k = 0; k < *n; k++)
        if (strcmp(names[k], name) == 0) return;
    if (*n == EXPORT_MAX_PARAMS) return;
    while (at > 0 && strcmp(names[at - 1], name) > 0) {
        names[at] = names[at - 1];
        at--;
    }
    names[at] = name;
    (*n)++;
}

size_t export_param_names(const bench_set_t *set, const char **names)
{
    size_t n = 0;

    for (int d = 0; d < K_NDIMS; d++)
        if (dim_scanned(set, d)) names[n++] = k_dims[d].name;
    for (size_t i = 0; i < set->nbench; i++) /* commands' -L lists */
        for (size_t k = 0; k < set->benches[i]->params.nparams; k++)
            name_add(names, &n, set->benches[i]->params.param_name[k]);
    return n;
}

size_t export_params(const bench_set_t *set, size_t i, export_param_t *p)
{
    const bench_params_t *bp = &set->benches[i]->params;
    size_t n = 0;

    if (bp->is_command) { /* its -L values, in name order as hyperfine's map */
        for (size_t k = 0; k < bp->nparams && n < EXPORT_MAX_PARAMS; k++) {
            size_t at = n;
            while (at > 0 && strcmp(p[at - 1].name, bp->param_name[k]) > 0) {
                p[at] = p[at - 1];
                at--;
            }
            p[at].name = bp->param_name[k];
            snprintf(p[at].value, sizeof p[at].value, "%s", bp->param_value[k]);
            n++;
        }
        return n;
    }

    for (int d = 0; d < K_NDIMS; d++) {
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
