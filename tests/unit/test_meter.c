/* meter: the GET /stats document from fixed counters, and the counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "meter.h"

static void test_counting(void **state)
{
    static meter_t m;
    static meter_snapshot_t s;

    meter_init(&m);
    for (int i = 0; i < 3; i++)
        meter_status(&m, 200);
    meter_status(&m, 404);
    meter_status(&m, 42); /* no such status: counted as a 500, never lost */
    meter_bump(&m.dropped);
    meter_bump(&m.connections);
    memset(&s, 0, sizeof s);
    meter_add(&s, &m);
    meter_add(&s, &m); /* a second worker with the same counts */
    assert_int_equal(s.status[200 - METER_STATUS_MIN], 6);
    assert_int_equal(s.status[404 - METER_STATUS_MIN], 2);
    assert_int_equal(s.status[500 - METER_STATUS_MIN], 2);
    assert_int_equal(s.dropped, 2);
    assert_int_equal(s.connections, 2);
    assert_int_equal(meter_requests(&s), 12);
}

static void test_json(void **state)
{
    static meter_snapshot_t s;
    char buf[512];
    size_t n;

    memset(&s, 0, sizeof s);
    s.status[200 - METER_STATUS_MIN] = 7;
    s.status[503 - METER_STATUS_MIN] = 1;
    s.dropped = 2;
    s.connections = 3;
    s.cpu_ns = 12345;
    s.now_ns = 99;
    s.uptime_ns = 98;
    s.cores = 4;
    s.loops = 2;
    s.busy_ns[0] = 10;
    s.busy_ns[1] = 20;
    n = meter_json(&s, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "{\"server\":\"fleetbench target-server\",\"requests\":10,"
                             "\"status\":{\"200\":7,\"503\":1},\"dropped\":2,\"connections\":3,"
                             "\"cpu_ns\":12345,\"now_ns\":99,\"uptime_ns\":98,\"cores\":4,"
                             "\"loops\":2,\"busy_ns\":[10,20]}");
    assert_int_equal(meter_json(&s, buf, n), 0); /* one byte short: refused, not cut */
    assert_int_equal(meter_json(&s, buf, n + 1), n);
}

/* The longest document the server can make, 256 loops and every status it
 * sends at the largest numbers, fits the room the server gives it. */
static void test_largest(void **state)
{
    static const int sent[] = {200, 400, 404, 405, 413, 414, 422, 431, 500, 503, 505};
    static meter_snapshot_t s;
    static char buf[8192 - 512];

    memset(&s, 0xff, sizeof s);
    memset(s.status, 0, sizeof s.status);
    for (size_t i = 0; i < sizeof sent / sizeof *sent; i++)
        s.status[sent[i] - METER_STATUS_MIN] = UINT64_MAX;
    s.loops = METER_MAX_LOOPS;
    s.cores = 4096;
    assert_true(meter_json(&s, buf, sizeof buf) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_largest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
