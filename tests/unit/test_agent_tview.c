/* tview: the target's GET /stats document read, and two readings turned
 * into the run's counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tview.h"

static const char k_before[] =
    "{\"server\":\"fleetbench target-server\",\"requests\":12,\"status\":{\"200\":10,\"404\":1,"
    "\"503\":1},\"dropped\":0,\"connections\":5,\"cpu_ns\":1000,\"now_ns\":5000,"
    "\"uptime_ns\":4000,\"cores\":4,\"loops\":2,\"busy_ns\":[100,200]}";
static const char k_after[] =
    "{\"server\":\"fleetbench target-server\",\"requests\":1015,\"status\":{\"200\":1010,"
    "\"404\":1,\"500\":2,\"503\":1},\"dropped\":1,\"connections\":105,\"cpu_ns\":9000,"
    "\"now_ns\":105000,\"uptime_ns\":104000,\"cores\":4,\"loops\":2,\"busy_ns\":[30100,"
    "60200]}";

static void test_parse(void **state)
{
    static tview_snap_t s;
    char detail[128] = "";

    assert_int_equal(tview_parse(k_before, strlen(k_before), &s, detail, sizeof detail),
                     PROTO_VIEW_OK);
    assert_int_equal(s.requests, 12);
    assert_int_equal(s.codes[1], 10); /* 2xx */
    assert_int_equal(s.codes[3], 1);  /* 4xx */
    assert_int_equal(s.codes[4], 1);  /* 5xx */
    assert_int_equal(s.connections, 5);
    assert_int_equal(s.loops, 2);
    assert_int_equal(s.cores, 4);
    assert_int_equal(s.busy_ns[1], 200);
    assert_int_equal(s.now_ns, 5000);
}

/* Another server's document, or ours broken: not a view, never a crash. */
static void test_not_ours(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "{\"requests\":1}",
        "{\"server\":\"nginx\",\"requests\":1}",
        "{\"server\":\"fleetbench target-server\",\"requests\":1}",
        "{\"server\":\"fleetbench target-server\",\"requests\":-1,\"status\":{},\"dropped\":0,"
        "\"connections\":0,\"cpu_ns\":0,\"now_ns\":0,\"cores\":1,\"loops\":1,\"busy_ns\":[0]}",
        "{\"server\":\"fleetbench target-server\",\"requests\":1,\"status\":{\"abc\":1},"
        "\"dropped\":0,\"connections\":0,\"cpu_ns\":0,\"now_ns\":0,\"cores\":1,\"loops\":1,"
        "\"busy_ns\":[0]}",
        "{\"server\":\"fleetbench target-server\",\"requests\":1,\"status\":{},\"dropped\":0,"
        "\"connections\":0,\"cpu_ns\":0,\"now_ns\":0,\"cores\":1,\"loops\":2,\"busy_ns\":[0]}",
        "{\"server\":\"fleetbench target-server\",\"requests\":1,\"status\":{},\"dropped\":0,"
        "\"connections\":0,\"cpu_ns\":0,\"now_ns\":0,\"cores\":1,\"loops\":0,\"busy_ns\":[]}",
    };
    static tview_snap_t s;
    char detail[128];

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        detail[0] = '\0';
        assert_int_equal(tview_parse(bad[i], strlen(bad[i]), &s, detail, sizeof detail),
                         PROTO_VIEW_NONE);
        assert_non_null(strstr(detail, "GET /stats"));
    }
}

static void test_delta(void **state)
{
    static tview_snap_t a, b;
    proto_stats_t d;
    char detail[128];

    assert_int_equal(tview_parse(k_before, strlen(k_before), &a, detail, sizeof detail), 0);
    assert_int_equal(tview_parse(k_after, strlen(k_after), &b, detail, sizeof detail), 0);
    tview_delta(&a, &b, &d);
    assert_int_equal(d.status, PROTO_VIEW_OK);
    assert_int_equal(d.phase, PROTO_VIEW_AFTER);
    assert_int_equal(d.requests, 1003);
    assert_int_equal(d.codes[1], 1000);
    assert_int_equal(d.codes[4], 2);
    assert_int_equal(d.dropped, 1);
    assert_int_equal(d.connections, 100);
    assert_int_equal(d.cpu_ns, 8000);
    assert_int_equal(d.wall_ns, 100000);
    assert_int_equal(d.busy_ns, 30000 + 60000);
    assert_int_equal(d.busy_max_ns, 60000);
    assert_int_equal(d.loops, 2);
    assert_int_equal(d.cores, 4);
    tview_delta(&b, &a, &d); /* counters went back: another process now */
    assert_int_equal(d.status, PROTO_VIEW_UNREACHABLE);
    assert_non_null(strstr(d.detail, "restarted"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_delta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
