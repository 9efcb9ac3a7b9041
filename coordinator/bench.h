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
#include "fb_exit.h"
#include "hist.h"
#include "stats.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define BENCH_STR 128 /* as the wire's PROTO_STR, so facts copy straight over */

typedef struct { /* one agent's part of one run */
    double wall_s, user_s, sys_s;
    uint64_t ok, failed[CAUSE__COUNT], bytes, connections;
    double start_offset_s; /* start relative to the earliest agent (lockstep skew);
                              0 for every agent in serial mode */
    int lost;              /* the agent was lost: nothing above is a measurement */
    int exit_code;         /* a command's process exit code (128 + signal) */
    /* open loop (--rate) only, else 0: what the agent measured of itself */
    int paced;
    double achieved;     /* requests sent and finished per second */
    uint64_t never_sent; /* their --timeout ran out before the agent could send them */
    double late_p50_s, late_p99_s, late_max_s; /* due time to actual send */
} bench_agent_run_t;

/* The target's own count of one timed run: its GET /stats, read by one
 * agent before and after the run, outside it (a fleetbench target-server;
 * a third-party target has none). */
typedef struct {
    int seen; /* the target told it; nothing below is known otherwise */
    uint64_t requests, codes[5], dropped, connections; /* codes: answered 1xx .. 5xx */
    uint64_t cpu_ns, wall_ns;                          /* wall: between the two reads */
    uint64_t busy_ns, busy_max_ns;                     /* all its event loops', the busiest's */
    uint64_t load_ns; /* how long the agents' load lasted (busy's denominator) */
    uint32_t loops, cores;
} bench_target_t;

typedef struct {
    double time_s;             /* makespan over the agents not lost */
    double user_s;             /* mean over those agents of each one's CPU time, so one */
    double sys_s;              /* agent reads like the one process hyperfine times */
    int exit_code;             /* FB_EXIT_OK, _FAILED or _LOST (which beats FAILED) */
    int proc_exit;             /* a command's: the first agent's non-zero exit code, or 0 */
    double skew_s;             /* latest minus earliest start */
    double go_fanout_s;        /* lockstep: first to last GO sent; NAN if not measured */
    int measured;              /* at least one agent was not lost; else time_s is NAN */
    bench_agent_run_t *agents; /* bench_t.nagents entries */
    bench_target_t target;     /* the target's view, when it has one */
    /* open loop (--rate) only, else 0 (bench_set_run_hists and run_derive): */
    double rate_achieved;          /* the agents' achieved rates, summed */
    uint64_t never_sent;           /* over the agents */
    double late_p99_s, late_max_s; /* the latest agent's */
    double lat_pct_s[HIST_NPCTS];  /* this run's corrected latency percentiles (hist_pcts) */
    double svc_pct_s[HIST_NPCTS];  /* and its service-time ones */
} bench_run_t;

typedef struct {
    char strategy[BENCH_STR];
    uint64_t requests, chunk, connections;
    /* chunk means something only to the threads strategies, connections only
     * to the async ones (as matrix_entry_t says) */
    int uses_chunk, uses_connections;
    /* a command run as a whole process: no requests of the agents' own;
     * its -L values, as hyperfine's "parameters" */
    int is_command;
    size_t nparams;
    char param_name[8][BENCH_STR], param_value[8][BENCH_STR];
    /* open loop: the fleet's rate (shared among the agents) and each run's
     * schedule; 0: closed loop. requests is then each agent's share. */
    double rate, duration_s;
} bench_params_t;

typedef struct {
    char *command; /* the row's name, e.g. "async-for -r 1000 -c 100" */
    bench_params_t params;
    size_t nagents;
    size_t nruns, cap;
    bench_run_t *runs;
    hist_t *latency; /* every request of every run and agent: hist_merge into it */
    hist_t *service; /* open loop: their service time (send to completion); else NULL */
} bench_t;

typedef struct {    /* one agent's facts, as its WELCOME told them */
    char name[256]; /* how the coordinator reached it, e.g. "10.0.0.5:5555" */
    char host[BENCH_STR], cpu_model[BENCH_STR], kernel[BENCH_STR];
    char libcurl[BENCH_STR], libuv[BENCH_STR], libzmq[BENCH_STR], version[BENCH_STR];
    unsigned cores;
} bench_host_t;

