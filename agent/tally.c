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
}

void tally_record(tally_t *t, req_outcome_t o, uint64_t latency_ns, uint64_t bytes,
                  uint64_t connects)
{
    t->count[o]++;
    t->bytes += bytes;
    t->connects += connects;
    hist_record(t->latency, latency_ns);
}

void tally_merge(tally_t *dst, const tally_t *src)
{
    for (int o = 0; o < REQ__COUNT; o++)
        dst->count[o] += src->count[o];
    dst->bytes += src->bytes;
    dst->connects += src->connects;
    hist_merge(dst->latency, src->latency); /* overflows only past 2^64 requests */
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
