/* config: target-server's command line. */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include "fault.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    char host[256];
    int port;
    unsigned threads;
    uint64_t max_conns;
    uint64_t header_timeout_ms; /* a request must arrive whole within this */
    uint64_t idle_timeout_ms;   /* keep-alive connection with no request */
    uint64_t drain_timeout_ms;  /* SIGTERM: longest wait for in-flight requests */
    uint64_t max_header;        /* request line + headers, bytes */
    uint64_t max_uri;
    uint64_t max_body;
    uint64_t delay_ms;
    uint64_t seed;
    fault_cfg_t faults;
} config_t;

enum { CONFIG_OK, CONFIG_EXIT, CONFIG_ERROR };

/* CONFIG_EXIT: --help/--version printed on out, exit 0. CONFIG_ERROR: err
 * names the flag and value, exit 1. */
int config_parse(config_t *cfg, int argc, char **argv, FILE *out, fb_err_t *err);

#endif
