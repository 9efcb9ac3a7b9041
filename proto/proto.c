#include "proto.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the field tables ---------------------------------------------------- */

typedef enum {
    F_U32,         /* unsigned integer, stored as uint32_t */
    F_U64,         /* unsigned integer, stored as uint64_t */
    F_STR,         /* text, stored NUL-terminated in char[size] */
    F_U64S,        /* array of exactly size unsigned integers (uint64_t[size]) */
    F_BENCHES,     /* plan's benchmark list: array of maps (k_bench) */
    F_BUCKETS,     /* result's histogram: flat array idx0, cnt0, idx1, cnt1, ... */
    F_SVC_BUCKETS, /* result's service-time histogram, the same way */
} fkind_t;

typedef struct {
    const char *key;
    fkind_t kind;
    size_t off;  /* offset in the struct the table describes */
    size_t size; /* F_STR: buffer size; F_U64S: element count */
    uint64_t min, max;
    int opt;   /* may be left out: absent reads as 0 or "", and 0 or "" is not sent */
    int exact; /* F_STR: text that is run, not shown: refused, not cleaned, unless clean */
} field_t;

#define U32(k, s, f, lo, hi)                                                                       \
    {                                                                                              \
        k, F_U32, offsetof(s, f), 0, lo, hi, 0, 0                                                  \
    }
#define U64(k, s, f, lo, hi)                                                                       \
    {                                                                                              \
        k, F_U64, offsetof(s, f), 0, lo, hi, 0, 0                                                  \
    }
#define STR(k, s, f, minlen)                                                                       \
    {                                                                                              \
        k, F_STR, offsetof(s, f), sizeof(((s *)0)->f), minlen, 0, 0, 0                             \
    }
/* Optional fields (since version 3): a peer leaves them out when they are 0 or "". */
#define OPT_U32(k, s, f, lo, hi)                                                                   \
    {                                                                                              \
        k, F_U32, offsetof(s, f), 0, lo, hi, 1, 0                                                  \
    }
#define OPT_U64(k, s, f, lo, hi)                                                                   \
    {                                                                                              \
        k, F_U64, offsetof(s, f), 0, lo, hi, 1, 0                                                  \
    }
#define OPT_STR(k, s, f)                                                                           \
    {                                                                                              \
        k, F_STR, offsetof(s, f), sizeof(((s *)0)->f), 0, 0, 1, 0                                  \
    }
/* A command: what is cleaned elsewhere is refused here, as a cleaned command
 * would be another command. */
#define OPT_CMD(k, s, f)                                                                           \
    {                                                                                              \
        k, F_STR, offsetof(s, f), sizeof(((s *)0)->f), 0, 0, 1, 1                                  \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, 0, 0, 0, 0, 0, 0                                                                  \
    }

static const field_t k_hello[] = {
    U32("heartbeat_ms", proto_hello_t, heartbeat_ms, 10, 600000),
    U32("liveness_ms", proto_hello_t, liveness_ms, 20, 3600000),
    STR("name", proto_hello_t, name, 0),
    END,
};

static const field_t k_welcome[] = {
    STR("host", proto_welcome_t, host, 0),          STR("cpu", proto_welcome_t, cpu_model, 0),
    STR("kernel", proto_welcome_t, kernel, 0),      STR("libcurl", proto_welcome_t, libcurl, 0),
    STR("libuv", proto_welcome_t, libuv, 0),        STR("libzmq", proto_welcome_t, libzmq, 0),
    STR("version", proto_welcome_t, version, 0),    STR("boot_id", proto_welcome_t, boot_id, 0),
    U32("cores", proto_welcome_t, cores, 1, 65536), END,
};

/* A benchmark is a strategy or a command: exactly one of the two is given
 * (bench_check). */
