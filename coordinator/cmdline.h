/* cmdline: the coordinator's command line (common/opt.c parses the values). */
#ifndef CO_CMDLINE_H
#define CO_CMDLINE_H

#include "fb_err.h"
#include "matrix.h"
#include "order.h"

#include <stdio.h>

/* The most agents one coordinator drives (--agents and --agents-file in
 * all); CURVE_MAX_KEYS lets a known-agents file list as many. */
#define CMDLINE_MAX_AGENTS 1024
#define CMDLINE_LIVENESS_BEATS 3 /* --liveness is at least this many --heartbeat */

#define CMDLINE_MAX_COMMANDS 256 /* positional commands, and -n names */

typedef enum { MODE_LOCKSTEP, MODE_SERIAL } cmdline_mode_t;
typedef enum { LOSS_CONTINUE, LOSS_ABORT } cmdline_loss_t;

typedef struct {
    size_t nagents;          /* 0: an embedded agent on loopback */
    const char *agents_file; /* --agents-file: read into agent_host/port */
    char agent_host[CMDLINE_MAX_AGENTS][256];
    int agent_port[CMDLINE_MAX_AGENTS];
    char target_host[256]; /* "": an embedded target-server */
    int target_port;
    char matrix_spec[512];
    int matrix_set; /* --matrix given: with commands, strategies run beside them */
    /* commands, as hyperfine takes them (coordinator/commands.c) */
    size_t ncommands, nnames, nparams;
    const char *commands[CMDLINE_MAX_COMMANDS];
    const char *names[CMDLINE_MAX_COMMANDS];   /* -n, in order */
    const char *param_name[MATRIX_MAX_PARAMS]; /* -L NAME VALUES */
    const char *param_values[MATRIX_MAX_PARAMS];
    int ignore_failure; /* -i: a non-zero exit is recorded, not an error */
    int show_output;    /* the commands' output on the agents' terminals */
    int no_shell;       /* -N, --shell=none */
    matrix_list_t requests, chunks, connections;
    unsigned warmup, runs;
    cmdline_mode_t mode;
    order_kind_t order; /* --order: when each benchmark's runs are made */
    uint64_t seed;      /* --seed: shuffle's; chosen at random when not given */
    int seed_set;
    cmdline_loss_t on_loss;
    unsigned heartbeat_ms, liveness_ms, timeout_ms;
    unsigned run_timeout_s; /* --run-timeout; 0: derived from each benchmark (drive.h) */
    const char *export_json, *export_md, *export_csv;
    const char *report;      /* --report FILE.html: report.h's page */
    const char *journal;     /* NULL: beside the JSON export */
    int journal_given;       /* --journal: kept after a finished matrix too */
    const char *key_path;    /* --key: our CURVE secret key */
    const char *known_path;  /* --known-agents: HOST[:PORT] PUBKEY lines */
    const char *resume;      /* --resume FILE: the journal to finish */
    unsigned server_threads; /* embedded target-server's --threads; 0: its default */
    /* open loop: --rate R for the whole fleet, each of the K agents taking
     * R/K (rate_milli: that share in requests per 1000 s), --duration S;
     * requests is then each agent's ceil(R/K x S). 0: closed loop. */
    double rate, duration_s;
    uint64_t rate_milli, duration_ms;
    const char *export_hdr; /* --export-hdr FILE: corrected latency, HdrHistogram's text */
} cmdline_t;

enum { CMDLINE_OK, CMDLINE_EXIT, CMDLINE_ERROR };

/* CMDLINE_EXIT after --help/--version on out (exit 0); CMDLINE_ERROR with err
 * naming the flag (exit 1). */
int cmdline_parse(cmdline_t *o, int argc, char **argv, FILE *out, fb_err_t *err);

#endif
