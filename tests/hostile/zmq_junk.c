/* zmq_junk: sends arbitrary ZeroMQ messages to an agent through a real
 * DEALER socket and prints what comes back, for the hostile-input tests
 * (tests/integration/test_security.py). Python has no ZeroMQ binding here,
 * so this is the test's ZeroMQ hand.
 *
 * Usage: zmq_junk [OPTIONS] ENDPOINT MESSAGE...
 *
 *   MESSAGE    one ZeroMQ message: frames joined by '+', each frame either
 *              hex bytes ("" is an empty frame) or @FILE (the file's bytes);
 *              a prefix "N:" waits for N replies after this one instead of -r
 *   -t MS      how long to wait for each reply (default 3000)
 *   -r N       replies to wait for after each message (default 1; 0: none)
 *   -k FILE    act as a CURVE client with this secret key file ...
 *   -s Z85     ... and this server public key (both or neither)
 *   -i HEX     this socket's routing id (ZMQ_ROUTING_ID)
 *
 * Output, one line per event, "msg I" naming the message (0-based) sent
 * last:
 *   msg I: sent F frames, B bytes
 *   msg I: reply HEX[+HEX...]                      the reply's frames
 *   msg I: decoded t=T (NAME) v=V s=S[ code=C (NAME) peer_version=P message=TEXT]
 *   msg I: undecodable rc=RC: TEXT                 proto_decode refused it
 *   msg I: timeout                                 no reply within -t
 *   msg I: send-timeout                            could not even send within -t
 *                                                  (no peer: a refused handshake)
 *   msg I: event NAME                              socket monitor event
 *
 * Exit codes: 0 every awaited reply arrived; 2 at least one send or wait timed out;
 * 1 usage, file or ZeroMQ error. */
#include "curve.h"
#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_FRAMES 64

typedef struct {
    unsigned char *data;
    size_t len;
} frame_t;

