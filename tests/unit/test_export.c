/* export: hyperfine's JSON, Markdown and CSV for small fixed sets, the keys
 * hyperfine's scripts read, and the atomic write. With FB_EXPORT_SAMPLE set,
 * also writes a sample JSON there for tests/integration/check_hyperfine_scripts.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "export.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* hyperfine's markdown.rs test data: "sleep 0.1" (mean 105.7 ms, σ 1.6,
 * 102.3 … 108.0) and "sleep 2" (2005.0 ms, σ 2.0, 2002.0 … 2008.0). */
static const double k_sleep01[] = {.1023, .1080, .1064, .1054, .1064, .1054, .1059, .1058};
static const double k_sleep2[] = {2.002, 2.008, 2.0057, 2.0043, 2.0057, 2.0043};

static bench_t *mkbench(const char *command, const bench_params_t *p, const double *t, size_t n,
                        size_t nagents)
{
    bench_t *b = bench_new(command, p, nagents);
    bench_agent_run_t a[2];

    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        memset(a, 0, sizeof a);
        for (size_t k = 0; k < nagents; k++)
            a[k] = (bench_agent_run_t){.wall_s = t[i],
                                       .user_s = 0.5,
                                       .sys_s = 0.25,
                                       .ok = 100,
                                       .bytes = 1000,
                                       .connections = 10};
        assert_int_equal(bench_add_run(b, a), 0);
    }
    return b;
}

static bench_params_t params(const char *strategy, uint64_t requests, uint64_t chunk)
{
    bench_params_t p = {.requests = requests, .chunk = chunk, .connections = 100};

    snprintf(p.strategy, sizeof p.strategy, "%s", strategy);
    p.uses_chunk = strncmp(strategy, "threads", 7) == 0;
    p.uses_connections = !p.uses_chunk;
    return p;
}

static void add(bench_set_t *s, const char *command, bench_params_t p, const double *t, size_t n,
                size_t nagents)
{
    assert_int_equal(bench_set_add(s, mkbench(command, &p, t, n, nagents)), 0);
}

static char *render(int (*f)(FILE *, const bench_set_t *, fb_err_t *), const bench_set_t *s)
{
    char *got = NULL;
    fb_err_t err = {""};
    size_t len = 0;
    FILE *out = open_memstream(&got, &len);

    assert_non_null(out);
    if (f(out, s, &err) != 0) fail_msg("%s", err.msg);
    fclose(out);
    return got;
}

static void expect(int (*f)(FILE *, const bench_set_t *, fb_err_t *), const bench_set_t *s,
                   const char *want)
{
    char *got = render(f, s);

    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want); /* whole: fail_msg cuts */
        fail();
    }
    free(got);
}

static void sleep_set(bench_set_t *s, int seconds_first)
{
    bench_params_t p = params("async-for", 1, 0);

    bench_set_init(s);
    if (seconds_first) add(s, "sleep 2", p, k_sleep2, N(k_sleep2), 1);
    add(s, "sleep 0.1", p, k_sleep01, N(k_sleep01), 1);
    if (!seconds_first) add(s, "sleep 2", p, k_sleep2, N(k_sleep2), 1);
}

/* hyperfine's test_markdown_format_ms and _s: the first row picks the unit */
static void test_markdown(void **state)
{
    bench_set_t s;

    sleep_set(&s, 0);
    expect(export_markdown, &s,
           "| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |\n"
           "|:---|---:|---:|---:|---:|\n"
           "| `sleep 0.1` | 105.7 ± 1.6 | 102.3 | 108.0 | 1.00 |\n"
           "| `sleep 2` | 2005.0 ± 2.0 | 2002.0 | 2008.0 | 18.97 ± 0.29 |\n");
    bench_set_close(&s);
    sleep_set(&s, 1);
    expect(export_markdown, &s,
           "| Command | Mean [s] | Min [s] | Max [s] | Relative |\n"
           "|:---|---:|---:|---:|---:|\n"
           "| `sleep 2` | 2.005 ± 0.002 | 2.002 | 2.008 | 18.97 ± 0.29 |\n"
           "| `sleep 0.1` | 0.106 ± 0.002 | 0.102 | 0.108 | 1.00 |\n");
    bench_set_close(&s);
}

