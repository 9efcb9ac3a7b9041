#include "vet.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int refuse(fb_err_t *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(fb_err_t *why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fb_err_vset(why, fmt, ap);
    va_end(ap);
    return -1;
}

static int vet_step(const vet_expect_t *e, const proto_result_t *r, fb_err_t *why)
{
    if (r->bench == e->step.bench && r->run == e->step.run && r->warmup == e->step.warmup) return 0;
    return refuse(why, "it is run %" PRIu32 "%s of benchmark %" PRIu32 ", not the one asked",
                  r->run, r->warmup ? " (warmup)" : "", r->bench);
}

static int vet_counts(const vet_expect_t *e, const proto_result_t *r, fb_err_t *why)
{
    uint64_t failed = 0;

    for (int c = 0; c < PROTO_FAIL__COUNT; c++)
        if (__builtin_add_overflow(failed, r->failed[c], &failed))
            return refuse(why, "failure counts overflow");
    if (r->ok > e->requests || failed != e->requests - r->ok)
        return refuse(why, "ok %" PRIu64 " + failed %" PRIu64 " != %" PRIu64 " requests", r->ok,
                      failed, e->requests);
    if (r->connections > e->requests)
        return refuse(why, "%" PRIu64 " connections for %" PRIu64 " requests", r->connections,
                      e->requests);
    if (r->bytes > e->requests * VET_MAX_BYTES_PER_REQUEST)
        return refuse(why, "%" PRIu64 " bytes for %" PRIu64 " requests (at most %llu each)",
                      r->bytes, e->requests, VET_MAX_BYTES_PER_REQUEST);
    return 0;
}

static int vet_times(const vet_expect_t *e, const proto_result_t *r, fb_err_t *why)
{
    uint64_t cpu, cap, end;

    if (r->wall_ns == 0 || r->wall_ns > e->timeout_ns)
        return refuse(why, "wall time %" PRIu64 " ns is not in 1 .. %" PRIu64 " (the run timeout)",
                      r->wall_ns, e->timeout_ns);
    /* every thread of the agent busy for the whole run, and a little more */
    if (__builtin_add_overflow(r->user_ns, r->sys_ns, &cpu) ||
        __builtin_mul_overflow(r->wall_ns + VET_CPU_SLACK_NS, (uint64_t)e->cores, &cap) ||
        cpu > cap)
        return refuse(why,
                      "CPU time user %" PRIu64 " + sys %" PRIu64 " ns is more than %" PRIu32
                      " cores can spend in %" PRIu64 " ns",
                      r->user_ns, r->sys_ns, e->cores, r->wall_ns);
    if (r->start_ns < e->start_lo || __builtin_add_overflow(r->start_ns, r->wall_ns, &end) ||
        end > e->end_hi)
        return refuse(why,
                      "start %" PRIu64 " + wall %" PRIu64 " ns is outside the run's window %" PRIu64
                      " .. %" PRIu64 " on the agent's clock",
                      r->start_ns, r->wall_ns, e->start_lo, e->end_hi);
    return 0;
}

/* The histogram, rebuilt: indices in order and in range, counts adding up
 * to the requests without wrapping, min/max/sum consistent with them. */
static int vet_latency(const vet_expect_t *e, const proto_result_t *r, hist_t *lat, fb_err_t *why)
{
    uint64_t total = 0;

    hist_reset(lat);
    for (uint32_t i = 0; i < r->nbuckets; i++) {
        if (i > 0 && r->bucket_idx[i] <= r->bucket_idx[i - 1])
            return refuse(why, "latency buckets out of order at %" PRIu32, r->bucket_idx[i]);
        if (__builtin_add_overflow(total, r->bucket_cnt[i], &total) ||
            hist_add_bucket(lat, r->bucket_idx[i], r->bucket_cnt[i]) != 0)
            return refuse(why, "latency bucket %" PRIu32 " (count %" PRIu64 ") out of range",
                          r->bucket_idx[i], r->bucket_cnt[i]);
    }
    if (total != e->requests)
        return refuse(why, "latency histogram counts %" PRIu64 " requests, not %" PRIu64, total,
                      e->requests);
    if (r->lat_max > r->wall_ns || hist_set_extremes(lat, r->lat_min, r->lat_max, r->lat_sum) != 0)
        return refuse(why,
                      "latency min %" PRIu64 ", max %" PRIu64 ", sum %" PRIu64
                      " ns do not fit its histogram and wall time",
                      r->lat_min, r->lat_max, r->lat_sum);
    return 0;
}

/* A command's run: a process the agent timed, no requests it made. So no
 * count, byte or latency may come with it; a strategy's run has no exit
 * code. */
static int vet_kind(const vet_expect_t *e, const proto_result_t *r, hist_t *lat, fb_err_t *why)
{
    uint64_t any = r->ok | r->bytes | r->connections | r->lat_min | r->lat_max | r->lat_sum;

    if (!e->command)
        return r->exit_code == 0
                   ? 0
                   : refuse(why, "exit code %" PRIu32 " from a strategy's run", r->exit_code);
    for (int c = 0; c < PROTO_FAIL__COUNT; c++)
        any |= r->failed[c];
    if (any != 0 || r->nbuckets != 0)
        return refuse(why, "request counts or latencies from a command's run");
    hist_reset(lat);
    return 0;
}

int vet_result(const vet_expect_t *e, const proto_result_t *res, hist_t *lat, fb_err_t *why)
{
    if (vet_step(e, res, why) != 0 || vet_kind(e, res, lat, why) != 0) return -1;
    if (e->command) return vet_times(e, res, why);
    if (vet_counts(e, res, why) != 0 || vet_times(e, res, why) != 0 ||
        vet_latency(e, res, lat, why) != 0)
        return -1;
    return 0;
}
