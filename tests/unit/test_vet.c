/* vet: a result that fits the plan passes; each way of not fitting is
 * refused, and the reason says which. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vet.h"

#define REQ 20

static const vet_expect_t k_expect = {
    .step = {.bench = 1, .run = 3, .warmup = 0},
    .requests = REQ,
    .timeout_ns = 10000000000ull,
    .cores = 2,
    .start_lo = 1000000,
    .end_hi = 900000000,
};

/* An honest result: 20 requests of 1 us each in a 5 ms run. */
static proto_result_t *honest(void)
{
    proto_result_t *r = calloc(1, sizeof *r);

    r->bench = 1;
    r->run = 3;
    r->start_ns = 2000000;
    r->wall_ns = 5000000;
    r->user_ns = 3000000;
    r->sys_ns = 2000000;
    r->ok = REQ;
    r->bytes = 150 * REQ;
    r->connections = 4;
    r->lat_min = r->lat_max = 1000;
    r->lat_sum = 1000 * REQ;
    r->nbuckets = 1;
    r->bucket_idx[0] = 0;
    r->bucket_cnt[0] = REQ;
    return r;
}

/* Vets r (freed) against e: -1 with a reason containing `want`, or 0 when
 * want is NULL. */
static void check_with(const vet_expect_t *e, proto_result_t *r, const char *want)
{
    hist_t *lat = hist_new();
    fb_err_t why = {""};
    int rc = vet_result(e, r, lat, &why);

    if (want == NULL) {
        if (rc != 0) fail_msg("refused an honest result: %s", why.msg);
        assert_int_equal(hist_count(lat), REQ);
    } else {
        if (rc == 0) fail_msg("accepted a result that should fail with '%s'", want);
        if (strstr(why.msg, want) == NULL) fail_msg("reason '%s' does not say '%s'", why.msg, want);
    }
    hist_free(&lat);
    free(r);
}

static void check(proto_result_t *r, const char *want)
{
    check_with(&k_expect, r, want);
}

/* An open-loop run of 4 ms of schedule: 2 requests never sent (timeouts of
 * 2 ms, from their due time), 18 sent with a 1 us service time. */
#define DUR_NS 4000000ull
static proto_result_t *paced(void)
{
    proto_result_t *r = honest();

    r->ok = REQ - 2;
    r->failed[CAUSE_TIMEOUT] = 2;
    r->expired = 2;
    r->late_p50 = 0;
    r->late_p99 = 1500;
    r->late_max = 3000;
    r->span_ns = DUR_NS;
    r->svc_min = r->svc_max = 1000;
    r->svc_sum = 1000 * (REQ - 2);
    r->svc_nbuckets = 1;
    r->svc_idx[0] = 0;
    r->svc_cnt[0] = REQ - 2;
    return r;
}

static void test_paced(void **s)
{
    vet_expect_t e = k_expect;
    proto_result_t *r;
    (void)s;

    e.duration_ns = DUR_NS;
    check_with(&e, paced(), NULL);
    check(paced(), "open-loop fields in a closed-loop run");
    r = paced();
    r->expired = 3; /* more never sent than timeouts */
    check_with(&e, r, "never sent but 2 timeouts");
    r = paced();
    r->late_p99 = 4000; /* p99 above max */
    check_with(&e, r, "lateness");
    r = paced();
    r->late_max = r->late_p99 = r->wall_ns + 1; /* late beyond the run */
    check_with(&e, r, "lateness");
    r = paced();
    r->span_ns = DUR_NS - 1; /* shorter than the schedule */
    check_with(&e, r, "rate span");
    r = paced();
    r->span_ns = r->wall_ns + 1; /* longer than the run and the schedule */
    check_with(&e, r, "rate span");
    r = paced();
    r->svc_cnt[0] = REQ; /* the never-sent have a service time */
    r->svc_sum = 1000 * REQ;
    check_with(&e, r, "counts 20 requests, not 18 sent");
    r = paced();
    r->svc_max = 2000; /* beyond its histogram, and above the latency's max */
    check_with(&e, r, "service-time histogram");
    r = paced();
    r->svc_nbuckets = 2; /* out of order */
    r->svc_idx[1] = 0;
    r->svc_cnt[1] = 1;
    check_with(&e, r, "service-time histogram");
}

static void test_honest(void **s)
{
    proto_result_t *r = honest();
    (void)s;
    check(honest(), NULL);
    r->ok = 15; /* failures count as requests too */
    r->failed[CAUSE_TIMEOUT] = 5;
    check(r, NULL);
    r = honest(); /* the edges of the window and of the CPU bound */
    r->start_ns = k_expect.start_lo;
    r->wall_ns = k_expect.end_hi - k_expect.start_lo;
    r->lat_max = 2000;
    r->lat_sum = 1000 * (REQ - 1) + 2000;
    r->bucket_cnt[0] = REQ - 1;
    r->nbuckets = 2;
    r->bucket_idx[1] = 250;
    r->bucket_cnt[1] = 1;
    r->lat_max = hist_bucket_low(250);
    r->lat_sum = 1000 * (REQ - 1) + r->lat_max;
    r->user_ns = (r->wall_ns + VET_CPU_SLACK_NS) * 2;
    r->sys_ns = 0;
    check(r, NULL);
}

static void test_step(void **s)
{
    proto_result_t *r = honest();
    (void)s;
    r->run = 4;
    check(r, "it is run 4 of benchmark 1, not the one asked");
    r = honest();
    r->bench = 0;
    check(r, "of benchmark 0");
    r = honest();
    r->warmup = 1;
    check(r, "(warmup)");
}