static void test_markdown_edges(void **state)
{
    const double one[] = {0.5}, two[] = {0.25, 0.75};
    bench_agent_run_t lost = {.lost = 1};
    bench_params_t p = params("async-for", 1, 0);
    bench_set_t s;

    bench_set_init(&s);
    add(&s, "a|b", p, one, 1, 1); /* one run: no σ anywhere */
    add(&s, "c", p, two, 2, 1);
    assert_int_equal(bench_set_add(&s, bench_new("gone", &p, 1)), 0);
    assert_int_equal(bench_add_run(s.benches[2], &lost), 0);
    expect(export_markdown, &s,
           "| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |\n"
           "|:---|---:|---:|---:|---:|\n"
           "| `a\\|b` | 500.0 | 500.0 | 500.0 | 1.00 |\n"
           "| `c` | 500.0 ± 353.6 | 250.0 | 750.0 | 1.00 |\n"
           "| `gone` | N/A | N/A | N/A | N/A |\n");
    bench_set_close(&s);
}

/* More than one group: each Relative is against its own group's fastest,
 * and a last column names the group. */
static void test_markdown_groups(void **state)
{
    const double fast[] = {0.1, 0.1}, slow[] = {0.4, 0.4}, mid[] = {0.2, 0.2};
    bench_set_t s;

    bench_set_init(&s);
    add(&s, "threads-reuse -r 100 -c 10", params("threads-reuse", 100, 10), slow, 2, 1);
    add(&s, "threads-reuse -r 100 -c 20", params("threads-reuse", 100, 20), fast, 2, 1);
    add(&s, "threads-reuse -r 100 -c 10 again", params("threads-reuse", 100, 10), mid, 2, 1);
    expect(export_markdown, &s,
           "| Command | Mean [ms] | Min [ms] | Max [ms] | Relative | Group |\n"
           "|:---|---:|---:|---:|---:|:---|\n"
           "| `threads-reuse -r 100 -c 10` | 400.0 ± 0.0 | 400.0 | 400.0 | 2.00 ± 0.00 | -r 100, "
           "concurrency 10, 1 agent |\n"
           "| `threads-reuse -r 100 -c 20` | 100.0 ± 0.0 | 100.0 | 100.0 | 1.00 | -r 100, "
           "concurrency 20, 1 agent |\n"
           "| `threads-reuse -r 100 -c 10 again` | 200.0 ± 0.0 | 200.0 | 200.0 | 1.00 | -r 100, "
           "concurrency 10, 1 agent |\n");
    bench_set_close(&s);
}

/* Columns as hyperfine; parameters are the scanned dimensions (chunk and
 * requests vary, strategy too; connections apply to one row only). */
static void test_csv(void **state)
{
    const double two[] = {0.25, 0.75}, tiny[] = {0.0000001}, big[] = {1234567.5, 1234567.5};
    bench_set_t s;

    bench_set_init(&s);
    add(&s, "threads-reuse -r 100 -c 10", params("threads-reuse", 100, 10), two, 2, 1);
    add(&s, "threads-reuse -r 100 -c 20", params("threads-reuse", 100, 20), big, 2, 1);
    add(&s, "say \"hi\", bye", params("async-for", 1000, 0), tiny, 1, 1);
    expect(export_csv, &s,
           "command,mean,stddev,median,user,system,min,max,parameter_chunk,parameter_requests,"
           "parameter_strategy\n"
           "threads-reuse -r 100 -c 10,0.5,0.3535533905932738,0.5,0.5,0.25,0.25,0.75,10,100,"
           "threads-reuse\n"
           "threads-reuse -r 100 -c 20,1234567.5,0,1234567.5,0.5,0.25,1234567.5,1234567.5,20,100,"
           "threads-reuse\n"
           "\"say \"\"hi\"\", bye\",0.0000001,0,0.0000001,0.5,0.25,0.0000001,0.0000001,,1000,"
           "async-for\n");
    bench_set_close(&s);

    bench_set_init(&s); /* nothing scanned: no parameter columns, as a plain hyperfine run */
    add(&s, "async-for -r 10", params("async-for", 10, 0), two, 2, 1);
    expect(export_csv, &s,
           "command,mean,stddev,median,user,system,min,max\n"
           "async-for -r 10,0.5,0.3535533905932738,0.5,0.5,0.25,0.25,0.75\n");
    bench_set_close(&s);
}