typedef struct {
    bench_t **benches; /* owned: bench_set_close frees them (a view borrows) */
    size_t nbench, cap;
    bench_t **left_out; /* a view's: the benchmarks it leaves out, borrowed */
    size_t nleft_out;
    int view;
    bench_host_t *agents; /* owned copies, in the order of bench_agent_run_t */
    size_t nagents;
    char target[256]; /* HOST:PORT */
    char date[64];    /* ISO 8601, when the matrix started */
    char mode[16];    /* "lockstep" or "serial" */
    char order[16];   /* "interleave", "shuffle" or "sequential" */
    uint64_t seed;    /* shuffle's, when seeded */
    int seeded;
    int target_view; /* the target told its own view (GET /stats) of some run */
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
    /* the target's view, over the measured runs it covers */
    size_t target_runs;
    uint64_t target_requests, target_codes[5], target_dropped, target_connections;
    /* over those of them no agent was lost in: with no other load on the
     * target, the two are equal */
    uint64_t target_cmp, agents_cmp;
    int target_cmp_runs;
    double busy;     /* its event loops' busy time over theirs under load, 0..1 */
    double busy_max; /* the busiest loop's */
    double cpu;      /* its CPU time over its cores' time under load, 0..1 */
    uint32_t target_loops, target_cores;
    /* what the comparison ranks by: time, or in rate mode each run's p99
     * of corrected latency (s); the lower the better either way */
    stats_desc_t rank;
    /* open loop only: */
    double rate_achieved; /* mean over the measured runs */
    uint64_t never_sent;
    double late_p99_s, late_max_s; /* the worst run's */
} bench_stats_t;

/* Benchmarks that may be compared: the same request count, the same
 * concurrency (in rate mode: the same rate and duration, any concurrency:
 * the clients' models under one offered load are what is compared), the
 * same agents in their runs. Ranking anything else would
 * turn a difference of setup into a verdict. */
typedef struct {
    size_t fastest; /* the reference: the fastest mean among the members */
    size_t n;       /* members, all measured */
    uint64_t requests, concurrency;
    size_t agents;   /* agents in each run; 0 when that varied between runs */
    char label[256]; /* "-r 100, concurrency 100, 2 agents", "--rate 2000 --duration 2, 2 agents" */
} bench_group_t;

/* Every benchmark of a set side by side, as the comparison and the
 * exporters need them: computed once, read by all. */
typedef struct {
    size_t nbench;
    bench_stats_t *stats; /* one per benchmark */
    size_t ngroups;       /* in the order of their first member */
    bench_group_t *groups;
    size_t *group;        /* per benchmark: its group; ngroups if unmeasured */
    stats_ratio_t *rel;   /* each against its group's fastest (NAN ratio if unmeasured) */
    stats_welch_t *welch; /* each against its group's fastest (NANs for that one) */
    size_t *order;        /* by mean, ties in matrix order, unmeasured last */
    int by_p99;           /* rate mode: ranked by p99 of corrected latency, not time */
} bench_table_t;

/* NULL when out of memory or nagents is 0. command is copied. */
bench_t *bench_new(const char *command, const bench_params_t *params, size_t nagents);
/* Frees *b (NULL is fine) and nulls the caller's pointer. */
void bench_free(bench_t **b);
/* Appends one run from b->nagents agent measurements (copied) and derives its
 * time, CPU, exit code and skew. -1 when out of memory (b unchanged). */
int bench_add_run(bench_t *b, const bench_agent_run_t *agents);
/* The histograms of the run bench_add_run appended last (all its agents'):
 * its percentiles, and service (NULL in a closed-loop run) merged into
 * b->service. -1 when out of memory. */
int bench_set_run_hists(bench_t *b, const hist_t *latency, const hist_t *service);
/* The target's view of the run bench_add_run appended last. */
void bench_set_target(bench_t *b, const bench_target_t *t);
/* -1 when out of memory. */
int bench_stats(const bench_t *b, bench_stats_t *s);

/* What a benchmark's concurrency is: the chunk of the threads strategies,
 * the connections of the async ones, a thread per request for threads-map. */
uint64_t bench_concurrency(const bench_params_t *p);

/* -1 when out of memory (t is then closed). */
int bench_table_init(bench_table_t *t, const bench_set_t *s);
/* benches[i] is its group's reference. */
int bench_table_is_ref(const bench_table_t *t, size_t i);
void bench_table_close(bench_table_t *t);

void bench_set_init(bench_set_t *s);
/* Frees every benchmark and host; s is empty and reusable afterwards. */
void bench_set_close(bench_set_t *s);
/* view: the benchmarks of s with at least one measured run, and in
 * view->left_out the others, both borrowed from s (which must outlive the
 * view), with s's facts. What the exports show: hyperfine's scripts cannot
 * read a result without a time. -1 when out of memory. */
int bench_set_view(const bench_set_t *s, bench_set_t *view);
/* Frees what a view holds (never the benchmarks). */
void bench_set_view_close(bench_set_t *view);
/* Takes ownership of b, also on failure (-1: out of memory, b freed). */
int bench_set_add(bench_set_t *s, bench_t *b);
/* Copies h. -1 when out of memory. */
int bench_set_add_host(bench_set_t *s, const bench_host_t *h);

#endif
