/* journal: every finished run, on disk before it counts, so a coordinator
 * that dies loses nothing and `coordinator --resume FILE` finishes the
 * matrix without redoing a run.
 *
 * The file is JSON Lines: a header with the command line the matrix was
 * started with, then one line per finished timed run (each agent's
 * measurements and the run's merged latency histogram). Each line is written
 * whole and fsync'd; a torn last line (a crash mid-write) is ignored. */
#ifndef CO_JOURNAL_H
#define CO_JOURNAL_H

#include "bench.h"

#include <stdio.h>

#define JOURNAL_ERR_LEN 512
#define JOURNAL_MAX_ARGS 128

typedef struct {
    FILE *f;
    char path[4096];
} journal_t;

/* A new journal holding argv (the matrix's command line, without --resume). */
int journal_create(journal_t *j, const char *path, int argc, char **argv, char *err);
/* Re-opens an existing journal for appending (after journal_load). */
int journal_reopen(journal_t *j, const char *path, char *err);
void journal_close(journal_t *j);

/* Appends one finished run of benchmark `bench` and syncs it to disk;
 * target: the target's view of it, when seen. */
int journal_append(journal_t *j, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                   const hist_t *latency, const bench_target_t *target, char *err);

/* What a journal holds: the command line, and each run in file order. */
typedef struct {
    int argc;
    char *argv[JOURNAL_MAX_ARGS + 1];
    /* called for each run: the agents' measurements and the latency; NULL
     * reads the command line only */
    int (*on_run)(void *ctx, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                  const hist_t *latency, const bench_target_t *target, char *err);
    void *ctx;
} journal_load_t;

/* Reads path; argv strings are malloc'd (journal_load_free). */
int journal_load(const char *path, journal_load_t *l, char *err);
void journal_load_free(journal_load_t *l);

#endif
