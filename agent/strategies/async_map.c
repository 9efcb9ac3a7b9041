/* async-map: the transfers of async-for, but first made all at once by
 * mapping a constructor over the numbers (the seed's map(create_task,
 * range(N))), then handed to the same loop. Kept for parity: the only
 * difference is that every request exists, URL built, before the first one
 * starts. */
#include "async.h"
#include "request.h"
#include "strategy.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t number;
    const char *url;
} transfer_t;

/* The constructor; url points into storage sized for it. */
static transfer_t make_transfer(uint64_t number, char *storage, size_t cap, const char *base)
{
    req_url(storage, cap, base, number);
    return (transfer_t){number, storage};
}

static int run(const run_params_t *p, run_result_t *r)
{
    size_t stride = strlen(p->base_url) + 21; /* the base, 20 digits, NUL */
    transfer_t *ts = calloc(p->requests, sizeof *ts);
    char *urls = calloc(p->requests, stride);
    async_t *a = NULL;
    int rc = -1;

    if (ts == NULL || urls == NULL) {
        snprintf(r->err, RUN_ERR_LEN, "out of memory for %llu transfers",
                 (unsigned long long)p->requests);
        goto out;
    }
    for (uint64_t i = 0; i < p->requests; i++)
        ts[i] = make_transfer(i, urls + i * stride, stride, p->base_url);
    if ((a = async_new(p, r->err)) == NULL) goto out;
    rc = 0;
    for (uint64_t i = 0; i < p->requests && rc == 0; i++)
        rc = async_submit(a, ts[i].number, ts[i].url, r->err);
    if (rc == 0) rc = async_drain(a, r->err);
    r->threads = 1;
    async_merge(a, &r->tally);
    async_free(&a);
out:
    free(ts);
    free(urls);
    return rc;
}

const strategy_t strategy_async_map = {
    .name = "async-map",
    .run = run,
};