static const field_t k_bench[] = {
    OPT_STR("strategy", proto_bench_t, strategy),
    U64("requests", proto_bench_t, requests, 1, PROTO_MAX_REQUESTS),
    U64("chunk", proto_bench_t, chunk, 1, PROTO_MAX_REQUESTS),
    U64("connections", proto_bench_t, connections, 1, PROTO_MAX_CONNECTIONS),
    OPT_CMD("command", proto_bench_t, command),
    OPT_U32("no_shell", proto_bench_t, no_shell, 0, 1),
    OPT_U32("show_output", proto_bench_t, show_output, 0, 1),
    OPT_U64("cmd_timeout_ms", proto_bench_t, cmd_timeout_ms, 0, 24ull * 3600 * 1000),
    /* open loop only (--rate); a closed-loop benchmark leaves them out */
    OPT_U64("rate_milli", proto_bench_t, rate_milli, 0, PROTO_MAX_RATE_MILLI),
    OPT_U64("duration_ms", proto_bench_t, duration_ms, 0, PROTO_MAX_DURATION_MS),
    END,
};

static const field_t k_plan[] = {
    STR("target_host", proto_plan_t, target_host, 1),
    U32("target_port", proto_plan_t, target_port, 1, 65535),
    U32("timeout_ms", proto_plan_t, timeout_ms, 1, 3600000),
    {"benches", F_BENCHES, offsetof(proto_plan_t, bench), 0, 1, PROTO_MAX_BENCH, 0, 0},
    END,
};

static const field_t k_step[] = {
    U32("bench", proto_step_t, bench, 0, PROTO_MAX_BENCH - 1),
    U32("run", proto_step_t, run, 0, UINT32_MAX),
    U32("warmup", proto_step_t, warmup, 0, 1),
    U64("clock_ns", proto_step_t, clock_ns, 0, UINT64_MAX),
    END,
};

static const field_t k_result[] = {
    U32("bench", proto_result_t, bench, 0, PROTO_MAX_BENCH - 1),
    U32("run", proto_result_t, run, 0, UINT32_MAX),
    U32("warmup", proto_result_t, warmup, 0, 1),
    U64("start_ns", proto_result_t, start_ns, 0, UINT64_MAX),
    U64("wall_ns", proto_result_t, wall_ns, 0, UINT64_MAX),
    U64("user_ns", proto_result_t, user_ns, 0, UINT64_MAX),
    U64("sys_ns", proto_result_t, sys_ns, 0, UINT64_MAX),
    U64("ok", proto_result_t, ok, 0, PROTO_MAX_REQUESTS),
    {"failed", F_U64S, offsetof(proto_result_t, failed), PROTO_FAIL__COUNT, 0, PROTO_MAX_REQUESTS,
     0, 0},
    U64("bytes", proto_result_t, bytes, 0, UINT64_MAX),
    U64("connections", proto_result_t, connections, 0, UINT64_MAX),
    U64("lat_min", proto_result_t, lat_min, 0, UINT64_MAX),
    U64("lat_max", proto_result_t, lat_max, 0, UINT64_MAX),
    U64("lat_sum", proto_result_t, lat_sum, 0, UINT64_MAX),
    {"buckets", F_BUCKETS, 0, 0, 0, PROTO_MAX_BUCKETS, 0, 0},
    OPT_U32("exit_code", proto_result_t, exit_code, 0, 255),
    /* open loop only (--rate); a closed-loop result leaves them out */
    OPT_U64("expired", proto_result_t, expired, 0, PROTO_MAX_REQUESTS),
    OPT_U64("late_p50", proto_result_t, late_p50, 0, UINT64_MAX),
    OPT_U64("late_p99", proto_result_t, late_p99, 0, UINT64_MAX),
    OPT_U64("late_max", proto_result_t, late_max, 0, UINT64_MAX),
    OPT_U64("span_ns", proto_result_t, span_ns, 0, UINT64_MAX),
    OPT_U64("svc_min", proto_result_t, svc_min, 0, UINT64_MAX),
    OPT_U64("svc_max", proto_result_t, svc_max, 0, UINT64_MAX),
    OPT_U64("svc_sum", proto_result_t, svc_sum, 0, UINT64_MAX),
    {"svc_buckets", F_SVC_BUCKETS, 0, 0, 0, PROTO_MAX_BUCKETS, 1, 0},
    END,
};

