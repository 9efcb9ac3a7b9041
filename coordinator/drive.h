/* drive: drives the matrix through the fleet — plan, then for every
 * benchmark its warmup and timed runs, lockstep (prepare, all ready, one go)
 * or serial (one agent after another) — and records what the agents measured
 * in a bench_set. */
#ifndef CO_DRIVE_H
#define CO_DRIVE_H

#include "bench.h"
#include "fb_err.h"
#include "fb_exit.h"
#include "fleet.h"
#include "journal.h"
#include "matrix.h"
#include "cmdline.h"
#include "progress.h"

#include <stdio.h>

typedef struct {
    const cmdline_t *opts;
    const matrix_t *matrix;
    fleet_t *fleet;
    bench_set_t *set;
    const char *target_host;
    int target_port;
    FILE *out; /* where each benchmark's block goes when it is done */
    int color;
    journal_t *journal;  /* every finished run goes here first */
    hist_t *run_latency; /* scratch: one run's merged histogram */
    hist_t *run_service; /* scratch: its service time (rate mode), and one agent's */
    hist_t *agent_service;
    progress_t progress; /* the live line on a TTY while a benchmark runs */
    uint64_t connect_ns; /* clock_now_ns() before the connects: handshake time */
    double go_fanout_s;  /* the last lockstep GO's first to last send */
    int no_view;         /* the target has no GET /stats, or stopped answering it */
    unsigned view_fails; /* reads of it that failed in a row */
    fb_err_t err;        /* why drive_matrix stopped, unless the fleet's fatal or a stop */
    char *stopped;       /* per benchmark: a command exited non-zero (no -i) */
    int cmd_failed;      /* some did: exit 2 */
} drive_t;

/* A run's timeout when --run-timeout does not set one: every request timing
 * out, twice over, plus a liveness; at most 24 h. Waves of requests: the
 * requests over the concurrency (--chunk for threads-recreate and
 * threads-reuse, --connections for async-*, every request for threads-map). */
#define DRIVE_RUN_TIMEOUT_MAX_MS (24ull * 3600 * 1000)
/* A command's, plus a liveness: fleetbench cannot know how long it runs */
#define DRIVE_CMD_TIMEOUT_MS (600ull * 1000)
uint64_t drive_run_timeout_ms(const matrix_entry_t *e, unsigned timeout_ms, unsigned liveness_ms);
/* Rate mode: the schedule and a last request's --timeout, twice over, plus
 * a liveness; at most 24 h. */
uint64_t drive_rate_timeout_ms(uint64_t duration_ms, unsigned timeout_ms, unsigned liveness_ms);

/* Adds a run read back from a journal to the set (creating its benchmark
 * from the matrix): the journal_load_t callback for --resume. */
int drive_replay(void *drive, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                 const hist_t *latency, const hist_t *service, const bench_target_t *target,
                 fb_err_t *err);
/* Writes every export asked for (outfile.h: regular files atomically);
 * before the final one, those written in place are left for the end. -1
 * after printing why. */
int drive_export(const drive_t *r, bool final);

/* Runs everything. Returns the exit code (README.md's table); what finished is in the
 * set whatever happened. A failure of its own (the journal, memory) is in r->err. */
fb_exit_t drive_matrix(drive_t *r);

/* Every run of every benchmark of the matrix is in the set (made, or lost
 * for its agents): a --resume would have nothing left to do. */
bool drive_finished(const drive_t *r);

#endif
