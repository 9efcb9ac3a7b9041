/* conn: one HTTP/1.1 connection: read, parse (http_parser), route, answer.
 * Pipelined requests parsed from one read are answered with one write. */
#ifndef TS_CONN_H
#define TS_CONN_H

#include "server.h"

#include <stdint.h>

typedef struct conn_s conn_t;

/* Accepts one pending connection on w's listener. */
void conn_accept(srv_worker_t *w);
/* Serves an already-connected stream socket as if accepted (the fuzz targets
 * use one end of a socketpair). Takes fd: it is closed with the connection. */
void conn_adopt(srv_worker_t *w, uv_os_sock_t fd);
/* Closes connections whose header or idle deadline (loop ms) has passed. */
void conn_sweep(srv_worker_t *w, uint64_t now);
/* Closes idle connections now; busy ones close after their response. */
void conn_drain(srv_worker_t *w);
/* Closes every connection (drain timeout). */
void conn_close_all(srv_worker_t *w);
/* Makes every running --delay / ?delay_ms due at the loop's next turn, as if
 * it were over: the fuzz target runs the delayed paths without waiting. */
void conn_delays_expire(srv_worker_t *w);

#endif