static void usage(void)
{
    fputs("Usage: zmq_junk [-t MS] [-r N] [-k SECRET_FILE -s SERVER_PUB] [-i HEX_ID] "
          "ENDPOINT MESSAGE...\n"
          "  MESSAGE: frames joined by '+', each hex bytes or @FILE\n"
          "Exit codes: 0 all replies arrived; 2 a wait timed out; 1 usage or ZeroMQ error.\n",
          stderr);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_hex(const char *s, size_t n, frame_t *f)
{
    if (n % 2 != 0) return -1;
    f->len = n / 2;
    f->data = malloc(f->len ? f->len : 1);
    if (f->data == NULL) return -1;
    for (size_t i = 0; i < f->len; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        f->data[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int read_file(const char *path, frame_t *f)
{
    FILE *fp = fopen(path, "rb");
    long n;

    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        if (fp) fclose(fp);
        return -1;
    }
    f->len = (size_t)n;
    f->data = malloc(f->len ? f->len : 1);
    if (f->data == NULL || fread(f->data, 1, f->len, fp) != f->len) {
        fclose(fp);
        return -1;
    }
    fclose(fp);
    return 0;
}

/* Splits one MESSAGE argument into frames. */
static int parse_message(const char *arg, frame_t *frames, int *nframes)
{
    int n = 0;
    const char *p = arg;

    for (;;) {
        const char *plus = strchr(p, '+');
        size_t len = plus ? (size_t)(plus - p) : strlen(p);
        char path[4096];
        if (n == MAX_FRAMES) return -1;
        if (len > 0 && p[0] == '@') {
            if (len - 1 >= sizeof path) return -1;
            memcpy(path, p + 1, len - 1);
            path[len - 1] = '\0';
            if (read_file(path, &frames[n]) != 0) return -1;
        } else if (parse_hex(p, len, &frames[n]) != 0) {
            return -1;
        }
        n++;
        if (plus == NULL) break;
        p = plus + 1;
    }
    *nframes = n;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void print_hex(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static const char *event_name(uint16_t ev)
{
    switch (ev) {
    case ZMQ_EVENT_CONNECTED: return "connected";
    case ZMQ_EVENT_CONNECT_DELAYED: return "connect-delayed";
    case ZMQ_EVENT_CONNECT_RETRIED: return "connect-retried";
    case ZMQ_EVENT_CLOSED: return "closed";
    case ZMQ_EVENT_DISCONNECTED: return "disconnected";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "handshake-failed-no-detail";
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "handshake-succeeded";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "handshake-failed-protocol";
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "handshake-failed-auth";
    default: return "other";
    }
}

static void on_event(void *mon, int msgno)
{
    zmq_msg_t ev, addr;
    uint16_t id = 0;

    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) >= 2) {
        memcpy(&id, zmq_msg_data(&ev), sizeof id);
        zmq_msg_recv(&addr, mon, 0);
        printf("msg %d: event %s\n", msgno, event_name(id));
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

static void print_reply(zmq_msg_t *frames, int n, int msgno, proto_msg_t *m)
{
    fb_err_t err = {""};
    int rc;

    printf("msg %d: reply ", msgno);
    for (int i = 0; i < n; i++) {
        if (i) putchar('+');
        print_hex(zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]));
    }
    putchar('\n');
    if (n != 1) return;
    rc = proto_decode(zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]), m, &err);
    if (rc != PROTO_OK && rc != PROTO_EVERSION) {
        printf("msg %d: undecodable rc=%d: %s\n", msgno, rc, err.msg);
        return;
    }
    printf("msg %d: decoded t=%d (%s) v=%" PRIu32 " s=%" PRIu64, msgno, (int)m->type,
           proto_type_name(m->type), m->version, m->session);
    if (m->type == PROTO_ERROR)
        printf(" code=%" PRIu32 " (%s) peer_version=%" PRIu32 " message=%s", m->u.error.code,
               proto_err_name(m->u.error.code), m->u.error.peer_version, m->u.error.message);
    putchar('\n');
}

/* Waits up to timeout_ms for one reply, printing monitor events meanwhile.
 * 0: a reply came; 2: timeout; 1: error. */
static int await_reply(void *sock, void *mon, int timeout_ms, int msgno, proto_msg_t *m)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        zmq_pollitem_t items[2] = {{sock, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
        uint64_t now = now_ms();
        if (now >= deadline) {
            printf("msg %d: timeout\n", msgno);
            return 2;
        }
        if (zmq_poll(items, 2, (long)(deadline - now)) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "zmq_junk: poll: %s\n", zmq_strerror(errno));
            return 1;
        }
        if (items[1].revents & ZMQ_POLLIN) on_event(mon, msgno);
        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t frames[MAX_FRAMES];
            int n = 0, more = 1;
            size_t sz;
            while (more) {
                zmq_msg_t tmp, *f = n < MAX_FRAMES ? &frames[n] : &tmp;
                zmq_msg_init(f);
                if (zmq_msg_recv(f, sock, 0) < 0) {
                    fprintf(stderr, "zmq_junk: recv: %s\n", zmq_strerror(errno));
                    zmq_msg_close(f);
                    for (int i = 0; i < n; i++)
                        zmq_msg_close(&frames[i]);
                    return 1;
                }
                sz = sizeof more;
                zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
                if (n < MAX_FRAMES)
                    n++;
                else
                    zmq_msg_close(&tmp);
            }
            print_reply(frames, n, msgno, m);
            for (int i = 0; i < n; i++)
                zmq_msg_close(&frames[i]);
            fflush(stdout);
            return 0;
        }
    }
}

