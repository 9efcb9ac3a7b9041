/* run: one timed run of one strategy. What a run is asked to do
 * (run_params_t), what it measured (run_result_t), and the clock and CPU
 * accounting around the strategy, so no strategy times itself. */
#ifndef AGENT_RUN_H
#define AGENT_RUN_H

#include "fb_err.h"
#include "tally.h"

#include <stdint.h>

typedef struct strategy_s strategy_t;

typedef struct {
    char host[256];
    int port;
    uint64_t requests;          /* N: numbers 0 .. N-1 */
    uint64_t chunk;             /* C: threads-recreate and threads-reuse */
    uint64_t connections;       /* async: connections to the target at most */
    uint64_t in_flight;         /* async: transfers in the multi at once; 0: all N */
    uint64_t timeout_ms;        /* per request, connect included; with a rate, counted
                                   from the request's due time */
    double rate;                /* open loop: requests per second on a fixed schedule
                                   (agent/pace.h); 0: closed loop, as fast as it goes */
    double duration_s;          /* with a rate: requests = rate x duration_s */
    char base_url[REQ_URL_MAX]; /* derived by run_params_finish */
} run_params_t;

typedef struct {
    tally_t tally;            /* every request, merged */
    uint64_t start_ns;        /* CLOCK_MONOTONIC when the strategy started */
    uint64_t wall_ns;         /* CLOCK_MONOTONIC around the strategy */
    uint64_t user_ns, sys_ns; /* getrusage(RUSAGE_SELF) difference */
    uint64_t threads;         /* threads that made requests (1 for async) */
    uint64_t pace_start_ns;   /* with a rate: when request 0 fell due (pace_init) */
    fb_err_t error;           /* why the strategy could not run */
} run_result_t;

/* Defaults as in the seed: -r 100 -c 100, 100 connections, 10 s timeout,
 * 127.0.0.1:8080. */
void run_params_defaults(run_params_t *p);
/* Derives base_url from host and port; -1 with err if the host is too long. */
int run_params_finish(run_params_t *p, fb_err_t *err);

/* -1 when out of memory. */
int run_result_init(run_result_t *r);
void run_result_close(run_result_t *r);

/* Runs s with p and measures it into r (initialised by the caller). -1 when
 * the strategy could not run (r->error says why); failed requests are not an
 * error here, they are counted in r->tally. With p->rate, r->tally keeps the
 * open-loop histograms too (tally_pace). */
int run_execute(const strategy_t *s, const run_params_t *p, run_result_t *r);

/* Raises the soft RLIMIT_NOFILE to the hard one: every connection and
 * every threads-map socket needs a descriptor (agent run and the daemon). */
void run_raise_fd_limit(void);

/* Thread-safe. Once set, strategies start no new request, so a run ends
 * within one request's time (its --timeout at worst): how a daemon drops a
 * run whose coordinator went away. Cleared before each run. */
void run_abort_set(int on);
int run_aborted(void);

#endif
