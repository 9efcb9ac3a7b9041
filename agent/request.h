/* request: one GET /multiply?number=i on one libcurl easy handle, and the
 * verdict on its answer. Every strategy makes its requests through here, so
 * the setup of a handle, the check of a body and the classification of a
 * failure exist once. A req_t owns its easy handle and a fixed body buffer:
 * after req_init, a request allocates nothing of its own (curl copies the
 * URL; jansson allocates while parsing). */
#ifndef AGENT_REQUEST_H
#define AGENT_REQUEST_H

#include "cause.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* A body longer than this is a bad body: the server's answer is ~20 bytes. */
#define REQ_BODY_MAX 4096
/* "http://" + a 253-byte host in brackets + ":65535" + path + 20 digits */
#define REQ_URL_MAX 320
#define REQ_ERR_LEN 256

/* What became of one request: OK, or 1 + the cause of its failure
 * (common/cause.h), so that a tally's counts past OK are the wire's. */
typedef enum {
    REQ_OK,
    REQ_CONNECT = 1 + CAUSE_CONNECT,
    REQ_TIMEOUT = 1 + CAUSE_TIMEOUT,
    REQ_TRANSPORT = 1 + CAUSE_TRANSPORT,
    REQ_HTTP_STATUS = 1 + CAUSE_HTTP_STATUS,
    REQ_BAD_BODY = 1 + CAUSE_BAD_BODY,
    REQ_WRONG_RESULT = 1 + CAUSE_WRONG_RESULT,
    REQ__COUNT = 1 + CAUSE__COUNT
} req_outcome_t;

typedef struct tally_s tally_t;

typedef struct req_s {
    CURL *easy;
    uint64_t number;
    uint64_t start_ns;
    size_t prefix_len; /* url[0..prefix_len) is the run's base URL */
    size_t len;        /* body bytes kept */
    int overflow;      /* the body did not fit: it is a bad body */
    char url[REQ_URL_MAX];
    char body[REQ_BODY_MAX];
} req_t;

/* "http://HOST:PORT/multiply?number=" (IPv6 hosts in brackets); -1 if it
 * does not fit REQ_URL_MAX with room for any number. */
int req_base_url(char *buf, size_t cap, const char *host, int port);
/* base followed by number, NUL-terminated, in at most cap bytes (strlen of
 * base + 21 always suffice). */
void req_url(char *buf, size_t cap, const char *base, uint64_t number);

/* A new easy handle aimed at base with every per-run option set; err gets
 * the reason on failure. */
int req_init(req_t *r, const char *base, uint64_t timeout_ms, char *err);
void req_close(req_t *r);
/* Readies r for number: the URL (url, or built from the base when NULL), an
 * empty body, the start time. Then perform it or add it to a multi. */
void req_start(req_t *r, uint64_t number, const char *url);
/* Classifies the finished transfer and counts it, its latency, bytes and
 * new connections in t. */
req_outcome_t req_finish(req_t *r, CURLcode rc, tally_t *t);
/* req_start + curl_easy_perform + req_finish, for the threaded strategies. */
req_outcome_t req_perform(req_t *r, uint64_t number, tally_t *t);

/* The verdict on an answer, without a network: rc the transfer's result,
 * status its HTTP status, body/len/overflow what was received. */
req_outcome_t req_classify(CURLcode rc, long status, const char *body, size_t len, int overflow,
                           uint64_t number);
/* The JSON check alone: REQ_OK, REQ_BAD_BODY or REQ_WRONG_RESULT. */
req_outcome_t req_check_body(const char *body, size_t len, uint64_t number);
/* "ok", or the cause's name (cause_name): the keys of the JSON record. */
const char *req_outcome_name(req_outcome_t o);

#endif
