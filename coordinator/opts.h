/* opts: the coordinator's command line. */
#ifndef CO_OPTS_H
#define CO_OPTS_H

#include "matrix.h"

#include <stdio.h>

#define OPTS_MAX_AGENTS 256
#define OPTS_LIVENESS_BEATS 3 /* --liveness is at least this many --heartbeat */

typedef enum { MODE_LOCKSTEP, MODE_SERIAL } opts_mode_t;
typedef enum { LOSS_CONTINUE, LOSS_ABORT } opts_loss_t;

typedef struct {
    size_t nagents; /* 0: an embedded agent on loopback */
    char agent_host[OPTS_MAX_AGENTS][256];
    int agent_port[OPTS_MAX_AGENTS];
    char target_host[256]; /* "": an embedded target-server */
    int target_port;
    char matrix_spec[512];
    matrix_list_t requests, chunks, connections;
    unsigned warmup, runs;
    opts_mode_t mode;
    opts_loss_t on_loss;
    unsigned heartbeat_ms, liveness_ms, timeout_ms;
    unsigned run_timeout_s; /* --run-timeout; 0: derived from each benchmark (runner.h) */
    const char *export_json, *export_md, *export_csv;
    const char *report;      /* --report FILE.html: report.h's page */
    const char *journal;     /* NULL: beside the JSON export */
    const char *key_path;    /* --key: our CURVE secret key */
    const char *known_path;  /* --known-agents: HOST[:PORT] PUBKEY lines */
    const char *resume;      /* --resume FILE: the journal to finish */
    unsigned server_threads; /* embedded target-server's --threads; 0: its default */
} opts_t;

enum { OPTS_OK, OPTS_EXIT, OPTS_ERROR };

/* OPTS_EXIT after --help/--version on out (exit 0); OPTS_ERROR with err
 * naming the flag (exit 1). */
int opts_parse(opts_t *o, int argc, char **argv, FILE *out, char *err);

#endif
