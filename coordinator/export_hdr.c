#include "export_hdr.h"

#include "outfile.h"

#include <stdio.h>
#include <string.h>

int export_hdr_path(char *out, size_t len, const char *path, size_t i, size_t n,
                    const char *strategy)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    int w;

    if (n == 1)
        w = snprintf(out, len, "%s", path);
    else if (dot == NULL || dot == (slash ? slash + 1 : path)) /* none, or a dot file */
        w = snprintf(out, len, "%s.%zu-%s", path, i + 1, strategy);
    else
        w = snprintf(out, len, "%.*s.%zu-%s%s", (int)(dot - path), path, i + 1, strategy, dot);
    return w >= 0 && (size_t)w < len ? 0 : -1;
}

int export_hdr(const char *path, const bench_set_t *set, fb_err_t *err)
{
    char name[OUTFILE_PATH_LEN];

    for (size_t i = 0; i < set->nbench; i++) {
        const bench_t *b = set->benches[i];
        outfile_t o;
        if (hist_count(b->latency) == 0) continue; /* no measured run */
        if (export_hdr_path(name, sizeof name, path, i, set->nbench, b->params.strategy) != 0) {
            fb_err_set(err, "--export-hdr %.300s: name too long", path);
            return -1;
        }
        if (outfile_open(&o, name, err) != 0) {
            fb_err_prefix(err, "--export-hdr ");
            return -1;
        }
        /* ms with 3 decimals, as agent run --export-hdr and wrk2 */
        if (hist_write_hdr_percentiles(o.f, b->latency, 1e6, 3) != 0) {
            outfile_abort(&o);
            fb_err_set(err, "--export-hdr %.300s: write failed", name);
            return -1;
        }
        if (outfile_commit(&o, err) != 0) {
            fb_err_prefix(err, "--export-hdr ");
            return -1;
        }
    }
    return 0;
}
