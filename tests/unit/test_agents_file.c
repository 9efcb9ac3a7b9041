/* agents_file: --agents-file's parser, on files written by each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agents_file.h"

#define MAX 1024

static char g_host[MAX][AGENTS_FILE_HOST];
static int g_port[MAX];
static size_t g_n;
static char g_path[64], g_err[AGENTS_FILE_ERR_LEN];

static int setup(void **state)
{
    int fd;

    snprintf(g_path, sizeof g_path, "/tmp/fb-agents-XXXXXX");
    fd = mkstemp(g_path);
    assert_true(fd >= 0);
    close(fd);
    g_n = 0;
    g_err[0] = '\0';
    memset(g_host, 0, sizeof g_host);
    return 0;
}

static int teardown(void **state)
{
    unlink(g_path);
    return 0;
}

static void write_file(const char *text, size_t len)
{
    FILE *f = fopen(g_path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static int load_max(const char *text, size_t max)
{
    agents_file_list_t l = {g_host, g_port, &g_n, max, 5555};

    write_file(text, strlen(text));
    return agents_file_load(g_path, &l, g_err);
}

static int load(const char *text)
{
    return load_max(text, MAX);
}

/* err is "PATH:LINE: ..." and mentions what. */
static void assert_err(size_t line, const char *what)
{
    char prefix[128];

    snprintf(prefix, sizeof prefix, "%s:%zu: ", g_path, line);
    if (strncmp(g_err, prefix, strlen(prefix)) != 0 || strstr(g_err, what) == NULL)
        fail_msg("error '%s' is not '%s...%s'", g_err, prefix, what);
}

static void test_hosts_ports_comments_blanks(void **state)
{
    assert_int_equal(load("# the fleet\n"
                          "\n"
                          "10.0.0.5:6000\n"
                          "   host-b   # the default port\n"
                          "\t[::1]:7000\r\n"
                          "[fe80::1]\n"
                          "# the end\n"
                          "c.example:1"), /* no newline at the end */
                     0);
    assert_int_equal(g_n, 5);
    assert_string_equal(g_host[0], "10.0.0.5");
    assert_int_equal(g_port[0], 6000);
    assert_string_equal(g_host[1], "host-b");
    assert_int_equal(g_port[1], 5555);
    assert_string_equal(g_host[2], "::1");
    assert_int_equal(g_port[2], 7000);
    assert_string_equal(g_host[3], "fe80::1");
    assert_int_equal(g_port[3], 5555);
    assert_string_equal(g_host[4], "c.example");
    assert_int_equal(g_port[4], 1);
}

static void test_appends_after_existing(void **state)
{
    strcpy(g_host[0], "127.0.0.2");
    g_port[0] = 5555;
    g_n = 1;
    assert_int_equal(load("127.0.0.3\n"), 0);
    assert_int_equal(g_n, 2);
    assert_string_equal(g_host[0], "127.0.0.2");
    assert_string_equal(g_host[1], "127.0.0.3");
}

static void test_bad_lines_name_the_line(void **state)
{
    static const struct {
        const char *text;
        size_t line;
        const char *what;
    } k_cases[] = {
        {"a:1\nb:2 c:3\n", 2, "one HOST[:PORT] per line"},
        {"a:1\n\n\nhost:port\n", 4, "'port' is not a non-negative integer"},
        {"a:70000\n", 1, "out of range"},
        {"::1\n", 1, "is not HOST:PORT"}, /* bare IPv6 needs brackets */
        {"[::1\n", 1, "is not HOST:PORT"},
        {"[::1]x\n", 1, "is not HOST:PORT"},
        {":5555\n", 1, "is not HOST:PORT"},
        {"a:0\n", 1, "port 0"},
        {"# x\nb\xc3\xa9:1\n", 2, "byte 0xc3"},
        {"a\x01:1\n", 1, "byte 0x01"},
        {"a:1\nb:2\na:1\n", 3, "listed twice (also line 1)"},
        {"a\na:5555\n", 2, "listed twice (also line 1)"}, /* the default port is 5555 */
        {"[::1]:9\n[::1]:9\n", 2, "listed twice"},
    };

    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        g_n = 0;
        if (load(k_cases[i].text) != -1) fail_msg("case %zu accepted", i);
        assert_err(k_cases[i].line, k_cases[i].what);
        assert_int_equal(g_n, 0); /* nothing kept from a bad file */
    }
}

static void test_duplicate_of_agents_option(void **state)
{
    strcpy(g_host[0], "127.0.0.2");
    g_port[0] = 6000;
    g_n = 1;
    assert_int_equal(load("127.0.0.3\n127.0.0.2:6000\n"), -1);
    assert_err(2, "also in --agents");
    assert_int_equal(g_n, 1);
}

static void test_nul_byte(void **state)
{
    agents_file_list_t l = {g_host, g_port, &g_n, MAX, 5555};

    write_file("a:1\nb\0:2\n", 9);
    assert_int_equal(agents_file_load(g_path, &l, g_err), -1);
    assert_err(2, "NUL byte");
}

static void test_empty_file(void **state)
{
    assert_int_equal(load("# nothing\n\n   \n"), -1);
    assert_non_null(strstr(g_err, "no agent in it"));
    assert_int_equal(load(""), -1);
    assert_non_null(strstr(g_err, "no agent in it"));
}

static void test_missing_file(void **state)
{
    agents_file_list_t l = {g_host, g_port, &g_n, MAX, 5555};

    assert_int_equal(agents_file_load("/nonexistent/agents", &l, g_err), -1);
    assert_string_equal(g_err, "/nonexistent/agents: No such file or directory");
}

/* The limit counts --agents' entries too; exactly max fit. */
static void test_limit(void **state)
{
    char *text = malloc(MAX * 24 + 1), *p = text;

    assert_non_null(text);
    for (int i = 0; i < MAX; i++)
        p += sprintf(p, "127.0.%d.%d:%d\n", i / 200, i % 200 + 1, 1000 + i);
    assert_int_equal(load(text), 0);
    assert_int_equal(g_n, MAX);
    assert_int_equal(g_port[MAX - 1], 1000 + MAX - 1);
    g_n = 1; /* one from --agents: the file's last line is one too many */
    strcpy(g_host[0], "10.0.0.1");
    assert_int_equal(load(text), -1);
    assert_err(MAX, "more than 1024 agents");
    assert_int_equal(g_n, 1);
    g_n = 0;
    assert_int_equal(load_max("a\nb\nc\n", 2), -1);
    assert_err(3, "more than 2 agents");
    free(text);
}

static void test_find(void **state)
{
    assert_int_equal(load("a:1\nb:2\n"), 0);
    assert_int_equal(agents_file_find(g_host, g_port, g_n, "b", 2), 1);
    assert_int_equal(agents_file_find(g_host, g_port, g_n, "b", 1), -1);
    assert_int_equal(agents_file_find(g_host, g_port, g_n, "c", 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hosts_ports_comments_blanks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends_after_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines_name_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_of_agents_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
