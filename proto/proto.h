/* proto: fleetbench's wire format, and the only code that knows it.
 *
 * A message is one msgpack map in one ZeroMQ frame. Every message carries
 * "v" (PROTO_VERSION) and "t" (a proto_type_t); the other keys depend on the
 * type and are listed, with their types and ranges, in one table per type in
 * proto.c, which both the encoder and the decoder read. The decoder checks
 * the raw bytes before msgpack-c sees them (msgpack-c preallocates for array
 * and map headers, so five bytes could ask for gigabytes) and then every
 * field's type and range. docs/protocol.md describes the exchange. */
#ifndef FB_PROTO_H
#define FB_PROTO_H

#include "cause.h"
#include "fb_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2: STATS_REQ and STATS, the target's own view; 3: commands; 4: open-loop runs */
#define PROTO_VERSION 4
#define PROTO_MAX_MSG (256 * 1024) /* bytes; also the sockets' ZMQ_MAXMSGSIZE */
#define PROTO_MAX_BENCH 1024       /* benchmarks in one plan */
#define PROTO_MAX_BUCKETS 8192     /* non-zero histogram buckets in one result */
#define PROTO_MAX_REQUESTS 10000000
#define PROTO_MAX_RATE_MILLI 10000000000ull /* 10^7 requests per second */
#define PROTO_MAX_DURATION_MS 86400000u     /* a day */
#define PROTO_MAX_CONNECTIONS 100000
#define PROTO_STR 128 /* longest text field, NUL included */
#define PROTO_HOST 256
#define PROTO_CMD 1024 /* longest command, NUL included */

typedef enum {
    PROTO_HELLO = 1, /* coordinator -> agent: opens a session */
    PROTO_WELCOME,   /* agent -> coordinator: host facts */
    PROTO_PLAN,      /* coordinator -> agent: target and benchmark list */
    PROTO_PREPARE,   /* coordinator -> agent: get run (bench, run) ready */
    PROTO_READY,     /* agent -> coordinator: prepared */
    PROTO_GO,        /* coordinator -> agent: start the timed run now */
    PROTO_RESULT,    /* agent -> coordinator: one run's measurements */
    PROTO_HEARTBEAT, /* both ways */
    PROTO_ABORT,     /* coordinator -> agent: stop, go idle */
    PROTO_ERROR,     /* both ways: a refusal, with a code and text */
    PROTO_BYE,       /* coordinator -> agent: session over */
    PROTO_ACCEPT,    /* agent -> coordinator: the plan is accepted */
    PROTO_STATS_REQ, /* coordinator -> agent: read the target's GET /stats */
    PROTO_STATS,     /* agent -> coordinator: what it said */
    PROTO__TYPES
} proto_type_t;

/* Codes carried by PROTO_ERROR; the coordinator maps them to exit codes. */
typedef enum {
    PROTO_ERR_BAD_MESSAGE = 1, /* malformed, oversized, wrong field */
    PROTO_ERR_VERSION,         /* message names another protocol version */
    PROTO_ERR_BUSY,            /* agent already serves another session */
    PROTO_ERR_STRATEGY,        /* unknown strategy name */
    PROTO_ERR_TARGET_DENIED,   /* target not in the agent's --allow-target */
    PROTO_ERR_UNREACHABLE,     /* agent cannot reach the target */
    PROTO_ERR_STATE,           /* no such session here, or a step out of turn */
    PROTO_ERR_INTERNAL,        /* agent-side failure (threads, memory) */
    PROTO_ERR_EXEC_DENIED,     /* a command, and the agent has no --allow-exec */
    PROTO_ERR__MAX
} proto_err_t;

/* Failed requests: one count per cause (common/cause.h), in cause_t's order
 * on the wire. */
#define PROTO_FAIL__COUNT CAUSE__COUNT

typedef struct {
    uint64_t session; /* chosen by the coordinator, echoed in every reply */
    uint32_t heartbeat_ms, liveness_ms;
    char name[PROTO_STR]; /* coordinator's host name, for the agent's log */
} proto_hello_t;

