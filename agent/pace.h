/* pace: the schedule of an open-loop run (--rate R --duration S). Request i
 * falls due at start + i / R whatever the target does, as in wrk2; each
 * strategy decides how its threads or its loop meet the schedule, and a
 * request's latency counts from its due time, so that a stalled target
 * shows in full (no coordinated omission). A request's --timeout also
 * counts from its due time, so a run ends by S + --timeout: one that could
 * not be sent before then is never sent and counts as a timeout. */
#ifndef AGENT_PACE_H
#define AGENT_PACE_H

#include "request.h"
#include "run.h"
#include "tally.h"

#include <stdint.h>

/* The longest a waiting strategy sleeps between two looks at run_aborted. */
#define PACE_SLICE_NS 50000000u

typedef struct {
    uint64_t start_ns; /* when request 0 falls due */
    double rate;       /* requests per second */
    uint64_t timeout_ns;
} pace_t;

/* Starts the schedule now, once the strategy is ready to send, and notes
 * the start in r. */
void pace_init(pace_t *s, const run_params_t *p, run_result_t *r);
/* When request i falls due (CLOCK_MONOTONIC ns). */
uint64_t pace_due(const pace_t *s, uint64_t i);
/* Sleeps until due_ns; wakes at least every 50 ms to see run_abort_set.
 * -1 if the run was aborted. */
int pace_sleep_until(uint64_t due_ns);
/* 1 if the request due at due_ns can no longer be sent at now (its timeout
 * ran out while it waited for the client): then it is counted in t. */
int pace_expire(const pace_t *s, uint64_t due_ns, uint64_t now, tally_t *t);
/* For the threaded strategies: sleeps until request number is due, then
 * makes it on r and counts it in t (or counts it expired). Nothing is made
 * or counted once the run is aborted. */
void pace_perform(const pace_t *s, req_t *r, uint64_t number, tally_t *t);

#endif
