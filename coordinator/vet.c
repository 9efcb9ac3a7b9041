#include "vet.h"

#include "cause.h"

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

/* The sparse buckets into h, then the extremes: -1 if they do not fit. */
static int load_hist(hist_t *h, uint32_t n, const uint32_t *idx, const uint64_t *cnt, uint64_t min,
                     uint64_t max, uint64_t sum, uint64_t *total)
{
    hist_reset(h);
    *total = 0;
    for (uint32_t i = 0; i < n; i++)
        if ((i > 0 && idx[i] <= idx[i - 1]) || __builtin_add_overflow(*total, cnt[i], total) ||
            hist_add_bucket(h, idx[i], cnt[i]) != 0)
            return -1;
    return hist_set_extremes(h, min, max, sum);
}

int vet_service(const proto_result_t *r, hist_t *svc)
{
    uint64_t total;

    return load_hist(svc, r->svc_nbuckets, r->svc_idx, r->svc_cnt, r->svc_min, r->svc_max,
                     r->svc_sum, &total);
}

/* An open-loop run's extras: requests never sent are timeouts; every request
 * sent has one service time, no longer than its latency from its due time
 * and its lateness no longer than the run; the achieved rate's span is at
 * least the schedule and at most the run. A closed-loop run has none. */
static int vet_pace(const vet_expect_t *e, const proto_result_t *r, fb_err_t *why)
{
    uint64_t total, late_ok, span_max;
    hist_t *svc;
    int rc;

    if (e->duration_ns == 0) {
        if (r->expired || r->late_p50 || r->late_p99 || r->late_max || r->span_ns || r->svc_min ||
            r->svc_max || r->svc_sum || r->svc_nbuckets)
            return refuse(why, "open-loop fields in a closed-loop run");
        return 0;
    }
    if (r->expired > r->failed[CAUSE_TIMEOUT])
        return refuse(why, "%" PRIu64 " requests never sent but %" PRIu64 " timeouts", r->expired,
                      r->failed[CAUSE_TIMEOUT]);
    late_ok = r->late_p50 <= r->late_p99 && r->late_p99 <= r->late_max &&
              (r->late_max <= r->wall_ns || r->expired == e->requests);
    if (!late_ok)
        return refuse(why,
                      "lateness p50 %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64
                      " ns out of order or longer than the run",
                      r->late_p50, r->late_p99, r->late_max);
    span_max = r->wall_ns > e->duration_ns ? r->wall_ns : e->duration_ns;
    if (r->span_ns < e->duration_ns || r->span_ns > span_max)
        return refuse(why, "rate span %" PRIu64 " ns is not in %" PRIu64 " .. %" PRIu64, r->span_ns,
                      e->duration_ns, span_max);
    if ((svc = hist_new()) == NULL) return refuse(why, "out of memory for its service time");
    rc = load_hist(svc, r->svc_nbuckets, r->svc_idx, r->svc_cnt, r->svc_min, r->svc_max, r->svc_sum,
                   &total);
    hist_free(&svc);
    if (rc != 0 || r->svc_max > r->lat_max)
        return refuse(why,
                      "service-time histogram or its min %" PRIu64 ", max %" PRIu64 ", sum %" PRIu64
                      " ns do not fit (latency max %" PRIu64 ")",
                      r->svc_min, r->svc_max, r->svc_sum, r->lat_max);
    if (total != e->requests - r->expired)
        return refuse(why,
                      "service-time histogram counts %" PRIu64 " requests, not %" PRIu64
                      " sent (%" PRIu64 " never sent)",
                      total, e->requests - r->expired, r->expired);
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
    if (e->command) return vet_times(e, res, why) != 0 || vet_pace(e, res, why) != 0 ? -1 : 0;
    if (vet_counts(e, res, why) != 0 || vet_times(e, res, why) != 0 ||
        vet_latency(e, res, lat, why) != 0 || vet_pace(e, res, why) != 0)
        return -1;
    return 0;
}
