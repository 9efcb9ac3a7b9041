/* proto: round trip of every message, and refusal of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "proto.h"

static fb_err_t perr;

static proto_msg_t *msg_new(proto_type_t t)
{
    proto_msg_t *m = calloc(1, sizeof *m);
    m->type = t;
    m->version = proto_version();
    m->session = 0x1122334455667788ull;
    return m;
}

/* encode, decode, and compare the whole struct */
static void round_trip(proto_msg_t *m)
{
    proto_msg_t *back = calloc(1, sizeof *back); /* decode clears only what it fills */
    char *buf;
    size_t len;

    if (proto_encode(m, &buf, &len, &perr) != 0)
        fail_msg("encode %s: %s", proto_type_name(m->type), perr.msg);
    if (proto_decode(buf, len, back, &perr) != PROTO_OK)
        fail_msg("decode %s: %s", proto_type_name(m->type), perr.msg);
    assert_memory_equal(m, back, sizeof *m);
    free(buf);
    free(back);
    free(m);
}

static void test_round_trip_all(void **s)
{
    proto_msg_t *m;

    m = msg_new(PROTO_HELLO);
    m->u.hello.heartbeat_ms = 1000;
    m->u.hello.liveness_ms = 5000;
    strcpy(m->u.hello.name, "coord-1");
    round_trip(m);

    m = msg_new(PROTO_WELCOME);
    strcpy(m->u.welcome.host, "agent-a");
    strcpy(m->u.welcome.cpu_model, "Intel(R) Xeon(R) Platinum 8124M CPU @ 3.00GHz");
    strcpy(m->u.welcome.kernel, "6.1.0-18-amd64");
    strcpy(m->u.welcome.libcurl, "7.88.1");
    strcpy(m->u.welcome.libuv, "1.44.2");
    strcpy(m->u.welcome.libzmq, "4.3.4");
    strcpy(m->u.welcome.version, "0.1.0");
    m->u.welcome.cores = 2;
    round_trip(m);

    m = msg_new(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "10.0.0.6");
    m->u.plan.target_port = 8080;
    m->u.plan.timeout_ms = 10000;
    m->u.plan.nbench = PROTO_MAX_BENCH;
    for (uint32_t i = 0; i < PROTO_MAX_BENCH; i++) {
        snprintf(m->u.plan.bench[i].strategy, PROTO_STR, "strategy-%u", i);
        m->u.plan.bench[i].requests = 1 + i;
        m->u.plan.bench[i].chunk = 100;
        m->u.plan.bench[i].connections = PROTO_MAX_CONNECTIONS;
    }
    round_trip(m);

    for (proto_type_t t = PROTO_PREPARE; t <= PROTO_GO; t++) {
        if (t == PROTO_RESULT) continue;
        m = msg_new(t);
        m->u.step.bench = PROTO_MAX_BENCH - 1;
        m->u.step.run = UINT32_MAX;
        m->u.step.warmup = 1;
        round_trip(m);
    }

    m = msg_new(PROTO_RESULT);
    m->u.result.bench = 3;
    m->u.result.run = 9;
    m->u.result.start_ns = UINT64_MAX;
    m->u.result.wall_ns = 123456789;
    m->u.result.user_ns = 1;
    m->u.result.sys_ns = 2;
    m->u.result.ok = 990;
    for (int i = 0; i < PROTO_FAIL__COUNT; i++)
        m->u.result.failed[i] = 2 * (uint64_t)i;
    m->u.result.bytes = 1 << 20;
    m->u.result.connections = 100;
    m->u.result.lat_min = 1000;
    m->u.result.lat_max = 60000000000ull;
    m->u.result.lat_sum = 5;
    m->u.result.nbuckets = 4000;
    for (uint32_t i = 0; i < 4000; i++) {
        m->u.result.bucket_idx[i] = i * 2;
        m->u.result.bucket_cnt[i] = (uint64_t)1 << (i % 64);
    }
    round_trip(m);

    m = msg_new(PROTO_HEARTBEAT);
    m->u.heartbeat.seq = 42;
    round_trip(m);
    m = msg_new(PROTO_ABORT);
    strcpy(m->u.abort.reason, "coordinator interrupted");
    round_trip(m);
    m = msg_new(PROTO_BYE);
    round_trip(m);
    m = msg_new(PROTO_ACCEPT);
    round_trip(m);
    m = msg_new(PROTO_STATS_REQ);
    m->u.stats_req.phase = PROTO_VIEW_AFTER;
    round_trip(m);
    m = msg_new(PROTO_STATS);
    m->u.stats.phase = PROTO_VIEW_AFTER;
    m->u.stats.status = PROTO_VIEW_OK;
    m->u.stats.requests = 1000;
    for (int i = 0; i < 5; i++)
        m->u.stats.codes[i] = (uint64_t)i * 250;
    m->u.stats.dropped = 0;
    m->u.stats.connections = 100;
    m->u.stats.cpu_ns = 12345678;
    m->u.stats.wall_ns = UINT64_MAX;
    m->u.stats.busy_ns = 1;
    m->u.stats.busy_max_ns = 2;
    m->u.stats.loops = 4;
    m->u.stats.cores = 8;
    round_trip(m);
    m = msg_new(PROTO_STATS);
    m->u.stats.status = PROTO_VIEW_NONE;
    strcpy(m->u.stats.detail, "GET /stats: 404");
    round_trip(m);
    m = msg_new(PROTO_ERROR);
    proto_error_init(m, 7, PROTO_ERR_BUSY, "agent busy with session %d", 3);
    round_trip(m);
}

