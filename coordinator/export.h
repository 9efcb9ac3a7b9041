/* export: --export-json, --export-markdown and --export-csv, each in
 * hyperfine's format so that the tools people already point at hyperfine's
 * files read ours unchanged.
 *
 * JSON is hyperfine's schema key for key (times in seconds; "stddev" null
 * for one run; "parameters" only when there are some), with fleetbench's own
 * data under one extra "fleetbench" key per result and one at top level.
 *
 * "parameters" holds, as in hyperfine, the dimensions that were scanned: a
 * matrix dimension (strategy, requests, chunk, connections) appears when it
 * takes more than one value in the set, and only in the results it applies
 * to. So `-r 100,1000,10000` on one strategy gives {"requests": "…"} alone,
 * which is what hyperfine's plot_parametrized.py needs. Every result's full
 * set of values is in its "fleetbench" key, as numbers. */
#ifndef FB_EXPORT_H
#define FB_EXPORT_H

#include "bench.h"
#include "fb_err.h"

#include <stdio.h>

#define EXPORT_MAX_PARAMS 12 /* 4 dimensions of the strategies, 8 -L lists of commands */

typedef enum {
    EXPORT_JSON,
    EXPORT_MARKDOWN,
    EXPORT_CSV,
    EXPORT_HTML, /* --report: report.h's page */
    EXPORT__COUNT
} export_format_t;

typedef struct {
    const char *name; /* "chunk", "connections", "requests", "strategy" */
    char value[BENCH_STR];
} export_param_t;

/* Each renders the whole set to out; -1 with a message in err (out of
 * memory, a write error). */
int export_json(FILE *out, const bench_set_t *set, fb_err_t *err);
int export_markdown(FILE *out, const bench_set_t *set, fb_err_t *err);
int export_csv(FILE *out, const bench_set_t *set, fb_err_t *err);

/* Renders the set to path as outfile.h writes files: a regular file is
 * replaced atomically (a reader or a crash sees the previous file or the new
 * one, never half of one), so it is safe to call after every benchmark, as
 * hyperfine does; a device, FIFO or /dev/stdout is written in place. err
 * names the file; every write, sync and close error is one. */
int export_write(const char *path, export_format_t fmt, const bench_set_t *set, fb_err_t *err);

/* The scanned dimensions' names and the commands' -L names, in name order
 * (hyperfine's map order): the CSV's parameter columns. Returns how many (at most
 * EXPORT_MAX_PARAMS). */
size_t export_param_names(const bench_set_t *set, const char **names);
/* benches[i]'s parameters, in the same order; those that do not apply to it
 * are left out. */
size_t export_params(const bench_set_t *set, size_t i, export_param_t *p);

#endif
