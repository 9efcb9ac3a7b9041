/* probe: can this host open a TCP connection to the target? Checked when a
 * plan arrives, so an unreachable target is one clear error (exit 4), not
 * thousands of failed requests. */
#ifndef AGENT_PROBE_H
#define AGENT_PROBE_H

#include "fb_err.h"

/* 0 when a connection to host:port opened within timeout_ms; -1 with err. */
int probe_tcp(const char *host, int port, int timeout_ms, fb_err_t *err);

#endif
