/* runner: drives the matrix through the fleet — plan, then for every
 * benchmark its warmup and timed runs, lockstep (prepare, all ready, one go)
 * or serial (one agent after another) — and records what the agents measured
 * in a bench_set. */
#ifndef CO_RUNNER_H
#define CO_RUNNER_H

#include "bench.h"
#include "fleet.h"
#include "journal.h"
#include "matrix.h"
#include "opts.h"
#include "progress.h"

#include <stdio.h>

typedef struct {
    const opts_t *opts;
    const matrix_t *matrix;
    fleet_t *fleet;
    bench_set_t *set;
    const char *target_host;
    int target_port;
    FILE *out; /* where each benchmark's block goes when it is done */
    int color;
    int *agent_same_clock;    /* per agent: shares our CLOCK_MONOTONIC */
    int64_t *agent_clock_off; /* per agent: its clock minus ours, ns */
    journal_t *journal;       /* every finished run goes here first */
    hist_t *run_latency;      /* scratch: one run's merged histogram */
    progress_t progress;      /* the live line on a TTY while a benchmark runs */
} runner_t;

/* Adds a run read back from a journal to the set (creating its benchmark
 * from the matrix): the journal_load_t callback for --resume. */
int runner_replay(void *runner, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                  const hist_t *latency, char *err);
/* Writes every export asked for (outfile.h: regular files atomically);
 * before the final one, those written in place are left for the end. -1
 * after printing why. */
int runner_export(const runner_t *r, bool final);

/* Runs everything. Returns the exit code (SPEC 7); what finished is in the
 * set whatever happened. */
int runner_run(runner_t *r);

#endif