/* The whole document of a small set: hyperfine's keys in hyperfine's order,
 * then the extras. */
static void test_json_text(void **state)
{
    const double one[] = {0.5}, two[] = {0.25, 0.75};
    bench_host_t h = {.name = "127.0.0.1:5555",
                      .host = "box",
                      .cpu_model = "cpu",
                      .cores = 2,
                      .kernel = "6.1",
                      .libcurl = "7.88.1",
                      .libuv = "1.44.2",
                      .libzmq = "4.3.4",
                      .version = "0.1.0"};
    bench_set_t s;

    bench_set_init(&s);
    strcpy(s.target, "127.0.0.1:8080");
    strcpy(s.date, "2024-05-01T12:00:00Z");
    strcpy(s.mode, "lockstep");
    s.warmup = 3;
    assert_int_equal(bench_set_add_host(&s, &h), 0);
    add(&s, "async-for -r 10", params("async-for", 10, 0), two, 2, 1);
    add(&s, "async-for -r 20", params("async-for", 20, 0), one, 1, 1);
    /* one bad body in the second run, as an agent would have reported it */
    s.benches[0]->runs[1].agents[0].failed[CAUSE_BAD_BODY] = 1;
    s.benches[0]->runs[1].exit_code = FB_EXIT_FAILED;
    hist_record(s.benches[0]->latency, 2000000);
    s.benches[0]->runs[0].go_fanout_s = 0.001; /* run 1's unknown: null */
    s.handshake_s = 0.125;
    expect(export_json, &s,
           "{\n"
           "  \"results\": [\n"
           "    {\n"
           "      \"command\": \"async-for -r 10\",\n"
           "      \"mean\": 0.5,\n"
           "      \"stddev\": 0.353553390593274,\n"
           "      \"median\": 0.5,\n"
           "      \"user\": 0.5,\n"
           "      \"system\": 0.25,\n"
           "      \"min\": 0.25,\n"
           "      \"max\": 0.75,\n"
           "      \"times\": [\n"
           "        0.25,\n"
           "        0.75\n"
           "      ],\n"
           "      \"exit_codes\": [\n"
           "        0,\n"
           "        2\n"
           "      ],\n"
           "      \"parameters\": {\n"
           "        \"requests\": \"10\"\n"
           "      },\n"
           "      \"fleetbench\": {\n"
           "        \"setup\": {\n"
           "          \"strategy\": \"async-for\",\n"
           "          \"requests\": 10,\n"
           "          \"connections\": 100\n"
           "        },\n"
           "        \"runs\": {\n"
           "          \"measured\": 2,\n"
           "          \"failed\": 1,\n"
           "          \"lost\": 0,\n"
           "          \"unmeasured\": 0\n"
           "        },\n"
           "        \"throughput\": 200.0,\n"
           "        \"requests\": {\n"
           "          \"ok\": 200,\n"
           "          \"failed\": 1,\n"
           "          \"bytes\": 2000,\n"
           "          \"connections\": 20\n"
           "        },\n"
           "        \"failures\": {\n"
           "          \"connect\": 0,\n"
           "          \"timeout\": 0,\n"
           "          \"transport\": 0,\n"
           "          \"http_status\": 0,\n"
           "          \"bad_body\": 1,\n"
           "          \"wrong_result\": 0\n"
           "        },\n"
           "        \"latency\": {\n"
           "          \"count\": 1,\n"
           "          \"mean\": 0.002,\n"
           "          \"min\": 0.002,\n"
           "          \"p50\": 0.002,\n"
           "          \"p90\": 0.002,\n"
           "          \"p99\": 0.002,\n"
           "          \"p99.9\": 0.002,\n"
           "          \"max\": 0.002\n"
           "        },\n"
           "        \"skew\": {\n"
           "          \"p50\": 0.0,\n"
           "          \"max\": 0.0\n"
           "        },\n"
           "        \"go_fanout\": [\n"
           "          0.001,\n"
           "          null\n"
           "        ],\n"
           "        \"agents\": [\n"
           "          {\n"
           "            \"name\": \"127.0.0.1:5555\",\n"
           "            \"times\": [\n"
           "              0.25,\n"
           "              0.75\n"
           "            ],\n"
           "            \"user\": [\n"
           "              0.5,\n"
           "              0.5\n"
           "            ],\n"
           "            \"system\": [\n"
           "              0.25,\n"
           "              0.25\n"
           "            ],\n"
           "            \"start_offsets\": [\n"
           "              0.0,\n"
           "              0.0\n"
           "            ],\n"
           "            \"ok\": 200,\n"
           "            \"failed\": 1\n"
           "          }\n"
           "        ],\n"
           "        \"comparison\": {\n"
           "          \"group\": 0,\n"
           "          \"reference\": \"async-for -r 10\",\n"
           "          \"ratio\": 1.0,\n"
           "          \"ratio_stddev\": null,\n"
           "          \"welch_p\": null,\n"
           "          \"by\": \"time\"\n"
           "        },\n"
           "        \"target\": null\n"
           "      }\n"
           "    },\n"
           "    {\n"
           "      \"command\": \"async-for -r 20\",\n"
           "      \"mean\": 0.5,\n"
           "      \"stddev\": null,\n"
           "      \"median\": 0.5,\n"
           "      \"user\": 0.5,\n"
           "      \"system\": 0.25,\n"
           "      \"min\": 0.5,\n"
           "      \"max\": 0.5,\n"
           "      \"times\": [\n"
           "        0.5\n"
           "      ],\n"
           "      \"exit_codes\": [\n"
           "        0\n"
           "      ],\n"
           "      \"parameters\": {\n"
           "        \"requests\": \"20\"\n"
           "      },\n"
           "      \"fleetbench\": {\n"
           "        \"setup\": {\n"
           "          \"strategy\": \"async-for\",\n"
           "          \"requests\": 20,\n"
           "          \"connections\": 100\n"
           "        },\n"
           "        \"runs\": {\n"
           "          \"measured\": 1,\n"
           "          \"failed\": 0,\n"
           "          \"lost\": 0,\n"
           "          \"unmeasured\": 0\n"
           "        },\n"
           "        \"throughput\": 200.0,\n"
           "        \"requests\": {\n"
           "          \"ok\": 100,\n"
           "          \"failed\": 0,\n"
           "          \"bytes\": 1000,\n"
           "          \"connections\": 10\n"
           "        },\n"
           "        \"failures\": {\n"
           "          \"connect\": 0,\n"
           "          \"timeout\": 0,\n"
           "          \"transport\": 0,\n"
           "          \"http_status\": 0,\n"
           "          \"bad_body\": 0,\n"
           "          \"wrong_result\": 0\n"
           "        },\n"
           "        \"latency\": {\n"
           "          \"count\": 0\n"
           "        },\n"
           "        \"skew\": {\n"
           "          \"p50\": 0.0,\n"
           "          \"max\": 0.0\n"
           "        },\n"
           "        \"go_fanout\": [\n"
           "          null\n"
           "        ],\n"
           "        \"agents\": [\n"
           "          {\n"
           "            \"name\": \"127.0.0.1:5555\",\n"
           "            \"times\": [\n"
           "              0.5\n"
           "            ],\n"
           "            \"user\": [\n"
           "              0.5\n"
           "            ],\n"
           "            \"system\": [\n"
           "              0.25\n"
           "            ],\n"
           "            \"start_offsets\": [\n"
           "              0.0\n"
           "            ],\n"
           "            \"ok\": 100,\n"
           "            \"failed\": 0\n"
           "          }\n"
           "        ],\n"
           "        \"comparison\": {\n"
           "          \"group\": 1,\n"
           "          \"reference\": \"async-for -r 20\",\n"
           "          \"ratio\": 1.0,\n"
           "          \"ratio_stddev\": null,\n"
           "          \"welch_p\": null,\n"
           "          \"by\": \"time\"\n"
           "        },\n"
           "        \"target\": null\n"
           "      }\n"
           "    }\n"
           "  ],\n"
           "  \"fleetbench\": {\n"
           "    \"version\": \"" FB_VERSION "\",\n"
           "    \"target\": \"127.0.0.1:8080\",\n"
           "    \"target_view\": false,\n"
           "    \"date\": \"2024-05-01T12:00:00Z\",\n"
           "    \"mode\": \"lockstep\",\n"
           "    \"order\": null,\n"
           "    \"seed\": null,\n"
           "    \"warmup\": 3,\n"
           "    \"handshake\": 0.125,\n"
           "    \"agents\": [\n"
           "      {\n"
           "        \"name\": \"127.0.0.1:5555\",\n"
           "        \"host\": \"box\",\n"
           "        \"cpu_model\": \"cpu\",\n"
           "        \"cores\": 2,\n"
           "        \"kernel\": \"6.1\",\n"
           "        \"libcurl\": \"7.88.1\",\n"
           "        \"libuv\": \"1.44.2\",\n"
           "        \"libzmq\": \"4.3.4\",\n"
           "        \"version\": \"0.1.0\"\n"
           "      }\n"
           "    ],\n"
           "    \"groups\": [\n"
           "      {\n"
           "        \"label\": \"-r 10, concurrency 100, 1 agent\",\n"
           "        \"requests\": 10,\n"
           "        \"concurrency\": 100,\n"
           "        \"agents\": 1,\n"
           "        \"reference\": \"async-for -r 10\",\n"
           "        \"benchmarks\": [\n"
           "          \"async-for -r 10\"\n"
           "        ]\n"
           "      },\n"
           "      {\n"
           "        \"label\": \"-r 20, concurrency 100, 1 agent\",\n"
           "        \"requests\": 20,\n"
           "        \"concurrency\": 100,\n"
           "        \"agents\": 1,\n"
           "        \"reference\": \"async-for -r 20\",\n"
           "        \"benchmarks\": [\n"
           "          \"async-for -r 20\"\n"
           "        ]\n"
           "      }\n"
           "    ],\n"
           "    \"unfinished\": []\n"
           "  }\n"
           "}\n");
    bench_set_close(&s);
}

