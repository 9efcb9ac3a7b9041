/* meter: what the server counts about its own work, served as JSON at
 * GET /stats so that a benchmark can check what it measured against what
 * the target saw (docs/target-server.md describes the document).
 *
 * Each worker owns a meter_t and is its only writer: an increment is a
 * relaxed load and store (a plain add on common CPUs, no locked
 * instruction), so counting costs the hot path nothing measurable; readers
 * on other threads see each counter whole. GET /stats itself is not counted
 * anywhere, so reading the counters does not change them. */
#ifndef TS_METER_H
#define TS_METER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METER_STATUS_MIN 100
#define METER_STATUS_MAX 599
#define METER_MAX_LOOPS 256 /* as --threads' limit */

typedef struct {
    /* requests answered, by status (index: status - METER_STATUS_MIN) */
    _Atomic uint64_t status[METER_STATUS_MAX - METER_STATUS_MIN + 1];
    _Atomic uint64_t dropped;     /* requests never answered: fault close, stall */
    _Atomic uint64_t connections; /* connections that carried a counted request */
} meter_t;

/* Everything /stats says, gathered from every worker at one moment. */
typedef struct {
    uint64_t now_ns;    /* CLOCK_MONOTONIC */
    uint64_t uptime_ns; /* since the server started */
    uint64_t cpu_ns;    /* the process's CPU time, user + system */
    uint64_t status[METER_STATUS_MAX - METER_STATUS_MIN + 1];
    uint64_t dropped, connections;
    unsigned loops, cores;
    uint64_t busy_ns[METER_MAX_LOOPS]; /* per event loop: time not waiting for events */
} meter_snapshot_t;

void meter_init(meter_t *m);

/* The worker's own thread only. */
static inline void meter_bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline void meter_status(meter_t *m, int status)
{
    if (status < METER_STATUS_MIN || status > METER_STATUS_MAX) status = 500;
    meter_bump(&m->status[status - METER_STATUS_MIN]);
}

/* Adds m's counters to s (any thread). */
void meter_add(meter_snapshot_t *s, const meter_t *m);
/* Requests counted in s: every status, and the dropped ones. */
uint64_t meter_requests(const meter_snapshot_t *s);
/* The /stats document; its length, or 0 when it does not fit in cap. */
size_t meter_json(const meter_snapshot_t *s, char *buf, size_t cap);

#endif
