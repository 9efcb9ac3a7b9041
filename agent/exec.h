/* exec: one run of a command as a whole process, as hyperfine times it —
 * fork, exec (through `sh -c` or split on whitespace), reap; the wall time
 * from fork to reap, user and system time from the child's rusage. Only a
 * daemon started with --allow-exec gets here (agent/daemon.c). */
#ifndef AGENT_EXEC_H
#define AGENT_EXEC_H

#include "fb_err.h"

#include <stdint.h>

#define EXEC_ARGS_MAX 256 /* words of a command run without a shell */

typedef struct {
    const char *command;
    int no_shell;        /* 1: split on whitespace and exec, no sh -c */
    int show_output;     /* 1: stdout/stderr are ours; else /dev/null */
    const char *host;    /* BENCHMARK_SERVER_HOST */
    int port;            /* BENCHMARK_SERVER_PORT */
    uint64_t iteration;  /* FLEETBENCH_ITERATION */
    int warmup;          /* FLEETBENCH_WARMUP: 1 in a warmup run */
    uint64_t timeout_ns; /* the process group is killed after this; 0: never */
} exec_params_t;

typedef struct {
    uint64_t start_ns;        /* CLOCK_MONOTONIC just before fork */
    uint64_t wall_ns;         /* fork to reap */
    uint64_t user_ns, sys_ns; /* the child's rusage (wait4), its children's included */
    int exit_code;            /* its exit status, or 128 + the signal that ended it */
    int timed_out;            /* killed at timeout_ns */
} exec_result_t;

/* Runs p->command once. aborted() (may be NULL) is polled while it runs: a
 * true answer kills the process group, as the timeout does. -1 when the
 * process could not be started (err says why); a command that is not found
 * or fails is a run with its exit code (127 from the shell or from us). */
int exec_run(const exec_params_t *p, int (*aborted)(void), exec_result_t *r, fb_err_t *err);

/* Splits s on blanks into argv (at most EXEC_ARGS_MAX words, NULL-ended) in
 * buf (strlen(s) + 1 bytes). The word count, or -1 if none or too many. */
int exec_split(const char *s, char *buf, char **argv);

#endif
