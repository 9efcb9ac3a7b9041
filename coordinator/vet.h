/* vet: an agent's RESULT checked against what was asked before it counts.
 * Nothing an agent says is trusted: a result that does not fit the plan
 * (another run, counts that do not add up to the requests, times out of
 * range, sums that could wrap, a histogram that does not match its counts)
 * is refused with a sentence saying why, and the run is lost for that agent. */
#ifndef CO_VET_H
#define CO_VET_H

#include "fb_err.h"
#include "hist.h"
#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes per request that is sane for GET /multiply: a target streaming more
 * fails the request anyway (the body buffer overflows), and the bound keeps
 * every sum of bytes over a matrix far below 2^63. */
#define VET_MAX_BYTES_PER_REQUEST (1ull << 20)
/* CPU time beyond wall x cores that rusage's accounting may still show. */
#define VET_CPU_SLACK_NS 100000000ull

typedef struct {
    proto_step_t step;   /* the bench, run and warmup asked for */
    uint64_t requests;   /* of that benchmark, from the plan */
    int command;         /* the benchmark is a command: no requests of the agent's */
    uint64_t timeout_ns; /* the run timeout: a run lasts longer only if it lies */
    uint32_t cores;      /* the agent's, from its WELCOME */
    /* the window the run must lie in, on the agent's clock: it started at
     * or after start_lo (GO sent) and ended by end_hi (RESULT received) */
    uint64_t start_lo, end_hi;
    /* open loop (--rate): the schedule's length; 0 for a closed-loop run,
     * whose open-loop fields must then all be 0 */
    uint64_t duration_ns;
} vet_expect_t;

/* 0 if res fits e; its latency histogram is then in lat (reset first).
 * -1 with why ("ok 10000000 + failed 0 != 20 requests"); lat is then
 * unspecified. */
int vet_result(const vet_expect_t *e, const proto_result_t *res, hist_t *lat, fb_err_t *why);
/* The service-time histogram of a result vet_result accepted, into svc
 * (reset first). -1 if it does not load (never, once vetted). */
int vet_service(const proto_result_t *res, hist_t *svc);

#endif
