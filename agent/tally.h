/* tally: the counts of one thread's requests, by outcome, with their bytes,
 * new connections and latency histogram. Each thread (or event loop) fills
 * its own tally without locks; they are merged after the run. An open-loop
 * run (--rate) also keeps the service time and the lateness of every
 * request (tally_pace). */
#ifndef AGENT_TALLY_H
#define AGENT_TALLY_H

#include "hist.h"
#include "request.h"

#include <stdint.h>

struct tally_s {
    uint64_t count[REQ__COUNT]; /* count[REQ_OK] is the requests that passed */
    uint64_t bytes;             /* response headers + bodies, as curl counts them */
    uint64_t connects;          /* connections opened (CURLINFO_NUM_CONNECTS) */
    hist_t *latency;            /* ns to completion from req_start (closed loop) or, with
                                   --rate, from the request's due time (corrected) */
    /* With --rate only (tally_pace); NULL and 0 otherwise: */
    hist_t *service;  /* ns from the actual send to completion, every request sent */
    hist_t *lateness; /* ns from the due time to the actual send, every request sent */
    uint64_t expired; /* requests whose --timeout ran out before they could be sent */
    uint64_t last_ns; /* CLOCK_MONOTONIC of the last completion of a request sent */
};

/* -1 when out of memory. */
int tally_init(tally_t *t);
void tally_close(tally_t *t);
/* The service and lateness histograms of an open-loop run; -1 when out of
 * memory. Does nothing if they exist. */
int tally_pace(tally_t *t);
void tally_record(tally_t *t, req_outcome_t o, uint64_t latency_ns, uint64_t bytes,
                  uint64_t connects);
/* A request of an open-loop run (tally_pace done): due when it fell due,
 * sent when it was sent, done when it finished (CLOCK_MONOTONIC ns). */
void tally_record_paced(tally_t *t, req_outcome_t o, uint64_t due, uint64_t sent, uint64_t done,
                        uint64_t bytes, uint64_t connects);
/* A request never sent: its --timeout ran out while it waited for the
 * client. A timeout whose latency is that timeout (as for one sent); no
 * service time. */
void tally_record_expired(tally_t *t, uint64_t timeout_ns);
/* Adds src into dst (the open-loop parts when both have them). */
void tally_merge(tally_t *dst, const tally_t *src);
uint64_t tally_total(const tally_t *t);
uint64_t tally_failed(const tally_t *t);

#endif
