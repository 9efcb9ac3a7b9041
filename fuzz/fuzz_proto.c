/* fuzz_proto: proto_check and proto_decode on arbitrary bytes. Oracles,
 * besides the sanitizers and libFuzzer's malloc limit (the raw check exists
 * so that msgpack-c never preallocates for counts the bytes cannot hold):
 *  - what proto_check accepts, msgpack-c parses whole;
 *  - what proto_check refuses, proto_decode refuses as malformed;
 *  - every error leaves a terminated message in err;
 *  - the decoder clears only the union member it fills, so what it defines
 *    must not depend on what the struct held: the same bytes decoded over
 *    zeros and over 0xa5 give the same result, header and member (on
 *    success; the error fields for an ERROR of another version);
 *  - what decodes re-encodes (the encoder refuses only what the decoder
 *    would), and the re-encoded bytes decode to the very same message. */
#include "proto.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond, what)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_proto: %s\n", what);                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FZ_POISON 0xa5

/* ~160 KiB each, so static; between inputs g_zero and g_again hold zeros
 * and g_poison FZ_POISON, restored over what each decode touched. */
static proto_msg_t g_zero, g_poison, g_again;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    memset(&g_poison, FZ_POISON, sizeof g_poison);
    return 0;
}

/* The union member a message of type t uses: written here, not taken from
 * proto.c, so that a wrong size there shows. */
static size_t member_size(proto_type_t t)
{
    switch (t) {
    case PROTO_HELLO: return sizeof(proto_hello_t);
    case PROTO_WELCOME: return sizeof(proto_welcome_t);
    case PROTO_PLAN: return sizeof(proto_plan_t);
    case PROTO_PREPARE:
    case PROTO_READY:
    case PROTO_GO: return sizeof(proto_step_t);
    case PROTO_RESULT: return sizeof(proto_result_t);
    case PROTO_HEARTBEAT: return sizeof(proto_heartbeat_t);
    case PROTO_ABORT: return sizeof(proto_abort_t);
    case PROTO_ERROR: return sizeof(proto_error_t);
    case PROTO_STATS_REQ: return sizeof(proto_stats_req_t);
    case PROTO_STATS: return sizeof(proto_stats_t);
    default: return 0;
    }
}

/* Bytes of m a decode may have written: header, member and the error. */
static size_t touched(const proto_msg_t *m)
{
    size_t n = member_size(m->type);
    return offsetof(proto_msg_t, u) + (n > sizeof(proto_error_t) ? n : sizeof(proto_error_t));
}

/* Bytes of the union a decode with result rc defines (proto.h): the member
 * on success, the error fields of an ERROR of another version. */
static size_t meaningful(const proto_msg_t *m, int rc)
{
    if (rc == PROTO_OK) return member_size(m->type);
    if (rc == PROTO_EVERSION && m->type == PROTO_ERROR) return sizeof(proto_error_t);
    return 0;
}

/* Valid by proto_check's word: msgpack-c must read exactly one object. */
static void check_parses_whole(const uint8_t *data, size_t size)
{
    msgpack_unpacked up;
    size_t off = 0;

    msgpack_unpacked_init(&up);
    FZ_CHECK(msgpack_unpack_next(&up, (const char *)data, size, &off) == MSGPACK_UNPACK_SUCCESS &&
                 off == size,
             "proto_check accepted what msgpack-c does not parse whole");
    msgpack_unpacked_destroy(&up);
}

static void check_round_trip(const proto_msg_t *m)
{
    fb_err_t err = {""};
    char *buf = NULL;
    size_t len = 0;

    if (proto_encode(m, &buf, &len, &err) != 0) {
        fprintf(stderr, "fuzz_proto: %s\n", err.msg);
        FZ_CHECK(0, "a decoded message does not encode");
    }
    FZ_CHECK(proto_check(buf, len) == 0, "proto_check refuses the encoder's output");
    FZ_CHECK(proto_decode(buf, len, &g_again, &err) == PROTO_OK,
             "re-encoded message does not decode");
    FZ_CHECK(memcmp(m, &g_again, offsetof(proto_msg_t, u) + member_size(m->type)) == 0,
             "round trip changed the message");
    memset(&g_again, 0, touched(&g_again));
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fb_err_t err, err2;
    int checked = proto_check(data, size);
    int rc;

    if (checked == 0) check_parses_whole(data, size);
    memset(err.msg, 'x', sizeof err.msg);
    rc = proto_decode(data, size, &g_zero, &err);
    FZ_CHECK(rc <= PROTO_OK && rc >= PROTO_EFIELD, "unknown decoder result");
    if (rc != PROTO_OK)
        FZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL, "err not terminated");
    if (checked != 0 && size <= PROTO_MAX_MSG)
        FZ_CHECK(rc == PROTO_EMALFORMED, "decoded what proto_check refuses");

    FZ_CHECK(proto_decode(data, size, &g_poison, &err2) == rc, "decoder result depends on out");
    FZ_CHECK(memcmp(&g_zero, &g_poison, offsetof(proto_msg_t, u) + meaningful(&g_zero, rc)) == 0,
             "decoded message depends on what the struct held before");
    if (rc == PROTO_OK) {
        FZ_CHECK(g_zero.type > 0 && g_zero.type < PROTO__TYPES, "decoded an unknown type");
        FZ_CHECK(g_zero.version == proto_version(), "decoded another version");
        check_round_trip(&g_zero);
    }
    memset(&g_poison, FZ_POISON, touched(&g_poison));
    memset(&g_zero, 0, touched(&g_zero));
    return 0;
}
