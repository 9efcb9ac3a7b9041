/* strategy and catalog: the shared catalogue (names, summaries, which
 * parameters each strategy uses), and the agent's table that gives every
 * catalogue entry its run function. */
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
    assert_int_equal(catalog_count(), 5);
    assert_int_equal(strategy_count(), catalog_count());
    for (size_t i = 0; i < 5; i++) {
        const strategy_t *s = strategy_at(i);
        const catalog_entry_t *c = catalog_at(i);
        assert_non_null(s);
        assert_non_null(c);
        assert_string_equal(c->name, k_seed[i]);
        assert_string_equal(s->name, k_seed[i]); /* registered under its catalogue name */
        assert_ptr_equal(strategy_find(k_seed[i]), s);
        assert_ptr_equal(catalog_find(k_seed[i]), c);
        assert_ptr_equal(strategy_info(s), c);
        assert_non_null(s->run);
        assert_true(strlen(c->summary) > 10);
    }
    assert_null(strategy_at(5));
    assert_null(catalog_at(5));
}

static void test_flags(void **state)
{
    assert_true(catalog_find("threads-recreate")->uses_chunk);
    assert_true(catalog_find("threads-reuse")->uses_chunk);
    assert_false(catalog_find("threads-map")->uses_chunk);
    assert_false(catalog_find("async-for")->uses_chunk);
    assert_true(catalog_find("async-for")->uses_connections);
    assert_true(catalog_find("async-map")->uses_connections);
    assert_false(catalog_find("threads-reuse")->uses_connections);
    assert_false(catalog_find("threads-map")->uses_connections);
}

static void test_unknown(void **state)
{
    static const char *const bad[] = {"", "threads", "async-for ", "ASYNC-FOR"};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_null(strategy_find(bad[i]));
        assert_null(catalog_find(bad[i]));
    }
}

static void test_names(void **state)
{
    char buf[200], small[12];

    catalog_names(buf, sizeof buf);
    assert_string_equal(buf, "threads-recreate, threads-reuse, threads-map, async-for, async-map");
    catalog_names(small, sizeof small); /* truncated, still terminated */
    assert_int_equal(strlen(small), sizeof small - 1);
    catalog_names(small, 0);
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
