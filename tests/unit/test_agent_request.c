/* request and tally: the verdict on an answer given as bytes, URLs, counts
 * and the exit code they lead to. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd.h"
#include "cmd_run.h"
#include "request.h"
#include "tally.h"

#include <string.h>

static req_outcome_t body(const char *s, uint64_t number)
{
    return req_check_body(s, strlen(s), number);
}

static void test_body_ok(void **state)
{
    assert_int_equal(body("{\"result\":0}", 0), REQ_OK);
    assert_int_equal(body("{\"result\":84}", 42), REQ_OK);
    assert_int_equal(body(" { \"other\": [1, 2], \"result\" : 1999999998 }\n", 999999999), REQ_OK);
}

static void test_body_wrong_result(void **state)
{
    assert_int_equal(body("{\"result\":85}", 42), REQ_WRONG_RESULT);
    assert_int_equal(body("{\"result\":42}", 42), REQ_WRONG_RESULT);
    assert_int_equal(body("{\"result\":-84}", 42), REQ_WRONG_RESULT);
    assert_int_equal(body("{\"result\":1}", 0), REQ_WRONG_RESULT);
}

static void test_body_bad(void **state)
{
    assert_int_equal(body("", 1), REQ_BAD_BODY);
    assert_int_equal(body("2", 1), REQ_BAD_BODY);
    assert_int_equal(body("[2]", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":\"2\"}", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":2.0}", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":null}", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"Result\":2}", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":2", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":2} trailing", 1), REQ_BAD_BODY);
    assert_int_equal(body("{\"result\":99999999999999999999999}", 1), REQ_BAD_BODY);
    assert_int_equal(body("<html>500</html>", 1), REQ_BAD_BODY);
    /* bytes, not a C string: an embedded NUL is not the end */
    assert_int_equal(req_check_body("{\"result\":2}\0junk", 17, 1), REQ_BAD_BODY);
    assert_int_equal(req_check_body("{\"result\":2}", 12, 1), REQ_OK);
}

static void test_classify_transport(void **state)
{
    const char *ok = "{\"result\":2}";

    assert_int_equal(req_classify(CURLE_OK, 200, ok, strlen(ok), 0, 1), REQ_OK);
    assert_int_equal(req_classify(CURLE_COULDNT_CONNECT, 0, "", 0, 0, 1), REQ_CONNECT);
    assert_int_equal(req_classify(CURLE_COULDNT_RESOLVE_HOST, 0, "", 0, 0, 1), REQ_CONNECT);
    assert_int_equal(req_classify(CURLE_OPERATION_TIMEDOUT, 0, "", 0, 0, 1), REQ_TIMEOUT);
    assert_int_equal(req_classify(CURLE_GOT_NOTHING, 0, "", 0, 0, 1), REQ_TRANSPORT);
    assert_int_equal(req_classify(CURLE_RECV_ERROR, 0, "", 0, 0, 1), REQ_TRANSPORT);
    assert_int_equal(req_classify(CURLE_PARTIAL_FILE, 200, "{", 1, 0, 1), REQ_TRANSPORT);
    assert_int_equal(req_classify(CURLE_WEIRD_SERVER_REPLY, 0, "", 0, 0, 1), REQ_TRANSPORT);
}

static void test_classify_http(void **state)
{
    const char *ok = "{\"result\":2}", *detail = "{\"detail\":\"injected\"}";

    assert_int_equal(req_classify(CURLE_OK, 500, detail, strlen(detail), 0, 1), REQ_HTTP_STATUS);
    /* the status decides before the body: a 422 with a right-looking body */
    assert_int_equal(req_classify(CURLE_OK, 422, ok, strlen(ok), 0, 1), REQ_HTTP_STATUS);
    assert_int_equal(req_classify(CURLE_OK, 204, "", 0, 0, 1), REQ_HTTP_STATUS);
    /* a body that did not fit the buffer is bad even if what was kept parses */
    assert_int_equal(req_classify(CURLE_OK, 200, ok, strlen(ok), 1, 1), REQ_BAD_BODY);
    assert_int_equal(req_classify(CURLE_OK, 200, "{\"result\":3}", 12, 0, 1), REQ_WRONG_RESULT);
}

static void test_outcome_names(void **state)
{
    const char *want[] = {"ok",          "connect",  "timeout",     "transport",
                          "http_status", "bad_body", "wrong_result"};

    assert_int_equal(sizeof want / sizeof want[0], REQ__COUNT);
    for (int o = 0; o < REQ__COUNT; o++)
        assert_string_equal(req_outcome_name((req_outcome_t)o), want[o]);
    assert_string_equal(req_outcome_name(REQ__COUNT), "?");
}

static void test_urls(void **state)
{
    char base[REQ_URL_MAX], url[REQ_URL_MAX], host[300];

    assert_int_equal(req_base_url(base, sizeof base, "127.0.0.2", 8080), 0);
    assert_string_equal(base, "http://127.0.0.2:8080/multiply?number=");
    req_url(url, sizeof url, base, 18446744073709551615ull);
    assert_string_equal(url, "http://127.0.0.2:8080/multiply?number=18446744073709551615");
    assert_int_equal(req_base_url(base, sizeof base, "::1", 80), 0);
    assert_string_equal(base, "http://[::1]:80/multiply?number=");
    memset(host, 'a', 255);
    host[255] = '\0';
    assert_int_equal(req_base_url(base, sizeof base, host, 65535), 0);
    memset(host, 'a', 299);
    host[299] = '\0';
    assert_int_equal(req_base_url(base, sizeof base, host, 65535), -1);
}

