/* resp: rendered bytes of every response shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resp.h"

static resp_cache_t rc;

static int setup(void **s)
{
    memset(&rc, 0, sizeof rc);
    resp_cache_update(&rc, 0); /* 1970-01-01: a fixed Date */
    return 0;
}

#define HDR "Server: fleetbench\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"

static void expect(const char *got, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
}

static void test_result(void **s)
{
    char buf[RESP_MAX];

    expect(buf, resp_result(&rc, buf, 14, false, RESP_KEEP),
           "HTTP/1.1 200 OK\r\n" HDR "Content-Type: application/json\r\nContent-Length: 13\r\n"
           "\r\n{\"result\":14}");
    expect(buf, resp_result(&rc, buf, INT64_MIN, false, RESP_CLOSE),
           "HTTP/1.1 200 OK\r\n" HDR "Content-Type: application/json\r\nContent-Length: 31\r\n"
           "Connection: close\r\n\r\n{\"result\":-9223372036854775808}");
    expect(buf, resp_result(&rc, buf, 0, true, RESP_KEEP_10),
           "HTTP/1.1 200 OK\r\n" HDR "Content-Type: application/json\r\nContent-Length: 12\r\n"
           "Connection: keep-alive\r\n\r\n");
}

static void test_health_and_errors(void **s)
{
    char buf[RESP_MAX], big[600];

    expect(buf, resp_health(&rc, buf, false, RESP_KEEP),
           "HTTP/1.1 200 OK\r\n" HDR "Content-Type: application/json\r\nContent-Length: 15\r\n"
           "\r\n{\"status\":\"ok\"}");
    expect(buf, resp_error(&rc, buf, 405, "method not allowed", false, RESP_KEEP),
           "HTTP/1.1 405 Method Not Allowed\r\n" HDR "Allow: GET, HEAD\r\n"
           "Content-Type: application/json\r\nContent-Length: 31\r\n"
           "\r\n{\"detail\":\"method not allowed\"}");
    expect(buf, resp_error(&rc, buf, 431, "x", true, RESP_CLOSE),
           "HTTP/1.1 431 Request Header Fields Too Large\r\n" HDR
           "Content-Type: application/json\r\nContent-Length: 14\r\nConnection: close\r\n\r\n");
    /* an over-long detail is cut, never overflows */
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_true(resp_error(&rc, buf, 422, big, false, RESP_CLOSE) <= RESP_MAX);
}

static void test_reasons(void **s)
{
    static const int codes[] = {200, 400, 404, 405, 413, 414, 422, 431, 500, 503, 505};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_string_not_equal(resp_reason(codes[i]), "Error");
    assert_string_equal(resp_reason(299), "Error");
}

static void test_cache_rerenders(void **s)
{
    char buf[RESP_MAX];
    size_t n;

    resp_cache_update(&rc, 86400 * 365);
    n = resp_result(&rc, buf, 1, false, RESP_KEEP);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "Date: Fri, 01 Jan 1971 00:00:00 GMT\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_result, setup),
        cmocka_unit_test_setup(test_health_and_errors, setup),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test_setup(test_cache_rerenders, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