static const field_t k_heartbeat[] = {U64("seq", proto_heartbeat_t, seq, 0, UINT64_MAX), END};
static const field_t k_stats_req[] = {U32("phase", proto_stats_req_t, phase, 0, 1), END};
static const field_t k_stats[] = {
    U32("phase", proto_stats_t, phase, 0, 1),
    U32("status", proto_stats_t, status, 0, PROTO_VIEW__COUNT - 1),
    U64("requests", proto_stats_t, requests, 0, UINT64_MAX),
    {"codes", F_U64S, offsetof(proto_stats_t, codes), 5, 0, UINT64_MAX, 0, 0},
    U64("dropped", proto_stats_t, dropped, 0, UINT64_MAX),
    U64("connections", proto_stats_t, connections, 0, UINT64_MAX),
    U64("cpu_ns", proto_stats_t, cpu_ns, 0, UINT64_MAX),
    U64("wall_ns", proto_stats_t, wall_ns, 0, UINT64_MAX),
    U64("busy_ns", proto_stats_t, busy_ns, 0, UINT64_MAX),
    U64("busy_max_ns", proto_stats_t, busy_max_ns, 0, UINT64_MAX),
    U32("loops", proto_stats_t, loops, 0, 65536),
    U32("cores", proto_stats_t, cores, 0, 65536),
    STR("detail", proto_stats_t, detail, 0),
    END,
};
static const field_t k_abort[] = {STR("reason", proto_abort_t, reason, 0), END};
/* ERROR's layout never changes between versions, so a peer of another
 * version can still read why it was refused. */
static const field_t k_error[] = {
    U32("code", proto_error_t, code, 1, PROTO_ERR__MAX - 1),
    U32("peer_version", proto_error_t, peer_version, 0, UINT32_MAX),
    STR("message", proto_error_t, message, 0),
    END,
};
static const field_t k_none[] = {END};

/* size: the union member's, so a decoder clears only what it fills (a
 * plan is 150 KiB, a heartbeat 8 bytes). */
static const struct {
    const char *name;
    const field_t *fields;
    size_t size;
} k_types[PROTO__TYPES] = {
    [PROTO_HELLO] = {"hello", k_hello, sizeof(proto_hello_t)},
    [PROTO_WELCOME] = {"welcome", k_welcome, sizeof(proto_welcome_t)},
    [PROTO_PLAN] = {"plan", k_plan, sizeof(proto_plan_t)},
    [PROTO_PREPARE] = {"prepare", k_step, sizeof(proto_step_t)},
    [PROTO_READY] = {"ready", k_step, sizeof(proto_step_t)},
    [PROTO_GO] = {"go", k_step, sizeof(proto_step_t)},
    [PROTO_RESULT] = {"result", k_result, sizeof(proto_result_t)},
    [PROTO_HEARTBEAT] = {"heartbeat", k_heartbeat, sizeof(proto_heartbeat_t)},
    [PROTO_ABORT] = {"abort", k_abort, sizeof(proto_abort_t)},
    [PROTO_ERROR] = {"error", k_error, sizeof(proto_error_t)},
    [PROTO_BYE] = {"bye", k_none, 0},
    [PROTO_ACCEPT] = {"accept", k_none, 0},
    [PROTO_STATS_REQ] = {"stats_req", k_stats_req, sizeof(proto_stats_req_t)},
    [PROTO_STATS] = {"stats", k_stats, sizeof(proto_stats_t)},
};

uint64_t proto_bench_paced_requests(const proto_bench_t *b)
{
    /* integers, so coordinator and agent agree to the request: at most
     * 10^10 x 8.64 x 10^7, far below 2^64 */
    uint64_t n = (b->rate_milli * b->duration_ms + 999999) / 1000000;

    return n ? n : 1;
}

int proto_bench_check(const proto_bench_t *b, fb_err_t *err)
{
    if (b->rate_milli == 0 && b->duration_ms == 0) return 0;
    if (b->command[0]) {
        fb_err_set(err, "a command runs on no schedule (rate_milli, duration_ms)");
        return -1;
    }
    if (b->rate_milli == 0 || b->duration_ms == 0) {
        fb_err_set(err, "rate_milli %llu and duration_ms %llu: both or neither",
                   (unsigned long long)b->rate_milli, (unsigned long long)b->duration_ms);
        return -1;
    }
    if (b->requests != proto_bench_paced_requests(b)) {
        fb_err_set(err, "%llu requests, but rate x duration is %llu",
                   (unsigned long long)b->requests,
                   (unsigned long long)proto_bench_paced_requests(b));
        return -1;
    }
    return 0;
}

