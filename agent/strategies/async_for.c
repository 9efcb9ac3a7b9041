/* async-for: a for loop over the numbers adds one transfer per number to
 * one curl multi on one libuv loop, as the seed's for loop of create_task on
 * one aiohttp session; the loop runs whenever --in-flight transfers are
 * already out. */
#include "async.h"
#include "strategy.h"

static int run(const run_params_t *p, run_result_t *r)
{
    async_t *a = async_new(p, r->err);
    int rc = 0;

    if (a == NULL) return -1;
    for (uint64_t i = 0; i < p->requests && rc == 0; i++)
        rc = async_submit(a, i, NULL, r->err);
    if (rc == 0) rc = async_drain(a, r->err);
    r->threads = 1;
    async_merge(a, &r->tally);
    async_free(&a);
    return rc;
}

const strategy_t strategy_async_for = {
    .name = "async-for",
    .run = run,
};
