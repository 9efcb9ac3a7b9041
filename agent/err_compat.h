/* err_compat: the transition of agent/daemon.c to fb_err_t (docs/errors.md).
 * CMakeLists.txt force-includes this header into daemon.c only, which still
 * holds char buffers and passes them where probe.c and run.c now take an
 * fb_err_t *. Its buffers are sized with the names below, all FB_ERR_MAX
 * bytes, which FB_ERR_BUF needs. Delete this file, and the line in
 * CMakeLists.txt, once daemon.c declares fb_err_t and reads result.error. */
#ifndef AGENT_ERR_COMPAT_H
#define AGENT_ERR_COMPAT_H

#include "fb_err.h"
#include "probe.h"
#include "run.h"

#define PROBE_ERR_LEN FB_ERR_MAX
#define RUN_ERR_LEN FB_ERR_MAX

#define probe_tcp(host, port, timeout_ms, err) probe_tcp(host, port, timeout_ms, FB_ERR_BUF(err))
#define run_params_finish(p, err) run_params_finish(p, FB_ERR_BUF(err))

#endif
