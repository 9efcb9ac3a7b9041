/* config and fault: command-line parsing and fault selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "opt.h"

static config_t cfg;
static fb_err_t err;

static int parse(int argc, char **argv)
{
    FILE *devnull = fopen("/dev/null", "w");
    int rc;

    fb_err_clear(&err);
    rc = config_parse(&cfg, argc, argv, devnull, &err);
    fclose(devnull);
    return rc;
}

#define PARSE(...)                                                                                 \
    parse((int)(sizeof((char *[]){"target-server", __VA_ARGS__}) / sizeof(char *)),                \
          (char *[]){"target-server", __VA_ARGS__})

static void test_defaults(void **s)
{
    char *argv[] = {"target-server"};
    assert_int_equal(parse(1, argv), CONFIG_OK);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.port, 8080);
    assert_true(cfg.threads >= 1);
    assert_int_equal(cfg.max_conns, 16384);
    assert_int_equal(cfg.delay_ms, 0);
    assert_false(fault_any(&cfg.faults));
}

static void test_values(void **s)
{
    assert_int_equal(PARSE("--host", "127.0.0.9", "--port", "0", "--threads", "3",
                           "--max-connections", "5", "--header-timeout", "300", "--delay", "20",
                           "--fault", "close:0.25", "--fault", "stall:0.5", "--seed", "7"),
                     CONFIG_OK);
    assert_string_equal(cfg.host, "127.0.0.9");
    assert_int_equal(cfg.port, 0);
    assert_int_equal(cfg.threads, 3);
    assert_int_equal(cfg.max_conns, 5);
    assert_int_equal(cfg.header_timeout_ms, 300);
    assert_int_equal(cfg.delay_ms, 20);
    assert_true(cfg.faults.rate[FAULT_CLOSE] == 0.25);
    assert_true(cfg.faults.rate[FAULT_STALL] == 0.5);
    assert_int_equal(cfg.seed, 7);
    /* the request-target limit never exceeds the head limit */
    assert_int_equal(PARSE("--max-header-size", "1000", "--max-uri", "5000"), CONFIG_OK);
    assert_int_equal(cfg.max_uri, 1000);
}

static void expect_error(int rc, const char *part)
{
    assert_int_equal(rc, CONFIG_ERROR);
    if (strstr(err.msg, part) == NULL) fail_msg("error '%s' lacks '%s'", err.msg, part);
}

static void test_errors(void **s)
{
    expect_error(PARSE("--port", "70000"), "--port");
    expect_error(PARSE("--port", "-1"), "--port");
    expect_error(PARSE("--port", "80x"), "--port");
    expect_error(PARSE("--threads", "0"), "--threads");
    expect_error(PARSE("--max-connections", ""), "--max-connections");
    expect_error(PARSE("--fault", "nope:1"), "--fault");
    expect_error(PARSE("--fault", "close"), "--fault");
    expect_error(PARSE("--fault", "close:2"), "out of range");
    expect_error(PARSE("--fault", "close:abc"), "--fault");
    expect_error(PARSE("--fault", "close:0.6", "--fault", "stall:0.6"), "add up");
    expect_error(PARSE("--delay", "60001"), "--delay");
    expect_error(PARSE("--bogus"), "--bogus");
    expect_error(PARSE("--port"), "--port");
    expect_error(PARSE("extra"), "extra");
}

static void test_help_version(void **s)
{
    assert_int_equal(PARSE("--help"), CONFIG_EXIT);
    assert_int_equal(PARSE("-V"), CONFIG_EXIT);
}

static void test_fault_roll(void **s)
{
    fault_cfg_t f = {0};
    uint64_t rng = 12345;
    int counts[FAULT__COUNT] = {0};

    assert_int_equal(fault_parse(&f, "wrong-result:0.3", &err), 0);
    assert_int_equal(fault_parse(&f, "status-500:0.2", &err), 0);
    for (int i = 0; i < 100000; i++)
        counts[fault_roll(&f, &rng)]++;
    /* 100k draws: within 1.5 percentage points of the rates */
    assert_in_range(counts[FAULT_WRONG_RESULT], 28500, 31500);
    assert_in_range(counts[FAULT_STATUS_500], 18500, 21500);
    assert_int_equal(counts[FAULT_CLOSE] + counts[FAULT_STALL], 0);
    assert_int_equal(fault_parse(&f, "wrong-result:1", &err), -1); /* 1.2 in all */
    memset(&f, 0, sizeof f);
    assert_int_equal(fault_parse(&f, "stall:1", &err), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(fault_roll(&f, &rng), FAULT_STALL);
}

static void test_hostport(void **s)
{
    char host[64];
    int port;

    assert_int_equal(opt_hostport("--target", "10.0.0.6:8080", -1, host, sizeof host, &port, &err),
                     0);
    assert_string_equal(host, "10.0.0.6");
    assert_int_equal(port, 8080);
    assert_int_equal(opt_hostport("--agents", "h", 5555, host, sizeof host, &port, &err), 0);
    assert_int_equal(port, 5555);
    assert_int_equal(opt_hostport("--t", "[::1]:9", -1, host, sizeof host, &port, &err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(opt_hostport("--t", "h", -1, host, sizeof host, &port, &err), -1);
    assert_int_equal(opt_hostport("--t", "h:99999", -1, host, sizeof host, &port, &err), -1);
    assert_int_equal(opt_hostport("--t", ":80", -1, host, sizeof host, &port, &err), -1);
    assert_int_equal(opt_hostport("--t", "::1:80", -1, host, sizeof host, &port, &err), -1);
    assert_int_equal(opt_hostport("--t", "[::1", -1, host, sizeof host, &port, &err), -1);
    assert_int_equal(opt_hostport("--t", "", -1, host, sizeof host, &port, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_fault_roll), cmocka_unit_test(test_hostport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