static void test_counts(void **s)
{
    proto_result_t *r = honest();
    (void)s;
    r->ok = 10000000;
    check(r, "ok 10000000 + failed 0 != 20 requests");
    r = honest();
    r->failed[CAUSE_HTTP_STATUS] = 1;
    check(r, "ok 20 + failed 1 != 20 requests");
    r = honest();
    r->ok = 0;
    check(r, "ok 0 + failed 0 != 20 requests");
    r = honest();
    for (int c = 0; c < PROTO_FAIL__COUNT; c++)
        r->failed[c] = UINT64_MAX / 4; /* a wrapping sum never adds up */
    check(r, "failure counts overflow");
    r = honest();
    r->connections = (uint64_t)1 << 63;
    check(r, "9223372036854775808 connections for 20 requests");
    r = honest();
    r->connections = REQ + 1;
    check(r, "21 connections");
    r = honest();
    r->bytes = (uint64_t)1 << 63;
    check(r, "9223372036854775808 bytes for 20 requests");
    r = honest();
    r->bytes = REQ * VET_MAX_BYTES_PER_REQUEST + 1;
    check(r, "bytes for 20 requests");
}

static void test_times(void **s)
{
    proto_result_t *r = honest();
    (void)s;
    r->wall_ns = UINT64_MAX;
    check(r, "wall time 18446744073709551615 ns is not in 1 .. 10000000000");
    r = honest();
    r->wall_ns = 0;
    check(r, "wall time 0 ns");
    r = honest();
    r->user_ns = UINT64_MAX;
    check(r, "CPU time");
    r = honest();
    r->user_ns = r->sys_ns = (uint64_t)1 << 63; /* their sum wraps */
    check(r, "CPU time");
    r = honest();
    r->sys_ns = (r->wall_ns + VET_CPU_SLACK_NS) * 2 + 1;
    check(r, "more than 2 cores can spend");
    r = honest();
    r->start_ns = 0;
    check(r, "start 0 + wall 5000000 ns is outside the run's window");
    r = honest();
    r->start_ns = UINT64_MAX;
    check(r, "outside the run's window");
    r = honest();
    r->start_ns = k_expect.end_hi - r->wall_ns + 1; /* ends after the result came */
    check(r, "outside the run's window");
}

static void test_histogram(void **s)
{
    proto_result_t *r = honest();
    (void)s;
    r->bucket_cnt[0] = REQ - 1;
    check(r, "latency histogram counts 19 requests, not 20");
    r = honest();
    r->nbuckets = 2;
    r->bucket_cnt[0] = UINT64_MAX;
    r->bucket_idx[1] = 1;
    r->bucket_cnt[1] = REQ + 1; /* UINT64_MAX + 21 wraps to 20 */
    check(r, "latency bucket 1 (count 21) out of range");
    r = honest();
    r->bucket_idx[0] = HIST_BUCKETS;
    check(r, "out of range");
    r = honest();
    r->nbuckets = 2;
    r->bucket_cnt[0] = 10;
    r->bucket_idx[1] = 0;
    r->bucket_cnt[1] = 10;
    check(r, "latency buckets out of order at 0");
    r = honest();
    r->lat_max = r->wall_ns + 1;
    check(r, "do not fit its histogram and wall time");
    r = honest();
    r->lat_sum = 1;
    check(r, "do not fit");
    r = honest();
    r->lat_min = 0;
    r->lat_max = UINT64_MAX;
    check(r, "do not fit");
}

/* A command's run: a process timed, no requests of the agent's; its exit
 * code whatever the process said. A strategy's run has none. */
static proto_result_t *honest_command(void)
{
    proto_result_t *r = calloc(1, sizeof *r);

    r->bench = 1;
    r->run = 3;
    r->start_ns = 2000000;
    r->wall_ns = 5000000;
    r->user_ns = 3000000;
    r->sys_ns = 2000000;
    r->exit_code = 3;
    return r;
}

static int vet_command(proto_result_t *r, fb_err_t *why)
{
    vet_expect_t e = k_expect;
    hist_t *lat = hist_new();
    int rc;

    e.command = 1;
    rc = vet_result(&e, r, lat, why);
    if (rc == 0) assert_int_equal(hist_count(lat), 0);
    hist_free(&lat);
    free(r);
    return rc;
}

static void test_command(void **s)
{
    fb_err_t why = {""};
    proto_result_t *r;

    (void)s;
    assert_int_equal(vet_command(honest_command(), &why), 0);
    r = honest_command();
    r->ok = 1;
    assert_int_equal(vet_command(r, &why), -1);
    assert_non_null(strstr(why.msg, "request counts or latencies from a command's run"));
    r = honest_command();
    r->failed[2] = 1;
    assert_int_equal(vet_command(r, &why), -1);
    r = honest_command();
    r->nbuckets = 1;
    r->bucket_cnt[0] = 1;
    assert_int_equal(vet_command(r, &why), -1);
    r = honest_command();
    r->lat_max = 7;
    assert_int_equal(vet_command(r, &why), -1);
    r = honest_command(); /* its times are checked as a strategy's */
    r->wall_ns = k_expect.timeout_ns + 1;
    assert_int_equal(vet_command(r, &why), -1);
    assert_non_null(strstr(why.msg, "the run timeout"));
    r = honest_command();
    r->start_ns = 1;
    assert_int_equal(vet_command(r, &why), -1);
    assert_non_null(strstr(why.msg, "outside the run's window"));
    r = honest();
    r->exit_code = 1;
    check(r, "exit code 1 from a strategy's run");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest),    cmocka_unit_test(test_step),
        cmocka_unit_test(test_counts),    cmocka_unit_test(test_times),
        cmocka_unit_test(test_histogram), cmocka_unit_test(test_command),
        cmocka_unit_test(test_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