void proto_result_copy(proto_result_t *dst, const proto_result_t *src)
{
    memcpy(dst, src, offsetof(proto_result_t, bucket_idx));
    memcpy(dst->bucket_idx, src->bucket_idx, src->nbuckets * sizeof *src->bucket_idx);
    memcpy(dst->bucket_cnt, src->bucket_cnt, src->nbuckets * sizeof *src->bucket_cnt);
    memcpy(dst->svc_idx, src->svc_idx, src->svc_nbuckets * sizeof *src->svc_idx);
    memcpy(dst->svc_cnt, src->svc_cnt, src->svc_nbuckets * sizeof *src->svc_cnt);
}

static uint32_t g_version = PROTO_VERSION;

uint32_t proto_version(void)
{
    return g_version;
}

void proto_set_version(uint32_t v)
{
    g_version = v;
}

const char *proto_type_name(proto_type_t t)
{
    return t > 0 && t < PROTO__TYPES ? k_types[t].name : "unknown";
}

const char *proto_err_name(uint32_t code)
{
    static const char *const names[PROTO_ERR__MAX] = {
        [PROTO_ERR_BAD_MESSAGE] = "bad message",
        [PROTO_ERR_VERSION] = "version mismatch",
        [PROTO_ERR_BUSY] = "busy",
        [PROTO_ERR_STRATEGY] = "unknown strategy",
        [PROTO_ERR_TARGET_DENIED] = "target denied",
        [PROTO_ERR_UNREACHABLE] = "target unreachable",
        [PROTO_ERR_STATE] = "unexpected message",
        [PROTO_ERR_INTERNAL] = "agent failure",
        [PROTO_ERR_EXEC_DENIED] = "commands not allowed",
    };
    return code > 0 && code < PROTO_ERR__MAX ? names[code] : "unknown error";
}

void proto_error_init(proto_msg_t *m, uint64_t session, proto_err_t code, const char *fmt, ...)
{
    va_list ap;

    memset(m, 0, sizeof *m);
    m->type = PROTO_ERROR;
    m->version = proto_version();
    m->session = session;
    m->u.error.code = code;
    m->u.error.peer_version = proto_version();
    va_start(ap, fmt);
    vsnprintf(m->u.error.message, sizeof m->u.error.message, fmt, ap);
    va_end(ap);
}

/* ---- raw check ------------------------------------------------------------ */

#define CHECK_DEPTH 16

/* Size of the fixed part after the type byte, and how many objects and
 * payload bytes follow, for one msgpack type byte. -1: invalid byte. */
