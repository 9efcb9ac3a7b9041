/* report: --report FILE.html, one self-contained page that a person reads
 * at a glance: hyperfine's summary table and comparison, then charts drawn
 * as inline SVG — time per benchmark (box and whiskers), latency
 * percentiles from the merged histograms (HdrHistogram's plot), per-agent
 * mean times when there are several agents — and the agents' host facts.
 *
 * No script, no fonts, no images, no URL: the styles and charts are inline,
 * so the file can be mailed, archived or opened offline, and it cannot load
 * anything. Every string that came from outside (commands, the agents'
 * facts, the target) is HTML-escaped. The page is written as the exports
 * are (export_write with EXPORT_HTML: atomically, after every benchmark). */
#ifndef FB_REPORT_H
#define FB_REPORT_H

#include "bench.h"
#include "fb_err.h"

#include <stdio.h>

/* Renders the whole set to out; -1 with a message in err (out of memory,
 * a write error). An empty set gives a page that says so. */
int report_html(FILE *out, const bench_set_t *set, fb_err_t *err);

#endif
