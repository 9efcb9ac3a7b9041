/* wire: proto messages over ZeroMQ sockets. A message is one frame; on a
 * ROUTER socket it is preceded by the peer's identity frame. */
#ifndef FB_WIRE_H
#define FB_WIRE_H

#include "proto.h"

#include <stddef.h>

#define WIRE_ID_MAX 256

enum {
    WIRE_EAGAIN = -10, /* nothing to read (non-blocking) */
    WIRE_ESOCK = -11,  /* the socket failed; err says why */
};

/* Sets the options every fleetbench socket has: ZMQ_MAXMSGSIZE (oversized
 * messages never reach the decoder), no linger, bounded queues. */
int wire_socket_setup(void *sock, fb_err_t *err);

/* Sends m; id/idlen address a peer on a ROUTER socket (NULL otherwise). */
int wire_send(void *sock, const void *id, size_t idlen, const proto_msg_t *m, fb_err_t *err);

/* Receives one message without blocking. With id != NULL the identity frame
 * is read into id (WIRE_ID_MAX bytes) first. Returns PROTO_OK, WIRE_EAGAIN,
 * WIRE_ESOCK, or a proto_decode error (the message was consumed; the caller
 * answers it with an ERROR). */
int wire_recv(void *sock, void *id, size_t *idlen, proto_msg_t *m, fb_err_t *err);

#endif