static int head_len(uint8_t b, size_t *fixed)
{
    if (b == 0xc1) return -1; /* never used */
    if (b <= 0xc3 || b >= 0xe0)
        *fixed = 0; /* fixint, fixmap/array/str, nil, bool */
    else {
        static const uint8_t sz[0x20] = {
            [0x04] = 1, [0x05] = 2, [0x06] = 4, [0x07] = 1, [0x08] = 2, [0x09] = 4, [0x0a] = 4,
            [0x0b] = 8, [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8, [0x10] = 1, [0x11] = 2,
            [0x12] = 4, [0x13] = 8, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1,
            [0x19] = 1, [0x1a] = 2, [0x1b] = 4, [0x1c] = 2, [0x1d] = 4, [0x1e] = 2, [0x1f] = 4,
        };
        *fixed = sz[b - 0xc0];
    }
    return 0;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int proto_check(const void *buf, size_t len)
{
    const uint8_t *p = buf, *end = p + len;
    uint64_t left[CHECK_DEPTH + 1]; /* objects still due at each depth */
    uint64_t due = 1;               /* all objects still due: each takes >= 1 byte */
    int depth = 0;

    left[0] = 1;
    while (depth >= 0) {
        uint8_t b;
        size_t fixed;
        uint64_t n = 0, payload = 0, children = 0;

        if (left[depth] == 0) {
            depth--;
            continue;
        }
        if (p >= end || head_len(*p, &fixed) != 0 || (size_t)(end - p) < 1 + fixed) return -1;
        b = *p++;
        if (fixed) n = be(p, fixed);
        p += fixed;
        left[depth]--;
        due--;
        if ((b & 0xf0) == 0x80)
            children = 2 * (uint64_t)(b & 0x0f);
        else if ((b & 0xf0) == 0x90)
            children = b & 0x0f;
        else if ((b & 0xe0) == 0xa0)
            payload = b & 0x1f;
        else if (b == 0xdc || b == 0xdd)
            children = n;
        else if (b == 0xde || b == 0xdf)
            children = 2 * n;
        else if ((b >= 0xc4 && b <= 0xc6) || (b >= 0xd9 && b <= 0xdb))
            payload = n;
        else if (b >= 0xc7 && b <= 0xc9)
            payload = n + 1; /* ext: type byte + data */
        else if (b >= 0xd4 && b <= 0xd8)
            payload = (1u << (b - 0xd4)) + 1 - fixed;
        /* never trust a count: every child needs at least one byte */
        if (payload > (uint64_t)(end - p)) return -1;
        p += payload;
        if (children > 0) {
            due += children;
            if (due > (uint64_t)(end - p) || depth == CHECK_DEPTH) return -1;
            left[++depth] = children;
        }
    }
    return p == end ? 0 : -1;
}

/* ---- encoding ------------------------------------------------------------- */

static size_t nfields(const field_t *f)
{
    size_t n = 0;
    while (f[n].key)
        n++;
    return n;
}

static void pack_key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
}

static const char k_not_clean[] = "control characters or bytes that are not UTF-8";

static int range_err(const field_t *f, uint64_t v, fb_err_t *err)
{
    fb_err_set(err, "field '%s': %llu is out of range (%llu..%llu)", f->key, (unsigned long long)v,
               (unsigned long long)f->min, (unsigned long long)f->max);
    return -1;
}

static int pack_fields(msgpack_packer *pk, const field_t *fields, const char *base, fb_err_t *err);

static int pack_field(msgpack_packer *pk, const field_t *f, const char *base, fb_err_t *err)
{
    const void *at = base + f->off;
    uint64_t v;
    size_t i, len;

    switch (f->kind) {
    case F_U32:
    case F_U64:
        v = f->kind == F_U32 ? *(const uint32_t *)at : *(const uint64_t *)at;
        if (v < f->min || v > f->max) return range_err(f, v, err);
        msgpack_pack_uint64(pk, v);
        return 0;
    case F_STR:
        len = strnlen(at, f->size);
        if (len == f->size || len < f->min) {
            fb_err_set(err, "field '%s': text of %zu bytes does not fit", f->key, len);
            return -1;
        }
        if (f->exact && !proto_text_valid(at)) {
            fb_err_set(err, "field '%s': %s", f->key, k_not_clean);
            return -1;
        }
        msgpack_pack_str_with_body(pk, at, len);
        return 0;
    case F_U64S:
        msgpack_pack_array(pk, f->size);
        for (i = 0; i < f->size; i++) {
            v = ((const uint64_t *)at)[i];
            if (v > f->max) return range_err(f, v, err);
            msgpack_pack_uint64(pk, v);
        }
        return 0;
    case F_BENCHES: {
        const proto_plan_t *plan = (const proto_plan_t *)base;
        if (plan->nbench < f->min || plan->nbench > f->max) return range_err(f, plan->nbench, err);
        msgpack_pack_array(pk, plan->nbench);
        for (i = 0; i < plan->nbench; i++)
            if (pack_fields(pk, k_bench, (const char *)&plan->bench[i], err) != 0) return -1;
        return 0;
    }
    case F_BUCKETS:
    case F_SVC_BUCKETS: {
        const proto_result_t *r = (const proto_result_t *)base;
        bool svc = f->kind == F_SVC_BUCKETS;
        uint32_t n = svc ? r->svc_nbuckets : r->nbuckets;
        const uint32_t *idx = svc ? r->svc_idx : r->bucket_idx;
        const uint64_t *cnt = svc ? r->svc_cnt : r->bucket_cnt;
        if (n > f->max) return range_err(f, n, err);
        msgpack_pack_array(pk, 2 * (size_t)n);
        for (i = 0; i < n; i++) {
            msgpack_pack_uint32(pk, idx[i]);
            msgpack_pack_uint64(pk, cnt[i]);
        }
        return 0;
    }
    }
    return -1;
}

/* An optional field at its default is left out. */
static bool skipped(const field_t *f, const char *base)
{
    const void *at = base + f->off;

    if (!f->opt) return false;
    switch (f->kind) {
    case F_U32: return *(const uint32_t *)at == 0;
    case F_U64: return *(const uint64_t *)at == 0;
    case F_STR: return *(const char *)at == '\0';
    case F_SVC_BUCKETS: return ((const proto_result_t *)base)->svc_nbuckets == 0;
    default: return false;
    }
}

static size_t nsent(const field_t *fields, const char *base)
{
    size_t n = 0;
    for (const field_t *f = fields; f->key; f++)
        n += !skipped(f, base);
    return n;
}

/* A benchmark runs a strategy or a command, never both nor neither. */
static int bench_check(const proto_bench_t *b, fb_err_t *err)
{
    if ((b->strategy[0] == '\0') == (b->command[0] == '\0')) {
        fb_err_set(err, "a benchmark needs exactly one of 'strategy' and 'command'");
        return PROTO_EFIELD;
    }
    return 0;
}

static int pack_fields(msgpack_packer *pk, const field_t *fields, const char *base, fb_err_t *err)
{
    if (fields == k_bench && bench_check((const proto_bench_t *)base, err) != 0) return -1;
    msgpack_pack_map(pk, nsent(fields, base));
    for (const field_t *f = fields; f->key; f++) {
        if (skipped(f, base)) continue;
        pack_key(pk, f->key);
        if (pack_field(pk, f, base, err) != 0) return -1;
    }
    return 0;
}

int proto_encode(const proto_msg_t *m, char **buf, size_t *len, fb_err_t *err)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    const field_t *fields;

    if (m->type <= 0 || m->type >= PROTO__TYPES) {
        fb_err_set(err, "no message type %d", (int)m->type);
        return -1;
    }
    fields = k_types[m->type].fields;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + nsent(fields, (const char *)&m->u));
    pack_key(&pk, "v");
    msgpack_pack_uint32(&pk, m->version);
    pack_key(&pk, "t");
    msgpack_pack_uint32(&pk, (uint32_t)m->type);
    pack_key(&pk, "s");
    msgpack_pack_uint64(&pk, m->session);
    for (const field_t *f = fields; f->key; f++) {
        if (skipped(f, (const char *)&m->u)) continue;
        pack_key(&pk, f->key);
        if (pack_field(&pk, f, (const char *)&m->u, err) != 0) goto fail;
    }
    if (sb.size > PROTO_MAX_MSG) {
        fb_err_set(err, "%s message of %zu bytes is over the %d-byte limit",
                   proto_type_name(m->type), sb.size, PROTO_MAX_MSG);
        goto fail;
    }
    *buf = sb.data;
    *len = sb.size;
    return 0;