typedef struct {
    char host[PROTO_STR], cpu_model[PROTO_STR], kernel[PROTO_STR];
    char libcurl[PROTO_STR], libuv[PROTO_STR], libzmq[PROTO_STR], version[PROTO_STR];
    char boot_id[PROTO_STR]; /* hosts with the same boot id share CLOCK_MONOTONIC */
    uint32_t cores;
} proto_welcome_t;

/* A strategy, or a command run as a whole process (strategy ""): then
 * requests, chunk and connections are 1 and mean nothing. */
typedef struct {
    char strategy[PROTO_STR];
    uint64_t requests, chunk, connections;
    char command[PROTO_CMD];
    uint32_t no_shell;       /* 1: split on whitespace and exec, no sh -c */
    uint32_t show_output;    /* 1: the command's stdout/stderr are the agent's */
    uint64_t cmd_timeout_ms; /* the process group is killed after this; 0: never */
    /* open loop (--rate): this agent's share of the rate in requests per
     * 1000 s, and the schedule's length; requests = ceil(rate x duration).
     * Both 0 (left out): closed loop, as fast as it goes. */
    uint64_t rate_milli, duration_ms;
} proto_bench_t;

typedef struct {
    char target_host[PROTO_HOST];
    uint32_t target_port;
    uint32_t timeout_ms; /* per request */
    uint32_t nbench;
    proto_bench_t bench[PROTO_MAX_BENCH];
} proto_plan_t;

typedef struct {
    uint32_t bench, run;
    uint32_t warmup;   /* 0 or 1: a warmup run is measured but not kept */
    uint64_t clock_ns; /* READY: the agent's CLOCK_MONOTONIC when sending; else 0 */
} proto_step_t;        /* PREPARE, READY and GO */

typedef struct {
    uint32_t bench, run, warmup;
    uint64_t start_ns; /* CLOCK_MONOTONIC at the start of the timed run */
    uint64_t wall_ns, user_ns, sys_ns;
    uint64_t ok, failed[PROTO_FAIL__COUNT];
    uint64_t bytes, connections;
    uint64_t lat_min, lat_max, lat_sum; /* ns; with a rate, from each request's due time */
    uint32_t exit_code; /* a command's: its exit status, or 128 + the signal that killed it */
    /* open loop only (all 0, and left out, in a closed-loop run): */
    uint64_t expired;                      /* requests never sent: their --timeout ran out first */
    uint64_t late_p50, late_p99, late_max; /* ns from due time to send, requests sent */
    uint64_t span_ns;                      /* what the achieved rate counts over: the schedule's
                                              length, or until the last completion if later */
    uint64_t svc_min, svc_max, svc_sum;    /* service time (send to completion), ns */
    uint32_t svc_nbuckets;                 /* its histogram, requests sent */
    uint32_t nbuckets;
    uint32_t bucket_idx[PROTO_MAX_BUCKETS];
    uint64_t bucket_cnt[PROTO_MAX_BUCKETS];
    uint32_t svc_idx[PROTO_MAX_BUCKETS];
    uint64_t svc_cnt[PROTO_MAX_BUCKETS];
} proto_result_t;

typedef struct {
    uint64_t seq;
} proto_heartbeat_t;

/* Around each timed run, outside it, one agent reads the target's own
 * counters: phase 0 before the run (kept by the agent), phase 1 after every
 * agent's result, answered with the difference. */
enum { PROTO_VIEW_BEFORE, PROTO_VIEW_AFTER };
/* What the target said. */
enum {
    PROTO_VIEW_OK,          /* a fleetbench target-server: the numbers below */
    PROTO_VIEW_NONE,        /* the target has no such endpoint (a third-party server) */
    PROTO_VIEW_UNREACHABLE, /* no answer in time, or a broken one */
    PROTO_VIEW__COUNT
};

typedef struct {
    uint32_t phase; /* PROTO_VIEW_BEFORE or _AFTER */
} proto_stats_req_t;

