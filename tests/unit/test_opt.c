/* opt: the getopt error messages every program shares — a missing value,
 * an unknown option with a suggestion by edit distance or a hint, an
 * ambiguous prefix, a value given to a flag that takes none — and the value
 * parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "opt.h"

enum { O_RUNS = 256, O_REPORT, O_RESUME, O_JSON, O_EXPORT_JSON };

static const struct option k_opts[] = {
    {"requests", required_argument, NULL, 'r'},
    {"runs", required_argument, NULL, O_RUNS},
    {"report", required_argument, NULL, O_REPORT},
    {"resume", required_argument, NULL, O_RESUME},
    {"json", no_argument, NULL, O_JSON},
    {"export-json", required_argument, NULL, O_EXPORT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const opt_hint_t k_hints[] = {
    {"-m", "hyperfine's --min-runs is not supported"},
    {"--style", "not supported"},
    {NULL, NULL},
};

static const opt_cli_t k_cli = {"prog --help", k_opts, k_hints};
static char err[OPT_ERR_LEN];

/* Runs getopt_long over argv until the first complaint; its message. */
static const char *complaint(int argc, char **argv)
{
    int c;

    err[0] = '\0';
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hr:", k_opts, NULL)) != -1)
        if (c == ':' || c == '?') {
            opt_getopt_error(&k_cli, c, argv, err);
            return err;
        }
    return NULL;
}

#define COMPLAINT(...)                                                                             \
    complaint((int)(sizeof((char *[]){"prog", __VA_ARGS__}) / sizeof(char *)),                     \
              (char *[]){"prog", __VA_ARGS__})

static void test_suggestions(void **state)
{
    assert_string_equal(COMPLAINT("--runz", "3"),
                        "unknown option '--runz'; did you mean --runs? (see prog --help)");
    assert_string_equal(COMPLAINT("--rusn=3"), /* a swap is one edit */
                        "unknown option '--rusn'; did you mean --runs? (see prog --help)");
    assert_string_equal(COMPLAINT("--export-jsno", "x"),
                        "unknown option '--export-jsno'; did you mean --export-json? "
                        "(see prog --help)");
    assert_string_equal(COMPLAINT("--requets", "9"),
                        "unknown option '--requets'; did you mean --requests? (see prog --help)");
    /* too far from everything: no guess */
    assert_string_equal(COMPLAINT("--frobnicate"),
                        "unknown option '--frobnicate' (see prog --help)");
    assert_string_equal(COMPLAINT("--xy"), "unknown option '--xy' (see prog --help)");
}

static void test_hints(void **state)
{
    assert_string_equal(COMPLAINT("-m", "5"), "-m: hyperfine's --min-runs is not supported");
    assert_string_equal(COMPLAINT("--style=basic"), "--style: not supported");
    assert_string_equal(COMPLAINT("--style", "basic"), "--style: not supported");
    assert_string_equal(COMPLAINT("-x"), "unknown option '-x' (see prog --help)");
}

static void test_missing_value(void **state)
{
    assert_string_equal(COMPLAINT("--runs"), "--runs: needs a value (see prog --help)");
    assert_string_equal(COMPLAINT("-r"), "-r: needs a value (see prog --help)");
    assert_string_equal(COMPLAINT("--requests"), "--requests: needs a value (see prog --help)");
}

static void test_ambiguous_and_valued(void **state)
{
    assert_string_equal(COMPLAINT("--re", "1"),
                        "option '--re' is ambiguous: --requests --report --resume");
    assert_string_equal(COMPLAINT("--json=1"), "--json takes no value (see prog --help)");
    /* a short option inside a bundle after a long one is still named right */
    assert_string_equal(COMPLAINT("--json", "-hx"), "unknown option '-x' (see prog --help)");
    /* a prefix getopt_long accepts is no complaint */
    assert_null(COMPLAINT("--run", "3", "--jso"));
}

static void test_unexpected(void **state)
{
    opt_unexpected(&k_cli, "extra", err);
    assert_string_equal(err, "unexpected argument 'extra' (see prog --help)");
}

static void test_target(void **state)
{
    char host[64];
    int port = 0;

    assert_int_equal(
        opt_target("--target", "http://10.0.0.6:8080/", -1, host, sizeof host, &port, err), 0);
    assert_string_equal(host, "10.0.0.6");
    assert_int_equal(port, 8080);
    assert_int_equal(opt_target("--target", "HTTP://[::1]:9", -1, host, sizeof host, &port, err),
                     0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9);
    assert_int_equal(opt_target("--target", "h:1", -1, host, sizeof host, &port, err), 0);
    assert_int_equal(opt_target("--target", "http://h", 8080, host, sizeof host, &port, err), 0);
    assert_int_equal(port, 8080);
    assert_int_equal(opt_target("--target", "http://h", -1, host, sizeof host, &port, err), -1);
    assert_int_equal(opt_target("--target", "https://h:1/", -1, host, sizeof host, &port, err), -1);
    assert_non_null(strstr(err, "only http://"));
    assert_int_equal(opt_target("--target", "http://h:1/x", -1, host, sizeof host, &port, err), -1);
    assert_non_null(strstr(err, "has a path"));
    assert_int_equal(opt_target("--target", "http://", -1, host, sizeof host, &port, err), -1);

    assert_true(opt_is_loopback("127.0.0.1"));
    assert_true(opt_is_loopback("127.1.2.3"));
    assert_true(opt_is_loopback("::1"));
    assert_true(opt_is_loopback("localhost"));
    assert_false(opt_is_loopback("10.0.0.5"));
    assert_false(opt_is_loopback("1127.0.0.1"));
}

static void test_values(void **state)
{
    uint64_t v;
    double d;

    assert_int_equal(opt_u64("--n", "42", 1, 100, &v, err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(opt_u64("--n", "-1", 0, 100, &v, err), -1);
    assert_string_equal(err, "--n: '-1' is not a non-negative integer");
    assert_int_equal(opt_u64("--n", "101", 1, 100, &v, err), -1);
    assert_string_equal(err, "--n: 101 is out of range (1..100)");
    assert_int_equal(opt_double("--f", "0.25", 0, 1, &d, err), 0);
    assert_true(d == 0.25);
    assert_int_equal(opt_double("--f", "nan", 0, 1, &d, err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggestions),   cmocka_unit_test(test_hints),
        cmocka_unit_test(test_missing_value), cmocka_unit_test(test_ambiguous_and_valued),
        cmocka_unit_test(test_unexpected),    cmocka_unit_test(test_target),
        cmocka_unit_test(test_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