fail:
    msgpack_sbuffer_destroy(&sb);
    return -1;
}

/* ---- decoding ------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (code point in *cp), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = s[0] < 0x80                    ? 1
               : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
               : (s[0] & 0xf0) == 0xe0        ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);

    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
        c = c << 6 | (s[i] & 0x3f);
    }
    if (n == 0 || c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return n;
}

size_t proto_text_clean(char *text)
{
    unsigned char *s = (unsigned char *)text;
    size_t r = 0, w = 0, len = strlen(text);
    uint32_t cp;

    while (r < len) {
        size_t n = utf8_seq(s + r, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            s[w++] = '?';
            r += n ? n : 1;
        } else {
            memmove(s + w, s + r, n);
            w += n;
            r += n;
        }
    }
    memset(s + w, 0, len - w); /* the tail too: a message is a function of its bytes */
    return w;
}

bool proto_text_valid(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    uint32_t cp;

    for (size_t n; *s; s += n)
        if ((n = utf8_seq(s, &cp)) == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
    return true;
}

static bool obj_key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

static int field_err(const field_t *f, const char *why, fb_err_t *err)
{
    fb_err_set(err, "field '%s': %s", f->key, why);
    return PROTO_EFIELD;
}

static int get_uint(const msgpack_object *o, const field_t *f, uint64_t *v, fb_err_t *err)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return field_err(f, "not an unsigned integer", err);
    *v = o->via.u64;
    if (*v < f->min || *v > f->max) {
        range_err(f, *v, err);
        return PROTO_EFIELD;
    }
    return 0;
}

