#include "tally.h"

#include <string.h>

int tally_init(tally_t *t)
{
    memset(t, 0, sizeof *t);
    t->latency = hist_new();
    return t->latency ? 0 : -1;
}

void tally_close(tally_t *t)
{
    hist_free(&t->latency);
    hist_free(&t->service);
    hist_free(&t->lateness);
}

int tally_pace(tally_t *t)
{
    if (t->service == NULL) t->service = hist_new();
    if (t->lateness == NULL) t->lateness = hist_new();
    return t->service && t->lateness ? 0 : -1;
}

void tally_record(tally_t *t, req_outcome_t o, uint64_t latency_ns, uint64_t bytes,
                  uint64_t connects)
{
    t->count[o]++;
    t->bytes += bytes;
    t->connects += connects;
    hist_record(t->latency, latency_ns);
}

void tally_record_paced(tally_t *t, req_outcome_t o, uint64_t due, uint64_t sent, uint64_t done,
                        uint64_t bytes, uint64_t connects)
{
    tally_record(t, o, done - due, bytes, connects);
    hist_record(t->service, done - sent);
    hist_record(t->lateness, sent > due ? sent - due : 0);
    if (done > t->last_ns) t->last_ns = done;
}

void tally_record_expired(tally_t *t, uint64_t timeout_ns)
{
    tally_record(t, REQ_TIMEOUT, timeout_ns, 0, 0);
    t->expired++;
}

void tally_merge(tally_t *dst, const tally_t *src)
{
    for (int o = 0; o < REQ__COUNT; o++)
        dst->count[o] += src->count[o];
    dst->bytes += src->bytes;
    dst->connects += src->connects;
    hist_merge(dst->latency, src->latency); /* overflows only past 2^64 requests */
    if (dst->service && src->service) hist_merge(dst->service, src->service);
    if (dst->lateness && src->lateness) hist_merge(dst->lateness, src->lateness);
    dst->expired += src->expired;
    if (src->last_ns > dst->last_ns) dst->last_ns = src->last_ns;
}

uint64_t tally_total(const tally_t *t)
{
    uint64_t n = 0;

    for (int o = 0; o < REQ__COUNT; o++)
        n += t->count[o];
    return n;
}

uint64_t tally_failed(const tally_t *t)
{
    return tally_total(t) - t->count[REQ_OK];
}