/* Two agents, one of them lost in the second run, and a third run with
 * neither: per-agent arrays stay aligned with "times" (nulls for the lost
 * agent), the unmeasured run is left out of hyperfine's arrays. */
static void test_json_agents(void **state)
{
    bench_params_t p = params("threads-map", 10, 10);
    bench_agent_run_t a[2] = {{.wall_s = 1, .ok = 5, .failed = {0, 2, 0, 0, 0, 3}},
                              {.wall_s = 1, .ok = 5, .start_offset_s = 0.5}};
    bench_set_t s;
    bench_t *b = bench_new("threads-map -r 10", &p, 2);
    json_t *root, *r, *fb, *ag;
    char *text;

    assert_non_null(b);
    bench_set_init(&s);
    assert_int_equal(bench_set_add(&s, b), 0);
    assert_int_equal(bench_add_run(b, a), 0);
    a[1].lost = 1;
    assert_int_equal(bench_add_run(b, a), 0);
    a[0].lost = 1;
    assert_int_equal(bench_add_run(b, a), 0);
    b->runs[0].go_fanout_s = 0.25; /* drive.c's; run 2's is unknown (NAN) */
    text = render(export_json, &s);
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    r = json_array_get(json_object_get(root, "results"), 0);
    assert_int_equal(json_array_size(json_object_get(r, "times")), 2);
    assert_true(json_real_value(json_array_get(json_object_get(r, "times"), 0)) == 1.5);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "exit_codes"), 0)), 2);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "exit_codes"), 1)), 3);
    assert_null(json_object_get(r, "parameters")); /* a single benchmark scans nothing */
    fb = json_object_get(r, "fleetbench");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(fb, "setup"), "chunk")),
                     10);
    assert_null(json_object_get(json_object_get(fb, "setup"), "connections"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(fb, "runs"), "unmeasured")),
                     1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(fb, "failures"), "timeout")), 4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(fb, "failures"), "wrong_result")), 6);
    assert_true(json_real_value(json_object_get(json_object_get(fb, "skew"), "max")) == 0.5);
    assert_int_equal(json_array_size(json_object_get(fb, "go_fanout")), 2); /* measured runs */
    assert_true(json_real_value(json_array_get(json_object_get(fb, "go_fanout"), 0)) == 0.25);
    assert_true(json_is_null(json_array_get(json_object_get(fb, "go_fanout"), 1)));
    assert_true(json_is_null(json_object_get(json_object_get(root, "fleetbench"), "handshake")));
    ag = json_array_get(json_object_get(fb, "agents"), 1);
    assert_string_equal(json_string_value(json_object_get(ag, "name")), ""); /* no host facts */
    assert_true(json_real_value(json_array_get(json_object_get(ag, "start_offsets"), 0)) == 0.5);
    assert_true(json_is_null(json_array_get(json_object_get(ag, "times"), 1)));
    assert_int_equal(json_integer_value(json_object_get(ag, "ok")), 5);
    json_decref(root);
    free(text);
    bench_set_close(&s);
}

