/* routerbench: the messaging floor of a one-ROUTER coordinator, measured
 * against agents (real ones or bench/simfleet), for docs/scale.md.
 *
 * It is not the coordinator: it drives the lockstep exchange only (hello,
 * plan, then R times prepare -> every ready, go -> every result, decoded
 * through proto/) with the design docs/scale.md proposes: one ROUTER socket
 * connected to every agent, each connection named by ZMQ_CONNECT_ROUTING_ID
 * (so a reply's identity frame is the agent's index, no lookup), CURVE
 * server keys set before each zmq_connect, one monitor for the handshake
 * events of all connections, one zmq_poll item whatever the number of
 * agents. --no-prepare sends GO alone (simfleet --implicit-prepare): what
 * a two-message exchange per run would cost. It prints its CPU per agent
 * per run (user + sys of the whole
 * process, the libzmq I/O thread included, over the R runs only) and the GO
 * fan-out, so bench/fleet.sh can set them beside the real coordinator's. */
#include "curve.h"
#include "fb_exit.h"
#include "opt.h"
#include "proto.h"
#include "wire.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#define MAX_AGENTS 4096
#define ID_LEN 5 /* 'A' and the agent's index, big-endian: ids starting with 0 are libzmq's */

typedef struct {
    char host[256];
    int port;
} rb_agent_t;

typedef struct {
    void *zctx, *router, *mon;
    rb_agent_t *a;
    size_t n;
    bool *waiting;
    size_t nwaiting;
    uint64_t session;
    proto_msg_t *in, *out;
    unsigned long events_failed;
} rb_t;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void agent_id(size_t i, unsigned char id[ID_LEN])
{
    id[0] = 'A';
    id[1] = (unsigned char)(i >> 24);
    id[2] = (unsigned char)(i >> 16);
    id[3] = (unsigned char)(i >> 8);
    id[4] = (unsigned char)i;
}

static int load_agents(rb_t *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[300];
    fb_err_t err;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    r->a = calloc(MAX_AGENTS, sizeof *r->a);
    while (r->a && fgets(line, sizeof line, f) && r->n < MAX_AGENTS) {
        line[strcspn(line, " \t\r\n#")] = '\0';
        if (line[0] == '\0') continue;
        if (opt_hostport(path, line, 5555, r->a[r->n].host, 256, &r->a[r->n].port, &err) != 0) {
            fprintf(stderr, "routerbench: %s\n", err.msg);
            fclose(f);
            return -1;
        }
        r->n++;
    }
    fclose(f);
    return r->a && r->n ? 0 : -1;
}

/* One ROUTER, one connect per agent: its routing id, and its CURVE server
 * key, are set just before its zmq_connect (libzmq copies the options into
 * the connection's session then). */
