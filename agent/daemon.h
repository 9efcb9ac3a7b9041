/* daemon: `agent` without a subcommand. Listens on a ZeroMQ ROUTER socket,
 * serves one coordinator session at a time (hello, plan, prepare/ready/go,
 * result), answers heartbeats even while a run is timed, and drops back to
 * idle when the coordinator goes silent, aborts or says bye. */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include "fb_err.h"
#include "fb_exit.h"

#include <stdio.h>

#define DAEMON_MAX_ALLOW 32

typedef struct {
    char host[256];
    int port; /* 0: any free port, printed when ready */
    int insecure;
    int allow_exec;              /* --allow-exec: plans may hold commands */
    int quiet;                   /* --quiet: sessions that open and end well are not logged */
    const char *key_path;        /* --key: CURVE secret key */
    const char *authorized_path; /* --authorized-keys: coordinators let in */
    unsigned nallow;             /* --allow-target entries; 0: any target */
    char allow_host[DAEMON_MAX_ALLOW][256];
    int allow_port[DAEMON_MAX_ALLOW]; /* -1: any port */
} daemon_config_t;

enum { DAEMON_OK, DAEMON_ERROR };

/* Parses `agent [OPTIONS]` (--help and --version are main's). DAEMON_ERROR
 * with err (exit 1). */
int daemon_parse(daemon_config_t *cfg, int argc, char **argv, fb_err_t *err);
/* The daemon options, for agent --help. */
void daemon_usage(FILE *out);
/* Serves until SIGINT/SIGTERM. Returns the process exit code. */
fb_exit_t daemon_run(const daemon_config_t *cfg);

#endif