/* A scan of requests on one strategy, two agents: what plot_parametrized.py
 * and welch_ttest.py (exactly two results) need. */
static void sample_set(bench_set_t *s)
{
    const double t1[] = {0.0712, 0.0698, 0.0705, 0.0731, 0.0701};
    const double t2[] = {0.6532, 0.6611, 0.6498, 0.6574, 0.6550};
    bench_host_t h = {.name = "127.0.0.1:5555", .host = "localhost", .cores = 2};

    bench_set_init(s);
    strcpy(s->mode, "lockstep");
    strcpy(s->target, "127.0.0.1:8080");
    assert_int_equal(bench_set_add_host(s, &h), 0);
    strcpy(h.name, "127.0.0.2:5555");
    assert_int_equal(bench_set_add_host(s, &h), 0);
    add(s, "async-for -r 100", params("async-for", 100, 0), t1, N(t1), 2);
    add(s, "async-for -r 1000", params("async-for", 1000, 0), t2, N(t2), 2);
}

static json_t *get(json_t *o, const char *key, json_type type)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL) fail_msg("no \"%s\"", key);
    if (json_typeof(v) != type)
        fail_msg("\"%s\" has JSON type %d, not %d", key, (int)json_typeof(v), (int)type);
    return v;
}

static int is_number(json_t *v)
{
    return json_is_real(v) || json_is_integer(v);
}

