#include "tview.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TVIEW_BODY_MAX 65536 /* the real document is a few KiB */

static int none(char *detail, size_t dlen, const char *why)
{
    snprintf(detail, dlen, "GET /stats: %s", why);
    return PROTO_VIEW_NONE;
}

static int get_u64(json_t *o, const char *key, uint64_t *v)
{
    json_t *x = json_object_get(o, key);

    if (!json_is_integer(x) || json_integer_value(x) < 0) return -1;
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

int tview_parse(const char *body, size_t len, tview_snap_t *s, char *detail, size_t dlen)
{
    json_t *root = json_loadb(body, len, 0, NULL), *status, *busy, *v;
    const char *server = json_string_value(json_object_get(root, "server")), *key;
    uint64_t loops = 0, cores = 0;
    int rc = PROTO_VIEW_OK;

    memset(s, 0, sizeof *s);
    if (root == NULL || server == NULL || strcmp(server, "fleetbench target-server") != 0) {
        json_decref(root);
        return none(detail, dlen, "not a fleetbench target-server's document");
    }
    status = json_object_get(root, "status");
    busy = json_object_get(root, "busy_ns");
    if (get_u64(root, "requests", &s->requests) || get_u64(root, "dropped", &s->dropped) ||
        get_u64(root, "connections", &s->connections) || get_u64(root, "cpu_ns", &s->cpu_ns) ||
        get_u64(root, "now_ns", &s->now_ns) || get_u64(root, "loops", &loops) ||
        get_u64(root, "cores", &cores) || !json_is_object(status) || !json_is_array(busy) ||
        loops == 0 || loops > TVIEW_MAX_LOOPS || json_array_size(busy) != loops)
        rc = none(detail, dlen, "a document without the keys this agent reads");
    s->loops = (uint32_t)loops;
    s->cores = (uint32_t)cores;
    json_object_foreach(status, key, v)
    {
        char *end;
        long code = strtol(key, &end, 10);
        if (rc != PROTO_VIEW_OK) break;
        if (*end != '\0' || code < 100 || code > 599 || !json_is_integer(v) ||
            json_integer_value(v) < 0) {
            rc = none(detail, dlen, "a status count that is not one");
            break;
        }
        s->codes[code / 100 - 1] += (uint64_t)json_integer_value(v);
    }
    for (size_t i = 0; rc == PROTO_VIEW_OK && i < loops; i++) {
        json_t *x = json_array_get(busy, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            rc = none(detail, dlen, "a busy time that is not one");
        else
            s->busy_ns[i] = (uint64_t)json_integer_value(x);
    }
    json_decref(root);
    return rc;
}

typedef struct {
    char *buf;
    size_t len;
} body_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    size_t add = size * n;
    char *grown;

    if (b->len + add > TVIEW_BODY_MAX) return 0; /* not the document we want: stop */
    grown = realloc(b->buf, b->len + add + 1);
    if (grown == NULL) return 0;
    memcpy(grown + b->len, p, add);
    b->buf = grown;
    b->len += add;
    return add;
}

int tview_read(const char *host, int port, uint32_t timeout_ms, tview_snap_t *s, char *detail,
               size_t dlen)
{
    char url[PROTO_HOST + 32];
    body_t body = {NULL, 0};
    long code = 0;
    CURL *c = curl_easy_init();
    CURLcode rc;
    int view;

    if (c == NULL) {
        snprintf(detail, dlen, "GET /stats: out of memory");
        return PROTO_VIEW_UNREACHABLE;
    }
    snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%d/stats" : "http://%s:%d/stats",
             host, port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* the target, never a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK && code == 200 && body.buf != NULL)
        view = tview_parse(body.buf, body.len, s, detail, dlen);
    else if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR) /* answered, but not with the document */
        view = none(detail, dlen, code == 404 ? "404 Not Found" : "not a JSON document");
    else {
        snprintf(detail, dlen, "GET /stats: %s", curl_easy_strerror(rc));
        view = PROTO_VIEW_UNREACHABLE;
    }
    free(body.buf);
    return view;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void tview_delta(const tview_snap_t *a, const tview_snap_t *b, proto_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->phase = PROTO_VIEW_AFTER;
    if (a->loops != b->loops || b->now_ns < a->now_ns || b->requests < a->requests) {
        out->status = PROTO_VIEW_UNREACHABLE;
        snprintf(out->detail, sizeof out->detail, "GET /stats: the target restarted between reads");
        return;
    }
    out->requests = b->requests - a->requests;
    for (int i = 0; i < 5; i++)
        out->codes[i] = sub(b->codes[i], a->codes[i]);
    out->dropped = sub(b->dropped, a->dropped);
    out->connections = sub(b->connections, a->connections);
    out->cpu_ns = sub(b->cpu_ns, a->cpu_ns);
    out->wall_ns = b->now_ns - a->now_ns;
    for (uint32_t i = 0; i < a->loops; i++) {
        uint64_t d = sub(b->busy_ns[i], a->busy_ns[i]);
        out->busy_ns += d;
        if (d > out->busy_max_ns) out->busy_max_ns = d;
    }
    out->loops = b->loops;
    out->cores = b->cores;
}
