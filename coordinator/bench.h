/* bench: the coordinator's record of a matrix — per benchmark, every timed
 * run as each agent measured it, plus the latency histogram merged over all
 * of them. stats, summary and export only read it; the coordinator fills it.
 *
 * Times are seconds (doubles), as in hyperfine's JSON. A run's time is the
 * makespan across agents (first start to last end): that is how long the
 * fleet took to push the load through the target. */
#ifndef FB_BENCH_H
#define FB_BENCH_H

#include "cause.h"
#include "hist.h"
#include "stats.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define BENCH_STR 128 /* as the wire's PROTO_STR, so facts copy straight over */

/* Exit codes of one run, as README.md's exit-code table documents them for the
 * whole program. */
enum { BENCH_EXIT_OK = 0, BENCH_EXIT_FAILED = 2, BENCH_EXIT_LOST = 3 };

typedef struct { /* one agent's part of one run */
    double wall_s, user_s, sys_s;
    uint64_t ok, failed[CAUSE__COUNT], bytes, connections;
    double start_offset_s; /* start relative to the earliest agent (lockstep skew);
                              0 for every agent in serial mode */
    int lost;              /* the agent was lost: nothing above is a measurement */
} bench_agent_run_t;

typedef struct {
    double time_s;             /* makespan over the agents not lost */
    double user_s;             /* mean over those agents of each one's CPU time, so one */
    double sys_s;              /* agent reads like the one process hyperfine times */
    int exit_code;             /* BENCH_EXIT_*: LOST beats FAILED */
    double skew_s;             /* latest minus earliest start */
    double go_fanout_s;        /* lockstep: first to last GO sent; NAN if not measured */
    int measured;              /* at least one agent was not lost; else time_s is NAN */
    bench_agent_run_t *agents; /* bench_t.nagents entries */
} bench_run_t;

typedef struct {
    char strategy[BENCH_STR];
    uint64_t requests, chunk, connections;
    /* chunk means something only to the threads strategies, connections only
     * to the async ones (as matrix_entry_t says) */
    int uses_chunk, uses_connections;
} bench_params_t;

typedef struct {
    char *command; /* the row's name, e.g. "async-for -r 1000 -c 100" */
    bench_params_t params;
    size_t nagents;
    size_t nruns, cap;
    bench_run_t *runs;
    hist_t *latency; /* every request of every run and agent: hist_merge into it */
} bench_t;

typedef struct {    /* one agent's facts, as its WELCOME told them */
    char name[256]; /* how the coordinator reached it, e.g. "10.0.0.5:5555" */
    char host[BENCH_STR], cpu_model[BENCH_STR], kernel[BENCH_STR];
    char libcurl[BENCH_STR], libuv[BENCH_STR], libzmq[BENCH_STR], version[BENCH_STR];
    unsigned cores;
} bench_host_t;

typedef struct {
    bench_t **benches; /* owned: bench_set_close frees them */
    size_t nbench, cap;
    bench_host_t *agents; /* owned copies, in the order of bench_agent_run_t */
    size_t nagents;
    char target[256]; /* HOST:PORT */
    char date[64];    /* ISO 8601, when the matrix started */
    char mode[16];    /* "lockstep" or "serial" */
    unsigned warmup;
    double handshake_s; /* connects to every WELCOME; NAN until known */
} bench_set_t;

/* Everything summary and export show about one benchmark, computed once. */
typedef struct {
    stats_desc_t time;   /* over the measured runs */
    double user, system; /* means over the measured runs */
    stats_outliers_t outliers;
    size_t runs_failed;     /* measured runs with exit code 2 */
    size_t runs_lost;       /* measured runs with exit code 3 */
    size_t runs_unmeasured; /* every agent lost: no time at all */
    uint64_t ok, failed[CAUSE__COUNT], failed_total, bytes, connections;
    double throughput;            /* ok requests per second of run time */
    double skew_median, skew_max; /* NAN without measured runs */
} bench_stats_t;

/* Every benchmark of a set side by side, as the comparison and the
 * exporters need them: computed once, read by all. */
typedef struct {
    size_t nbench;
    bench_stats_t *stats; /* one per benchmark */
    size_t fastest;       /* the reference: fastest mean; nbench if none measured */
    stats_ratio_t *rel;   /* each one against the fastest (NAN ratio if unmeasured) */
    size_t *order;        /* by mean, ties in matrix order, unmeasured last */
} bench_table_t;

/* NULL when out of memory or nagents is 0. command is copied. */
bench_t *bench_new(const char *command, const bench_params_t *params, size_t nagents);
/* Frees *b (NULL is fine) and nulls the caller's pointer. */
void bench_free(bench_t **b);
/* Appends one run from b->nagents agent measurements (copied) and derives its
 * time, CPU, exit code and skew. -1 when out of memory (b unchanged). */
int bench_add_run(bench_t *b, const bench_agent_run_t *agents);
/* -1 when out of memory. */
int bench_stats(const bench_t *b, bench_stats_t *s);

/* -1 when out of memory (t is then closed). */
int bench_table_init(bench_table_t *t, const bench_set_t *s);
void bench_table_close(bench_table_t *t);

void bench_set_init(bench_set_t *s);
/* Frees every benchmark and host; s is empty and reusable afterwards. */
void bench_set_close(bench_set_t *s);
/* Takes ownership of b, also on failure (-1: out of memory, b freed). */
int bench_set_add(bench_set_t *s, bench_t *b);
/* Copies h. -1 when out of memory. */
int bench_set_add_host(bench_set_t *s, const bench_host_t *h);

#endif
