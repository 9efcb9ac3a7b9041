/* cmd_run: `agent run STRATEGY`, one run in the foreground, like the seed's
 * `python benchmark.py STRATEGY -r N -c C`. The parser is apart from the
 * run so that it can be tested without a network. */
#ifndef AGENT_CMD_RUN_H
#define AGENT_CMD_RUN_H

#include "fb_exit.h"
#include "opt.h"
#include "run.h"
#include "strategy.h"

#include <stdio.h>

typedef struct {
    const strategy_t *strategy;
    run_params_t params;
    int json;               /* --json: the record on stdout, the line on stderr */
    const char *export_hdr; /* --export-hdr FILE: the latency histogram, HdrHistogram's text */
} cmd_run_opts_t;

enum { CMD_RUN_OK, CMD_RUN_EXIT, CMD_RUN_ERROR };

/* argv[0] is "run". Defaults come from BENCHMARK_SERVER_HOST and
 * BENCHMARK_SERVER_PORT. CMD_RUN_EXIT: --help printed on out. CMD_RUN_ERROR:
 * err names the flag and value, or lists the strategies. */
int cmd_run_parse(cmd_run_opts_t *o, int argc, char **argv, FILE *out, fb_err_t *err);
/* The exit code for a finished run (FB_EXIT_OK, _FAILED or _UNREACHABLE). */
fb_exit_t cmd_run_exit_code(const tally_t *t);

#endif