/* ---- hand-built messages --------------------------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} mp_t;

static void mp_init(mp_t *m)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

static void key(mp_t *m, const char *k)
{
    msgpack_pack_str_with_body(&m->pk, k, strlen(k));
}

/* a map of npairs + header; the caller adds npairs key/values */
static void header(mp_t *m, size_t npairs, uint32_t v, uint32_t t)
{
    msgpack_pack_map(&m->pk, 3 + npairs);
    key(m, "v");
    msgpack_pack_uint32(&m->pk, v);
    key(m, "t");
    msgpack_pack_uint32(&m->pk, t);
    key(m, "s");
    msgpack_pack_uint64(&m->pk, 1);
}

static int decode_mp(mp_t *m, proto_msg_t *out)
{
    int rc = proto_decode(m->sb.data, m->sb.size, out, &perr);
    msgpack_sbuffer_destroy(&m->sb);
    return rc;
}

static int decode_bytes(const char *bytes, size_t len)
{
    proto_msg_t *out = malloc(sizeof *out);
    int rc = proto_decode(bytes, len, out, &perr);
    free(out);
    return rc;
}

static void expect_field_error(mp_t *m, const char *part)
{
    proto_msg_t *out = malloc(sizeof *out);
    int rc = decode_mp(m, out);
    free(out);
    assert_int_equal(rc, PROTO_EFIELD);
    if (strstr(perr.msg, part) == NULL) fail_msg("error '%s' lacks '%s'", perr.msg, part);
}

static void heartbeat_with(mp_t *m, void (*val)(mp_t *))
{
    mp_init(m);
    header(m, 1, PROTO_VERSION, PROTO_HEARTBEAT);
    key(m, "seq");
    val(m);
}

static void v_str(mp_t *m)
{
    msgpack_pack_str_with_body(&m->pk, "x", 1);
}
static void v_neg(mp_t *m)
{
    msgpack_pack_int64(&m->pk, -1);
}
static void v_float(mp_t *m)
{
    msgpack_pack_double(&m->pk, 1.5);
}
static void v_nil(mp_t *m)
{
    msgpack_pack_nil(&m->pk);
}

