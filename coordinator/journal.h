/* journal: every finished run, on disk before it counts, so a coordinator
 * that dies loses nothing and `coordinator --resume FILE` finishes the
 * matrix without redoing a run.
 *
 * The file is JSON Lines: a header with the command line the matrix was
 * started with, then one line per finished timed run (each agent's
 * measurements and the run's merged latency histogram). Each line is written
 * whole and fsync'd; a write cut short (a full disk) is taken back. A torn
 * last line (a crash mid-write) never counted: reading ignores it and
 * reopening cuts it off before anything is appended, so a journal can be
 * resumed again and again. An open journal is locked (flock): a second
 * coordinator on the same file is refused, not interleaved. */
#ifndef CO_JOURNAL_H
#define CO_JOURNAL_H

#include "bench.h"
#include "fb_err.h"

#include <stdint.h>
#include <stdio.h>

#define JOURNAL_MAX_ARGS 128

typedef struct {
    int fd;        /* -1: closed */
    uint64_t size; /* bytes of whole lines: where the next one goes */
    char path[4096];
} journal_t;

/* A new journal holding argv (the matrix's command line, without --resume),
 * replacing what path held; locked. */
int journal_create(journal_t *j, const char *path, int argc, char **argv, fb_err_t *err);
/* Locks an existing journal and cuts a torn last line, for journal_load
 * and then appending. A file without a whole first line is an error. */
int journal_reopen(journal_t *j, const char *path, fb_err_t *err);
/* Closes (and unlocks); safe on a closed journal. */
void journal_close(journal_t *j);

/* Appends one finished run of benchmark `bench` and syncs it to disk;
 * service: its service-time histogram in rate mode, else NULL; target: the
 * target's view of it, when seen. */
int journal_append(journal_t *j, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                   const hist_t *latency, const hist_t *service, const bench_target_t *target,
                   fb_err_t *err);

/* What a journal holds: the command line, and each run in file order. */
typedef struct {
    int argc;
    char *argv[JOURNAL_MAX_ARGS + 1];
    /* called for each run: the agents' measurements and the latency (and
     * service time, or NULL); NULL reads the command line only */
    int (*on_run)(void *ctx, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                  const hist_t *latency, const hist_t *service, const bench_target_t *target,
                  fb_err_t *err);
    void *ctx;
} journal_load_t;

/* Reads path; argv strings are malloc'd (journal_load_free). */
int journal_load(const char *path, journal_load_t *l, fb_err_t *err);
void journal_load_free(journal_load_t *l);

#endif
