/* cmd_run_parse: `agent run` options, defaults, environment and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cmd_run_opts_t g_opts;
static fb_err_t g_err;
static char g_out[8192];

/* Parses a NULL-terminated list of words after "run". */
static int parse(const char *first, ...)
{
    char *argv[32];
    int argc = 0, rc;
    va_list ap;
    FILE *out = fmemopen(g_out, sizeof g_out, "w");

    argv[argc++] = "run";
    va_start(ap, first);
    for (const char *w = first; w != NULL && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    memset(g_out, 0, sizeof g_out);
    fb_err_clear(&g_err);
    rc = cmd_run_parse(&g_opts, argc, argv, out, &g_err);
    fclose(out);
    return rc;
}

static int setup(void **state)
{
    unsetenv("BENCHMARK_SERVER_HOST");
    unsetenv("BENCHMARK_SERVER_PORT");
    return 0;
}

static void test_defaults(void **state)
{
    assert_int_equal(parse("threads-recreate", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.strategy->name, "threads-recreate");
    assert_int_equal(g_opts.params.requests, 100);
    assert_int_equal(g_opts.params.chunk, 100);
    assert_int_equal(g_opts.params.connections, 100);
    assert_int_equal(g_opts.params.in_flight, 100);
    assert_int_equal(g_opts.params.timeout_ms, 10000);
    assert_string_equal(g_opts.params.host, "127.0.0.1");
    assert_int_equal(g_opts.params.port, 8080);
    assert_string_equal(g_opts.params.base_url, "http://127.0.0.1:8080/multiply?number=");
    assert_false(g_opts.json);
}

static void test_seed_style(void **state)
{
    /* the seed's order: name first, then -r and -c */
    assert_int_equal(parse("threads-reuse", "-r", "1000", "-c", "10", NULL), CMD_RUN_OK);
    assert_int_equal(g_opts.params.requests, 1000);
    assert_int_equal(g_opts.params.chunk, 10);
    /* options first, long forms */
    assert_int_equal(parse("--requests", "7", "--chunk=3", "--json", "async-map", NULL),
                     CMD_RUN_OK);
    assert_string_equal(g_opts.strategy->name, "async-map");
    assert_int_equal(g_opts.params.requests, 7);
    assert_int_equal(g_opts.params.chunk, 3);
    assert_true(g_opts.json);
}

static void test_connections_and_in_flight(void **state)
{
    assert_int_equal(parse("async-for", "--connections", "10", NULL), CMD_RUN_OK);
    assert_int_equal(g_opts.params.connections, 10);
    assert_int_equal(g_opts.params.in_flight, 10); /* follows --connections */
    assert_int_equal(parse("async-for", "--in-flight", "0", "--connections", "10", NULL),
                     CMD_RUN_OK);
    assert_int_equal(g_opts.params.in_flight, 0);
    assert_int_equal(parse("async-for", "--connections", "0", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--connections"));
}

static void test_target_and_env(void **state)
{
    assert_int_equal(parse("async-for", "--target", "127.0.0.9:9999", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.params.host, "127.0.0.9");
    assert_int_equal(g_opts.params.port, 9999);
    assert_int_equal(parse("async-for", "--target", "[::1]:81", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.params.host, "::1");
    assert_string_equal(g_opts.params.base_url, "http://[::1]:81/multiply?number=");

    setenv("BENCHMARK_SERVER_HOST", "127.0.0.7", 1);
    setenv("BENCHMARK_SERVER_PORT", "8181", 1);
    assert_int_equal(parse("async-for", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.params.host, "127.0.0.7");
    assert_int_equal(g_opts.params.port, 8181);
    /* a bare host keeps the environment's port; --target wins over both */
    assert_int_equal(parse("async-for", "--target", "127.0.0.8", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.params.host, "127.0.0.8");
    assert_int_equal(g_opts.params.port, 8181);
    setenv("BENCHMARK_SERVER_PORT", "http", 1);
    assert_int_equal(parse("async-for", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "BENCHMARK_SERVER_PORT"));
    setup(NULL);
}

static void test_bad_numbers_name_the_flag(void **state)
{
    assert_int_equal(parse("async-for", "-r", "0", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--requests"));
    assert_int_equal(parse("async-for", "-r", "-5", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--requests"));
    assert_int_equal(parse("async-for", "-c", "ten", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--chunk"));
    assert_non_null(strstr(g_err.msg, "ten"));
    assert_int_equal(parse("async-for", "--timeout", "0", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--timeout"));
    assert_int_equal(parse("async-for", "--target", "127.0.0.1:70000", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--target"));
    assert_int_equal(parse("async-for", "--target", "127.0.0.1:0", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--target"));
    assert_int_equal(parse("async-for", "-r", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "needs a value"));
    assert_int_equal(parse("async-for", "--bogus", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--bogus"));
}

static void test_strategy_errors_list_the_valid_ones(void **state)
{
    const char *valid = "threads-recreate, threads-reuse, threads-map, async-for, async-map";

    assert_int_equal(parse("threads-pool", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "threads-pool"));
    assert_non_null(strstr(g_err.msg, valid));
    assert_int_equal(parse("-r", "5", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "missing STRATEGY"));
    assert_non_null(strstr(g_err.msg, valid));
    assert_int_equal(parse("async-for", "async-map", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "unexpected argument 'async-map'"));
}

static void test_help(void **state)
{
    assert_int_equal(parse("--help", NULL), CMD_RUN_EXIT);
    assert_non_null(strstr(g_out, "Usage: agent run STRATEGY"));
    assert_non_null(strstr(g_out, "threads-map"));
    assert_non_null(strstr(g_out, "Exit codes"));
    assert_int_equal(parse("async-for", "-h", NULL), CMD_RUN_EXIT);
}

static void test_rate(void **state)
{
    assert_int_equal(parse("async-for", "--rate", "2000", "--duration", "2", NULL), CMD_RUN_OK);
    assert_true(g_opts.params.rate == 2000.0);
    assert_true(g_opts.params.duration_s == 2.0);
    assert_int_equal(g_opts.params.requests, 4000); /* due at i/R < S */
    assert_int_equal(parse("async-for", "--rate=0.1", "--duration=30", NULL), CMD_RUN_OK);
    assert_int_equal(g_opts.params.requests, 3); /* not 4: 0.1 x 30 is 3.0000000000000004 */
    assert_int_equal(parse("threads-map", "--rate", "3", "--duration", "0.5", NULL), CMD_RUN_OK);
    assert_int_equal(g_opts.params.requests, 2); /* due at 0 and 1/3 s */
    assert_int_equal(parse("threads-map", "--rate", "0.001", "--duration", "0.001", NULL),
                     CMD_RUN_OK);
    assert_int_equal(g_opts.params.requests, 1); /* request 0 is always due */
    assert_int_equal(parse("threads-reuse", "-r", "10", NULL), CMD_RUN_OK);
    assert_true(g_opts.params.rate == 0.0); /* closed loop by default */
    assert_null(g_opts.export_hdr);
    assert_int_equal(parse("threads-reuse", "--export-hdr", "/tmp/x.hdr", NULL), CMD_RUN_OK);
    assert_string_equal(g_opts.export_hdr, "/tmp/x.hdr");
}

static void test_rate_errors(void **state)
{
    assert_int_equal(parse("async-for", "--rate", "100", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--rate needs --duration"));
    assert_int_equal(parse("async-for", "--duration", "1", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--duration needs --rate"));
    assert_int_equal(parse("async-for", "-r", "5", "--rate", "1", "--duration", "1", NULL),
                     CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--requests and --rate exclude each other"));
    assert_int_equal(parse("async-for", "--rate", "0", "--duration", "1", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--rate"));
    assert_int_equal(parse("async-for", "--rate", "fast", "--duration", "1", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--rate"));
    assert_int_equal(parse("async-for", "--rate", "10", "--duration", "-1", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--duration"));
    assert_int_equal(parse("async-for", "--rate", "1000000", "--duration", "86400", NULL),
                     CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "more than 100000000"));
    assert_int_equal(parse("async-for", "--export-hdr", "", NULL), CMD_RUN_ERROR);
    assert_non_null(strstr(g_err.msg, "--export-hdr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_seed_style, setup),
        cmocka_unit_test_setup(test_connections_and_in_flight, setup),
        cmocka_unit_test_setup(test_target_and_env, setup),
        cmocka_unit_test_setup(test_bad_numbers_name_the_flag, setup),
        cmocka_unit_test_setup(test_strategy_errors_list_the_valid_ones, setup),
        cmocka_unit_test_setup(test_help, setup),
        cmocka_unit_test_setup(test_rate, setup),
        cmocka_unit_test_setup(test_rate_errors, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