int main(int argc, char **argv)
{
    int timeout_ms = 3000, replies = 1, linger = 2000, status = 0, opt;
    const char *key_path = NULL, *server_pub = NULL, *id_hex = NULL;
    void *ctx, *sock, *mon;
    proto_msg_t *m;

    while ((opt = getopt(argc, argv, "t:r:k:s:i:h")) != -1) {
        switch (opt) {
        case 't': timeout_ms = atoi(optarg); break;
        case 'r': replies = atoi(optarg); break;
        case 'k': key_path = optarg; break;
        case 's': server_pub = optarg; break;
        case 'i': id_hex = optarg; break;
        default: usage(); return 1;
        }
    }
    if (argc - optind < 2 || timeout_ms < 0 || replies < 0 ||
        (key_path == NULL) != (server_pub == NULL)) {
        usage();
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    m = malloc(sizeof *m);
    ctx = zmq_ctx_new();
    sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    if (m == NULL || sock == NULL) {
        fprintf(stderr, "zmq_junk: cannot create a socket: %s\n", zmq_strerror(errno));
        return 1;
    }
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (id_hex) {
        frame_t id;
        if (parse_hex(id_hex, strlen(id_hex), &id) != 0 ||
            zmq_setsockopt(sock, ZMQ_ROUTING_ID, id.data, id.len) != 0) {
            fprintf(stderr, "zmq_junk: bad routing id '%s'\n", id_hex);
            return 1;
        }
        free(id.data);
    }
    if (key_path) {
        curve_key_t secret, pub;
        fb_err_t err = {""};
        snprintf(pub.key, sizeof pub.key, "%s", server_pub);
        if (curve_load_secret(key_path, &secret, &err) != 0 ||
            curve_client_setup(sock, &secret, &pub, &err) != 0) {
            fprintf(stderr, "zmq_junk: %s\n", err.msg);
            return 1;
        }
    }
    if (zmq_socket_monitor(sock, "inproc://zmq-junk-mon", ZMQ_EVENT_ALL) != 0 ||
        (mon = zmq_socket(ctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(mon, "inproc://zmq-junk-mon") != 0 || zmq_connect(sock, argv[optind]) != 0) {
        fprintf(stderr, "zmq_junk: %s: %s\n", argv[optind], zmq_strerror(errno));
        return 1;
    }
    for (int i = optind + 1; i < argc && status != 1; i++) {
        frame_t frames[MAX_FRAMES];
        int nframes = 0, msgno = i - optind - 1, want = replies;
        size_t bytes = 0;
        const char *arg = argv[i], *colon = strchr(arg, ':');

        if (colon && colon > arg && strspn(arg, "0123456789") == (size_t)(colon - arg)) {
            want = atoi(arg);
            arg = colon + 1;
        }
        if (parse_message(arg, frames, &nframes) != 0) {
            fprintf(stderr, "zmq_junk: bad MESSAGE '%.200s' (hex frames joined by '+', or @FILE)\n",
                    argv[i]);
            status = 1;
            break;
        }
        int unsent = 0;
        for (int k = 0; k < nframes && !unsent; k++) {
            if (zmq_send(sock, frames[k].data, frames[k].len, k + 1 < nframes ? ZMQ_SNDMORE : 0) <
                0) {
                if (errno == EAGAIN) { /* no peer took it within -t (e.g. a refused handshake) */
                    printf("msg %d: send-timeout\n", msgno);
                    status = 2;
                } else {
                    fprintf(stderr, "zmq_junk: send: %s\n", zmq_strerror(errno));
                    status = 1;
                }
                unsent = 1;
            }
            bytes += frames[k].len;
        }
        for (int k = 0; k < nframes; k++)
            free(frames[k].data);
        if (unsent) continue;
        printf("msg %d: sent %d frames, %zu bytes\n", msgno, nframes, bytes);
        for (int r = 0; r < want && status != 1; r++) {
            int rc = await_reply(sock, mon, timeout_ms, msgno, m);
            if (rc != 0) status = rc;
            if (rc == 2) break;
        }
    }
    zmq_socket_monitor(sock, NULL, 0);
    zmq_close(mon);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    free(m);
    return status;
}