static void test_field_types(void **s)
{
    mp_t m;

    heartbeat_with(&m, v_str);
    expect_field_error(&m, "'seq': not an unsigned integer");
    heartbeat_with(&m, v_neg);
    expect_field_error(&m, "'seq'");
    heartbeat_with(&m, v_float);
    expect_field_error(&m, "'seq'");
    heartbeat_with(&m, v_nil);
    expect_field_error(&m, "'seq'");

    mp_init(&m); /* missing field */
    header(&m, 0, PROTO_VERSION, PROTO_HEARTBEAT);
    expect_field_error(&m, "'seq': missing");

    mp_init(&m); /* duplicated field */
    header(&m, 2, PROTO_VERSION, PROTO_HEARTBEAT);
    key(&m, "seq");
    msgpack_pack_uint32(&m.pk, 1);
    key(&m, "seq");
    msgpack_pack_uint32(&m.pk, 2);
    expect_field_error(&m, "given twice");

    mp_init(&m); /* out of range */
    header(&m, 3, PROTO_VERSION, PROTO_PREPARE);
    key(&m, "bench");
    msgpack_pack_uint32(&m.pk, PROTO_MAX_BENCH);
    key(&m, "run");
    msgpack_pack_uint32(&m.pk, 0);
    key(&m, "warmup");
    msgpack_pack_uint32(&m.pk, 0);
    expect_field_error(&m, "'bench': 1024 is out of range");

    mp_init(&m); /* unsigned above uint32 in a u32 field */
    header(&m, 3, PROTO_VERSION, PROTO_PREPARE);
    key(&m, "bench");
    msgpack_pack_uint32(&m.pk, 0);
    key(&m, "run");
    msgpack_pack_uint64(&m.pk, (uint64_t)UINT32_MAX + 1);
    key(&m, "warmup");
    msgpack_pack_uint32(&m.pk, 2);
    expect_field_error(&m, "'run'");
}

static void test_header(void **s)
{
    proto_msg_t *out = malloc(sizeof *out);
    char want[32];
    mp_t m;

    mp_init(&m); /* unknown type */
    header(&m, 0, PROTO_VERSION, PROTO__TYPES);
    assert_int_equal(decode_mp(&m, out), PROTO_EFIELD);
    assert_non_null(strstr(perr.msg, "'t'"));

    mp_init(&m); /* type 0 */
    header(&m, 0, PROTO_VERSION, 0);
    assert_int_equal(decode_mp(&m, out), PROTO_EFIELD);

    mp_init(&m); /* no version */
    msgpack_pack_map(&m.pk, 2);
    key(&m, "t");
    msgpack_pack_uint32(&m.pk, PROTO_BYE);
    key(&m, "s");
    msgpack_pack_uint32(&m.pk, 1);
    assert_int_equal(decode_mp(&m, out), PROTO_EFIELD);
    assert_non_null(strstr(perr.msg, "'v': missing"));

    mp_init(&m); /* another version: refused, but type and version known */
    header(&m, 0, PROTO_VERSION + 1, PROTO_BYE);
    assert_int_equal(decode_mp(&m, out), PROTO_EVERSION);
    assert_int_equal(out->version, PROTO_VERSION + 1);
    assert_int_equal(out->type, PROTO_BYE);
    snprintf(want, sizeof want, "version %u", PROTO_VERSION + 1);
    assert_non_null(strstr(perr.msg, want));

    mp_init(&m); /* not a map */
    msgpack_pack_array(&m.pk, 0);
    assert_int_equal(decode_mp(&m, out), PROTO_EMALFORMED);

    mp_init(&m); /* unknown keys are ignored */
    header(&m, 2, PROTO_VERSION, PROTO_HEARTBEAT);
    key(&m, "future");
    msgpack_pack_array(&m.pk, 1);
    msgpack_pack_nil(&m.pk);
    key(&m, "seq");
    msgpack_pack_uint32(&m.pk, 5);
    assert_int_equal(decode_mp(&m, out), PROTO_OK);
    assert_int_equal(out->u.heartbeat.seq, 5);
    free(out);
}