/* Every key hyperfine's scripts read, with the type they use it as:
 *   all five:              ["results"] (list), r["command"] (str), r["times"] (list of numbers)
 *   plot_whisker.py:       r["median"] (number, --sort-by median)
 *   plot_parametrized.py:  r.get("parameters", {}) with exactly one entry whose value
 *                          float() accepts; r["mean"], r["stddev"] (numbers)
 *   welch_ttest.py:        exactly two results
 *   advanced_statistics.py, plot_histogram.py: nothing more. */
static void test_hyperfine_script_keys(void **state)
{
    bench_set_t s;
    char *text, *end;
    json_t *root, *results;
    const char *sample = getenv("FB_EXPORT_SAMPLE");

    sample_set(&s);
    text = render(export_json, &s);
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    results = get(root, "results", JSON_ARRAY);
    assert_int_equal(json_array_size(results), 2);
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i), *times, *params;
        const char *name, *value;
        json_t *v;

        assert_true(json_is_object(r));
        get(r, "command", JSON_STRING);
        times = get(r, "times", JSON_ARRAY);
        assert_true(json_array_size(times) > 0);
        for (size_t k = 0; k < json_array_size(times); k++)
            assert_true(is_number(json_array_get(times, k)));
        assert_true(is_number(json_object_get(r, "median")));
        assert_true(is_number(json_object_get(r, "mean")));
        assert_true(is_number(json_object_get(r, "stddev")));
        params = get(r, "parameters", JSON_OBJECT);
        assert_int_equal(json_object_size(params), 1);
        json_object_foreach(params, name, v)
        {
            assert_string_equal(name, "requests");
            value = json_string_value(v);
            assert_non_null(value);
            errno = 0;
            strtod(value, &end);
            assert_true(errno == 0 && end != value && *end == '\0');
        }
    }
    json_decref(root);
    free(text);
    if (sample != NULL) { /* for check_hyperfine_scripts.py */
        fb_err_t err = {""};
        if (export_write(sample, EXPORT_JSON, &s, &err) != 0) fail_msg("%s", err.msg);
    }
    bench_set_close(&s);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 16);

    assert_non_null(f);
    assert_non_null(buf);
    (void)fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void test_write(void **state)
{
    char dir[] = "/tmp/fb-export-XXXXXX", path[64], tmp[80], *md, *got;
    fb_err_t err = {""};
    bench_set_t s;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.md", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    sleep_set(&s, 0);
    assert_int_equal(export_write(path, EXPORT_MARKDOWN, &s, &err), 0);
    md = render(export_markdown, &s);
    got = slurp(path);
    assert_string_equal(got, md); /* replaced whole */
    assert_int_equal(access(tmp, F_OK), -1);
    free(got);
    free(md);
    assert_int_equal(export_write(path, EXPORT_CSV, &s, &err), 0);
    got = slurp(path);
    assert_true(strncmp(got, "command,mean,", 13) == 0);
    free(got);
    unlink(path);

    /* an unwritable place: the error names the file, nothing is left behind */
    snprintf(path, sizeof path, "%s/missing/out.json", dir);
    assert_int_equal(export_write(path, EXPORT_JSON, &s, &err), -1);
    assert_non_null(strstr(err.msg, "missing/out.json"));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_int_equal(rmdir(dir), 0);
    bench_set_close(&s);
}

