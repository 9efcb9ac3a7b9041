/* gen_corpus: writes the seed corpus, DIR/http/<name> and DIR/proto/<name>
 * (fuzz/run.sh --corpus; the files are committed). HTTP seeds are a control
 * byte (http_input.h) and what a client sends; proto seeds are proto_encode's
 * output, one message of each type, the optional keys of protocols 3 and 4
 * (commands, rates, exit codes, paced results), a few edge cases, and three lists at
 * the decoder's limits that the encoder refuses to write.
 * Usage: gen_corpus DIR */
#include "http_input.h"
#include "proto.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_dir;

static void put(const char *sub, const char *name, const void *data, size_t len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s/%s", g_dir, sub, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- HTTP ---------------------------------------------------------------- */

enum { C1, C2, C5, C13, C64, C300, C1500, CALL }; /* indices into FZ_CHUNKS */

static char g_req[1 << 16];
static size_t g_len;

static void req_begin(unsigned char ctl, unsigned char fault_seed)
{
    g_req[0] = (char)ctl;
    g_req[1] = (char)fault_seed;
    g_len = FZ_HEAD;
}

static void req_add(const char *s)
{
    size_t n = strlen(s);

    if (g_len + n > sizeof g_req) abort();
    memcpy(g_req + g_len, s, n);
    g_len += n;
}

static void req_fill(char c, size_t n)
{
    if (g_len + n > sizeof g_req) abort();
    memset(g_req + g_len, c, n);
    g_len += n;
}

static void http(const char *name, unsigned char ctl, unsigned char fault_seed, const char *text)
{
    req_begin(ctl, fault_seed);
    req_add(text);
    put("http", name, g_req, g_len);
}

#define GET(target) "GET " target " HTTP/1.1\r\nHost: t\r\n\r\n"

static const struct {
    const char *name;
    unsigned char ctl;
    const char *text;
} k_http[] = {
    {"get-multiply", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?number=21")},
    {"get-multiply-bytewise", FZ_CTL(C1, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=21")},
    {"head-multiply", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "HEAD /multiply?number=7 HTTP/1.1\r\nHost: t\r\n\r\n"},
    {"get-health", FZ_CTL(C13, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/health")},
    {"head-health-close", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "HEAD /health HTTP/1.1\r\nConnection: close\r\n\r\n" GET("/health")},
    {"http10", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET /multiply?number=5 HTTP/1.0\r\n\r\n"},
    {"http10-keepalive", FZ_CTL(C5, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET /multiply?number=5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
     "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
    {"pipelined", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=1") "HEAD /health HTTP/1.1\r\n\r\n" GET("/multiply?number=-3")},
    {"pipelined-split", FZ_CTL(C13, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=1") GET("/multiply?number=2") GET("/nope")},
    {"lf-only", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET /multiply?number=4 HTTP/1.1\nHost: t\n\n"},
    {"negative", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?number=-42")},
    {"plus-sign", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?number=+8")},
    {"pct-number", FZ_CTL(C2, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?%6Eumber=%2D%34%32")},
    {"pct-bad-escape", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?number=1%4")},
    {"max-in-range", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=4611686018427387903") GET("/multiply?number=-4611686018427387904")},
    {"out-of-range", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=4611686018427387904") GET("/multiply?number=99999999999999999999")},
    {"leading-zeros", FZ_CTL(C64, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=-00000000000000000000000000000000000000000000000000000017")},
    {"not-a-number", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=12x") GET("/multiply?number=") GET("/multiply?x=1")},
    {"last-wins", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=1&number=2&&=&number")},
    {"delay", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=3&delay_ms=5") GET("/health")},
    {"delay-bad", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     GET("/multiply?number=3&delay_ms=60001") GET("/multiply?number=3&delay_ms=x")},
    {"not-found", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/") GET("/multiplyx")},
    {"post-405-body", FZ_CTL(C5, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "POST /multiply?number=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" GET("/health")},
    {"post-chunked", FZ_CTL(C13, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n" GET("/multiply?number=9")},
    {"absolute-form", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET http://t:8080/multiply?number=6 HTTP/1.1\r\n\r\n"
     "GET http://t/health#frag HTTP/1.1\r\n\r\n"},
    {"odd-targets", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "OPTIONS * HTTP/1.1\r\n\r\nCONNECT t:443 HTTP/1.1\r\n\r\n"},
    {"fragment", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), GET("/multiply?number=2#x")},
    {"version-505", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET /health HTTP/2.0\r\n\r\n" GET("/health")},
    {"version-09", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), "GET /health HTTP/0.9\r\n\r\n"},
    {"garbage-400", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), "\x01\x02 / HTTP/1.1\r\n\r\n"},
    {"upgrade", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "GET /health HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"},
    {"content-length-413", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0),
     "POST /multiply HTTP/1.1\r\nContent-Length: 2000000\r\n\r\nabc"},
    {"tight-414", FZ_CTL(C13, FZ_CFG_TIGHT, FZ_END_EOF, 0),
     GET("/multiply?number=000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000001")},
    {"tight-431", FZ_CTL(C64, FZ_CFG_TIGHT, FZ_END_EOF, 0),
     "GET /health HTTP/1.1\r\nX-A: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
     "X-B: "
     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n"
     "X-C: "
     "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\r\n"
     "X-D: "
     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\r\n"
     "X-E: "
     "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\r\n"
     "X-F: "
     "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\r\n"
     "X-G: "
     "ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\r\n"
     "\r\n"},
    {"faults-split", FZ_CTL(C13, FZ_CFG_TIGHT_FAULTS, FZ_END_EOF, 0),
     GET("/multiply?number=1&delay_ms=0") GET("/multiply?number=2") GET("/health")},
    {"lazy-pipelined", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 1),
     GET("/multiply?number=1") GET("/multiply?number=2") GET("/multiply?number=3")
         GET("/multiply?number=4") GET("/multiply?number=5") GET("/multiply?number=6")},
    {"header-timeout", FZ_CTL(C5, FZ_CFG_DEFAULT, FZ_END_TIMEOUT, 0),
     GET("/health") "GET /multiply?number=1 HTTP/1.1\r\nHost:"},
    {"drain-idle", FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_DRAIN, 0), GET("/health")},
    {"drain-delayed", FZ_CTL(CALL, FZ_CFG_FAULTS, FZ_END_DRAIN, 0),
     GET("/multiply?number=8&delay_ms=1000")},
    {"vanish", FZ_CTL(C64, FZ_CFG_DEFAULT, FZ_END_VANISH, 1),
     GET("/multiply?number=1") GET("/multiply?number=2") "GET /health HTTP/1.1\r\n"},
};

/* Seeds too long to spell out: the default limits and buffer compaction. */
static void http_generated(void)
{
    int i;

    /* 60 answers overflow one 16 KiB write buffer: flushes between parses */
    req_begin(FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 0), 0);
    for (i = 0; i < 60; i++)
        req_add(i % 3 ? GET("/multiply?number=123456789") : GET("/health"));
    put("http", "pipelined-60", g_req, g_len);
    g_req[0] = (char)FZ_CTL(C1500, FZ_CFG_DEFAULT, FZ_END_EOF, 1);
    put("http", "pipelined-60-lazy", g_req, g_len);

    /* each seed another sequence of faults */
    for (i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "faults-%d", i);
        req_begin(FZ_CTL(CALL, FZ_CFG_FAULTS, FZ_END_EOF, 0), (unsigned char)(i * 37));
        req_add(GET("/multiply?number=1") GET("/multiply?number=2") GET("/multiply?number=3")
                    GET("/multiply?number=4") GET("/multiply?number=5"));
        put("http", name, g_req, g_len);
    }

    /* a delay ends while earlier answers are still being written */
    req_begin(FZ_CTL(CALL, FZ_CFG_DEFAULT, FZ_END_EOF, 1), 0);
    for (i = 0; i < 40; i++)
        req_add(GET("/multiply?number=5"));
    req_add(GET("/multiply?number=6&delay_ms=1") GET("/health"));
    put("http", "lazy-delay-while-writing", g_req, g_len);

    /* a request-target spanning reads is moved to the block's start */
    req_begin(FZ_CTL(C1500, FZ_CFG_DEFAULT, FZ_END_EOF, 0), 0);
    req_add(GET("/health"));
    req_add("GET /multiply?number=");
    req_fill('0', 6000);
    req_add("7 HTTP/1.1\r\n\r\n");
    put("http", "long-target-spans-reads", g_req, g_len);

    req_begin(FZ_CTL(C1500, FZ_CFG_DEFAULT, FZ_END_EOF, 0), 0);
    req_add("GET /multiply?number=");
    req_fill('0', 8200);
    req_add("1 HTTP/1.1\r\n\r\n");
    put("http", "default-414", g_req, g_len);

    /* --max-body 1000, reached by the chunks' sum */
    req_begin(FZ_CTL(C300, FZ_CFG_TIGHT, FZ_END_EOF, 0), 0);
    req_add("POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3E8\r\n");
    req_fill('x', 1000);
    req_add("\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n" GET("/health"));
    put("http", "tight-413-chunked", g_req, g_len);

    req_begin(FZ_CTL(C1500, FZ_CFG_DEFAULT, FZ_END_EOF, 0), 0);
    req_add("GET /health HTTP/1.1\r\nX-Big: ");
    req_fill('b', 16400);
    req_add("\r\n\r\n");
    put("http", "default-431", g_req, g_len);
}

/* ---- proto ---------------------------------------------------------------- */

static void proto(const char *name, proto_msg_t *m)
{
    fb_err_t err = {""};
    char *buf;
    size_t len;

    if (proto_encode(m, &buf, &len, &err) != 0) {
        fprintf(stderr, "gen_corpus: %s: %s\n", name, err.msg);
        exit(1);
    }
    put("proto", name, buf, len);
    free(buf);
}

static proto_msg_t *msg(proto_type_t t)
{
    static proto_msg_t m;

    memset(&m, 0, sizeof m);
    m.type = t;
    m.version = proto_version();
    m.session = 0x1122334455667788ull;
    return &m;
}

static void proto_all(void)
{
    proto_msg_t *m;

    m = msg(PROTO_HELLO);
    m->u.hello.heartbeat_ms = 1000;
    m->u.hello.liveness_ms = 5000;
    strcpy(m->u.hello.name, "coordinator-1");
    proto("hello", m);

    m = msg(PROTO_WELCOME);
    strcpy(m->u.welcome.host, "agent-a");
    strcpy(m->u.welcome.cpu_model, "Intel(R) Xeon(R) CPU @ 2.20GHz");
    strcpy(m->u.welcome.kernel, "6.1.0-18-amd64");
    strcpy(m->u.welcome.libcurl, "7.88.1");
    strcpy(m->u.welcome.libuv, "1.44.2");
    strcpy(m->u.welcome.libzmq, "4.3.4");
    strcpy(m->u.welcome.version, "0.1.0");
    strcpy(m->u.welcome.boot_id, "0f9c0f0e-8d6b-4b8e-9a51-3f2d1f7f0c11");
    m->u.welcome.cores = 2;
    proto("welcome", m);

    m = msg(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "10.0.0.6");
    m->u.plan.target_port = 8080;
    m->u.plan.timeout_ms = 10000;
    m->u.plan.nbench = 3;
    strcpy(m->u.plan.bench[0].strategy, "threads-blocking");
    strcpy(m->u.plan.bench[1].strategy, "uv-multi");
    strcpy(m->u.plan.bench[2].strategy, "x");
    for (int i = 0; i < 3; i++) {
        m->u.plan.bench[i].requests = 100000;
        m->u.plan.bench[i].chunk = 1000;
        m->u.plan.bench[i].connections = (uint64_t)(i + 1) * 64;
    }
    proto("plan", m);

    /* protocol 3: a command next to a strategy, with every optional key */
    m = msg(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "127.0.0.1");
    m->u.plan.target_port = 8080;
    m->u.plan.timeout_ms = 5000;
    m->u.plan.nbench = 3;
    strcpy(m->u.plan.bench[0].command, "sleep 0.1 && echo 'done' >/dev/null");
    m->u.plan.bench[0].show_output = 1;
    m->u.plan.bench[0].cmd_timeout_ms = 60000;
    strcpy(m->u.plan.bench[1].command, "/bin/true --x y");
    m->u.plan.bench[1].no_shell = 1;
    strcpy(m->u.plan.bench[2].strategy, "uv-multi");
    for (int i = 0; i < 3; i++) {
        m->u.plan.bench[i].requests = i == 2 ? 1000 : 1;
        m->u.plan.bench[i].chunk = i == 2 ? 100 : 1;
        m->u.plan.bench[i].connections = i == 2 ? 8 : 1;
    }
    proto("plan-commands", m);
    memset(m->u.plan.bench[0].command, 'c', PROTO_CMD - 1); /* the longest command */
    m->u.plan.nbench = 1;
    proto("plan-command-longest", m);

    /* protocol 4: open-loop benchmarks, rate x duration = requests */
    m = msg(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "127.0.0.2");
    m->u.plan.target_port = 8081;
    m->u.plan.timeout_ms = 1000;
    m->u.plan.nbench = 2;
    strcpy(m->u.plan.bench[0].strategy, "threads-blocking");
    strcpy(m->u.plan.bench[1].strategy, "uv-multi");
    m->u.plan.bench[0].rate_milli = 500500; /* 500.5/s for 2 s: 1001 */
    m->u.plan.bench[0].duration_ms = 2000;
    m->u.plan.bench[1].rate_milli = PROTO_MAX_RATE_MILLI;
    m->u.plan.bench[1].duration_ms = 1;
    for (int i = 0; i < 2; i++) {
        m->u.plan.bench[i].requests = proto_bench_paced_requests(&m->u.plan.bench[i]);
        m->u.plan.bench[i].chunk = m->u.plan.bench[i].requests;
        m->u.plan.bench[i].connections = 16;
    }
    proto("plan-rate", m);

    for (proto_type_t t = PROTO_PREPARE; t <= PROTO_GO; t++) {
        static const char *const names[] = {"prepare", "ready", "go"};
        if (t == PROTO_RESULT) continue;
        m = msg(t);
        m->u.step.bench = 2;
        m->u.step.run = 7;
        m->u.step.warmup = t == PROTO_PREPARE;
        m->u.step.clock_ns = t == PROTO_READY ? 123456789012345ull : 0;
        proto(names[t - PROTO_PREPARE], m);
    }

    m = msg(PROTO_RESULT);
    m->u.result.bench = 1;
    m->u.result.run = 3;
    m->u.result.start_ns = 1000000;
    m->u.result.wall_ns = 2000000000;
    m->u.result.user_ns = 150000000;
    m->u.result.sys_ns = 450000000;
    m->u.result.ok = 99990;
    for (int i = 0; i < PROTO_FAIL__COUNT; i++)
        m->u.result.failed[i] = (uint64_t)i;
    m->u.result.bytes = 12345678;
    m->u.result.connections = 64;
    m->u.result.lat_min = 51000;
    m->u.result.lat_max = 9000000;
    m->u.result.lat_sum = 99990ull * 180000;
    m->u.result.nbuckets = 12;
    for (uint32_t i = 0; i < 12; i++) {
        m->u.result.bucket_idx[i] = 100 + i * 37;
        m->u.result.bucket_cnt[i] = 1 + i * i * 1000;
    }
    proto("result", m);

    /* a command's result: its exit status, no requests */
    m = msg(PROTO_RESULT);
    m->u.result.bench = 0;
    m->u.result.run = 1;
    m->u.result.wall_ns = 150000000;
    m->u.result.exit_code = 137;
    m->u.result.ok = 1;
    proto("result-exit-code", m);

    /* an open-loop result: lateness, expiries, span and service times */
    m = msg(PROTO_RESULT);
    m->u.result.bench = 1;
    m->u.result.run = 2;
    m->u.result.start_ns = 5000000;
    m->u.result.wall_ns = 2001000000;
    m->u.result.ok = 990;
    m->u.result.failed[0] = 3;
    m->u.result.expired = 8;
    m->u.result.late_p50 = 20000;
    m->u.result.late_p99 = 900000;
    m->u.result.late_max = 3000000;
    m->u.result.span_ns = 2000000000;
    m->u.result.lat_min = 60000;
    m->u.result.lat_max = 5000000;
    m->u.result.lat_sum = 990ull * 200000;
    m->u.result.svc_min = 40000;
    m->u.result.svc_max = 2000000;
    m->u.result.svc_sum = 990ull * 150000;
    m->u.result.nbuckets = 4;
    m->u.result.svc_nbuckets = 3;
    for (uint32_t i = 0; i < 4; i++) {
        m->u.result.bucket_idx[i] = 200 + i * 11;
        m->u.result.bucket_cnt[i] = 990 / 4 + (i == 0 ? 990 % 4 : 0);
    }
    for (uint32_t i = 0; i < 3; i++) {
        m->u.result.svc_idx[i] = 190 + i * 13;
        m->u.result.svc_cnt[i] = 330;
    }
    proto("result-paced", m);

    m = msg(PROTO_HEARTBEAT);
    m->u.heartbeat.seq = 42;
    proto("heartbeat", m);

    m = msg(PROTO_ABORT);
    strcpy(m->u.abort.reason, "operator interrupt");
    proto("abort", m);

    proto_error_init(m = msg(PROTO_ERROR), 0x1122334455667788ull, PROTO_ERR_STRATEGY,
                     "unknown strategy '%s'", "curl-easy");
    proto("error", m);
    proto_error_init(m, 0, PROTO_ERR_VERSION, "protocol version %u", PROTO_VERSION + 1u);
    m->version = PROTO_VERSION + 1; /* decoded as PROTO_EVERSION, with the error fields */
    proto("error-version-other", m);
    m = msg(PROTO_HEARTBEAT);
    m->version = PROTO_VERSION + 1;
    proto("heartbeat-version-other", m);

    proto("bye", msg(PROTO_BYE));
    proto("accept", msg(PROTO_ACCEPT));
    m = msg(PROTO_STATS_REQ);
    m->u.stats_req.phase = PROTO_VIEW_AFTER;
    proto("stats-req", m);
    m = msg(PROTO_STATS);
    m->u.stats.phase = PROTO_VIEW_AFTER;
    m->u.stats.requests = 1000;
    m->u.stats.codes[1] = 1000;
    m->u.stats.loops = 2;
    m->u.stats.cores = 2;
    proto("stats", m);
}

/* A message's header and one list of n nils under key: the decoder checks a
 * list's length before its elements. */
static void proto_list(const char *name, proto_type_t t, const char *key, uint32_t n)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, proto_version());
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, (uint32_t)t);
    msgpack_pack_str_with_body(&pk, "s", 1);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_str_with_body(&pk, key, strlen(key));
    msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n; i++)
        msgpack_pack_nil(&pk);
    put("proto", name, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void proto_limits(void)
{
    proto_list("plan-benches-0", PROTO_PLAN, "benches", 0);
    proto_list("plan-benches-1025", PROTO_PLAN, "benches", PROTO_MAX_BENCH + 1);
    proto_list("result-buckets-8193", PROTO_RESULT, "buckets", 2 * (PROTO_MAX_BUCKETS + 1));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR (writes DIR/http and DIR/proto)\n");
        return 2;
    }
    g_dir = argv[1];
    for (size_t i = 0; i < sizeof k_http / sizeof k_http[0]; i++)
        http(k_http[i].name, k_http[i].ctl, 0, k_http[i].text);
    http_generated();
    proto_all();
    proto_limits();
    return 0;
}
