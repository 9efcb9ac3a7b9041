/* export_hdr: --export-hdr FILE, each benchmark's latency histogram (in
 * rate mode: corrected, from the due times) as HdrHistogram's percentile
 * distribution in ms (hist_write_hdr_percentiles), the text HdrHistogram's
 * plotters read: one distribution per file, so one file per benchmark. */
#ifndef CO_EXPORT_HDR_H
#define CO_EXPORT_HDR_H

#include "bench.h"
#include "fb_err.h"

#include <stddef.h>

/* Benchmark i's file (numbered i + 1 as in the summary) of n: path itself
 * when n is 1, else path with ".N-STRATEGY" before the extension of its
 * last component ("lat.hgrm": "lat.2-threads-reuse.hgrm"; no extension: at
 * the end). -1 if it does not fit in len. */
int export_hdr_path(char *out, size_t len, const char *path, size_t i, size_t n,
                    const char *strategy);
/* Writes the file of every benchmark of set with a measured request (as
 * outfile.h writes files: a regular file replaced atomically). -1 with err
 * naming the file. */
int export_hdr(const char *path, const bench_set_t *set, fb_err_t *err);

#endif
