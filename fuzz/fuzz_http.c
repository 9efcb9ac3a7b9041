/* fuzz_http: target-server's whole request path under libFuzzer. Each input
 * is one client connection: conn_adopt() gives one end of a socketpair to a
 * real worker (its own loop, pool and configuration from config_parse), the
 * client writes the input in chunks with a loop iteration after each, then
 * ends the connection one of four ways (http_input.h). Besides the
 * sanitizers, it checks that what the server sent is a run of well-formed
 * responses, that nothing follows "Connection: close", that a connection
 * whose client half-closed ends by itself with every answer whole, and that
 * every connection is gone (and freed) before the next input. */
#include "config.h"
#include "conn.h"
#include "http_input.h"
#include "opt.h"
#include "server.h"

#include <errno.h>
#include <http_parser.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FZ_MAX_ROUNDS 256 /* writes per input; the rest goes in one */
#define FZ_SETTLE 64      /* idle loop iterations a connection may take to end */

typedef struct {
    config_t cfg;
    srv_worker_t w;
    atomic_uint_fast64_t nconns;
} fz_server_t;

/* Real command lines: limits small enough for short inputs to reach 414,
 * 431 and 413, and every fault with a delay on top. */
#define FZ_BASE "target-server", "--host", "127.0.0.1", "--port", "0", "--seed", "1"
#define FZ_TIGHT "--max-header-size", "600", "--max-uri", "200", "--max-body", "1000"
#define FZ_FAULTS                                                                                  \
    "--fault", "wrong-result:0.15", "--fault", "status-500:0.15", "--fault", "close:0.1",          \
        "--fault", "stall:0.1", "--delay", "1"
static const char *const k_argv[4][24] = {
    [FZ_CFG_DEFAULT] = {FZ_BASE},
    [FZ_CFG_TIGHT] = {FZ_BASE, FZ_TIGHT},
    [FZ_CFG_FAULTS] = {FZ_BASE, FZ_FAULTS},
    [FZ_CFG_TIGHT_FAULTS] = {FZ_BASE, FZ_TIGHT, FZ_FAULTS},
};

static fz_server_t g_srv[4];
static char g_rx[1 << 22]; /* what the client read */
static size_t g_rxlen;
static bool g_rx_full;
static bool g_show; /* FUZZ_HTTP_SHOW=1: print what the server sent */

#define FZ_CHECK(cond, what)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http: %s\n", what);                                              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void server_init(fz_server_t *s, const char *const *argv)
{
    fb_err_t err = {""};
    int argc = 0, fd, port;

    while (argv[argc])
        argc++;
    if (config_parse(&s->cfg, argc, (char **)argv, stderr, &err) != CONFIG_OK ||
        srv_listen_fds(&s->cfg, &fd, 1, &port, &err) != 0 ||
        srv_worker_init(&s->w, &s->cfg, fd, 0, &s->nconns, &err) != 0) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        exit(1);
    }
    /* every block back to malloc at once, so ASan sees any use after release
     * and each input frees all it allocates */
    s->w.pool.max_free = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    signal(SIGPIPE, SIG_IGN); /* as target-server's main */
    g_show = getenv("FUZZ_HTTP_SHOW") != NULL;
    for (int i = 0; i < 4; i++)
        server_init(&g_srv[i], k_argv[i]);
    return 0;
}

/* A delay (--delay, ?delay_ms=) is due now, so the delayed paths run
 * without the input waiting for them. */
static void pump(srv_worker_t *w)
{
    conn_delays_expire(w);
    uv_run(&w->loop, UV_RUN_NOWAIT);
}

/* Reads what the server sent so far (into g_rx while it has room). */
static void client_read(int fd)
{
    static char sink[4096];

    for (;;) {
        bool room = g_rxlen < sizeof g_rx;
        ssize_t n = recv(fd, room ? g_rx + g_rxlen : sink,
                         room ? sizeof g_rx - g_rxlen : sizeof sink, MSG_DONTWAIT);
        if (n > 0 && room)
            g_rxlen += (size_t)n;
        else if (n > 0)
            g_rx_full = true;
        else if (n == 0 || errno != EINTR)
            return;
    }
}

/* Runs the loop until w has no connection left; false if it stopped making
 * progress (FZ_SETTLE iterations in a row with nothing read) first. */
static bool settle(fz_server_t *s, int client)
{
    for (int idle = 0; idle < FZ_SETTLE && atomic_load(&s->nconns) != 0; idle++) {
        size_t before = g_rxlen;
        pump(&s->w);
        if (client >= 0) client_read(client);
        if (g_rxlen != before) idle = 0;
    }
    return atomic_load(&s->nconns) == 0;
}