static void test_tally_and_exit_code(void **state)
{
    tally_t a, b;

    assert_int_equal(tally_init(&a), 0);
    assert_int_equal(tally_init(&b), 0);
    assert_int_equal(cmd_run_exit_code(&a), FB_EXIT_OK); /* nothing failed */
    tally_record(&a, REQ_OK, 1000, 140, 1);
    tally_record(&a, REQ_OK, 3000, 140, 0);
    tally_record(&b, REQ_TIMEOUT, 5000000, 0, 0);
    assert_int_equal(cmd_run_exit_code(&a), FB_EXIT_OK);
    assert_int_equal(cmd_run_exit_code(&b), FB_EXIT_FAILED);
    tally_merge(&a, &b);
    assert_int_equal(tally_total(&a), 3);
    assert_int_equal(tally_failed(&a), 1);
    assert_int_equal(a.count[REQ_OK], 2);
    assert_int_equal(a.count[REQ_TIMEOUT], 1);
    assert_int_equal(a.bytes, 280);
    assert_int_equal(a.connects, 1);
    assert_int_equal(hist_count(a.latency), 3);
    assert_int_equal(hist_max(a.latency), 5000000);
    assert_int_equal(cmd_run_exit_code(&a), FB_EXIT_FAILED);
    tally_close(&a);
    tally_close(&b);

    /* unreachable: every request, and only connect errors */
    assert_int_equal(tally_init(&a), 0);
    tally_record(&a, REQ_CONNECT, 100, 0, 0);
    tally_record(&a, REQ_CONNECT, 100, 0, 0);
    assert_int_equal(cmd_run_exit_code(&a), FB_EXIT_UNREACHABLE);
    tally_record(&a, REQ_TIMEOUT, 100, 0, 0);
    assert_int_equal(cmd_run_exit_code(&a), FB_EXIT_FAILED);
    tally_close(&a);
}

/* Open loop: corrected latency from the due time, service time from the
 * send, lateness between them; a request never sent is a timeout counted
 * only in the corrected view; merging keeps all of it. */
static void test_tally_paced(void **state)
{
    tally_t a, b;

    assert_int_equal(tally_init(&a), 0);
    assert_int_equal(tally_init(&b), 0);
    assert_null(a.service); /* closed loop: nothing extra */
    assert_int_equal(tally_pace(&a), 0);
    assert_int_equal(tally_pace(&a), 0); /* idempotent */
    assert_int_equal(tally_pace(&b), 0);
    /* due at 1 s, sent 2 ms late, answered 3 ms after the send */
    tally_record_paced(&a, REQ_OK, 1000000000, 1002000000, 1005000000, 140, 1);
    tally_record_paced(&a, REQ_OK, 1000500000, 1000500000, 1000600000, 140, 0);
    tally_record_expired(&b, 300000000);
    assert_int_equal(hist_max(a.latency), 5000000);
    assert_int_equal(hist_max(a.service), 3000000);
    assert_int_equal(hist_max(a.lateness), 2000000);
    assert_int_equal(hist_min(a.lateness), 0);
    assert_int_equal(a.last_ns, 1005000000);
    tally_merge(&a, &b);
    assert_int_equal(tally_total(&a), 3);
    assert_int_equal(a.count[REQ_TIMEOUT], 1);
    assert_int_equal(a.expired, 1);
    assert_int_equal(hist_count(a.latency), 3);
    assert_int_equal(hist_max(a.latency), 300000000);
    assert_int_equal(hist_count(a.service), 2); /* never sent: no service time */
    assert_int_equal(hist_count(a.lateness), 2);
    assert_int_equal(a.last_ns, 1005000000); /* an expiry is no completion */
    tally_close(&a);
    tally_close(&b);
}

/* Once the run is aborted a request is not made: not OK, not counted. */
static void test_perform_after_abort(void **state)
{
    fb_err_t err = {""};
    req_t r;
    tally_t t;

    assert_int_equal(req_init(&r, "http://127.0.0.1:9/multiply?number=", 1000, &err), 0);
    assert_int_equal(tally_init(&t), 0);
    run_abort_set(1);
    assert_int_equal(req_perform(&r, 7, &t), REQ_NOT_MADE);
    run_abort_set(0);
    assert_int_equal(tally_total(&t), 0);
    assert_int_equal(hist_count(t.latency), 0);
    assert_string_equal(req_outcome_name(REQ_NOT_MADE), "not made");
    tally_close(&t);
    req_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_ok),
        cmocka_unit_test(test_body_wrong_result),
        cmocka_unit_test(test_body_bad),
        cmocka_unit_test(test_classify_transport),
        cmocka_unit_test(test_classify_http),
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_tally_and_exit_code),
        cmocka_unit_test(test_perform_after_abort),
        cmocka_unit_test(test_tally_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
