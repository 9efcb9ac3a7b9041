/* async-for: a for loop over the numbers adds one transfer per number to
 * one curl multi on one libuv loop, as the seed's for loop of create_task on
 * one aiohttp session; the loop runs whenever --in-flight transfers are
 * already out. With a rate, the same for loop hands request i to the loop
 * when it falls due (async_submit_paced): a uv timer wakes the loop, due
 * requests wait for a free handle beyond --in-flight. */
#include "async.h"
#include "strategy.h"

static int run(const run_params_t *p, run_result_t *r)
{
    async_t *a = async_new(p, &r->error);
    pace_t pace;
    int rc = 0;

    if (a == NULL) return -1;
    if (p->rate > 0) {
        pace_init(&pace, p, r);
        for (uint64_t i = 0; i < p->requests && rc == 0; i++)
            rc = async_submit_paced(a, &pace, i, NULL, &r->error);
    } else {
        for (uint64_t i = 0; i < p->requests && rc == 0; i++)
            rc = async_submit(a, i, NULL, &r->error);
    }
    if (rc == 0) rc = async_drain(a, &r->error);
    r->threads = 1;
    async_merge(a, &r->tally);
    async_free(&a);
    return rc;
}

const strategy_t strategy_async_for = {
    .name = "async-for",
    .run = run,
};