static int unpack_fields(const msgpack_object *map, const field_t *fields, char *base,
                         fb_err_t *err);

static int unpack_field(const msgpack_object *o, const field_t *f, char *base, fb_err_t *err)
{
    void *at = base + f->off;
    uint64_t v;
    size_t i;

    switch (f->kind) {
    case F_U32:
    case F_U64:
        if (get_uint(o, f, &v, err) != 0) return PROTO_EFIELD;
        if (f->kind == F_U32)
            *(uint32_t *)at = (uint32_t)v;
        else
            *(uint64_t *)at = v;
        return 0;
    case F_STR:
        if (o->type != MSGPACK_OBJECT_STR) return field_err(f, "not text", err);
        if (o->via.str.size >= f->size) return field_err(f, "text too long", err);
        if (o->via.str.size < f->min) return field_err(f, "empty", err);
        if (memchr(o->via.str.ptr, '\0', o->via.str.size)) return field_err(f, "has a NUL", err);
        memcpy(at, o->via.str.ptr, o->via.str.size);
        ((char *)at)[o->via.str.size] = '\0';
        if (!f->exact)
            proto_text_clean(at); /* what reaches a log, a terminal or JSON is clean text */
        else if (!proto_text_valid(at))
            return field_err(f, k_not_clean, err);
        return 0;
    case F_U64S:
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != f->size)
            return field_err(f, "not an array of the right length", err);
        for (i = 0; i < f->size; i++) {
            if (get_uint(&o->via.array.ptr[i], f, &v, err) != 0) return PROTO_EFIELD;
            ((uint64_t *)at)[i] = v;
        }
        return 0;
    case F_BENCHES: {
        proto_plan_t *plan = (proto_plan_t *)base;
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < f->min ||
            o->via.array.size > f->max)
            return field_err(f, "not an array of 1 to 1024 benchmarks", err);
        plan->nbench = o->via.array.size;
        for (i = 0; i < plan->nbench; i++) {
            int rc = unpack_fields(&o->via.array.ptr[i], k_bench, (char *)&plan->bench[i], err);
            if (rc == 0) rc = bench_check(&plan->bench[i], err);
            if (rc != 0) return rc;
        }
        return 0;
    }
    case F_BUCKETS:
    case F_SVC_BUCKETS: {
        proto_result_t *r = (proto_result_t *)base;
        bool svc = f->kind == F_SVC_BUCKETS;
        uint32_t *idx = svc ? r->svc_idx : r->bucket_idx;
        uint64_t *cnt = svc ? r->svc_cnt : r->bucket_cnt;
        const field_t fi = {f->key, F_U32, 0, 0, 0, UINT32_MAX, 0, 0};
        const field_t fc = {f->key, F_U64, 0, 0, 1, UINT64_MAX, 0, 0};
        uint32_t n;
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size % 2 != 0 ||
            o->via.array.size / 2 > f->max)
            return field_err(f, "not an even array of at most 8192 pairs", err);
        n = o->via.array.size / 2;
        *(svc ? &r->svc_nbuckets : &r->nbuckets) = n;
        for (i = 0; i < n; i++) {
            if (get_uint(&o->via.array.ptr[2 * i], &fi, &v, err) != 0) return PROTO_EFIELD;
            idx[i] = (uint32_t)v;
            if (get_uint(&o->via.array.ptr[2 * i + 1], &fc, &cnt[i], err) != 0) return PROTO_EFIELD;
        }
        return 0;
    }
    }
    return PROTO_EFIELD;
}

/* Fills base from a map: every listed key exactly once; others ignored, so a
 * newer peer of the same version may add optional keys. */