static void test_version_error_readable(void **s)
{
    proto_msg_t *m = msg_new(PROTO_ERROR), *out = malloc(sizeof *out);
    char *buf;
    size_t len;

    /* a peer speaking version 9 refuses us; we still read why */
    proto_set_version(9);
    proto_error_init(m, 1, PROTO_ERR_VERSION, "agent speaks protocol 9, coordinator 1");
    assert_int_equal(proto_encode(m, &buf, &len, &perr), 0);
    proto_set_version(PROTO_VERSION);
    assert_int_equal(proto_decode(buf, len, out, &perr), PROTO_EVERSION);
    assert_int_equal(out->type, PROTO_ERROR);
    assert_int_equal(out->version, 9);
    assert_int_equal(out->u.error.code, PROTO_ERR_VERSION);
    assert_int_equal(out->u.error.peer_version, 9);
    assert_string_equal(out->u.error.message, "agent speaks protocol 9, coordinator 1");
    free(buf);
    free(m);
    free(out);
}

static void test_raw_malformed(void **s)
{
    /* each would make a trusting decoder allocate or read past the end */
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},
        {"\xdd\xff\xff\xff\xff", 5},     /* array of 4G elements */
        {"\xdf\xff\xff\xff\xff", 5},     /* map of 4G pairs */
        {"\xde\xff\xff", 3},             /* map of 64K pairs, no bytes */
        {"\xdb\xff\xff\xff\xff", 5},     /* str of 4 GB */
        {"\xc6\x00\x00\x10\x00", 5},     /* bin of 4 KiB, 0 present */
        {"\xc9\x7f\xff\xff\xff\x01", 6}, /* ext of 2 GB */
        {"\xc1", 1},                     /* never-used byte */
        {"\x81\xa1v", 3},                /* map cut short */
        {"\x80\x80", 2},                 /* trailing object */
        {"\x92\x01", 2},                 /* array missing an element */
        {"\xcf\x00\x00", 3},             /* uint64 cut short */
        {"\xd8\x01\x00", 3},             /* fixext16 cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(proto_check(bad[i].bytes, bad[i].len), -1);
        assert_int_equal(decode_bytes(bad[i].bytes, bad[i].len), PROTO_EMALFORMED);
    }
    /* well-formed shapes pass the check */
    assert_int_equal(proto_check("\x80", 1), 0);
    assert_int_equal(proto_check("\x92\x01\xa1x", 4), 0);
    assert_int_equal(proto_check("\xd4\x01\x02", 3), 0);
    assert_int_equal(proto_check("\xc7\x02\x05\xaa\xbb", 5), 0);
}

static void test_depth_and_size(void **s)
{
    char deep[64], *big;

    memset(deep, 0x91, 17); /* 17 nested one-element arrays */
    deep[17] = 0x01;
    assert_int_equal(proto_check(deep, 18), -1);
    memset(deep, 0x91, 16);
    deep[16] = 0x01;
    assert_int_equal(proto_check(deep, 17), 0);
    big = calloc(1, PROTO_MAX_MSG + 1);
    assert_int_equal(decode_bytes(big, PROTO_MAX_MSG + 1), PROTO_ETOOBIG);
    free(big);
}

