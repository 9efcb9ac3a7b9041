/* tally: the counts of one thread's requests, by outcome, with their bytes,
 * new connections and latency histogram. Each thread (or event loop) fills
 * its own tally without locks; they are merged after the run. */
#ifndef AGENT_TALLY_H
#define AGENT_TALLY_H

#include "hist.h"
#include "request.h"

#include <stdint.h>

struct tally_s {
    uint64_t count[REQ__COUNT]; /* count[REQ_OK] is the requests that passed */
    uint64_t bytes;             /* response headers + bodies, as curl counts them */
    uint64_t connects;          /* connections opened (CURLINFO_NUM_CONNECTS) */
    hist_t *latency;            /* ns from req_start to completion, every request */
};

/* -1 when out of memory. */
int tally_init(tally_t *t);
void tally_close(tally_t *t);
void tally_record(tally_t *t, req_outcome_t o, uint64_t latency_ns, uint64_t bytes,
                  uint64_t connects);
/* Adds src into dst. */
void tally_merge(tally_t *dst, const tally_t *src);
uint64_t tally_total(const tally_t *t);
uint64_t tally_failed(const tally_t *t);

#endif