/* Writes data in chunks of `chunk` bytes, one loop iteration after each. */
static void client_write(fz_server_t *s, int fd, const uint8_t *data, size_t len, size_t chunk,
                         bool lazy)
{
    size_t off = 0;
    int rounds = 0, stuck = 0;

    while (off < len && stuck < 8) {
        size_t n = len - off < chunk || rounds >= FZ_MAX_ROUNDS ? len - off : chunk;
        ssize_t k = send(fd, data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (k < 0 && errno != EAGAIN && errno != EINTR) return; /* the server is gone */
        if (k > 0) off += (size_t)k;
        stuck = k > 0 ? 0 : stuck + 1;
        rounds++;
        pump(&s->w);
        if (!lazy || k <= 0) client_read(fd);
    }
}

/* ---- the response oracle ----------------------------------------------------- */

static bool known_status(int st)
{
    static const int k[] = {200, 400, 404, 405, 413, 414, 422, 431, 500, 503, 505};

    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (k[i] == st) return true;
    return false;
}

static const char *find(const char *s, size_t n, const char *lit)
{
    return memmem(s, n, lit, strlen(lit));
}

/* Checks that s holds responses back to back. Bodies are JSON objects, so a
 * response without one (to HEAD) is told apart by what follows. whole: the
 * server ended the connection itself, so a cut-off response is a bug. */
static void check_responses(const char *s, size_t n, bool whole)
{
    while (n > 0) {
        const char *end = find(s, n, "\r\n\r\n"), *cl;
        size_t head, body = 0;
        int status;

        FZ_CHECK(memcmp(s, "HTTP/1.1 ", n < 9 ? n : 9) == 0, "not an HTTP/1.1 response");
        if (end == NULL) {
            FZ_CHECK(!whole, "cut-off response head");
            return;
        }
        head = (size_t)(end + 4 - s);
        FZ_CHECK(head > 13, "no status line");
        status = atoi(s + 9);
        FZ_CHECK(known_status(status) && s[12] == ' ', "unknown status line");
        cl = find(s, head, "\r\nContent-Length: ");
        FZ_CHECK(cl != NULL, "response without Content-Length");
        if (head < n && s[head] == '{') {
            body = strtoul(cl + 18, NULL, 10);
            if (n - head < body) {
                FZ_CHECK(!whole, "cut-off response body");
                return;
            }
            FZ_CHECK(body > 0 && s[head + body - 1] == '}', "body is not one JSON object");
        }
        FZ_CHECK(head + body == n || s[head + body] == 'H', "bytes between responses");
        FZ_CHECK(find(s, head, "\r\nConnection: close\r\n") == NULL || head + body == n,
                 "a response after Connection: close");
        s += head + body;
        n -= head + body;
    }
}

/* ---- one input ---------------------------------------------------------------- */

static void client_end(fz_server_t *s, int *fd, int how)
{
    switch (how) {
    case FZ_END_EOF:
        shutdown(*fd, SHUT_WR);
        FZ_CHECK(settle(s, *fd), "connection outlived its client's EOF");
        return;
    case FZ_END_TIMEOUT: conn_sweep(&s->w, UINT64_MAX); break;
    case FZ_END_DRAIN: conn_drain(&s->w); break;
    case FZ_END_VANISH:
        close(*fd);
        *fd = -1;
        FZ_CHECK(settle(s, -1), "connection outlived its client");
        return;
    }
    for (int i = 0; i < 4; i++) {
        pump(&s->w);
        client_read(*fd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = FZ_CHUNKS;
    fz_server_t *s;
    int sv[2], how, buf = 1;
    bool lazy;

    if (size < FZ_HEAD) return 0;
    s = &g_srv[FZ_CTL_CFG(data[0])];
    how = FZ_CTL_END(data[0]);
    lazy = data[0] & FZ_LAZY;
    http_parser_set_max_header_size((uint32_t)s->cfg.max_header); /* global, as in main */
    s->w.rng = 0x9e3779b97f4a7c15ull * (data[1] + 1u) | 1;        /* xorshift: never 0 */
    g_rxlen = 0;
    g_rx_full = false;
    FZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0,
             "socketpair");
    if (lazy) { /* the kernel's smallest buffers */
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    }
    conn_adopt(&s->w, sv[0]);
    client_write(s, sv[1], data + FZ_HEAD, size - FZ_HEAD, chunks[FZ_CTL_CHUNK(data[0])], lazy);
    client_end(s, &sv[1], how);

    conn_close_all(&s->w);
    FZ_CHECK(settle(s, sv[1]), "connection not freed after conn_close_all");
    FZ_CHECK(s->w.conns == NULL && s->w.nconns == 0, "connection still listed");
    if (sv[1] >= 0) close(sv[1]);
    if (g_show) fprintf(stderr, "---- server sent %zu bytes:\n%.*s\n", g_rxlen, (int)g_rxlen, g_rx);
    if (!g_rx_full) check_responses(g_rx, g_rxlen, how == FZ_END_EOF);
    return 0;
}