/* a RESULT whose "buckets" holds n elements: index i, then count `count` */
static void result_with_buckets(mp_t *m, size_t n, uint64_t count)
{
    static const char *const u64s[] = {
        "bench",    "run",      "warmup",      "start_ns", "wall_ns", "user_ns", "sys_ns",
        "ok",       "bytes",    "connections", "lat_min",  "lat_max", "lat_sum", "expired",
        "late_p50", "late_p99", "late_max",    "span_ns",  "svc_min", "svc_max", "svc_sum"};
    size_t nu = sizeof u64s / sizeof *u64s;

    mp_init(m);
    header(m, nu + 3, PROTO_VERSION, PROTO_RESULT);
    key(m, "svc_buckets"); /* a closed-loop run's: empty */
    msgpack_pack_array(&m->pk, 0);
    for (size_t i = 0; i < nu; i++) {
        key(m, u64s[i]);
        msgpack_pack_uint32(&m->pk, 0);
    }
    key(m, "failed");
    msgpack_pack_array(&m->pk, PROTO_FAIL__COUNT);
    for (int i = 0; i < PROTO_FAIL__COUNT; i++)
        msgpack_pack_uint32(&m->pk, 0);
    key(m, "buckets");
    msgpack_pack_array(&m->pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(&m->pk, i % 2 ? count : i);
}

static void test_nested_validation(void **s)
{
    mp_t m;

    mp_init(&m); /* a plan whose second benchmark lacks requests */
    header(&m, 4, PROTO_VERSION, PROTO_PLAN);
    key(&m, "target_host");
    msgpack_pack_str_with_body(&m.pk, "127.0.0.1", 9);
    key(&m, "target_port");
    msgpack_pack_uint32(&m.pk, 8080);
    key(&m, "timeout_ms");
    msgpack_pack_uint32(&m.pk, 1000);
    key(&m, "benches");
    msgpack_pack_array(&m.pk, 2);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map(&m.pk, i == 0 ? 6 : 5);
        key(&m, "strategy");
        msgpack_pack_str_with_body(&m.pk, "async-for", 9);
        if (i == 0) {
            key(&m, "requests");
            msgpack_pack_uint32(&m.pk, 10);
        }
        key(&m, "chunk");
        msgpack_pack_uint32(&m.pk, 10);
        key(&m, "connections");
        msgpack_pack_uint32(&m.pk, 10);
        key(&m, "rate_milli");
        msgpack_pack_uint32(&m.pk, 0);
        key(&m, "duration_ms");
        msgpack_pack_uint32(&m.pk, 0);
    }
    expect_field_error(&m, "'requests': missing");

    result_with_buckets(&m, 3, 1);
    expect_field_error(&m, "'buckets': not an even array");
    result_with_buckets(&m, 2 * (PROTO_MAX_BUCKETS + 1), 1);
    expect_field_error(&m, "'buckets': not an even array");
    result_with_buckets(&m, 4, 0); /* a zero count */
    expect_field_error(&m, "'buckets': 0 is out of range");
    result_with_buckets(&m, 4, 1);
    proto_msg_t *out = malloc(sizeof *out);
    assert_int_equal(decode_mp(&m, out), PROTO_OK);
    assert_int_equal(out->u.result.nbuckets, 2);
    assert_int_equal(out->u.result.failed[CAUSE_WRONG_RESULT], 0);
    free(out);
}

static void test_encoder_refuses(void **s)
{
    proto_msg_t *m = msg_new(PROTO_PLAN);
    char *buf;
    size_t len;

    m->u.plan.nbench = 0; /* an empty plan */
    strcpy(m->u.plan.target_host, "h");
    m->u.plan.target_port = 1;
    m->u.plan.timeout_ms = 1;
    assert_int_equal(proto_encode(m, &buf, &len, &perr), -1);
    assert_non_null(strstr(perr.msg, "benches"));
    m->type = PROTO_HEARTBEAT;
    m->type = (proto_type_t)99;
    assert_int_equal(proto_encode(m, &buf, &len, &perr), -1);
    free(m);
}

/* Version 3: a benchmark is a strategy or a command (optional keys, left
 * out at their defaults), never both nor neither; a result may carry an
 * exit code. */