typedef struct {
    uint32_t phase, status; /* PROTO_VIEW_* */
    /* phase 1 with status OK: the target's counts between the two reads */
    uint64_t requests;        /* every request it counted */
    uint64_t codes[5];        /* answered with 1xx .. 5xx */
    uint64_t dropped;         /* never answered (injected faults) */
    uint64_t connections;     /* connections that carried a request */
    uint64_t cpu_ns, wall_ns; /* the target's CPU time, and the time between the reads */
    uint64_t busy_ns;         /* its event loops' busy time, summed */
    uint64_t busy_max_ns;     /* the busiest loop's */
    uint32_t loops, cores;
    char detail[PROTO_STR]; /* why not OK */
} proto_stats_t;

typedef struct {
    uint32_t code;         /* proto_err_t */
    uint32_t peer_version; /* the sender's PROTO_VERSION, for version errors */
    char message[PROTO_STR * 2];
} proto_error_t;

typedef struct {
    char reason[PROTO_STR];
} proto_abort_t;

typedef struct {
    proto_type_t type;
    uint32_t version;
    uint64_t session; /* every message but HELLO's reply to junk carries it */
    union {
        proto_hello_t hello;
        proto_welcome_t welcome;
        proto_plan_t plan;
        proto_step_t step;
        proto_result_t result;
        proto_heartbeat_t heartbeat;
        proto_stats_req_t stats_req;
        proto_stats_t stats;
        proto_abort_t abort;
        proto_error_t error;
    } u;
} proto_msg_t;

/* Decoder results (negative); the text in err says which field and why. */
enum {
    PROTO_OK = 0,
    PROTO_ETOOBIG = -1,    /* over PROTO_MAX_MSG */
    PROTO_EMALFORMED = -2, /* not one well-formed msgpack map */
    PROTO_EVERSION = -3,   /* another version: out->version holds it */
    PROTO_EFIELD = -4,     /* a field missing, of the wrong type or out of range */
};

/* The version this process speaks: PROTO_VERSION, unless a test asks for
 * another one to check that mismatches are refused. */
uint32_t proto_version(void);
void proto_set_version(uint32_t v);

/* Encodes m into a malloc'd buffer (*buf, *len). 0, or -1 on a field out of
 * range (err says which): the encoder refuses what the decoder would. */
int proto_encode(const proto_msg_t *m, char **buf, size_t *len, fb_err_t *err);
/* Decodes one message. On PROTO_EVERSION out->type and out->version are set
 * (and, for an ERROR, out->u.error) so the caller can answer. */
int proto_decode(const void *buf, size_t len, proto_msg_t *out, fb_err_t *err);
/* Checks that buf holds exactly one msgpack object whose counts all fit in
 * the bytes present, nested at most 16 deep. 0 or -1. */
int proto_check(const void *buf, size_t len);

const char *proto_type_name(proto_type_t t);
/* An open-loop benchmark's requests: ceil(rate x duration), at least 1. */
uint64_t proto_bench_paced_requests(const proto_bench_t *b);
/* 0 if b is consistent: rate_milli and duration_ms both 0 (closed loop), or
 * both set on a strategy and requests = proto_bench_paced_requests. -1 with
 * why in err. */
int proto_bench_check(const proto_bench_t *b, fb_err_t *err);
/* Copies a result's fields and its buckets in use only (not 192 KiB). */
void proto_result_copy(proto_result_t *dst, const proto_result_t *src);
const char *proto_err_name(uint32_t code);

/* Replaces, in place, every byte of s that is not part of well-formed UTF-8
 * and every control character (C0, DEL, C1) with '?', zeroing the bytes
 * freed at the end. Returns the new length. The decoder applies it to every
 * text field but a command, so no peer can put escape sequences, forged log
 * lines or invalid UTF-8 into a log, a terminal or a JSON export. */
size_t proto_text_clean(char *s);
/* True if proto_text_clean would leave s as it is. A command must be: the
 * encoder and the decoder refuse one that is not (a cleaned command would
 * run something else). */
bool proto_text_valid(const char *s);

/* Fills an ERROR message. */
void proto_error_init(proto_msg_t *m, uint64_t session, proto_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
