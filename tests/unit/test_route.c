/* route: number parsing and request routing, every edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>

#include "route.h"

static route_t get(const char *url)
{
    route_t r;
    route_request(HTTP_GET, url, strlen(url), &r);
    return r;
}

static void expect_result(const char *url, int64_t result)
{
    route_t r = get(url);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.kind, ROUTE_MULTIPLY);
    assert_true(r.result == result);
}

static void expect_error(const char *url, int status, const char *detail_part)
{
    route_t r = get(url);
    assert_int_equal(r.status, status);
    assert_int_equal(r.kind, ROUTE_ERROR);
    assert_non_null(strstr(r.detail, detail_part));
}

static void test_numbers(void **s)
{
    expect_result("/multiply?number=7", 14);
    expect_result("/multiply?number=0", 0);
    expect_result("/multiply?number=-0", 0);
    expect_result("/multiply?number=-21", -42);
    expect_result("/multiply?number=+21", 42);
    expect_result("/multiply?number=0000000000000000000000000000042", 84);
    expect_result("/multiply?number=%2D5", -10);
    expect_result("/multiply?number=%2b5", 10);
    expect_result("/multiply?number=%31%32", 24);
    /* the extremes whose double still fits in int64 */
    expect_result("/multiply?number=4611686018427387903", INT64_MAX - 1);
    expect_result("/multiply?number=-4611686018427387904", INT64_MIN);
}

static void test_number_errors(void **s)
{
    expect_error("/multiply?number=4611686018427387904", 422, "out of range");
    expect_error("/multiply?number=-4611686018427387905", 422, "out of range");
    expect_error("/multiply?number=9223372036854775807", 422, "out of range");
    expect_error("/multiply?number=99999999999999999999", 422, "out of range");
    expect_error("/multiply?number=18446744073709551616", 422, "out of range");
    expect_error("/multiply?number=", 422, "base-10 integer");
    expect_error("/multiply?number", 422, "base-10 integer");
    expect_error("/multiply?number=-", 422, "base-10 integer");
    expect_error("/multiply?number=+", 422, "base-10 integer");
    expect_error("/multiply?number=abc", 422, "base-10 integer");
    expect_error("/multiply?number=1.5", 422, "base-10 integer");
    expect_error("/multiply?number=1e3", 422, "base-10 integer");
    expect_error("/multiply?number=0x10", 422, "base-10 integer");
    expect_error("/multiply?number=%20%37", 422, "base-10 integer");
    expect_error("/multiply?number=--1", 422, "base-10 integer");
    expect_error("/multiply?number=%zz", 422, "base-10 integer");
    expect_error("/multiply?number=%4", 422, "base-10 integer");
    expect_error("/multiply?number=99999999999999999999x", 422, "base-10 integer");
    expect_error("/multiply", 422, "is required");
    expect_error("/multiply?", 422, "is required");
    expect_error("/multiply?numbers=1", 422, "is required");
    expect_error("/multiply?Number=1", 422, "is required");
}

static void test_query(void **s)
{
    route_t r;

    expect_result("/multiply?a=b&number=3&c", 6);
    expect_result("/multiply?number=1&number=5", 10); /* last wins */
    expect_result("/multiply?%6Eumber=4", 8);         /* encoded key */
    expect_result("/multiply?&&number=2&&", 4);
    r = get("/multiply?number=1&delay_ms=250");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.delay_ms, 250);
    r = get("/multiply?number=1");
    assert_int_equal(r.delay_ms, -1);
    r = get("/multiply?number=1&delay_ms=60000");
    assert_int_equal(r.delay_ms, 60000);
    expect_error("/multiply?number=1&delay_ms=60001", 422, "delay_ms");
    expect_error("/multiply?number=1&delay_ms=-1", 422, "delay_ms");
    expect_error("/multiply?number=1&delay_ms=", 422, "delay_ms");
    expect_error("/multiply?number=1&delay_ms=x", 422, "delay_ms");
}

static void test_paths_and_methods(void **s)
{
    route_t r;

    r = get("/health");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.kind, ROUTE_HEALTH);
    r = get("/health?x=1");
    assert_int_equal(r.kind, ROUTE_HEALTH);
    expect_error("/", 404, "not found");
    expect_error("/multiply/", 404, "not found");
    expect_error("/multiplyx?number=1", 404, "not found");
    expect_error("/MULTIPLY?number=1", 404, "not found");
    expect_error("/healthz", 404, "not found");
    r = get("/stats");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.kind, ROUTE_STATS);
    expect_error("/stats/", 404, "not found");
    route_request(HTTP_POST, "/stats", 6, &r);
    assert_int_equal(r.status, 405);
    route_request(HTTP_HEAD, "/multiply?number=2", 18, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.result == 4);
    route_request(HTTP_POST, "/multiply?number=2", 18, &r);
    assert_int_equal(r.status, 405);
    route_request(HTTP_DELETE, "/health", 7, &r);
    assert_int_equal(r.status, 405);
    route_request(HTTP_POST, "/nope", 5, &r);
    assert_int_equal(r.status, 404); /* unknown path wins over method */
    /* absolute-form targets are routed by their path */
    expect_result("http://example.test/multiply?number=9", 18);
    expect_error("*", 404, "not found"); /* asterisk-form: no such resource */
    expect_error("multiply?number=1", 400, "malformed");
    route_request(HTTP_GET, "", 0, &r);
    assert_int_equal(r.status, 400);
}

static void test_parse_double_direct(void **s)
{
    int64_t v = 123;

    assert_int_equal(route_parse_double("12", 2, &v), NUM_OK);
    assert_true(v == 24);
    v = 123;
    assert_int_equal(route_parse_double("12", 0, &v), NUM_INVALID);
    assert_true(v == 123); /* untouched on error */
    assert_int_equal(route_parse_double("12", 1, &v), NUM_OK);
    assert_true(v == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_paths_and_methods),
        cmocka_unit_test(test_parse_double_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
