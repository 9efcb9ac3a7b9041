#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int wire_socket_setup(void *sock, fb_err_t *err)
{
    /* up to 4x the limit a message still arrives, to be refused with an ERROR
     * and a log line; beyond that libzmq drops the connection unread */
    int64_t maxmsg = 4 * (int64_t)PROTO_MAX_MSG;
    int linger = 0, hwm = 1000;

    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0) {
        fb_err_set(err, "socket options: %s", zmq_strerror(errno));
        return WIRE_ESOCK;
    }
    return 0;
}

int wire_send(void *sock, const void *id, size_t idlen, const proto_msg_t *m, fb_err_t *err)
{
    char *buf;
    size_t len;
    int rc = 0;

    if (proto_encode(m, &buf, &len, err) != 0) return PROTO_EFIELD;
    if ((id != NULL && zmq_send(sock, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) ||
        zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0) {
        fb_err_set(err, "sending %s: %s", proto_type_name(m->type), zmq_strerror(errno));
        rc = WIRE_ESOCK;
    }
    free(buf);
    return rc;
}

/* Throws away the rest of a multi-frame message. */
static void drain_more(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    zmq_msg_t f;

    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_init(&f);
        zmq_msg_recv(&f, sock, 0);
        zmq_msg_close(&f);
    }
}

int wire_recv(void *sock, void *id, size_t *idlen, proto_msg_t *m, fb_err_t *err)
{
    zmq_msg_t f;
    int n, rc, more = 0;
    size_t sz = sizeof more;

    if (id != NULL) {
        n = zmq_recv(sock, id, WIRE_ID_MAX, ZMQ_DONTWAIT);
        if (n < 0) goto sockerr;
        *idlen = (size_t)n > WIRE_ID_MAX ? WIRE_ID_MAX : (size_t)n;
    }
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, sock, id != NULL ? 0 : ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&f);
        goto sockerr;
    }
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    if (more) {
        drain_more(sock);
        fb_err_set(err, "a message must be one frame");
        rc = PROTO_EMALFORMED;
    } else {
        rc = proto_decode(zmq_msg_data(&f), zmq_msg_size(&f), m, err);
    }
    zmq_msg_close(&f);
    return rc;
sockerr:
    if (errno == EAGAIN) return WIRE_EAGAIN;
    fb_err_set(err, "receiving: %s", zmq_strerror(errno));
    return WIRE_ESOCK;
}
