/* strategy: the table, its lookup and its names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strategy.h"

#include <string.h>

static const char *const k_seed[] = {"threads-recreate", "threads-reuse", "threads-map",
                                     "async-for", "async-map"};

static void test_table_is_the_seeds(void **state)
{
    assert_int_equal(strategy_count(), 5);
    for (size_t i = 0; i < 5; i++) {
        const strategy_t *s = strategy_at(i);
        assert_non_null(s);
        assert_string_equal(s->name, k_seed[i]);
        assert_ptr_equal(strategy_find(k_seed[i]), s);
        assert_non_null(s->run);
        assert_true(strlen(s->summary) > 10);
    }
    assert_null(strategy_at(5));
}

static void test_flags(void **state)
{
    assert_true(strategy_find("threads-recreate")->uses_chunk);
    assert_true(strategy_find("threads-reuse")->uses_chunk);
    assert_false(strategy_find("threads-map")->uses_chunk);
    assert_false(strategy_find("async-for")->uses_chunk);
    assert_true(strategy_find("async-for")->uses_connections);
    assert_true(strategy_find("async-map")->uses_connections);
    assert_false(strategy_find("threads-reuse")->uses_connections);
}

static void test_unknown(void **state)
{
    assert_null(strategy_find(""));
    assert_null(strategy_find("threads"));
    assert_null(strategy_find("async-for "));
    assert_null(strategy_find("ASYNC-FOR"));
}

static void test_names(void **state)
{
    char buf[200], small[12];

    strategy_names(buf, sizeof buf);
    assert_string_equal(buf, "threads-recreate, threads-reuse, threads-map, async-for, async-map");
    strategy_names(small, sizeof small); /* truncated, still terminated */
    assert_int_equal(strlen(small), sizeof small - 1);
    strategy_names(small, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_the_seeds),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
