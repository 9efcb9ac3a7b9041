/* tview: the target's own view of a run — its GET /stats (a fleetbench
 * target-server's counters, README.md) read before and after, and the
 * difference as the wire's proto_stats_t. A target without the endpoint (a
 * 404, or a document that is not fleetbench's) is PROTO_VIEW_NONE: it is
 * measured as any other, without this. */
#ifndef AGENT_TVIEW_H
#define AGENT_TVIEW_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

#define TVIEW_MAX_LOOPS 256

typedef struct {
    uint64_t now_ns, requests, codes[5], dropped, connections, cpu_ns;
    uint32_t loops, cores;
    uint64_t busy_ns[TVIEW_MAX_LOOPS];
} tview_snap_t;

/* Parses a /stats document. PROTO_VIEW_OK, or PROTO_VIEW_NONE when it is
 * not fleetbench's (detail says why). */
int tview_parse(const char *body, size_t len, tview_snap_t *s, char *detail, size_t dlen);
/* GET http://host:port/stats within timeout_ms: PROTO_VIEW_OK, _NONE (a 404
 * or another document) or _UNREACHABLE, with detail. */
int tview_read(const char *host, int port, uint32_t timeout_ms, tview_snap_t *s, char *detail,
               size_t dlen);
/* after - before into out (its counts; status OK). A snapshot pair that does
 * not fit (another server restarted in between) is PROTO_VIEW_UNREACHABLE. */
void tview_delta(const tview_snap_t *before, const tview_snap_t *after, proto_stats_t *out);

#endif
