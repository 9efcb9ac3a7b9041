#include "request.h"

#include "clock.h"
#include "run.h"
#include "tally.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const char *req_outcome_name(req_outcome_t o)
{
    return o == REQ_OK ? "ok" : cause_name((cause_t)(o - 1));
}

int req_base_url(char *buf, size_t cap, const char *host, int port)
{
    const char *fmt =
        strchr(host, ':') ? "http://[%s]:%d/multiply?number=" : "http://%s:%d/multiply?number=";
    int n = snprintf(buf, cap, fmt, host, port);

    /* room for the largest number and the NUL, in buf and in req_t.url */
    return n < 0 || (size_t)n + 21 > cap || (size_t)n + 21 > REQ_URL_MAX ? -1 : 0;
}

void req_url(char *buf, size_t cap, const char *base, uint64_t number)
{
    snprintf(buf, cap, "%s%" PRIu64, base, number);
}

/* Keeps what fits; a longer body is remembered as too long but still read to
 * its end, so the connection stays usable for the next request. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    req_t *r = userp;
    size_t n = size * nmemb, room = sizeof r->body - r->len;

    if (n > room) r->overflow = 1;
    memcpy(r->body + r->len, data, n < room ? n : room);
    r->len += n < room ? n : room;
    return n;
}

int req_init(req_t *r, const char *base, uint64_t timeout_ms, char *err)
{
    CURLcode rc;
    long ms = timeout_ms > LONG_MAX ? LONG_MAX : (long)timeout_ms;

    memset(r, 0, offsetof(req_t, body));
    r->prefix_len = strlen(base);
    memcpy(r->url, base, r->prefix_len + 1);
    r->easy = curl_easy_init();
    if (r->easy == NULL) {
        snprintf(err, REQ_ERR_LEN, "curl_easy_init failed");
        return -1;
    }
    /* NOSIGNAL: timeouts must not use SIGALRM in a threaded program; PROXY "":
     * the target is reached directly whatever http_proxy says. */
    if ((rc = curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_URL, r->url)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, ms)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, ms)) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_PROXY, "")) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http")) != CURLE_OK ||
        (rc = curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1)) !=
            CURLE_OK) {
        snprintf(err, REQ_ERR_LEN, "curl_easy_setopt: %s", curl_easy_strerror(rc));
        req_close(r);
        return -1;
    }
    return 0;
}

void req_close(req_t *r)
{
    if (r->easy) curl_easy_cleanup(r->easy);
    r->easy = NULL;
}

void req_start(req_t *r, uint64_t number, const char *url)
{
    if (url == NULL) {
        /* r->url already starts with the base: only the digits change */
        snprintf(r->url + r->prefix_len, sizeof r->url - r->prefix_len, "%" PRIu64, number);
        url = r->url;
    }
    r->number = number;
    r->len = 0;
    r->overflow = 0;
    curl_easy_setopt(r->easy, CURLOPT_URL, url); /* copies; cannot fail but for ENOMEM */
    r->start_ns = clock_now_ns();
}

req_outcome_t req_finish(req_t *r, CURLcode rc, tally_t *t)
{
    uint64_t latency = clock_now_ns() - r->start_ns;
    long status = 0, header_bytes = 0, connects = 0;
    curl_off_t body_bytes = 0;
    req_outcome_t o;

    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_HEADER_SIZE, &header_bytes);
    curl_easy_getinfo(r->easy, CURLINFO_SIZE_DOWNLOAD_T, &body_bytes);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &connects);
    o = req_classify(rc, status, r->body, r->len, r->overflow, r->number);
    tally_record(t, o, latency, (uint64_t)header_bytes + (uint64_t)body_bytes, (uint64_t)connects);
    return o;
}

req_outcome_t req_perform(req_t *r, uint64_t number, tally_t *t)
{
    if (run_aborted()) return REQ_OK; /* not made, not counted: the run is dropped */
    req_start(r, number, NULL);
    return req_finish(r, curl_easy_perform(r->easy), t);
}

req_outcome_t req_classify(CURLcode rc, long status, const char *body, size_t len, int overflow,
                           uint64_t number)
{
    switch (rc) {
    case CURLE_OK: break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return REQ_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return REQ_TIMEOUT;
    default: return REQ_TRANSPORT; /* got nothing, reset, partial, weird reply */
    }
    if (status != 200) return REQ_HTTP_STATUS;
    if (overflow) return REQ_BAD_BODY;
    return req_check_body(body, len, number);
}

req_outcome_t req_check_body(const char *body, size_t len, uint64_t number)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr), *result;
    req_outcome_t o = REQ_BAD_BODY;

    result = json_object_get(root, "result"); /* NULL root: NULL */
    if (json_is_integer(result))
        o = (uint64_t)json_integer_value(result) == 2 * number ? REQ_OK : REQ_WRONG_RESULT;
    json_decref(root);
    return o;
}