static void test_commands(void **s)
{
    proto_msg_t *m = msg_new(PROTO_PLAN);
    char *buf;
    size_t len;
    mp_t mp;

    strcpy(m->u.plan.target_host, "127.0.0.1");
    m->u.plan.target_port = 8080;
    m->u.plan.timeout_ms = 1000;
    m->u.plan.nbench = 3;
    for (int i = 0; i < 3; i++)
        m->u.plan.bench[i].requests = m->u.plan.bench[i].chunk = m->u.plan.bench[i].connections = 1;
    strcpy(m->u.plan.bench[0].strategy, "async-for");
    strcpy(m->u.plan.bench[1].command, "python3 benchmark.py async-for -r 10 | tee \"x y\"");
    memset(m->u.plan.bench[2].command, 'x', PROTO_CMD - 1);
    m->u.plan.bench[2].no_shell = 1;
    m->u.plan.bench[2].show_output = 1;
    m->u.plan.bench[2].cmd_timeout_ms = 24ull * 3600 * 1000;
    round_trip(m);

    m = msg_new(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "h");
    m->u.plan.target_port = m->u.plan.timeout_ms = 1;
    m->u.plan.nbench = 1;
    m->u.plan.bench[0].requests = m->u.plan.bench[0].chunk = m->u.plan.bench[0].connections = 1;
    assert_int_equal(proto_encode(m, &buf, &len, &perr), -1); /* neither */
    assert_non_null(strstr(perr.msg, "exactly one of 'strategy' and 'command'"));
    strcpy(m->u.plan.bench[0].strategy, "async-for");
    strcpy(m->u.plan.bench[0].command, "true");
    assert_int_equal(proto_encode(m, &buf, &len, &perr), -1); /* both */
    m->u.plan.bench[0].command[0] = '\0';
    m->u.plan.bench[0].no_shell = 2;
    assert_int_equal(proto_encode(m, &buf, &len, &perr), -1);
    assert_non_null(strstr(perr.msg, "no_shell"));
    free(m);

    m = msg_new(PROTO_RESULT);
    m->u.result.wall_ns = 1;
    m->u.result.exit_code = 255;
    round_trip(m);

    mp_init(&mp); /* both, on the wire */
    header(&mp, 4, PROTO_VERSION, PROTO_PLAN);
    key(&mp, "target_host");
    msgpack_pack_str_with_body(&mp.pk, "127.0.0.1", 9);
    key(&mp, "target_port");
    msgpack_pack_uint32(&mp.pk, 8080);
    key(&mp, "timeout_ms");
    msgpack_pack_uint32(&mp.pk, 1000);
    key(&mp, "benches");
    msgpack_pack_array(&mp.pk, 1);
    msgpack_pack_map(&mp.pk, 5);
    key(&mp, "strategy");
    msgpack_pack_str_with_body(&mp.pk, "async-for", 9);
    key(&mp, "command");
    msgpack_pack_str_with_body(&mp.pk, "true", 4);
    key(&mp, "requests");
    msgpack_pack_uint32(&mp.pk, 1);
    key(&mp, "chunk");
    msgpack_pack_uint32(&mp.pk, 1);
    key(&mp, "connections");
    msgpack_pack_uint32(&mp.pk, 1);
    expect_field_error(&mp, "exactly one of 'strategy' and 'command'");
}

/* Text fields come out as clean UTF-8 without control characters. */
static void test_text_cleaned(void **s)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80"},
        {"line\nforged", "line?forged"},
        {"\x1b[31mred\x7f", "?[31mred?"},
        {"tab\there\r", "tab?here?"},
        {"c1 \xc2\x9b csi", "c1 ? csi"},      /* U+009B, a C1 control */
        {"bad \xff\xfe end", "bad ?? end"},   /* not UTF-8 at all */
        {"overlong \xc0\xaf", "overlong ??"}, /* '/' in two bytes */
        {"surrogate \xed\xa0\x80", "surrogate ???"},
        {"too big \xf4\x90\x80\x80", "too big ????"},
        {"cut \xe2\x80", "cut ??"},
        {"\xe2\x80\xa6\xe2", "\xe2\x80\xa6?"},
    };
    (void)s;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        proto_msg_t *m = msg_new(PROTO_HELLO), *back = calloc(1, sizeof *back);
        char *buf;
        size_t len;
        m->u.hello.heartbeat_ms = 100;
        m->u.hello.liveness_ms = 1000;
        strcpy(m->u.hello.name, cases[i].in);
        assert_int_equal(proto_encode(m, &buf, &len, &perr), 0);
        assert_int_equal(proto_decode(buf, len, back, &perr), PROTO_OK);
        assert_string_equal(back->u.hello.name, cases[i].out);
        /* the bytes freed at the end are zero: a decoded message is a function of its bytes */
        for (size_t k = strlen(back->u.hello.name); k < sizeof back->u.hello.name; k++)
            assert_int_equal(back->u.hello.name[k], 0);
        free(buf);
        free(back);
        free(m);
    }
}

