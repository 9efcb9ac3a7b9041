/* async: one libuv loop driving one curl multi handle through the socket
 * API (CURLMOPT_SOCKETFUNCTION + CURLMOPT_TIMERFUNCTION +
 * curl_multi_socket_action, as curl's docs/examples/multi-uv.c), for the
 * async-* strategies.
 *
 * The multi holds at most `in_flight` transfers (default: --connections)
 * on a fixed set of recycled easy handles; async_submit runs the loop until
 * a handle is free, then adds the next request. With in_flight 0 every
 * request gets its own handle and is added at once, and curl queues what
 * its connection limit holds back (see agent/README.md for why that is not
 * the default). Everything runs on the calling thread; one tally. */
#ifndef AGENT_ASYNC_H
#define AGENT_ASYNC_H

#include "pace.h"
#include "run.h"
#include "tally.h"

#include <stdint.h>

typedef struct async_s async_t;

/* A loop, a multi limited to p->connections connections, and the handles.
 * NULL with err on failure. */
async_t *async_new(const run_params_t *p, fb_err_t *err);
/* Frees everything and nulls *a; requests still in flight are abandoned
 * uncounted, so merge first. */
void async_free(async_t **a);
/* Adds request number (url: NULL to build it from the base) once a handle
 * is free, running the loop until then. -1 with err if the loop or curl
 * failed (not if the request fails: that is counted). */
int async_submit(async_t *a, uint64_t number, const char *url, fb_err_t *err);
/* With a rate: runs the loop until request number (whose due time s
 * gives) is due and a handle is free, then adds it; due requests beyond
 * the handles wait, and their wait counts in their latency. One whose
 * timeout ran out while it waited is counted, not sent. A timerfd wakes
 * the loop at the due time. */
int async_submit_paced(async_t *a, const pace_t *s, uint64_t number, const char *url,
                       fb_err_t *err);
/* Runs the loop until every submitted request is finished. */
int async_drain(async_t *a, fb_err_t *err);
/* Adds the loop's tally into t. */
void async_merge(async_t *a, tally_t *t);

#endif