static int connect_all(rb_t *r, const char *key_path, const char *known_path)
{
    curve_key_t secret;
    curve_known_t *known = NULL;
    size_t nknown = 0;
    fb_err_t err = {""};
    char ep[300];
    int one = 1, v6 = 1;

    r->router = zmq_socket(r->zctx, ZMQ_ROUTER);
    if (r->router == NULL || wire_socket_setup(r->router, &err) != 0 ||
        zmq_setsockopt(r->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(r->router, ZMQ_IPV6, &v6, sizeof v6) != 0)
        return -1;
    if (key_path && (curve_load_secret(key_path, &secret, &err) != 0 ||
                     curve_load_known(known_path, &known, &nknown, &err) != 0)) {
        fprintf(stderr, "routerbench: %s\n", err.msg);
        return -1;
    }
    if (zmq_socket_monitor(r->router, "inproc://rb-mon",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (r->mon = zmq_socket(r->zctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(r->mon, "inproc://rb-mon") != 0)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        unsigned char id[ID_LEN];
        const curve_key_t *server;
        agent_id(i, id);
        if (known) {
            server = curve_known_find(known, nknown, r->a[i].host, r->a[i].port);
            if (server == NULL || curve_client_setup(r->router, &secret, server, &err) != 0) {
                fprintf(stderr, "routerbench: no key for %s:%d\n", r->a[i].host, r->a[i].port);
                free(known);
                return -1;
            }
        }
        snprintf(ep, sizeof ep, strchr(r->a[i].host, ':') ? "tcp://[%s]:%d" : "tcp://%s:%d",
                 r->a[i].host, r->a[i].port);
        if (zmq_setsockopt(r->router, ZMQ_CONNECT_ROUTING_ID, id, ID_LEN) != 0 ||
            zmq_connect(r->router, ep) != 0) {
            fprintf(stderr, "routerbench: %s: %s\n", ep, zmq_strerror(errno));
            free(known);
            return -1;
        }
    }
    free(known);
    return 0;
}

static int send_to(rb_t *r, size_t i, const char *buf, size_t len)
{
    unsigned char id[ID_LEN];

    agent_id(i, id);
    if (zmq_send(r->router, id, ID_LEN, ZMQ_SNDMORE) < 0 || zmq_send(r->router, buf, len, 0) < 0) {
        fprintf(stderr, "routerbench: send to agent %zu: %s\n", i, zmq_strerror(errno));
        return -1;
    }
    r->waiting[i] = true;
    return 0;
}

/* Encodes r->out once and sends it to every agent. */
static int send_all(rb_t *r, proto_type_t t)
{
    fb_err_t err = {""};
    char *buf;
    size_t len;
    int rc = 0;

    r->out->type = t;
    r->out->version = proto_version();
    r->out->session = r->session;
    if (proto_encode(r->out, &buf, &len, &err) != 0) return -1;
    for (size_t i = 0; i < r->n && rc == 0; i++)
        rc = send_to(r, i, buf, len);
    free(buf);
    r->nwaiting = r->n;
    return rc;
}

/* Until every agent answered `want`: one poll item for all of them. */
static int wait_all(rb_t *r, proto_type_t want, int timeout_ms)
{
    unsigned char id[WIRE_ID_MAX];
    size_t idlen;
    fb_err_t err = {""};
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

    while (r->nwaiting > 0) {
        zmq_pollitem_t items[2] = {{r->router, 0, ZMQ_POLLIN, 0}, {r->mon, 0, ZMQ_POLLIN, 0}};
        if (now_ns() > deadline) {
            fprintf(stderr, "routerbench: %zu agents silent (%s)\n", r->nwaiting,
                    proto_type_name(want));
            return -1;
        }
        if (zmq_poll(items, 2, 100) < 0 && errno != EINTR) return -1;
        if (items[1].revents & ZMQ_POLLIN) {
            fprintf(stderr, "routerbench: a handshake failed (key refused)\n");
            return -1;
        }
        for (;;) {
            int rc = wire_recv(r->router, id, &idlen, r->in, &err);
            size_t i;
            if (rc == WIRE_EAGAIN || rc == WIRE_ESOCK) break;
            if (rc != PROTO_OK || idlen != ID_LEN || id[0] != 'A') continue;
            i = (size_t)id[1] << 24 | (size_t)id[2] << 16 | (size_t)id[3] << 8 | id[4];
            if (i >= r->n || !r->waiting[i] || r->in->session != r->session) continue;
            if (r->in->type == PROTO_ERROR) {
                fprintf(stderr, "routerbench: agent %zu: %s\n", i, r->in->u.error.message);
                return -1;
            }
            if (r->in->type != want) continue; /* heartbeats */
            r->waiting[i] = false;
            r->nwaiting--;
        }
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* R lockstep runs; GO is encoded per agent (its start time is on its own
 * clock), as the coordinator must for agents on other hosts. */
static int runs(rb_t *r, unsigned nruns, unsigned warmup, bool prepare, uint64_t *fanout)
{
    fb_err_t err = {""};
    char *buf;
    size_t len;

    for (unsigned k = 0; k < warmup + nruns; k++) {
        memset(r->out, 0, sizeof *r->out);
        r->out->u.step.run = k;
        r->out->u.step.warmup = k < warmup;
        if (prepare && (send_all(r, PROTO_PREPARE) != 0 || wait_all(r, PROTO_READY, 10000) != 0))
            return -1;
        uint64_t first = now_ns(), start = first + 5000000ull;
        r->out->type = PROTO_GO;
        r->out->version = proto_version();
        r->out->session = r->session;
        for (size_t i = 0; i < r->n; i++) {
            r->out->u.step.clock_ns = start; /* + the agent's clock offset */
            if (proto_encode(r->out, &buf, &len, &err) != 0) return -1;
            int rc = send_to(r, i, buf, len);
            free(buf);
            if (rc != 0) return -1;
        }
        if (k >= warmup) fanout[k - warmup] = now_ns() - first;
        r->nwaiting = r->n;
        if (wait_all(r, PROTO_RESULT, 10000) != 0) return -1;
    }
    return 0;
}

static int setup(rb_t *r, const char *target_host, int target_port)
{
    proto_plan_t *p = &r->out->u.plan;

    memset(r->out, 0, sizeof *r->out);
    r->out->u.hello.heartbeat_ms = 1000;
    r->out->u.hello.liveness_ms = 10000;
    snprintf(r->out->u.hello.name, sizeof r->out->u.hello.name, "routerbench");
    if (send_all(r, PROTO_HELLO) != 0 || wait_all(r, PROTO_WELCOME, 20000) != 0) return -1;
    memset(r->out, 0, sizeof *r->out);
    snprintf(p->target_host, sizeof p->target_host, "%s", target_host);
    p->target_port = (uint32_t)target_port;
    p->timeout_ms = 1000;
    p->nbench = 1;
    snprintf(p->bench[0].strategy, sizeof p->bench[0].strategy, "async-for");
    p->bench[0].requests = 10;
    p->bench[0].chunk = 1;
    p->bench[0].connections = 2;
    return send_all(r, PROTO_PLAN) == 0 && wait_all(r, PROTO_ACCEPT, 20000) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option k_opts[] = {{"agents-file", required_argument, NULL, 'f'},
                                           {"runs", required_argument, NULL, 'n'},
                                           {"key", required_argument, NULL, 'k'},
                                           {"known-agents", required_argument, NULL, 'K'},
                                           {"no-prepare", no_argument, NULL, 'P'},
                                           {"target", required_argument, NULL, 't'},
                                           {NULL, 0, NULL, 0}};
    const char *file = NULL, *key = NULL, *known = NULL;
    fb_err_t err;
    uint64_t nruns = 200, *fanout;
    rb_t r = {0};
    bool prepare = true;
    char target_host[256] = "127.0.0.1";
    fb_exit_t rc = FB_EXIT_USAGE;
    int c, target_port = 9; /* simfleet makes no request */

    while ((c = getopt_long(argc, argv, "f:n:", k_opts, NULL)) != -1) {
        switch (c) {
        case 'f': file = optarg; break;
        case 'n':
            if (opt_u64("--runs", optarg, 1, 1000000, &nruns, &err) != 0) {
                fprintf(stderr, "routerbench: %s\n", err.msg);
                return FB_EXIT_USAGE;
            }
            break;
        case 'k': key = optarg; break;
        case 'K': known = optarg; break;
        case 'P': prepare = false; break;
        case 't':
            if (opt_hostport("--target", optarg, -1, target_host, sizeof target_host, &target_port,
                             &err) != 0) {
                fprintf(stderr, "routerbench: %s\n", err.msg);
                return FB_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr,
                    "Usage: routerbench --agents-file FILE [--runs R] "
                    "[--key FILE --known-agents FILE] [--no-prepare] [--target HOST:PORT]\n");
            return FB_EXIT_USAGE;
        }
    }
    if (file == NULL || (key == NULL) != (known == NULL) || load_agents(&r, file) != 0) {
        fprintf(stderr, "routerbench: --agents-file FILE (HOST:PORT lines) is needed\n");
        return FB_EXIT_USAGE;
    }
    r.session = now_ns();
    r.in = malloc(sizeof *r.in);
    r.out = malloc(sizeof *r.out);
    r.waiting = calloc(r.n, sizeof *r.waiting);
    fanout = calloc(nruns, sizeof *fanout);
    r.zctx = zmq_ctx_new();
    if (r.in && r.out && r.waiting && fanout && r.zctx && connect_all(&r, key, known) == 0 &&
        setup(&r, target_host, target_port) == 0) {
        uint64_t t0 = now_ns();
        double c0 = cpu_s();
        if (runs(&r, (unsigned)nruns, 5, prepare, fanout) == 0) {
            double cpu = cpu_s() - c0, wall = (double)(now_ns() - t0) / 1e9;
            qsort(fanout, nruns, sizeof *fanout, cmp_u64);
            printf("routerbench: %zu agents, %llu runs: cpu_us_per_agent_run %.2f "
                   "cpu_ms_per_run %.3f wall_ms_per_run %.3f go_fanout_p50_us %.1f "
                   "go_fanout_max_us %.1f\n",
                   r.n, (unsigned long long)nruns, cpu * 1e6 / ((double)(nruns + 5) * (double)r.n),
                   cpu * 1e3 / (double)(nruns + 5), wall * 1e3 / (double)(nruns + 5),
                   (double)fanout[nruns / 2] / 1e3, (double)fanout[nruns - 1] / 1e3);
            rc = FB_EXIT_OK;
        }
    }
    if (r.router) {
        memset(r.out, 0, sizeof *r.out);
        int linger = 1000; /* let the BYEs out */
        send_all(&r, PROTO_BYE);
        zmq_setsockopt(r.router, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(r.router);
    }
    if (r.mon) zmq_close(r.mon);
    if (r.zctx) zmq_ctx_term(r.zctx);
    free(r.a);
    free(r.in);
    free(r.out);
    free(r.waiting);
    free(fanout);
    return rc;
}