/* A command is run, not shown: one that cleaning would change is refused by
 * the decoder (a rogue coordinator's bytes) and by the encoder, never run
 * as another command. */
static void test_command_not_cleaned(void **s)
{
    static const char *const bad[] = {
        "echo a\necho b", "printf '\t'\tx", "ls\x7f",  "echo \xc2\x85", /* U+0085, NEL */
        "cat caf\xe9",    "echo \xe2\x80",  "\x1b[2J",
    };
    proto_msg_t *m = msg_new(PROTO_PLAN);
    fb_err_t err;
    char *buf;
    size_t len;
    (void)s;

    strcpy(m->u.plan.target_host, "127.0.0.1");
    m->u.plan.target_port = 8080;
    m->u.plan.timeout_ms = 1000;
    m->u.plan.nbench = 1;
    m->u.plan.bench[0].requests = m->u.plan.bench[0].chunk = m->u.plan.bench[0].connections = 1;
    strcpy(m->u.plan.bench[0].command, "echo caf\xc3\xa9 \xe2\x80\xa6 | tr a b");
    assert_true(proto_text_valid(m->u.plan.bench[0].command));
    round_trip(m); /* UTF-8 beyond ASCII is carried as it is */
    m = msg_new(PROTO_PLAN);
    strcpy(m->u.plan.target_host, "127.0.0.1");
    m->u.plan.target_port = m->u.plan.timeout_ms = m->u.plan.nbench = 1;
    m->u.plan.bench[0].requests = m->u.plan.bench[0].chunk = m->u.plan.bench[0].connections = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mp_t mp;
        assert_false(proto_text_valid(bad[i]));
        strcpy(m->u.plan.bench[0].command, bad[i]);
        assert_int_equal(proto_encode(m, &buf, &len, &err), -1);
        assert_non_null(strstr(err.msg, "field 'command': control characters"));

        mp_init(&mp);
        header(&mp, 4, PROTO_VERSION, PROTO_PLAN);
        key(&mp, "target_host");
        msgpack_pack_str_with_body(&mp.pk, "127.0.0.1", 9);
        key(&mp, "target_port");
        msgpack_pack_uint32(&mp.pk, 8080);
        key(&mp, "timeout_ms");
        msgpack_pack_uint32(&mp.pk, 1000);
        key(&mp, "benches");
        msgpack_pack_array(&mp.pk, 1);
        msgpack_pack_map(&mp.pk, 4);
        key(&mp, "command");
        msgpack_pack_str_with_body(&mp.pk, bad[i], strlen(bad[i]));
        key(&mp, "requests");
        msgpack_pack_uint32(&mp.pk, 1);
        key(&mp, "chunk");
        msgpack_pack_uint32(&mp.pk, 1);
        key(&mp, "connections");
        msgpack_pack_uint32(&mp.pk, 1);
        expect_field_error(&mp, "field 'command': control characters or bytes that are not UTF-8");
    }
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_all),
        cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_version_error_readable),
        cmocka_unit_test(test_raw_malformed),
        cmocka_unit_test(test_depth_and_size),
        cmocka_unit_test(test_nested_validation),
        cmocka_unit_test(test_encoder_refuses),
        cmocka_unit_test(test_text_cleaned),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_command_not_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
