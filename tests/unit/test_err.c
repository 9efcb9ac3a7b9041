/* fb_err: formatting, context before and after, and text that does not fit
 * (cut at a character boundary, marked "...", never past the buffer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fb_err.h"

static void test_set_formats(void **state)
{
    fb_err_t err = {""};

    fb_err_set(&err, "%s: '%s' is not a number (%d..%d)", "--runs", "x", 1, 9);
    assert_string_equal(err.msg, "--runs: 'x' is not a number (1..9)");
    fb_err_set(&err, "%s", "shorter");
    assert_string_equal(err.msg, "shorter");
    fb_err_clear(&err);
    assert_string_equal(err.msg, "");
}

static void test_prefix_and_append(void **state)
{
    fb_err_t err;

    fb_err_set(&err, "line %d: invalid JSON", 3);
    fb_err_prefix(&err, "journal %s: ", "x.jsonl");
    assert_string_equal(err.msg, "journal x.jsonl: line 3: invalid JSON");
    fb_err_append(&err, " (%s)", "see --resume");
    assert_string_equal(err.msg, "journal x.jsonl: line 3: invalid JSON (see --resume)");
    fb_err_clear(&err);
    fb_err_prefix(&err, "%s", "only context");
    assert_string_equal(err.msg, "only context");
}

static void assert_cut(const fb_err_t *err)
{
    size_t n = strlen(err->msg);

    assert_true(n <= FB_ERR_MAX - 1);
    assert_true(n >= FB_ERR_MAX - 7); /* at most one character given up */
    assert_memory_equal(err->msg + n - 3, "...", 3);
}

static void test_too_long_is_cut(void **state)
{
    char big[3 * FB_ERR_MAX];
    fb_err_t err;

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(&err, 'z', sizeof err);
    fb_err_set(&err, "%s", big);
    assert_cut(&err);
    assert_int_equal(err.msg[0], 'a');

    /* appending to a full message leaves it as it is */
    fb_err_append(&err, "%s", "more");
    assert_cut(&err);
    assert_null(strstr(err.msg, "more"));

    /* a prefix keeps as much of the message as fits, and the mark */
    fb_err_set(&err, "%s", big + 100); /* already cut */
    fb_err_prefix(&err, "ctx: ");
    assert_cut(&err);
    assert_memory_equal(err.msg, "ctx: aaa", 8);

    /* a prefix that alone does not fit */
    fb_err_set(&err, "tail");
    fb_err_prefix(&err, "%s", big);
    assert_cut(&err);
    assert_null(strstr(err.msg, "tail"));

    /* exactly full: no mark */
    big[FB_ERR_MAX - 1] = '\0';
    fb_err_set(&err, "%s", big);
    assert_int_equal(strlen(err.msg), FB_ERR_MAX - 1);
    assert_int_equal(err.msg[FB_ERR_MAX - 2], 'a');
}

/* A multi-byte character across the limit is dropped whole: the message
 * stays valid UTF-8. */
static void test_cut_keeps_utf8(void **state)
{
    char big[FB_ERR_MAX + 16];
    fb_err_t err;

    for (int shift = 0; shift < 3; shift++) {
        size_t i = 0;
        for (; i < (size_t)shift; i++)
            big[i] = 'a';
        for (; i + 2 <= FB_ERR_MAX + 8; i += 2) /* "é" is 0xC3 0xA9 */
            big[i] = (char)0xC3, big[i + 1] = (char)0xA9;
        big[i] = '\0';
        fb_err_set(&err, "%s", big);
        assert_cut(&err);
        size_t n = strlen(err.msg) - 3; /* before "..." */
        for (size_t k = (size_t)shift; k < n; k += 2) {
            assert_int_equal((unsigned char)err.msg[k], 0xC3);
            assert_int_equal((unsigned char)err.msg[k + 1], 0xA9);
        }
        assert_int_equal((n - (size_t)shift) % 2, 0); /* no half character */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_formats),
        cmocka_unit_test(test_prefix_and_append),
        cmocka_unit_test(test_too_long_is_cut),
        cmocka_unit_test(test_cut_keeps_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
