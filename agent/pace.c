#include "pace.h"

#include "clock.h"

#include <time.h>

void pace_init(pace_t *s, const run_params_t *p, run_result_t *r)
{
    s->start_ns = clock_now_ns();
    s->rate = p->rate;
    s->timeout_ns = p->timeout_ms * 1000000u;
    r->pace_start_ns = s->start_ns;
}

uint64_t pace_due(const pace_t *s, uint64_t i)
{
    /* one rounding per request, none accumulated: i / R in ns */
    return s->start_ns + (uint64_t)((double)i * 1e9 / s->rate);
}

int pace_sleep_until(uint64_t due_ns)
{
    for (;;) {
        uint64_t now, until;
        struct timespec ts;

        if (run_aborted()) return -1;
        now = clock_now_ns();
        if (now >= due_ns) return 0;
        until = due_ns - now > PACE_SLICE_NS ? now + PACE_SLICE_NS : due_ns;
        ts.tv_sec = (time_t)(until / 1000000000u);
        ts.tv_nsec = (long)(until % 1000000000u);
        /* absolute: an interrupted sleep (EINTR) simply goes round again */
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

int pace_expire(const pace_t *s, uint64_t due_ns, uint64_t now, tally_t *t)
{
    if (now < due_ns + s->timeout_ns) return 0;
    /* noticed late maybe (a thread got to it only now), but it timed out
     * at due + timeout, as a request sent would have */
    tally_record_expired(t, s->timeout_ns);
    return 1;
}

void pace_perform(const pace_t *s, req_t *r, uint64_t number, tally_t *t)
{
    uint64_t due = pace_due(s, number);

    if (pace_sleep_until(due) != 0) return; /* aborted: not made, not counted */
    if (pace_expire(s, due, clock_now_ns(), t)) return;
    req_start_due(r, number, NULL, due, s->timeout_ns / 1000000u);
    req_finish(r, curl_easy_perform(r->easy), t);
}
