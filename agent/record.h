/* record: what a run measured, for people (one line) and for programs (a
 * JSON record with every count, the CPU times and the latency histogram). */
#ifndef AGENT_RECORD_H
#define AGENT_RECORD_H

#include "run.h"
#include "strategy.h"

#include <jansson.h>
#include <stdio.h>

/* "async-for N=1000 C=100: 0.0523 s, 19120 req/s, ok 1000, failed 0,
 * latency p50 1.02 ms p99 3.10 ms" and a newline. */
void record_line(FILE *out, const strategy_t *s, const run_params_t *p, const run_result_t *r);
/* An open-loop run: what its achieved rate (requests sent and finished per
 * second) counts over: the schedule's S seconds or, when the last request
 * finished later, until then. The daemon sends it to the coordinator. */
uint64_t record_pace_span_ns(const run_params_t *p, const run_result_t *r);
/* The full record (see agent/README.md); NULL when out of memory. */
json_t *record_json(const strategy_t *s, const run_params_t *p, const run_result_t *r);

#endif