/* An interrupted matrix: what the exports get is a view without the
 * benchmarks that have no measured run, which the JSON lists apart. */
static void test_json_view(void **state)
{
    const double two[] = {0.25, 0.75};
    bench_agent_run_t lost = {.lost = 1};
    bench_params_t p = params("async-for", 10, 0);
    bench_set_t s, v;
    json_t *root, *left;
    char *text;

    bench_set_init(&s);
    assert_int_equal(bench_set_add(&s, bench_new("not started", &p, 1)), 0);
    add(&s, "async-for -r 10", p, two, 2, 1);
    assert_int_equal(bench_set_add(&s, bench_new("all lost", &p, 1)), 0);
    assert_int_equal(bench_add_run(s.benches[2], &lost), 0);
    assert_int_equal(bench_set_view(&s, &v), 0);
    assert_int_equal(v.nbench, 1);
    assert_ptr_equal(v.benches[0], s.benches[1]);
    text = render(export_json, &v);
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_array_size(get(root, "results", JSON_ARRAY)), 1);
    left = get(get(root, "fleetbench", JSON_OBJECT), "unfinished", JSON_ARRAY);
    assert_int_equal(json_array_size(left), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(left, 0), "command")),
                        "not started");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(left, 0), "runs")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(left, 1), "command")),
                        "all lost");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(left, 1), "runs")), 1);
    json_decref(root);
    free(text);
    bench_set_close(&v); /* a view: frees what it holds, never the benchmarks */
    assert_int_equal(s.nbench, 3);
    bench_set_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),    cmocka_unit_test(test_markdown_edges),
        cmocka_unit_test(test_csv),         cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_json_agents), cmocka_unit_test(test_hyperfine_script_keys),
        cmocka_unit_test(test_write),       cmocka_unit_test(test_markdown_groups),
        cmocka_unit_test(test_json_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