static int unpack_fields(const msgpack_object *map, const field_t *fields, char *base,
                         fb_err_t *err)
{
    uint64_t seen = 0;
    size_t n = nfields(fields), i, j;

    if (map->type != MSGPACK_OBJECT_MAP) {
        fb_err_set(err, "expected a map");
        return PROTO_EFIELD;
    }
    for (i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        for (j = 0; j < n; j++) {
            if (!obj_key_is(&kv->key, fields[j].key)) continue;
            if (seen & (1ull << j)) return field_err(&fields[j], "given twice", err);
            seen |= 1ull << j;
            int rc = unpack_field(&kv->val, &fields[j], base, err);
            if (rc != 0) return rc;
            break;
        }
    }
    for (j = 0; j < n; j++)
        if (!(seen & (1ull << j)) && !fields[j].opt) return field_err(&fields[j], "missing", err);
    return 0;
}

/* Reads "v", "t" and "s" from the top-level map. */
static int unpack_header(const msgpack_object *map, proto_msg_t *out, fb_err_t *err)
{
    static const field_t fv = {"v", F_U32, 0, 0, 0, UINT32_MAX, 0, 0};
    static const field_t ft = {"t", F_U32, 0, 0, 0, UINT32_MAX, 0, 0}; /* range: after "v" */
    static const field_t fs = {"s", F_U64, 0, 0, 0, UINT64_MAX, 0, 0};
    const field_t *hdr[3] = {&fv, &ft, &fs};
    uint64_t val[3] = {0, 0, 0};
    bool got[3] = {false, false, false};

    for (size_t i = 0; i < map->via.map.size; i++)
        for (int j = 0; j < 3; j++)
            if (obj_key_is(&map->via.map.ptr[i].key, hdr[j]->key)) {
                if (got[j]) return field_err(hdr[j], "given twice", err);
                if (get_uint(&map->via.map.ptr[i].val, hdr[j], &val[j], err) != 0)
                    return PROTO_EFIELD;
                got[j] = true;
            }
    for (int j = 0; j < 3; j++)
        if (!got[j]) return field_err(hdr[j], "missing", err);
    out->version = (uint32_t)val[0];
    out->type = (proto_type_t)val[1];
    out->session = val[2];
    /* another version may have other types: that is a version mismatch */
    if (out->version == proto_version() && (val[1] < 1 || val[1] >= PROTO__TYPES)) {
        fb_err_set(err, "field 't': %llu is out of range (1..%d)", (unsigned long long)val[1],
                   PROTO__TYPES - 1);
        return PROTO_EFIELD;
    }
    return 0;
}

int proto_decode(const void *buf, size_t len, proto_msg_t *out, fb_err_t *err)
{
    msgpack_unpacked up;
    size_t off = 0;
    int rc;

    memset(out, 0, offsetof(proto_msg_t, u));
    memset(&out->u.error, 0, sizeof out->u.error); /* filled on some failures */
    if (len > PROTO_MAX_MSG) {
        fb_err_set(err, "message of %zu bytes is over the %d-byte limit", len, PROTO_MAX_MSG);
        return PROTO_ETOOBIG;
    }
    if (len == 0 || proto_check(buf, len) != 0) {
        fb_err_set(err, "not one well-formed msgpack object");
        return PROTO_EMALFORMED;
    }
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        fb_err_set(err, "not one well-formed msgpack object");
        rc = PROTO_EMALFORMED;
    } else if (up.data.type != MSGPACK_OBJECT_MAP) {
        fb_err_set(err, "message is not a map");
        rc = PROTO_EMALFORMED;
    } else if ((rc = unpack_header(&up.data, out, err)) != 0) {
        /* rc set */
    } else if (out->version != proto_version()) {
        fb_err_set(err, "protocol version %u, this side speaks %u", out->version, proto_version());
        if (out->type == PROTO_ERROR) /* its layout is the same in every version */
            unpack_fields(&up.data, k_error, (char *)&out->u.error, err);
        rc = PROTO_EVERSION;
    } else {
        memset(&out->u, 0, k_types[out->type].size);
        rc = unpack_fields(&up.data, k_types[out->type].fields, (char *)&out->u, err);
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}
